"""`--output-format rdjson`: reviewdog's Diagnostic Format (`reviewdog -f=rdjson`), one diagnostic per finding
with its rule code and, for a fix, suggestions reviewdog can post as one-click changes.

https://github.com/reviewdog/reviewdog/tree/master/proto/rdf: a DiagnosticResult with `source` and
`diagnostics`; each has message, location (path, range), severity (ERROR/WARNING/INFO), code (value, url)
and suggestions (range, text). Columns are 1-based UTF-8 byte counts; a range's end is exclusive."""

from __future__ import annotations

import json

from fixer import HOMEPAGE, rule_doc_url
from fixer.apply.changes import old_lines
from fixer.rules.findings import Severity
from fixer.output.diagnostics import Diagnostic, Diagnostics, Position

SEVERITY = {Severity.CRITICAL: "ERROR", Severity.HIGH: "ERROR", Severity.MEDIUM: "WARNING", Severity.LOW: "INFO"}


def _position(position: Position, lines: list[str]) -> dict:
    """The position with its column counted in UTF-8 bytes, as reviewdog counts it."""
    text = lines[position.line - 1] if 0 < position.line <= len(lines) else ""
    column = len(text[: position.column - 1].encode("utf-8", "surrogateescape")) + 1
    return {"line": position.line, "column": column}


def _diagnostic(item: Diagnostic, lines: list[str]) -> dict:
    out = {
        "message": item.worded,
        "location": {
            "path": item.path,
            "range": {"start": _position(item.start, lines), "end": _position(item.end, lines)},
        },
        "severity": SEVERITY[item.finding.severity],
        "code": {"value": item.finding.rule, "url": rule_doc_url(item.finding.rule)},
    }
    if item.status == "fixable" and item.edits:  # a fix already written has nothing left to suggest
        out["suggestions"] = [
            {"range": {"start": _position(e.start, lines), "end": _position(e.end, lines)}, "text": e.content}
            for e in item.edits
        ]
    return out


def render(diagnostics: Diagnostics) -> str:
    lines = {path: old_lines(result) for path, result in diagnostics.results.items()}
    items = [_diagnostic(item, lines[item.path]) for item in diagnostics.items]
    items += [
        {"message": f"skipped: {s.message}", "location": {"path": s.path}, "severity": "ERROR",
         "code": {"value": "fixer-skipped"}}
        for s in diagnostics.skipped
    ]
    return json.dumps({"source": {"name": "fixer", "url": HOMEPAGE}, "diagnostics": items}, indent=2) + "\n"
