"""Discover → project model → rules → results: the one pass every command shares.

Python files are read once as bytes; a text check decides which codemods could apply at all, so most
files of a large tree are never parsed. Each candidate is parsed once and every applicable codemod runs
on that one tree, in registry order. Files are independent once the model is built, so they run in
parallel worker processes when there is enough work to pay for starting them.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import os
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from fixer import model as project_model
from fixer.apply import disclosure
from fixer.apply.reach import hold_unreached
from fixer.apply.transform import Settings, died, honour_in_text, locate, transform_task
from fixer.discover import suppress
from fixer.discover.files import Unreadable, discover, read
from fixer.discover.paths import Targets
from fixer.discover.textcheck import TextCheck
from fixer.model import ProjectModel
from fixer.model.entrypoints import mentions_start
from fixer.model.evidence import PLATFORM_URL
from fixer.model.modules import ModuleInfo, inside_library, read_module
from fixer.model.sources import Sources
from fixer.rules.base import FixerCodemod, TextRule, Unparseable
from fixer.rules.findings import FileResult

Progress = Callable[[int], None]  # called with the number of files just finished
_T = TypeVar("_T")


@dataclass
class Run:
    results: list[FileResult]  # only files that changed, failed, or have findings; sorted by path
    files_scanned: int
    facts: ProjectModel
    # Files a .gitignore leaves out that a rule would change: (path, the .gitignore line, rule IDs).
    ignored: list[tuple[str, str, list[str]]] = field(default_factory=list)
    root: Path | None = None  # the project root the paths are relative to
    parsed: list[str] = field(default_factory=list)  # the Python files parsed for a codemod (the bench's floor)
    rounds: list = field(default_factory=list)  # fixer.apply.rounds.Round: predict, fix, predict again
    after: object = None  # the last round's Prediction: what still stands between the backend and a start


def run(
    root: Path,
    codemods: Sequence[type[FixerCodemod]],
    text_rules: Sequence[TextRule],
    jobs: int = 1,
    progress_factory: Callable[[int], Progress] | None = None,
    exclude: Sequence[tuple[Path, str]] = (),
    lines_of_fixed: bool = True,
    unsafe_fixes: bool = False,
    targets: Targets | None = None,
    to_async: bool = False,
    entrypoint: str | None = None,
    run_from: str | None = None,
    skip: Callable[[str, str], bool] | None = None,
) -> Run:
    """Every rule on every file under `root`; with `targets`, the model is still the whole root's, but only the
    files they name are fixed and reported. With `lines_of_fixed` false, a fixed finding may come without
    its line when finding it would cost a second print of the tree (nothing shows it then: no report, no -v).
    `skip(path, rule ID)`: that rule does not run on that file (per-file-ignores)."""
    targets = targets or Targets(root=root, files=frozenset(), folders=("",))
    contents = dict([targets.stdin]) if targets.stdin else {}
    reader = functools.partial(_read_file, root, contents)
    unlisted: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    keep = () if targets.force_exclude else targets.folders
    paths = list(discover(root, exclude, unlisted, ignored, keep))
    paths = sorted({*paths, *_named_files(root, targets, set(paths), contents)})
    python = [p for p in paths if p.endswith(".py")]
    unreadable = [FileResult(path=rel, old=b"", new=b"", error=why) for rel, why in unlisted]
    modules: dict[str, ModuleInfo] = {}
    matched: dict[str, tuple[int, ...]] = {}
    refused: dict[str, str] = {}
    start_files: dict[str, bytes] = {}
    identity = None if contents else functools.partial(_identity, root)
    routers: set[str] = set()
    candidates = read_candidates(root, python, codemods, unreadable, modules, reader, matched, refused, start_files,
                                 identity, routers)
    # One Sources for the run: the start points, the model and the startup walk each read and parse a file once;
    # the app's modules (not library source) each of them reads are kept parsed until the walk is done.
    sources = Sources(lambda rel: _read_text(reader, rel), {**start_files, **dict(candidates)})
    app_modules = [rel for rel in start_files if not inside_library(rel)]
    del start_files
    sources.pin(app_modules)
    starts = _start_points(root, paths, entrypoint, run_from, sources)
    facts = project_model.build(
        candidates, modules, lambda rel: _read_text(reader, rel), paths, [p.module for p in starts], unsafe_fixes,
        to_async, sources, root.resolve().name,
    )
    facts = _with_startup(root, paths, facts, starts, entrypoint, lambda rel: _read_text(reader, rel), sources,
                          routers)
    del sources, app_modules, routers

    # The model is built: of the files it read, only those parsed below stay held. The use layer's call graph
    # reaches modules no text check picked (main.py awaiting `init_db()`): parse_tasks reads them.
    held = dict(candidates)
    del candidates
    tasks = [task for task in parse_tasks(python, matched, codemods, facts, held, reader, unreadable)
             if targets.covers(task[0])]
    del held
    unreadable += _not_python(reader, python, refused, {task[0] for task in tasks}, targets, facts)
    if skip is not None:
        kept = [(rel, source, [c for c in mods if not skip(rel, c.RULE_ID)]) for rel, source, mods in tasks]
        tasks = [task for task in kept if task[2]]
    progress = progress_factory(len(tasks)) if progress_factory else None
    with _collector_out_of_the_way():
        python_results, (results, text_files_read) = _map(
            tasks, (facts, lines_of_fixed), jobs, progress,
            meanwhile=lambda: _run_text_rules(reader, set(paths), text_rules, facts, skip),
        )
    results.extend(python_results)
    results.extend(unreadable)
    for rule in text_rules:
        for rel, finding in rule.missing(facts):
            if skip is None or not skip(rel, rule.RULE_ID):
                results.append(FileResult(path=rel, old=b"", new=b"", findings=[finding]))
    results = settle_startup(hold_unreached(results, facts, root, paths))
    results = sorted((r for r in results if targets.covers(r.path)), key=lambda r: r.path)
    disclosure.mark(root, results)
    scanned = sum(map(targets.covers, python)) + sum(map(targets.covers, text_files_read))
    return Run(results=results, files_scanned=scanned, facts=facts,
               ignored=_ignored_changes(reader, ignored, targets, text_rules, facts), root=root,
               parsed=[task[0] for task in tasks])


def _not_python(reader: Callable[[str], bytes], python: list[str], refused: dict[str, str], parsed: set[str],
                targets: Targets, facts: ProjectModel) -> list[FileResult]:
    """The files fixer reads as code and cannot: named, never skipped in silence. Bytes that are not Python
    source, in any file that runs; and the modules the documented starts import that no rule parses, which
    CPython's parser checks (a rule's file is parsed anyway, and says so itself). Only those: a tree of vendored
    or unrelated source is not parsed for this."""
    out = [FileResult(path=rel, old=b"", new=b"", error=f"{why}; left as it is")
           for rel, why in refused.items() if facts.runs(rel) and targets.covers(rel)]
    if not facts.has_app:
        return out
    import ast

    imported = {rel for prediction in facts.startup.predictions for rel in (*prediction.order, *prediction.late_order)}
    for rel in python:
        if rel not in imported or rel in parsed or rel in refused or not targets.covers(rel):
            continue
        try:
            ast.parse(reader(rel), filename=rel)
        except SyntaxError as error:
            out.append(FileResult(path=rel, old=b"", new=b"", error=f"cannot parse: {error.msg} (line {error.lineno}); left as it is"))
        except (RecursionError, MemoryError):
            out.append(FileResult(path=rel, old=b"", new=b"", error=f"cannot parse: {_TOO_DEEP_FOR_CPYTHON}; left as it is"))
        except (Unreadable, ValueError):  # named by discovery, or by the check of its bytes
            continue
    return out


_TOO_DEEP_FOR_CPYTHON = "nested too deeply for CPython's parser (RecursionError)"


def _named_files(root: Path, targets: Targets, found: set[str], contents: dict[str, bytes]) -> list[str]:
    """The files named on the command line that discovery left out (excluded, ignored, in an environment):
    fixed all the same, as ruff does, unless `--force-exclude`."""
    on_disk = [rel for rel in targets.files if os.path.isfile(os.path.join(root, rel))]
    if targets.force_exclude:  # only stdin standing for a file that does not exist yet: nothing excludes it
        return [rel for rel in contents if rel not in on_disk]
    return [*on_disk, *contents]


def _ignored_changes(
    reader: Callable[[str], bytes],
    ignored: list[tuple[str, str]],
    targets: Targets,
    text_rules: Sequence[TextRule],
    facts: ProjectModel,
) -> list[tuple[str, str, list[str]]]:
    """Which of the files a .gitignore leaves out a text rule would change (a gitignored `.env` with a sync
    URL): they are not fixed, since they are not the project's shared files, but the person is told."""
    why = {rel: line for rel, line in ignored if targets.covers(rel) and rel not in targets.files}
    results, _ = _run_text_rules(reader, set(why), text_rules, facts)
    return [
        (result.path, why[result.path], sorted({f.rule for f in result.findings if f.fixed}))
        for result in results
        if result.changed and result.path in why
    ]


