"""`--output-format sarif`: SARIF 2.1.0, as GitHub code scanning takes it (github/codeql-action/upload-sarif).

tool.driver.rules come from the registry (every rule, with its title, its docstring as help and a helpUri to
its page in docs/rules); each finding is a result with its region, and a fix (artifactChanges with
replacements: deletedRegion + insertedContent) when fixer writes or would write one. Columns are Unicode
code points (run.columnKind), end columns exclusive, as SARIF defines them."""

from __future__ import annotations

import json

from fixer import HOMEPAGE, __version__, rule_doc_url
from fixer.rules.findings import Severity
from fixer.output.diagnostics import Diagnostic, Diagnostics, Position
from fixer.model.urls import redact

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}


def rule_help(rule) -> str:
    """The rule's page (What it does, Why is this bad?, Example, Use instead, Fix safety), as `fixer rule` shows it."""
    from fixer.output.docs import markdown
    from fixer.rules.ruledoc import rule_doc

    return markdown(rule_doc(rule))


def _rule(rule) -> dict:
    help_text = rule_help(rule)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.title},
        "help": {"text": help_text, "markdown": help_text},
        "helpUri": rule_doc_url(rule.id),
        "properties": {"tags": sorted({cls.RULE_NAME for cls in rule.classes} | set(_defects(rule)))},
    }


def _defects(rule) -> list[str]:
    return [defect for cls in rule.classes for defect in getattr(cls, "DEFECTS", ())]


def _region(start: Position, end: Position) -> dict:
    return {"startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column}


def _result(item: Diagnostic, index: dict[str, int]) -> dict:
    finding = item.finding
    result = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVEL[finding.severity],
        "message": {"text": item.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": item.path}, "region": _region(item.start, item.end)}}
        ],
        "partialFingerprints": {"fixer/v1": item.fingerprint},
        "properties": {"status": item.status, "severity": finding.severity.value, "category": finding.category.value},
    }
    if item.edits:
        result["fixes"] = [
            {
                "description": {"text": redact(finding.explanation)},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": item.path},
                        "replacements": [
                            {"deletedRegion": _region(e.start, e.end), "insertedContent": {"text": e.content}}
                            for e in item.edits
                        ],
                    }
                ],
            }
        ]
    return result


def build(diagnostics: Diagnostics) -> dict:
    from fixer.rules.registry import all_rules

    rules = all_rules()
    index = {rule.id: n for n, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fixer",
                        "version": __version__,
                        "informationUri": HOMEPAGE,
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(item, index) for item in diagnostics.items],
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "error",
                                "message": {"text": f"skipped: {s.message}"},
                                "locations": [{"physicalLocation": {"artifactLocation": {"uri": s.path}}}],
                            }
                            for s in diagnostics.skipped
                        ],
                    }
                ],
            }
        ],
    }


def render(diagnostics: Diagnostics) -> str:
    return json.dumps(build(diagnostics), indent=2) + "\n"
