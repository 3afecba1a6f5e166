"""reviewdog's rdjson, JUnit XML and ruff's JSON layout: their shape as their consumers document it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema

from fixer.rules.findings import Category, FileResult, Finding, Severity
from fixer.output.formats import collect, render

# reviewdog's Diagnostic Format (proto/rdf/reviewdog.proto), written down as a strict JSON Schema: the published
# one allows any extra property, so it would let a misspelt key through.
_POSITION = {"type": "object", "additionalProperties": False,
             "properties": {"line": {"type": "integer", "minimum": 1}, "column": {"type": "integer", "minimum": 1}}}
_RANGE = {"type": "object", "additionalProperties": False, "required": ["start"],
          "properties": {"start": _POSITION, "end": _POSITION}}
_NAMED = {"type": "object", "additionalProperties": False, "required": ["value"],
          "properties": {"value": {"type": "string"}, "url": {"type": "string"}}}
RDJSON = {
    "type": "object", "additionalProperties": False, "required": ["diagnostics"],
    "properties": {
        "source": {"type": "object", "additionalProperties": False, "required": ["name"],
                   "properties": {"name": {"type": "string"}, "url": {"type": "string"}}},
        "severity": {"enum": ["UNKNOWN_SEVERITY", "ERROR", "WARNING", "INFO"]},
        "diagnostics": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["message", "location"],
            "properties": {
                "message": {"type": "string"},
                "location": {"type": "object", "additionalProperties": False, "required": ["path"],
                             "properties": {"path": {"type": "string"}, "range": _RANGE}},
                "severity": {"enum": ["UNKNOWN_SEVERITY", "ERROR", "WARNING", "INFO"]},
                "code": _NAMED,
                "suggestions": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["range", "text"],
                    "properties": {"range": _RANGE, "text": {"type": "string"}}}},
                "original_output": {"type": "string"},
            },
        }},
    },
}
# `ruff check --output-format json`: the keys of one diagnostic and of its fix.
RUFF_KEYS = {"cell", "code", "end_location", "filename", "fix", "location", "message", "noqa_row", "url"}

OLD = "# café\nURL = 'postgresql://h/db'  # é\nx = 1\n"
NEW = "# café\nURL = 'postgresql+asyncpg://h/db'  # é\nx = 1\n"


def _finding(rule: str, line: int, fixed: bool = True, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(rule=rule, category=Category.DATABASE, severity=severity, problem=f"{rule} problem",
                   root_cause="", old_code="", new_code="", explanation="why", fixed=fixed, line=line)


def _diagnostics():
    result = FileResult(path="app/db.py", old=OLD.encode(), new=NEW.encode(),
                        findings=[_finding("FX004", 2), _finding("FX003", 3, fixed=False, severity=Severity.LOW)])
    broken = FileResult(path="bad.py", old=b"", new=b"", error="cannot parse: <x> & 'y'")
    return collect([result, broken], applied=False, prefix="backend")


def test_rdjson_has_reviewdogs_shape_and_counts_columns_in_utf8_bytes() -> None:
    out = json.loads(render("rdjson", _diagnostics()))
    jsonschema.Draft7Validator(RDJSON).validate(out)
    fx004, fx003, skipped = out["diagnostics"]
    assert fx004["location"]["path"] == "backend/app/db.py" and fx004["code"]["value"] == "FX004"
    assert fx004["severity"] == "ERROR" and fx003["severity"] == "INFO" and "suggestions" not in fx003
    (suggestion,) = fx004["suggestions"]
    # The edit inserts "+asyncpg" after `postgresql`: column 18 in characters and in bytes on this line...
    assert suggestion == {"range": {"start": {"line": 2, "column": 18}, "end": {"line": 2, "column": 18}},
                          "text": "+asyncpg"}
    # ...while the line's end, after an "é", is one byte further than its character count.
    assert fx004["location"]["range"]["end"]["column"] == len("URL = 'postgresql://h/db'  # é".encode()) + 1
    line = OLD.splitlines()[1].encode()
    start = suggestion["range"]["start"]["column"] - 1
    assert (line[:start] + b"+asyncpg" + line[start:]).decode() == NEW.splitlines()[1]
    assert skipped["location"] == {"path": "backend/bad.py"} and skipped["severity"] == "ERROR"


def test_junit_is_a_test_report() -> None:
    root = ET.fromstring(render("junit", _diagnostics()))
    assert root.tag == "testsuites" and (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "2", "1")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    cases = suites["backend/app/db.py"].findall("testcase")
    assert [c.get("name") for c in cases] == ["fixer.FX004", "fixer.FX003"]
    assert cases[0].get("line") == "2" and cases[0].find("failure").get("message") == "FX004 problem"
    assert suites["backend/bad.py"].find("testcase/error").get("message") == "cannot parse: <x> & 'y'"
    clean = ET.fromstring(render("junit", collect([], applied=False)))
    assert clean.get("failures") == "0" and [c.get("name") for c in clean.iter("testcase")] == ["No issues found"]


def test_json_ruff_has_ruffs_layout() -> None:
    out = json.loads(render("json-ruff", _diagnostics()))
    assert isinstance(out, list) and all(set(item) == RUFF_KEYS for item in out)
    fx004, fx003 = out
    assert fx004["location"] == {"row": 2, "column": 1} and fx004["noqa_row"] == 2  # an insertion: its whole line
    assert fx004["fix"] == {"applicability": "safe", "message": "why", "edits": [
        {"content": "+asyncpg", "location": {"row": 2, "column": 18}, "end_location": {"row": 2, "column": 18}}]}
    assert fx003["fix"] is None and fx003["filename"] == "backend/app/db.py"