def _read_file(root: Path, contents: dict[str, bytes], rel: str) -> bytes:
    """A file's bytes: stdin's for the file it stands for, else the disk's."""
    if rel in contents:
        return contents[rel]
    return read(os.path.join(root, rel))


def _identity(root: Path, rel: str) -> tuple[int, int, int, int] | None:
    """What tells a file's bytes apart without reading them: a later round's copy is a hard link to the file."""
    try:
        found = os.stat(os.path.join(root, rel))
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def _with_startup(root: Path, paths: list[str], facts: ProjectModel, starts: list, entrypoint: str | None,
                  read_text: Callable[[str], str | None], sources: Sources, routers: set[str]) -> ProjectModel:
    """The model with what starting the server does (`fixer.model.startup`), when the tree is a backend."""
    import dataclasses

    from fixer.model import needs, startup

    if not (facts.has_app or entrypoint):
        return facts
    try:
        # The prediction a fix is judged by: every URL read from the environment is the platform's.
        found = startup.analyse(root, paths, read_text, facts.flow, database_url=PLATFORM_URL, points=starts,
                                sources=sources, router_files=routers)
    except (OSError, RecursionError, ValueError):  # the prediction is a report; it never costs the fixes
        return facts
    failures = found.primary.failures if found.primary is not None else ()
    return dataclasses.replace(facts, startup=found, needs=needs.predicted(facts.needs, failures))


