"""Markdown suggestions and located edits, in-process: committing every suggestion gives the new bytes, and
applying every JSON/SARIF edit does too, whatever the shape of the change (top of file, end, deletions,
no final newline, CRLF)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.apply.changes import hunks
from fixer.rules.findings import Category, FileResult, Finding, Severity
from fixer.output.formats import collect
from fixer.output.markdown import suggestions
from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES

REPO = Path(__file__).resolve().parent.parent


def finding(line: int | None) -> Finding:
    return Finding(rule="FX002", category=Category.IMPORT, severity=Severity.HIGH, problem="p", root_cause="r",
                   old_code="", new_code="", explanation="e", line=line)


def committed(result: FileResult) -> bytes:
    diagnostics = collect([result], applied=False)
    made, left = suggestions(diagnostics)
    assert not left
    lines = result.old.decode().splitlines(keepends=True)
    for s in sorted(made, key=lambda s: -s.start_line):
        lines[s.start_line - 1:s.line] = s.content.splitlines(keepends=True)
    return "".join(lines).encode()


def edited(result: FileResult) -> bytes:
    """Every edit of the JSON/SARIF outputs applied (line/column positions, end exclusive)."""
    diagnostics = collect([result], applied=False)
    edits = {e for item in diagnostics.items for e in item.edits}
    lines = result.old.decode().splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    text = result.old.decode()

    def offset(position) -> int:
        return starts[position.line - 1] + position.column - 1

    for edit in sorted(edits, key=lambda e: -offset(e.start)):
        text = text[:offset(edit.start)] + edit.content + text[offset(edit.end):]
    return text.encode()


CASES = {
    "insert at the top": (b"b\nc\n", b"a\nb\nc\n", [1]),
    "insert at the end": (b"a\nb\n", b"a\nb\nc\n", [2]),
    "replace in the middle": (b"a\nb\nc\nd\n", b"a\nB\nc\nd\n", [2]),
    "delete a line": (b"a\nb\nc\n", b"a\nc\n", [2]),
    "delete the first line": (b"a\nb\nc\n", b"b\nc\n", [1]),
    "two changes far apart": (b"".join(b"%d\n" % n for n in range(20)), b"x\n" + b"".join(b"%d\n" % n for n in range(1, 19)) + b"y\n", [1, 20]),
    "two changes close": (b"a\nb\nc\nd\n", b"A\nb\nC\nd\n", [1]),
    "no final newline": (b"a\nb", b"a\nB", [2]),
    "crlf": (b"a\r\nb\r\n", b"a\r\nB\r\n", [2]),
    "finding without a line": (b"a\nb\n", b"a\nB\n", [None]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_suggestions_and_edits_give_the_new_bytes(name: str) -> None:
    old, new, lines = CASES[name]
    result = FileResult(path="m.py", old=old, new=new, findings=[finding(line) for line in lines])
    assert committed(result) == new
    assert edited(result) == new


@pytest.mark.parametrize("fixture", ["todo/broken", "seed/broken/backend"])
def test_on_the_fixtures_every_shown_change_round_trips(fixture: str, tmp_path: Path) -> None:
    root = Path(shutil.copytree(REPO / "fixtures" / fixture, tmp_path / "tree"))
    outcome = runner.run(root, PYTHON_CODEMODS, [rule() for rule in TEXT_RULES])
    changed = [r for r in outcome.results if r.changed]
    assert changed
    for result in changed:
        if hunks(result)[0].withheld:  # credentials: not shown, so not suggested
            continue
        assert committed(result) == result.new, result.path
        assert edited(result) == result.new, result.path


def test_every_fix_carries_an_edit_and_each_edit_goes_to_the_findings_nearest_it() -> None:
    old = b"".join(b"%d\n" % n for n in range(10))
    new = old.replace(b"1\n", b"one\n", 1)
    result = FileResult(path="m.py", old=old, new=new, findings=[finding(2), finding(6), finding(2)])
    items = collect([result], applied=False).items
    assert [len(item.edits) for item in items] == [1, 1, 1]
    assert items[0].start.line == 2 and items[0].start.column == 1 and items[0].edits[0].content == "one"
