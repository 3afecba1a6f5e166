"""`--output-format json-ruff`: fixer's findings in the layout of `ruff check --output-format json`, for tools
that already read ruff's: a list of {code, message, filename, location and
end_location ({row, column}, 1-based, columns in characters), fix ({applicability, message, edits}) or null,
url, noqa_row, cell}. A fix is given only where fixer makes it (written, or to be written by `fixer apply`).
`filename` is the path every format gives (from the current folder, or the root with `--root-relative`) where
ruff gives an absolute one: joined to the working folder, both name the same file."""

from __future__ import annotations

import json

from fixer import rule_doc_url
from fixer.output.diagnostics import Diagnostic, Diagnostics, Position
from fixer.model.urls import redact


def _location(position: Position) -> dict:
    return {"row": position.line, "column": position.column}


def _diagnostic(item: Diagnostic) -> dict:
    fix = None
    if item.status in ("fixed", "fixable") and item.edits:
        fix = {
            "applicability": "safe" if item.finding.safe else "unsafe",
            "message": redact(item.finding.explanation),
            "edits": [
                {"content": e.content, "location": _location(e.start), "end_location": _location(e.end)}
                for e in item.edits
            ],
        }
    return {
        "cell": None,
        "code": item.finding.rule,
        "end_location": _location(item.end),
        "filename": item.path,
        "fix": fix,
        "location": _location(item.start),
        "message": item.message,
        "noqa_row": item.start.line,
        "url": rule_doc_url(item.finding.rule),
    }


def render(diagnostics: Diagnostics) -> str:
    return json.dumps([_diagnostic(item) for item in diagnostics.items], indent=2) + "\n"