def settle_startup(results: list[FileResult]) -> list[FileResult]:
    """A predicted startup failure whose fixing rule fixed something in this run is fixed by that rule; the
    report-only ones stay for a person. Findings of a file also fixed are merged into its result."""
    from fixer.rules.startup_checks import settle

    return settle(results)


@contextmanager
def _collector_out_of_the_way() -> Iterator[None]:
    """LibCST trees hold no reference cycles: each is freed by reference counting once its file is done.
    The cyclic collector only walks them, and every object imported, over and over (measured: 9% of a dense
    run, against 3% in a bare parse loop). Objects that exist now are frozen out of its reach (forked
    workers then also leave their memory pages alone), and it runs about a sixth as often."""
    import gc

    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def read_candidates(
    root: Path,
    python: Sequence[str],
    codemods: Sequence[type[FixerCodemod]],
    unreadable: list[FileResult] | None = None,
    modules: dict[str, ModuleInfo] | None = None,
    reader: Callable[[str], bytes] | None = None,
    matched: dict[str, tuple[int, ...]] | None = None,
    refused: dict[str, str] | None = None,
    start_files: dict[str, bytes] | None = None,
    identity: Callable[[str], tuple | None] | None = None,
    routers: set[str] | None = None,
) -> list[tuple[str, bytes]]:
    """The Python files the project model reads (`fixer.model.reads`), with their bytes. A file that cannot be
    read is added to `unreadable`, as a result saying why; with `modules`, every file's import lines are
    recorded there too (the model's import graph); with `matched`, which codemods' text checks each file passes
    (by index in `codemods`), without keeping its bytes: whether a codemod wants it is the model's to say; with
    `refused`, a file whose bytes are not Python source (`not_source`) is recorded there, with why, instead; with
    `start_files`, the bytes of the files the start analyses read (`fixer.model.entrypoints.mentions_start`).
    Within `remembering_scans`, a file whose `identity` (device, inode, size, mtime) was seen before and whose scan
    kept none of its bytes is not read again: most of a later round's copy is hard links to the files round 1 read.
    With `routers`, the files whose text may define an APIRouter are recorded there (the startup analysis reads no
    other to find the routers never included).

    The rest are read once, searched and dropped: this loop is the whole cost of an unrelated file.
    """
    triggers = [TextCheck([c.TRIGGER]) for c in codemods] if matched is not None else []
    candidates: list[tuple[str, bytes]] = []
    reader = reader or functools.partial(_read_file, root, {})
    asked = (modules is not None, refused is not None, start_files is not None, tuple(codemods) if triggers else ())
    memo = _scans.setdefault(asked, {}) if _scans is not None else None
    for rel in python:
        known = identity(rel) if identity is not None and memo is not None else None
        if known is not None and (rel, known) in memo:  # type: ignore[operator]
            if modules is not None:
                modules[rel] = memo[(rel, known)][0]  # type: ignore[index]
            if routers is not None and memo[(rel, known)][5]:  # type: ignore[index]
                routers.add(rel)
            continue
        try:
            source = reader(rel)
        except Unreadable as error:
            if unreadable is not None:
                unreadable.append(FileResult(path=rel, old=b"", new=b"", error=f"{error}; left as it is"))
            continue
        if memo is None:
            scan = _scan(rel, source, asked, triggers)
        else:
            key = (rel, hashlib.blake2b(source, digest_size=16).digest())
            scan = memo.get(key)
            if scan is None:
                scan = memo[key] = _scan(rel, source, asked, triggers)
        info, why, model_reads, start, hits, routes = scan
        if routers is not None and routes:
            routers.add(rel)
        if known is not None and why is None and not (model_reads or start or hits):
            memo[(rel, known)] = scan  # type: ignore[index]
        if modules is not None:
            modules[rel] = info
        if why is not None:
            refused[rel] = why  # type: ignore[index]
            continue
        if model_reads:
            candidates.append((rel, source))
        if start:
            start_files[rel] = source  # type: ignore[index]
        if hits:
            matched[rel] = hits  # type: ignore[index]
    return candidates


