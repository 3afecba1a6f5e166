"""The audit report: the seed plan's data model, ordering and ids, related issues, recommendations, redaction."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from fixer.rules.findings import Category, FileResult, Finding, Severity
from fixer.output.report import CodeFix, Issue, build_report, report_json, report_schema

REPO_ROOT = Path(__file__).resolve().parent.parent

# Copied verbatim from the seed plan (specs/001-backend-stability-audit/plan.md, 1.2 "Issue Schema").
SEED_ISSUE_SCHEMA = json.loads(
    r"""
{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Backend Audit Issue",
  "type": "object",
  "required": ["id", "severity", "category", "file_path", "problem_description", "root_cause", "exact_fix"],
  "properties": {
    "id": {
      "type": "string",
      "pattern": "^[A-Z]+-[0-9]{3}$"
    },
    "severity": {
      "type": "string",
      "enum": ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    },
    "category": {
      "type": "string",
      "enum": ["IMPORT", "DEPENDENCY", "DATABASE", "CONFIG", "ENTRYPOINT"]
    },
    "file_path": {
      "type": "string"
    },
    "line_number": {
      "type": "integer",
      "minimum": 1
    },
    "problem_description": {
      "type": "string",
      "minLength": 10
    },
    "root_cause": {
      "type": "string",
      "minLength": 10
    },
    "exact_fix": {
      "type": "object",
      "required": ["file_path", "old_code", "new_code", "explanation"],
      "properties": {
        "file_path": {"type": "string"},
        "old_code": {"type": "string"},
        "new_code": {"type": "string"},
        "explanation": {"type": "string"}
      }
    }
  }
}
"""
)

SECRET_URL = "postgresql://u:secret@h/db"


def finding(
    rule: str = "FX001",
    category: Category = Category.IMPORT,
    severity: Severity = Severity.CRITICAL,
    line: int | None = 1,
    defects: tuple[str, ...] = (),
    fixed: bool = True,
    **kw: str,
) -> Finding:
    text = {
        "problem": f"{rule} problem on line {line}",
        "root_cause": f"{rule} root cause of it",
        "old_code": "old()",
        "new_code": "new()",
        "explanation": f"{rule} explanation",
    }
    text.update(kw)
    return Finding(rule=rule, category=category, severity=severity, line=line, defects=defects, fixed=fixed, **text)


def result(path: str, *findings: Finding, error: str | None = None) -> FileResult:
    return FileResult(path=path, old=b"old", new=b"new" if findings else b"old", findings=list(findings), error=error)


def seed_like_results() -> list[FileResult]:
    """The four seed defects plus a few others, handed over in no particular order."""
    return [
        result(
            "backend/src/main.py",
            finding("FX007", Category.ENTRYPOINT, Severity.MEDIUM, line=12, defects=("APP-ON-EVENT",)),
        ),
        result(
            "backend/src/core/database.py",
            finding("FX003", Category.DATABASE, Severity.CRITICAL, line=20, defects=("ENG-SESSIONMAKER",)),
            finding("FX002", Category.IMPORT, Severity.CRITICAL, line=3, defects=("ENG-IMPORT",)),
            finding("FX002", Category.IMPORT, Severity.CRITICAL, line=1, defects=("ENG-IMPORT",)),
            finding("FX009", Category.IMPORT, Severity.LOW, line=None, fixed=False),
        ),
        result(
            "backend/.env",
            finding("FX004", Category.CONFIG, Severity.CRITICAL, line=2, defects=("URL-PLAIN", "URL-NEON-SSL")),
        ),
        result("backend/src/core/config.py"),
        result(
            "backend/requirements.txt",
            finding("FX001", Category.DEPENDENCY, Severity.CRITICAL, line=None, defects=("DEP-DRIVER",)),
        ),
        result(
            "backend/src/api/auth.py",
            finding("FX002", Category.IMPORT, Severity.CRITICAL, line=5, defects=("ENG-IMPORT",)),
            finding("FX008", Category.DATABASE, Severity.HIGH, line=40, fixed=False, defects=("ENG-LAZY",)),
        ),
    ]


def dumped(report) -> dict:
    return json.loads(report_json(report))


def test_ids_are_numbered_per_category_in_severity_then_fix_order() -> None:
    report = build_report(seed_like_results(), files_scanned=9, duration=0.5)
    assert [(i.id, i.rule, i.file_path, i.line_number) for i in report.issues] == [
        ("DEPENDENCY-001", "FX001", "backend/requirements.txt", None),
        ("IMPORT-001", "FX002", "backend/src/api/auth.py", 5),
        ("IMPORT-002", "FX002", "backend/src/core/database.py", 1),
        ("IMPORT-003", "FX002", "backend/src/core/database.py", 3),
        ("DATABASE-001", "FX003", "backend/src/core/database.py", 20),
        ("CONFIG-001", "FX004", "backend/.env", 2),
        ("DATABASE-002", "FX008", "backend/src/api/auth.py", 40),
        ("ENTRYPOINT-001", "FX007", "backend/src/main.py", 12),
        ("IMPORT-004", "FX009", "backend/src/core/database.py", None),
    ]


def test_summary_counts() -> None:
    report = build_report(seed_like_results(), files_scanned=9, duration=1.23456)
    assert report.summary.model_dump() == {
        "total_files_scanned": 9,
        "total_issues_found": 9,
        "critical_issues": 6,
        "warning_issues": 3,
        "audit_duration_seconds": 1.235,
    }


def test_issue_fields_come_from_the_finding() -> None:
    report = build_report(seed_like_results(), files_scanned=9, duration=0.5)
    issue = next(i for i in report.issues if i.id == "CONFIG-001")
    assert issue.severity is Severity.CRITICAL and issue.category is Category.CONFIG
    assert issue.problem_description == "FX004 problem on line 2"
    assert issue.root_cause == "FX004 root cause of it"
    assert issue.exact_fix == CodeFix(
        file_path="backend/.env",
        old_code="old()",
        new_code="new()",
        explanation="FX004 explanation (defect-catalogue: URL-PLAIN, URL-NEON-SSL)",
    )
    assert issue.fixed is True
    no_defects = next(i for i in report.issues if i.id == "IMPORT-004")
    assert no_defects.exact_fix.explanation == "FX009 explanation"
    assert no_defects.fixed is False


def test_related_issues_share_a_defect_or_form_the_driver_url_chain() -> None:
    related = {i.id: i.related_issues for i in build_report(seed_like_results(), 9, 0.5).issues}
    assert related == {
        "DEPENDENCY-001": ["CONFIG-001"],
        "IMPORT-001": ["IMPORT-002", "IMPORT-003"],
        "IMPORT-002": ["IMPORT-001", "IMPORT-003"],
        "IMPORT-003": ["IMPORT-001", "IMPORT-002"],
        "DATABASE-001": [],
        "CONFIG-001": ["DEPENDENCY-001"],
        "DATABASE-002": [],
        "ENTRYPOINT-001": [],
        "IMPORT-004": [],
    }


def test_recommendations() -> None:
    results = seed_like_results() + [
        result("backend/src/models/bad.py", error="SyntaxError: invalid syntax (line 3)"),
        result("backend/src/models/latin.py", finding("FX002"), error="cannot decode as UTF-8"),
    ]
    report = build_report(results, files_scanned=11, duration=0.5)
    recs = report.recommendations
    assert [r.priority for r in recs] == [1, 2, 3, 4, 5]
    # the errored file's finding is not an issue: the file was left as it is
    assert "backend/src/models/latin.py" not in {i.file_path for i in report.issues}

    assert recs[0].description.startswith("Needs a person: FX008 found 1 issue ")
    assert "(DATABASE-002)" in recs[0].description
    assert recs[0].impact.startswith("Breaks requests")  # FX008's worst is HIGH
    assert recs[1].description.startswith("Needs a person: FX009 found 1 issue ")
    assert "(IMPORT-004)" in recs[1].description

    assert recs[2].description.startswith("2 files could not be read/parsed and were skipped: ")
    assert "backend/src/models/bad.py (SyntaxError: invalid syntax (line 3)); backend/src/models/latin.py" in (
        recs[2].description
    )

    assert recs[3].description.startswith("Set DATABASE_URL on your hosting platform")
    assert "postgresql+asyncpg://" in recs[3].description
    assert "fixer verify" in recs[4].description


def test_recommendations_without_unfixed_errors_or_url_rule() -> None:
    report = build_report([result("a.py", finding("FX002"))], files_scanned=1, duration=0.0)
    assert len(report.recommendations) == 1
    assert report.recommendations[0].priority == 1
    assert "fixer verify" in report.recommendations[0].description


def test_empty_report() -> None:
    report = build_report([], files_scanned=0, duration=0.0)
    assert report.issues == []
    assert report.summary.total_issues_found == report.summary.critical_issues == report.summary.warning_issues == 0
    assert len(report.recommendations) == 1
    jsonschema.Draft7Validator(report_schema()).validate(dumped(report))


def test_passwords_in_urls_are_redacted_everywhere() -> None:
    leaky = finding(
        "FX004",
        Category.CONFIG,
        problem=f"DATABASE_URL={SECRET_URL} uses the sync driver",
        root_cause=f"{SECRET_URL} selects psycopg2 by default",
        old_code=f'DATABASE_URL="{SECRET_URL}"',
        new_code='DATABASE_URL="postgresql+asyncpg://u:secret@h/db"',
        explanation=f"rewrote {SECRET_URL}",
    )
    results = [
        result("backend/.env", leaky, finding("FX010", Category.CONFIG, fixed=False, problem=f"see {SECRET_URL} here")),
        result("backend/alembic.ini", error=f"cannot parse sqlalchemy.url = {SECRET_URL}"),
    ]
    text = report_json(build_report(results, files_scanned=2, duration=0.1))
    assert "secret" not in text
    assert "u:***@h" in text
    assert "postgresql+asyncpg://u:***@h/db" in text


def test_every_string_goes_through_redact(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("fixer.model.urls")
    fake.redact = lambda text: text.replace("TOKEN", "[gone]")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fixer.model.urls", fake)
    token = finding(
        "FX-TOKEN",
        Category.CONFIG,
        fixed=False,
        defects=("URL-TOKEN",),
        problem="problem TOKEN here",
        root_cause="root cause TOKEN here",
        old_code="TOKEN",
        new_code="TOKEN",
        explanation="TOKEN",
    )
    results = [result("dir/TOKEN.py", token), result("TOKEN.txt", error="TOKEN")]
    text = report_json(build_report(results, files_scanned=2, duration=0.1))
    assert "TOKEN" not in text
    assert text.count("[gone]") >= 10


def test_json_validates_against_report_schema_and_seed_issue_schema() -> None:
    report = build_report(seed_like_results(), files_scanned=9, duration=0.5)
    data = dumped(report)

    schema = report_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(data)

    jsonschema.Draft7Validator.check_schema(SEED_ISSUE_SCHEMA)
    seed = jsonschema.Draft7Validator(SEED_ISSUE_SCHEMA)
    assert len(data["issues"]) == 9
    for issue in data["issues"]:
        seed.validate(issue)

    by_id = {i["id"]: i for i in data["issues"]}
    assert "line_number" not in by_id["DEPENDENCY-001"]  # unknown line: left out, not null
    assert by_id["IMPORT-001"]["line_number"] == 5
    assert by_id["IMPORT-001"]["severity"] == "CRITICAL" and by_id["IMPORT-001"]["category"] == "IMPORT"


def test_report_json_is_stable_and_in_data_model_order() -> None:
    first = report_json(build_report(seed_like_results(), files_scanned=9, duration=0.5))
    second = report_json(build_report(list(reversed(seed_like_results())), files_scanned=9, duration=0.5))
    assert first == second
    assert first.endswith("}\n") and first.startswith('{\n  "summary": {')
    data = json.loads(first)
    assert list(data) == ["summary", "issues", "recommendations"]
    assert list(data["summary"]) == [
        "total_files_scanned",
        "total_issues_found",
        "critical_issues",
        "warning_issues",
        "audit_duration_seconds",
    ]
    assert list(data["issues"][1]) == [
        "id",
        "severity",
        "category",
        "file_path",
        "line_number",
        "problem_description",
        "root_cause",
        "exact_fix",
        "related_issues",
        "rule",
        "fixed",
        "fix_available",
        "fix_safety",
        "evidence",
    ]
    assert list(data["issues"][1]["exact_fix"]) == ["file_path", "old_code", "new_code", "explanation"]
    assert list(data["recommendations"][0]) == ["priority", "description", "impact"]


@pytest.mark.parametrize(
    "change",
    [
        {"id": "import-001"},
        {"id": "IMPORT-1"},
        {"id": "IMPORT-1000"},
        {"severity": "BLOCKER"},
        {"category": "NETWORK"},
        {"line_number": 0},
        {"problem_description": "too short"},
        {"root_cause": "short"},
    ],
)
def test_issue_model_enforces_the_seed_rules(change: dict) -> None:
    valid = {
        "id": "IMPORT-001",
        "severity": "CRITICAL",
        "category": "IMPORT",
        "file_path": "a.py",
        "line_number": 1,
        "problem_description": "a long enough problem",
        "root_cause": "a long enough cause",
        "exact_fix": {"file_path": "a.py", "old_code": "a", "new_code": "b", "explanation": "c"},
        "rule": "FX001",
        "fixed": True,
    }
    Issue.model_validate(valid)
    with pytest.raises(ValidationError):
        Issue.model_validate({**valid, **change})


def test_importing_report_does_not_import_urls() -> None:
    code = "import sys, fixer.output.report; assert 'fixer.model.urls' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)
