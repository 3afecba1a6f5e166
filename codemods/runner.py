"""Discover → project facts → rules → results: the one pass every command shares.

Python files are read once as bytes; a text check decides which codemods could apply at all, so most
files of a large tree are never parsed. Each candidate is parsed once and every applicable codemod runs
on that one tree, in registry order. Files are independent once the facts are known, so they run in
parallel worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import posixpath
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codemods.discover import discover
from codemods.facts import FACT_TRIGGER, ProjectFacts
from codemods.findings import FileResult, Finding
from codemods.rules.base import FixerCodemod, TextRule, Unparseable

if TYPE_CHECKING:
    import libcst as cst

Progress = Callable[[int], None]  # called with the number of files just finished


@dataclass
class Run:
    results: list[FileResult]  # only files that changed, failed, or have findings; sorted by path
    files_scanned: int
    facts: ProjectFacts


def run(
    root: Path,
    codemods: Sequence[type[FixerCodemod]],
    text_rules: Sequence[TextRule],
    jobs: int = 1,
    progress_factory: Callable[[int], Progress] | None = None,
    exclude: Sequence[tuple[Path, str]] = (),
) -> Run:
    paths = list(discover(root, exclude))
    python = [p for p in paths if p.endswith(".py")]
    prefilter = re.compile(b"|".join([FACT_TRIGGER.pattern, *(c.TRIGGER.pattern for c in codemods)]))

    candidates: list[tuple[str, bytes]] = []
    for rel in python:
        source = (root / rel).read_bytes()
        if prefilter.search(source):
            candidates.append((rel, source))
    facts = ProjectFacts.gather(candidates)

    results, text_files_read = _run_text_rules(root, set(paths), text_rules, facts)
    tasks = [(rel, source, [c for c in codemods if c.TRIGGER.search(source)]) for rel, source in candidates]
    tasks = [task for task in tasks if task[2]]
    progress = progress_factory(len(tasks)) if progress_factory else None
    results.extend(r for r in _map(tasks, facts, jobs, progress) if r.changed or r.findings or r.error)
    results.sort(key=lambda r: r.path)
    return Run(results=results, files_scanned=len(python) + text_files_read, facts=facts)


def _text_rule_paths(paths: list[str], rules: Sequence[TextRule]) -> set[str]:
    return {p for p in paths if any(rule.applies_to(p) for rule in rules)}


def _run_text_rules(
    root: Path, existing: set[str], rules: Sequence[TextRule], facts: ProjectFacts
) -> tuple[list[FileResult], int]:
    """Text rules are cheap and few files match: run them here, following files one pulls in (`-r base.txt`)."""
    queue = sorted(_text_rule_paths(sorted(existing), rules))
    wanted: dict[str, list[TextRule]] = {p: [r for r in rules if r.applies_to(p)] for p in queue}
    results: list[FileResult] = []
    seen: set[str] = set()
    while queue:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        old = (root / rel).read_bytes()
        result = FileResult(path=rel, old=old, new=old)
        try:
            text = old.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            result.error = f"not UTF-8 ({error.reason} at byte {error.start}); left as it is"
            results.append(result)
            continue
        bom = old.startswith(b"\xef\xbb\xbf")
        new_text = text
        for rule in wanted.get(rel, []):
            for included in rule.related(rel, new_text):
                if included in existing and included not in seen:
                    wanted.setdefault(included, []).append(rule)
                    queue.append(included)
            try:
                new_text, findings = rule.fix(rel, new_text, facts)
            except Unparseable as error:
                result.error = f"cannot parse: {error}; left as it is"
                break
            except Exception as error:  # one rule's bug must not cost the user the whole run
                result.error = f"internal error in {rule.RULE_ID}: {type(error).__name__}: {error}"
                break
            result.findings.extend(_locate(findings, text))
        if result.error is None and new_text is not text:
            result.new = (b"\xef\xbb\xbf" if bom else b"") + new_text.encode("utf-8")
        if result.changed or result.findings or result.error:
            results.append(result)
    return results, len(seen)


def _map(tasks: list, facts: ProjectFacts, jobs: int, progress: Progress | None) -> list[FileResult]:
    if jobs <= 1 or len(tasks) < 2:
        out = []
        for task in tasks:
            out.append(transform_python(*task, facts))
            if progress:
                progress(1)
        return out
    # fork keeps the already-imported codemods; spawn would re-import LibCST in every worker.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin" else None
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
        chunk = max(1, len(tasks) // (jobs * 8))
        out = []
        for result in pool.map(_transform_task, [(*task, facts) for task in tasks], chunksize=chunk):
            out.append(result)
            if progress:
                progress(1)
        return out


def _transform_task(args: tuple) -> FileResult:
    return transform_python(*args)


def transform_python(
    rel: str, source: bytes, codemods: Sequence[type[FixerCodemod]], facts: ProjectFacts
) -> FileResult:
    """Parse once, run each codemod on the tree in turn, and check the result parses."""
    import libcst as cst
    from libcst.codemod import CodemodContext, SkipFile

    from codemods.rules.base import FINDINGS_KEY

    result = FileResult(path=rel, old=source, new=source)
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, UnicodeDecodeError, SyntaxError, LookupError) as error:
        result.error = f"cannot parse: {str(error).splitlines()[0]}; left as it is"
        return result
    text = source.decode(module.encoding, errors="replace")
    result.encoding = "utf-8" if module.encoding == "utf-8-sig" else module.encoding
    package = posixpath.dirname(rel).replace("/", ".")
    for codemod in codemods:
        context = CodemodContext(
            filename=rel,
            full_module_name=rel[: -len(".py")].replace("/", ".").removesuffix(".__init__"),
            full_package_name=package or None,
        )
        received = module
        try:
            module = codemod(context, facts=facts).transform_module(module)
        except SkipFile:
            continue
        except Exception as error:  # a codemod's bug skips this file, never the run
            result.error = f"internal error in {codemod.RULE_ID}: {type(error).__name__}: {error}; left as it is"
            result.findings.clear()
            return result
        result.findings.extend(_locate(context.scratch.get(FINDINGS_KEY, []), text, received))
    new = module.bytes
    if new != source:
        try:
            cst.parse_module(new)
        except Exception as error:
            result.error = f"internal error: the fixed file does not parse ({error}); left as it is"
            result.findings.clear()
            return result
        result.new = new
    return result


def _locate(findings: list[Finding], text: str, received: cst.Module | None = None) -> list[Finding]:
    """Give findings without a line the line where their old code starts in the original text.

    A codemod that runs after another sees code the earlier one already changed (FX004 reports the
    `create_async_engine` call FX002 made): such code is found in the tree it received, and its line is
    carried back to the original through a line diff.
    """
    import difflib
    from dataclasses import replace

    received_lines: list[str] | None = None
    located = []
    for finding in findings:
        if finding.line is None and finding.old_code:
            first = finding.old_code.splitlines()[0]
            line = _line_of(text, first)
            if line is None and received is not None:
                received_lines = received_lines if received_lines is not None else received.code.splitlines()
                later = _line_of("\n".join(received_lines), first)
                if later is not None:
                    matcher = difflib.SequenceMatcher(None, text.splitlines(), received_lines, autojunk=False)
                    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                        if j1 < later <= j2 or (j1 == j2 == later - 1):
                            line = i1 + 1 + (later - 1 - j1 if tag == "equal" else 0)
                            break
            if line is not None:
                finding = replace(finding, line=line)
        located.append(finding)
    return located


def _line_of(text: str, fragment: str) -> int | None:
    at = text.find(fragment)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
