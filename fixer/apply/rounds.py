"""Predict, fix, predict again: the rounds one `fixer apply` / `fixer dry-run` goes through.

A fix can uncover what the first prediction could not see (a start command changed to where the imports
resolve walks modules it never reached; an engine URL made async loads another driver). So the fixed tree is
predicted again, and fixed again, until the start is predicted clean, nothing more changes, or a round leaves
the same first failure it began with (it got no further: the fix it would repeat is not evidence).

The startup walk reads the project's modules and start files from disk, so later rounds run on a copy of the
files the first round discovered (with the fixes written in); nothing is written to the project here: the
result is one Run whose files go from their bytes on disk to the last round's, as if one round had made it.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fixer.apply import disclosure
from fixer.rules.findings import FileResult
from fixer.apply.runner import Run, remembering_scans
from fixer.model.modules import remembering_graphs
from fixer.model.startfiles import is_start_file

__all__ = ["MAX_ROUNDS", "Round", "describe", "first_failure", "run_rounds"]

MAX_ROUNDS = 4
_ABOVE = 3  # the folders above a backend whose start files the model reads (fixer.model.migrations)
_SKIP = shutil.ignore_patterns(".git", "node_modules", ".venv", "venv", "env", "__pycache__", ".mypy_cache",
                               ".pytest_cache", ".ruff_cache", "dist", "build", ".next")


@dataclass(frozen=True)
class Round:
    number: int
    before: str  # the first predicted failure this round started from ("" = predicted clean)
    changed: tuple[str, ...]  # the files it changed


def first_failure(run: Run) -> str:
    prediction = run.facts.startup.primary
    if prediction is None or not prediction.failures:
        return ""
    failure = prediction.failures[0]
    return f"{failure} at {failure.path}:{failure.line}"


def run_rounds(root: Path, one_round: Callable[[Path], Run], anchor: Path | None = None) -> tuple[Run, list[Round]]:
    """`one_round(root)` is one ordinary run of the rules on the tree at `root`. Returns the merged run (the
    last round's model and what is left, with every round's fixes) and the rounds. With `anchor` (a folder
    above `root` whose configuration applies, e.g. excludes written relative to it), the copy keeps `root`'s
    place below it, so that paths relative to the anchor mean the same in the copy."""
    # A later round reads the copy, where only the files the rounds fixed changed: the others' scans are kept, and
    # the import graph (with its reachability and roles) where the fixes left every file's import lines as they were.
    with remembering_scans(), remembering_graphs():
        return _rounds(root, one_round, anchor)


def _rounds(root: Path, one_round: Callable[[Path], Run], anchor: Path | None) -> tuple[Run, list[Round]]:
    first = one_round(root)
    rounds = [Round(1, first_failure(first), tuple(r.path for r in first.results if r.changed))]
    if not rounds[0].changed or not rounds[0].before or first.facts.startup.primary is None:
        return first, rounds
    runs = [first]
    with tempfile.TemporaryDirectory(prefix="fixer-rounds-") as tmp:
        copy = Path(tmp) / (root.resolve().relative_to(anchor.resolve()) if anchor is not None else _place(root))
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copytree(root, copy, ignore=_SKIP, symlinks=True, copy_function=_linker())
            if anchor is None:
                _start_files_above(root, copy)
        except (OSError, shutil.Error):
            return first, rounds  # the rounds only add: a tree that cannot be copied keeps round 1
        _write(copy, first.results)
        while len(rounds) < MAX_ROUNDS:
            current = one_round(copy)
            runs.append(current)
            before = first_failure(current)
            changed = tuple(r.path for r in current.results if r.changed)
            rounds.append(Round(len(rounds) + 1, before, changed))
            if changed:
                _write(copy, current.results)
            if not changed or not before:
                break
        final = {rel: (copy / rel).read_bytes() for rnd in rounds for rel in rnd.changed if (copy / rel).is_file()}
    return _merged(root, runs, final), rounds


def _place(root: Path) -> Path:
    """The copy's path below the temporary folder: `root` under the names of the folders above it that the model
    reads start files from (a README at the repository's top that runs `alembic upgrade head` in this backend,
    the compose file beside it), so that a later round meets the same documented start."""
    resolved = root.resolve()
    return Path(*[p.name for p in reversed(list(resolved.parents)[:_ABOVE]) if p.name], resolved.name)


def _start_files_above(root: Path, copy: Path) -> None:
    """The start files of the folders above `root` copied to the same places above the copy, and the folders
    beside them linked there: the walk looks for a module the backend imports from the repository above it
    (`sys.path.append('..')`; fixer.model.failures), and without them a later round called that import clean."""
    inside = not (root / ".git").exists()  # up to the repository's top, where the walk stops looking
    for source, target in zip(list(root.resolve().parents)[:_ABOVE], list(copy.parents)[:_ABOVE]):
        for path in source.iterdir() if source.name and source.is_dir() else ():
            if path.is_file() and is_start_file(path.name):
                shutil.copy2(path, target / path.name)
            elif inside and path.is_dir() and not (target / path.name).exists() and path.name not in (".git", "node_modules"):
                os.symlink(path, target / path.name, target_is_directory=True)
        inside = inside and not (source / ".git").exists()


def _linker() -> Callable[[str, str], object]:
    """The copy's files are hard links to the project's where the file system allows (most of a large tree is
    never changed by a round, and a copy of every byte of it cost more than the round it was made for), else
    copies. `_write` replaces a file, never writes into it, so the project's own file is never touched."""
    linking = True

    def link_or_copy(src: str, dst: str) -> object:
        nonlocal linking
        if linking:
            try:
                return os.link(src, dst)
            except OSError:  # another file system, or links not allowed here: copies from now on
                linking = False
        return shutil.copy2(src, dst)

    return link_or_copy


