"""What every output format is fed from: each finding located in its file, with the edits that fix it.

A finding's edits are the zero-context hunks of its file (`fixer.output.diff.hunks`) nearest its line: rules run on
one parse of a file, so a hunk is not labelled with the rule that made it, and the nearest finding is the
one a reader looks for. Each finding is placed on its own code, apart from the edits (one edit can carry
several findings). A change the patch leaves out (a secret git does not track, `fixer.apply.disclosure`) has its
edits withheld in every format, and every message has been through `fixer.model.urls.redact`.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from typing import Literal

from fixer.apply.changes import Hunk, hunks, old_lines
from fixer.rules.findings import FileResult, Finding
from fixer.model.urls import redact

# fixed: written by this run; fixable: `fixer apply` writes it; unsafe: `--unsafe-fixes` writes it;
# manual: a person must act.
Status = Literal["fixed", "fixable", "unsafe", "manual", "note"]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based, in characters (Unicode code points)


@dataclass(frozen=True)
class Edit:
    """`start`..`end` (end exclusive) of the original file becomes `content`: the smallest such span of a hunk."""

    hunk: Hunk
    start: Position
    end: Position
    content: str


STATUS_WORDS = {
    "fixed": "fixed by fixer",
    "fixable": "`fixer apply` fixes this",
    "unsafe": "`fixer apply --unsafe-fixes` fixes this",
    "manual": "needs a person",
    "note": "not decided by fixer: check it",
}


@dataclass(frozen=True)
class Diagnostic:
    path: str  # as shown: the scanned root's display prefix joined to the file's relative path
    finding: Finding
    status: Status
    start: Position
    end: Position
    edits: tuple[Edit, ...]  # empty when nothing is (to be) written for it here, or when withheld
    withheld: bool  # its file's edits are not shown (credentials)

    @property
    def message(self) -> str:
        return redact(self.finding.problem)

    @property
    def worded(self) -> str:
        """The message with what becomes of it, as an annotation in CI shows it."""
        return f"{self.message} ({STATUS_WORDS[self.status]})"

    @property
    def fingerprint(self) -> str:
        """Stable while the finding's code stays the same, wherever the lines move."""
        key = "\0".join((self.finding.rule, self.path, self.finding.old_code, self.finding.problem))
        return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Skipped:
    path: str
    message: str


@dataclass(frozen=True)
class Diagnostics:
    items: list[Diagnostic]
    skipped: list[Skipped]
    applied: bool  # the fixes were written (apply), not only proposed (dry-run)
    results: dict[str, FileResult]  # by displayed path: what the markdown suggestions read their lines from

    @property
    def fixes(self) -> list[Diagnostic]:
        return [d for d in self.items if d.status in ("fixed", "fixable")]


def status_of(finding: Finding, applied: bool) -> Status:
    if finding.note:
        return "note"
    if finding.fixed:
        return "fixed" if applied else "fixable"
    return "manual" if finding.safe else "unsafe"


def collect(results: list[FileResult], applied: bool, prefix: str = "") -> Diagnostics:
    """`results` of a run, located. `prefix` is put before every path (the scanned folder as the user names it)."""
    items: list[Diagnostic] = []
    skipped: list[Skipped] = []
    shown: dict[str, FileResult] = {}
    for result in results:
        path = posixpath.join(prefix, result.path) if prefix else result.path
        if result.error is not None:
            skipped.append(Skipped(path, redact(result.error)))
            continue
        shown[path] = result
        lines = old_lines(result)
        edits = [_edit(h) for h in hunks(result)] if result.changed else []
        owner = _owners(result.findings, edits)
        for index, finding in enumerate(result.findings):
            mine = tuple(e for e, owners in zip(edits, owner) if index in owners)
            withheld = bool(mine) and mine[0].hunk.withheld
            start, end = _span(finding, mine, lines)
            items.append(
                Diagnostic(path, finding, status_of(finding, applied), start, end, () if withheld else mine, withheld)
            )
    return Diagnostics(items, skipped, applied, shown)


def _owners(findings: list[Finding], edits: list[Edit]) -> list[set[int]]:
    """For each edit, the indexes of the fixed findings whose line is nearest (inside it counts as 0)."""
    fixed = [i for i, f in enumerate(findings) if f.fixed]
    if not fixed:
        return [set() for _ in edits]

    def distance(finding: Finding, hunk: Hunk) -> int:
        if finding.line is None:
            return 1 << 30
        line = finding.line - 1
        last = max(hunk.stop, hunk.start + 1) - 1
        return 0 if hunk.start <= line <= last else min(abs(line - hunk.start), abs(line - last))

    owners = []
    for edit in edits:
        distances = {i: distance(findings[i], edit.hunk) for i in fixed}
        nearest = min(distances.values())
        owners.append({i for i, d in distances.items() if d == nearest})
    for i in fixed:  # a fix is never shown without an edit: the one nearest it, when no edit is nearest to it
        if edits and not any(i in mine for mine in owners):
            owners[min(range(len(edits)), key=lambda e: distance(findings[i], edits[e].hunk))].add(i)
    return owners


def _edit(hunk: Hunk) -> Edit:
    old, new = "".join(hunk.old_lines), "".join(hunk.new_lines)
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return Edit(
        hunk,
        _position(hunk.start, old, prefix),
        _position(hunk.start, old, len(old) - suffix),
        new[prefix:len(new) - suffix],
    )


def _position(first_line: int, text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(first_line + 1 + text.count("\n", 0, offset), offset - line_start + 1)


def _span(finding: Finding, edits: tuple[Edit, ...], lines: list[str]) -> tuple[Position, Position]:
    """Where the finding itself is, whatever its fix's edit spans (one edit can carry several findings): its
    code (the first line of `old_code`) on its line, else that line's text. The edits are located apart."""
    line = finding.line or 1
    text = lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""
    code = finding.old_code.strip().splitlines()[0].strip() if finding.old_code.strip() else ""
    column = text.find(code) if code else -1
    if column < 0 and "(" in code:  # a call whose arguments another fix on the line rewrote: its callee
        code = code[:code.index("(") + 1]
        column = text.find(code)
    if column >= 0:
        return Position(line, column + 1), Position(line, column + len(code) + 1)
    indent = len(text) - len(text.lstrip())
    return Position(line, indent + 1), Position(line, len(text) + 1)