# What read_candidates learns of a file: its import lines, why it is not Python source, whether the model reads
# it, whether a start analysis does, the codemods whose text checks it passes, whether its text may hold `APIRouter(`.
_Scan = tuple[ModuleInfo | None, str | None, bool, bool, tuple[int, ...], bool]
# Per-file scans kept across the runs of `remembering_scans` (fixer.apply.rounds: each round runs on the tree the last
# one fixed, where most files are the same bytes), by what was asked, then by path and a digest of the bytes (or the
# identity of a file whose bytes the scan did not keep).
_scans: dict[tuple, dict[tuple[str, object], _Scan]] | None = None
# The files text rules read, by the rules and the tree's paths, kept likewise.
_rule_paths: dict[tuple, frozenset[str]] | None = None


@contextmanager
def remembering_scans() -> Iterator[None]:
    """Within it, a file read again with the same bytes at the same path is not scanned again, and the same paths
    are not asked again which text rules read them."""
    global _scans, _rule_paths
    outer, _scans = _scans, {} if _scans is None else _scans
    outer_paths, _rule_paths = _rule_paths, {} if _rule_paths is None else _rule_paths
    try:
        yield
    finally:
        _scans, _rule_paths = outer, outer_paths


def _scan(rel: str, source: bytes, asked: tuple, triggers: Sequence[TextCheck]) -> _Scan:
    with_module, with_refused, with_starts, _ = asked
    info = read_module(rel, source) if with_module else None
    # As `_read_text` decodes it: a UTF-16 or UTF-32 file's text holds what its bytes do not show.
    routes = b"APIRouter(" in source or source.startswith(tuple(bom for bom, codec in _TEXT_BOMS if codec != "utf-8"))
    if with_refused and (why := not_source(source)) is not None:
        return info, why, False, False, (), routes
    # Library source never runs, so no codemod is for it (parse_tasks asks the model): no need to check.
    hits = () if inside_library(rel) else tuple(i for i, trigger in enumerate(triggers) if trigger(source))
    return info, None, project_model.reads(rel, source), with_starts and mentions_start(source), hits, routes