def _write(copy: Path, results: list[FileResult]) -> None:
    for result in results:
        if result.changed:
            target = copy / result.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)  # a hard link to the project's file: a new file instead
            target.write_bytes(result.new)


def _merged(root: Path, runs: list[Run], final: dict[str, bytes]) -> Run:
    """The last run's results (what is left), each changed file going from round 1's bytes to the last
    round's, with the fixes every round made."""
    last = runs[-1]
    original = {r.path: r.old for r in runs[0].results}

    def before(rel: str) -> bytes:
        if rel not in original:
            original[rel] = (root / rel).read_bytes() if (root / rel).is_file() else b""
        return original[rel]

    fixed: dict[str, list] = {}
    for run in runs[:-1]:
        for result in run.results:
            if result.changed:
                found = [f for f in result.findings if f.fixed]
                if run is not runs[0]:
                    found = _relocated(found, result.old, before(result.path))
                fixed.setdefault(result.path, []).extend(found)
    by_path = {r.path: r for r in last.results}
    # A file the last round did not touch keeps the encoding the round that changed it read it in.
    encoding = {r.path: r.encoding for run in reversed(runs[:-1]) for r in run.results}
    out: list[FileResult] = []
    for rel in sorted(set(by_path) | set(final)):
        result = by_path.get(rel) or FileResult(path=rel, old=b"", new=b"", encoding=encoding.get(rel, "utf-8"))
        old = before(rel)
        # What the last round found is at lines of the tree the rounds made: moved back onto the file on disk.
        left = _relocated(result.findings, result.old, old) if result.old and result.old != old else result.findings
        findings = [*fixed.get(rel, []), *(f for f in left if f not in fixed.get(rel, []))]
        out.append(dataclasses.replace(result, old=old, new=final.get(rel, result.new if result.changed else old),
                                       findings=findings))
    # The copy has no .git above it, so its rounds do not see the repository's ignore files: what round 1 left
    # out as ignored stays out (a gitignored .env is named, never changed unasked).
    left_out = {rel for rel, _, _ in runs[0].ignored}
    out = [r for r in out if (r.matters or r.changed) and r.path not in left_out]
    disclosure.mark(root, out)  # later rounds ran on a copy git does not track: what is shown is the project's
    # The first model, whose prediction says what fails today and which rule fixes it; the last round's
    # prediction is what still stands (Run.after).
    return dataclasses.replace(last, results=out, root=root, ignored=runs[0].ignored, facts=runs[0].facts,
                               files_scanned=runs[0].files_scanned, after=last.facts.startup.primary)


def _relocated(findings: list, now: bytes, then: bytes) -> list:
    """Findings at lines of `now`, moved to the same lines of `then` (the file before the rounds' edits); a
    line the edits added maps to the line of `then` it was added at."""
    if not any(f.line for f in findings):
        return list(findings)
    matcher = difflib.SequenceMatcher(None, now.splitlines(), then.splitlines(), autojunk=False)
    blocks = matcher.get_opcodes()

    def moved(line: int) -> int:
        for tag, i1, i2, j1, j2 in blocks:
            if i1 < line <= i2 or (i1 == i2 == line - 1):
                return j1 + (line - i1) if tag == "equal" else j1 + 1
        return line

    return [dataclasses.replace(f, line=moved(f.line)) if f.line else f for f in findings]


def describe(rounds: list[Round]) -> list[str]:
    """The rounds as the summary prints them."""
    if len(rounds) < 2:
        return []
    return [f"round {r.number}: predicted {'failing first with ' + r.before if r.before else 'clean'}; "
            + (f"fixed {len(r.changed)} file(s)" if r.changed else "nothing more to fix") for r in rounds]

