"""The command line as a user meets it: options, exit codes, what goes to stdout and stderr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import fixer, tree

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEED / "broken" / "backend", tmp_path / "backend"))


def test_version_and_help() -> None:
    from fixer import __version__

    for flag in ("--version", "-V"):
        said = fixer(flag).stdout.decode().strip()
        assert said.startswith(f"fixer {__version__} (package tables of 20"), said
    for command in ("dry-run", "apply", "rules", "rule", "schema"):
        result = fixer(command, "--help")
        assert result.returncode == 0 and b"Usage:" in result.stdout, command


def test_rules_lists_every_rule_and_explains_one() -> None:
    listing = fixer("rules").stdout.decode().splitlines()
    assert [line.split()[0] for line in listing] == [
        "FX001", "FX002", "FX003", "FX004", "FX005", "FX010", "FX011", "FX012", "FX013", "FX014", "FX015", "FX016",
        "FX017", "FX018", "FX019", "FX020", "FX021", "FX022", "FX023", "FX024", "FX025",
        "FX030", "FX031", "FX032", "FX033", "FX034", "FX035", "FX036", "FX037", "FX038", "FX039", "FX040", "FX041",
        "FX042", "FX043", "FX044", "FX045", "FX046", "FX047", "FX048", "FX049", "FX052", "FX054",
    ]
    explained = fixer("rule", "async-imports").stdout.decode()
    assert "FX002" in explained and "Example" in explained and "Use instead" in explained
    assert fixer("rule", "FX999").returncode == 2


def test_select_and_ignore(broken: Path) -> None:
    only_requirements = fixer("dry-run", broken, "--select", "FX001")
    assert only_requirements.returncode == 1
    assert b"+++ b/requirements.txt" in only_requirements.stdout
    assert b"database.py" not in only_requirements.stdout

    without = fixer("dry-run", broken, "--ignore", "FX001,async-database-url")
    assert b"requirements.txt" not in without.stdout
    assert b"+++ b/src/core/database.py" in without.stdout
    assert b"to_async_database_url" not in without.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert fixer("dry-run", tmp_path / "missing").returncode == 2
    unknown = fixer("dry-run", tmp_path, "--select", "NOPE")
    assert unknown.returncode == 2 and b"unknown rule 'NOPE'" in unknown.stderr
    assert fixer("frobnicate").returncode == 2
    assert fixer("dry-run", tmp_path, "-j", "0").returncode == 2


def test_internal_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    target = tmp_path / "report-dir"
    target.mkdir()
    (tmp_path / "requirements.txt").write_text("sqlmodel\n")
    result = fixer("dry-run", tmp_path, "--report", tmp_path)  # a folder cannot be written as a report
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr


def test_path_defaults_to_the_current_folder(broken: Path) -> None:
    result = fixer("apply", cwd=broken)
    assert result.returncode == 0
    assert tree(broken) == tree(SEED / "fixed" / "backend")


def test_empty_tree_is_clean(tmp_path: Path) -> None:
    result = fixer("dry-run", tmp_path)
    assert (result.returncode, result.stdout) == (0, b"")


def test_parallel_and_serial_runs_agree(broken: Path) -> None:
    serial = fixer("dry-run", broken, "-j", "1")
    parallel = fixer("dry-run", broken, "-j", "4")
    assert serial.stdout == parallel.stdout and serial.returncode == parallel.returncode == 1


def test_issues_for_a_person_make_apply_exit_1(tmp_path: Path) -> None:
    (tmp_path / "db.py").write_text("from sqlalchemy.ext.asyncio import create_async_engine\n")
    (tmp_path / "requirements.txt").write_text(
        "sqlmodel==0.0.22 --hash=sha256:" + "0" * 64 + "\npsycopg2-binary==2.9.9 --hash=sha256:" + "1" * 64 + "\n"
    )
    result = fixer("apply", tmp_path, "--report", tmp_path / "r.json")
    assert result.returncode == 1
    assert b"needs a person" in result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert any(not issue["fixed"] for issue in report["issues"])


def test_pyproject_tool_fixer_settings(broken: Path) -> None:
    (broken.parent / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.fixer]\nignore = ["FX004"]\nexclude = ["backend/src/core/"]\n'
    )
    result = fixer("dry-run", broken)
    assert b"+++ b/requirements.txt" in result.stdout
    assert b"database.py" not in result.stdout and b".env" not in result.stderr
    # --select on the command line replaces the configured selection; the configured ignore still holds.
    only = fixer("dry-run", broken, "--select", "FX001,FX004")
    assert b"requirements.txt" in only.stdout and b".env" not in only.stderr

    (broken.parent / "pyproject.toml").write_text("[tool.fixer]\nselekt = []\n")
    bad = fixer("dry-run", broken)
    assert bad.returncode == 2 and b"unknown [tool.fixer] key(s): selekt" in bad.stderr