def not_source(source: bytes) -> str | None:
    """Why CPython would not read `source` as Python before parsing it (NUL bytes, bytes its encoding does not
    decode), or None: a check of the bytes, cheap enough for every file."""
    import io
    import re
    import tokenize

    if b"\0" in source:
        return "cannot parse: it holds NUL bytes, so it is not Python source"
    try:
        encoding, lines = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as error:  # a cookie naming no codec; or no cookie, and a first line that is not UTF-8
        if re.search(rb"^[ \t\f]*#.*?coding[:=]", source[:1024], re.M):
            return f"cannot decode: {error.msg}"
        encoding, lines = "utf-8", []
    try:
        source.decode(encoding)
    except UnicodeDecodeError as error:
        cookie = any(b"coding" in line for line in lines)
        said = "as its coding cookie says" if cookie else "and no coding cookie names another encoding"
        shown = "UTF-8" if encoding.startswith("utf-8") else encoding
        return f"cannot decode: not {shown} ({error.reason} at byte {error.start}) {said}"
    return None


def parse_tasks(
    python: Sequence[str],
    matched: Mapping[str, tuple[int, ...]],
    codemods: Sequence[type[FixerCodemod]],
    model: ProjectModel,
    held: Mapping[str, bytes],
    reader: Callable[[str], bytes],
    unreadable: list[FileResult],
) -> list[tuple[str, bytes, list[type[FixerCodemod]]]]:
    """The files to parse, each with the codemods that apply, in registry order: a codemod applies where its text
    check matched (`matched`) and the model wants it, or where the model plans its edits. Library source (it
    defines the APIs the rules fix uses of) and modules nothing imports are not a backend's running code. A
    file's bytes come from `held` or are read again: only the few files parsed are."""
    tasks = []
    for rel in python:
        hits = matched.get(rel, ())
        if not (hits or rel in model.uses.functions) or not model.runs(rel):
            continue
        wanted = [c for i, c in enumerate(codemods) if (i in hits and c.wants(rel, model)) or c.planned(model, rel)]
        if not wanted:
            continue
        source = held.get(rel)
        if source is None:
            try:
                source = reader(rel)
            except Unreadable as error:
                unreadable.append(FileResult(path=rel, old=b"", new=b"", error=f"{error}; left as it is"))
                continue
        tasks.append((rel, source, wanted))
    return tasks


# The files text rules read and edit, as pip reads them (a requirements file saved as UTF-16 by PowerShell's
# `pip freeze >`): a BOM names the encoding, and is written back as it was.
_TEXT_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
              (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF8, "utf-8"))


def _text_encoding(data: bytes) -> tuple[bytes, str]:
    """The BOM `data` starts with and the codec of what follows it."""
    return next(((bom, codec) for bom, codec in _TEXT_BOMS if data.startswith(bom)), (b"", "utf-8"))


def _read_text(reader: Callable[[str], bytes], rel: str) -> str | None:
    try:
        data = reader(rel)
        bom, codec = _text_encoding(data)
        return data[len(bom):].decode(codec)
    except (Unreadable, UnicodeDecodeError):
        return None  # the rule that edits such a file reports it


def _start_points(root: Path, paths: list[str], entrypoint: str | None, run_from: str | None,
                  sources: Sources) -> list:
    """Every start of the project (`fixer.model.entrypoints`): its modules root the import graph, and the
    startup walk follows each. A start that cannot be read is no start: the rules run without one."""
    from fixer.model.entrypoints import start_points

    try:
        return start_points(root.resolve(), entrypoint, run_from, paths, sources)
    except (OSError, RecursionError, ValueError):
        return []


