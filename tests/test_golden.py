"""The seed backend through the CLI: apply gives exactly the expected tree, the dry-run patch applies."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.cli_helpers import fixer, tree

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed"
PASSWORDS = (b"npg_Xk7pQ2vLm9Rt", b"postgres:postgres@")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEED / "broken" / "backend", tmp_path / "backend"))


def test_apply_gives_the_expected_tree_and_converges(broken: Path) -> None:
    first = fixer("apply", ".", cwd=broken)
    assert first.returncode == 0, first.stderr
    assert tree(broken) == tree(SEED / "fixed" / "backend")
    assert b"fixed src/core/database.py" in first.stdout

    second = fixer("apply", broken)
    assert second.returncode == 0 and second.stdout == b"", second
    assert tree(broken) == tree(SEED / "fixed" / "backend")


def test_dry_run_patch_applies_with_git_and_writes_nothing(broken: Path) -> None:
    before = tree(broken)
    result = fixer("dry-run", broken)
    assert result.returncode == 1, result.stderr
    assert tree(broken) == before
    assert result.stdout.startswith(b"--- a/requirements.txt\n+++ b/requirements.txt\n")
    assert fixer("dry-run", broken).stdout == result.stdout, "the patch must be identical on every run"

    (broken.parent / "fix.patch").write_bytes(result.stdout)
    subprocess.run(["git", "init", "-q"], cwd=broken, check=True)
    subprocess.run(["git", "apply", "--check", "../fix.patch"], cwd=broken, check=True)
    subprocess.run(["git", "apply", "../fix.patch"], cwd=broken, check=True)
    # What the patch held back (credentials) is what apply still has to write.
    rest = fixer("apply", broken, "--root-relative")
    assert rest.returncode == 0
    assert rest.stdout.decode().splitlines() == ["fixed .env (FX004 x1)", "fixed src/core/config.py (FX004 x1)"]
    assert tree(broken) == tree(SEED / "fixed" / "backend")


def test_passwords_never_appear_in_output(broken: Path, tmp_path: Path) -> None:
    report = tmp_path / "audit.json"
    for command in ("dry-run", "apply"):
        result = fixer(command, broken, "--report", report, "--verbose")
        for secret in PASSWORDS:
            assert secret not in result.stdout and secret not in result.stderr, command
            assert secret not in report.read_bytes(), command
    # Outside a git work tree nothing is tracked: the .env and the hunk of config.py holding a password are named.
    dry = fixer("dry-run", ".", cwd=shutil.copytree(SEED / "broken" / "backend", tmp_path / "untracked"))
    assert b"note: .env: 1 line(s) would change (credentials file git does not track: not shown" in dry.stderr
    assert re.search(rb"note: src/core/config\.py:[\d-]+: a change not in the patch, as it would show a password",
                     dry.stderr), dry.stderr


def test_correct_async_project_gives_no_diff() -> None:
    result = fixer("dry-run", SEED / "fixed" / "backend")
    assert (result.returncode, result.stdout) == (0, b""), result.stderr
    assert b"Nothing to fix" in result.stderr


SEED_ISSUE_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["id", "severity", "category", "file_path", "problem_description", "root_cause", "exact_fix"],
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Z]+-[0-9]{3}$"},
        "severity": {"type": "string", "enum": ["CRITICAL", "HIGH", "MEDIUM", "LOW"]},
        "category": {"type": "string", "enum": ["IMPORT", "DEPENDENCY", "DATABASE", "CONFIG", "ENTRYPOINT"]},
        "file_path": {"type": "string"},
        "line_number": {"type": "integer", "minimum": 1},
        "problem_description": {"type": "string", "minLength": 10},
        "root_cause": {"type": "string", "minLength": 10},
        "exact_fix": {
            "type": "object",
            "required": ["file_path", "old_code", "new_code", "explanation"],
            "properties": {k: {"type": "string"} for k in ("file_path", "old_code", "new_code", "explanation")},
        },
    },
}


def test_report_follows_the_seed_plan(broken: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "audit_report.json"
    assert fixer("dry-run", broken, "--report", report_path).returncode == 1
    report = json.loads(report_path.read_text())
    schema = json.loads(fixer("schema").stdout)
    jsonschema.Draft7Validator(schema).validate(report)
    for issue in report["issues"]:
        jsonschema.Draft7Validator(SEED_ISSUE_SCHEMA).validate(issue)

    assert report["summary"]["total_files_scanned"] == 16
    assert report["summary"]["total_issues_found"] == len(report["issues"]) == 8
    assert report["summary"]["critical_issues"] == 7  # FX003's offer on working code is MEDIUM
    by_rule = {issue["rule"] for issue in report["issues"]}
    assert by_rule == {"FX001", "FX002", "FX003", "FX004"}
    # The seed plan's fix order: the dependency first.
    assert report["issues"][0]["id"] == "DEPENDENCY-001"
    assert report["issues"][0]["exact_fix"]["old_code"] == "psycopg2-binary>=2.9.9"
    assert report["issues"][0]["exact_fix"]["new_code"] == "asyncpg>=0.31"
    database = [i for i in report["issues"] if i["file_path"] == "src/core/database.py"]
    assert all(i["line_number"] >= 1 for i in database)
    assert report["recommendations"] and report["recommendations"][0]["priority"] == 1


def test_report_lines_point_at_the_original_code(tmp_path: Path) -> None:
    # FX004's runtime finding is about the `create_async_engine` call FX002 wrote: its line is carried back
    # to the original file (line 14), not to where the inserted normaliser function moved it.
    report_path = tmp_path / "report.json"
    done = fixer("dry-run", SEED.parent / "todo" / "broken", "--report", report_path)
    assert done.returncode == 1, done.stderr
    located = sorted((i["rule"], i["file_path"], i.get("line_number")) for i in json.loads(report_path.read_text())["issues"])
    assert located == [
        ("FX001", "pyproject.toml", 15),
        ("FX001", "pyproject.toml", 16),
        ("FX002", "app/db.py", 11),
        ("FX003", "app/db.py", 16),
        ("FX004", ".env.example", 3),
        ("FX004", "alembic.ini", 17),
        ("FX004", "app/db.py", 14),
        ("FX004", "app/db.py", 14),
        ("FX004", "docker-compose.yml", 7),
    ]


def test_verbose_lines_are_the_reports_and_a_plain_run_leaves_only_fixed_lines_out() -> None:
    todo = SEED.parent / "todo" / "broken"
    verbose = fixer("dry-run", ".", "-v", cwd=todo).stderr.decode()
    assert sum(line.startswith("app/db.py:14:") and " FX004 " in line for line in verbose.splitlines()) == 2

    from fixer.rules.registry import PYTHON_CODEMODS
    from fixer.apply.runner import run

    def db_lines(lines_of_fixed: bool) -> list[int | None]:
        outcome = run(todo, PYTHON_CODEMODS, [], lines_of_fixed=lines_of_fixed)
        (db,) = [r for r in outcome.results if r.path == "app/db.py"]
        return sorted((f.line for f in db.findings if f.rule == "FX004"), key=str)

    assert db_lines(True) == [14, 14]
    # Locating the runtime finding means printing the tree FX004 received: skipped when nothing shows it.
    assert db_lines(False) == [14, None]
