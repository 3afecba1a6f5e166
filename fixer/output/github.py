"""`--output-format github`: GitHub Actions workflow commands, one annotation per finding.

https://docs.github.com/actions/reference/workflow-commands-for-github-actions (error/warning/notice,
with file, line, col, endLine, endColumn and title; `%`, CR, LF escaped, and `:` `,` too in properties)."""

from __future__ import annotations

from fixer.rules.findings import Severity
from fixer.output.diagnostics import Diagnostic, Diagnostics

LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _line(item: Diagnostic) -> str:
    props = {
        "file": item.path,
        "line": item.start.line,
        "col": item.start.column,
        "endLine": item.end.line,
        "endColumn": item.end.column,
        "title": item.finding.rule,
    }
    where = ",".join(f"{key}={_property(str(value))}" for key, value in props.items())
    return f"::{LEVEL[item.finding.severity]} {where}::{_data(item.worded)}"


def render(diagnostics: Diagnostics) -> str:
    lines = [_line(item) for item in diagnostics.items]
    lines += [
        f"::error file={_property(s.path)},title=fixer::{_data(f'skipped: {s.message}')}" for s in diagnostics.skipped
    ]
    return "".join(line + "\n" for line in lines)