def _text_rule_paths(paths: list[str], rules: Sequence[TextRule]) -> set[str]:
    if _rule_paths is None:
        return {p for p in paths if any(rule.applies_to(p) for rule in rules)}
    # A rule says from a path alone whether it reads the file: a later round's tree has the same paths.
    key = (tuple(type(rule) for rule in rules), tuple(paths))
    if key not in _rule_paths:
        _rule_paths[key] = frozenset(p for p in paths if any(rule.applies_to(p) for rule in rules))
    return set(_rule_paths[key])


def _run_text_rules(
    reader: Callable[[str], bytes], existing: set[str], rules: Sequence[TextRule], facts: ProjectModel,
    skip: Callable[[str, str], bool] | None = None,
) -> tuple[list[FileResult], set[str]]:
    """Text rules are cheap and few files match: run them here, following files one pulls in (`-r base.txt`)."""
    queue = sorted(_text_rule_paths(sorted(existing), rules))
    def runs(rel: str, rule: TextRule) -> bool:
        return skip is None or not skip(rel, rule.RULE_ID)

    wanted: dict[str, list[TextRule]] = {p: [r for r in rules if r.applies_to(p) and runs(p, r)] for p in queue}
    results: list[FileResult] = []
    seen: set[str] = set()
    while queue:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        try:
            old = reader(rel)
        except Unreadable as error:
            results.append(FileResult(path=rel, old=b"", new=b"", error=f"{error}; left as it is"))
            continue
        result = FileResult(path=rel, old=old, new=old)
        bom, codec = _text_encoding(old)
        try:
            text = old[len(bom):].decode(codec)
        except UnicodeDecodeError as error:
            result.error = f"not {'UTF-8' if codec == 'utf-8' else codec} ({error.reason} at byte {error.start}); left as it is"
            results.append(result)
            continue
        if codec != "utf-8":
            result.encoding = codec  # the BOM decodes as the first line's U+FEFF: the diff shows the file whole
        new_text = text
        suppressions = suppress.parse(text)
        for rule in wanted.get(rel, []):
            for included in rule.related(rel, new_text):
                if included in existing and included not in seen and runs(included, rule):
                    wanted.setdefault(included, []).append(rule)
                    queue.append(included)
            before = new_text
            try:
                new_text, findings = rule.fix(rel, new_text, facts)
            except Unparseable as error:
                result.error = f"cannot parse: {error}; left as it is"
                break
            except Exception as error:  # one rule's bug must not cost the user the whole run
                result.error = f"internal error in {rule.RULE_ID}: {type(error).__name__}: {error}"
                result.traceback = traceback.format_exc()
                break
            found = locate(findings, text)
            if suppressions.touches(rule.RULE_ID):
                new_text, found = honour_in_text(suppressions, rule.RULE_ID, before, new_text, found, result)
            result.findings.extend(found)
        if result.error is None and new_text is not text:
            result.new = bom + new_text.encode(codec)
        if result.matters:
            results.append(result)
    return results, seen


# Below this much Python source to transform, worker processes cost more than they save (starting them,
# pickling the files and results): the run stays in this process.
_POOL_MIN_BYTES = 16 * 1024  # measured: starting two workers costs about what 8 KB of work does


def _map(
    tasks: list, settings: Settings, jobs: int, progress: Progress | None, meanwhile: Callable[[], _T]
) -> tuple[list[FileResult], _T]:
    """Every task's result that matters (changed, findings or error), in no particular order, and what
    `meanwhile` returns: with worker processes, this process runs it while they parse, instead of before."""
    out: list[FileResult] = []

    def done(result: FileResult | None) -> None:
        if result is not None:
            out.append(result)
        if progress:
            progress(1)

    work = functools.partial(transform_task, settings)
    if jobs <= 1 or len(tasks) < 2 or sum(len(task[1]) for task in tasks) < _POOL_MIN_BYTES:
        other = meanwhile()
        for task in tasks:
            done(work(task))
        return out, other
    from fixer.apply import workers

    # Biggest files first, so that no worker idles while another finishes a big file.
    tasks = sorted(tasks, key=lambda task: len(task[1]), reverse=True)
    return out, workers.run(work, tasks, jobs, died=died, meanwhile=meanwhile, done=done)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
