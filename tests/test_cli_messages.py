"""What the command line says when something goes wrong before, during or outside the fixes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import fixer.cli.commands as cli
from fixer.apply import runner
from fixer.rules.async_imports import AsyncImports
from tests.cli_helpers import fixer

BAD_IMPORT = "from sqlalchemy import AsyncEngine\n"


def test_a_report_into_a_missing_folder_fails_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "db.py").write_text(BAD_IMPORT)
    result = fixer("apply", tmp_path, "--report", tmp_path / "no" / "such" / "report.json")
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert f"cannot write the report to {tmp_path / 'no' / 'such' / 'report.json'}: the folder" in stderr
    assert "does not exist" in stderr and "Traceback" not in stderr and "FileNotFoundError" not in stderr
    assert (tmp_path / "db.py").read_text() == BAD_IMPORT  # nothing ran


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


@pytest.mark.parametrize("verbose", [False, True])
def test_an_internal_error_is_one_line_and_its_traceback_only_with_verbose(tmp_path: Path, monkeypatch, verbose) -> None:
    monkeypatch.setattr(runner, "run", _boom)
    result = CliRunner().invoke(cli.main, ["dry-run", *(["--verbose"] if verbose else []), str(tmp_path)])
    assert result.exit_code == 2
    assert "fixer: error: RuntimeError: boom" in result.stderr
    assert ("Traceback (most recent call last)" in result.stderr) == verbose
    assert ('raise RuntimeError("boom")' in result.stderr) == verbose


@pytest.mark.parametrize("verbose", [False, True])
def test_a_rule_that_fails_on_one_file_shows_where_with_verbose(tmp_path: Path, monkeypatch, verbose) -> None:
    (tmp_path / "db.py").write_text(BAD_IMPORT)
    monkeypatch.setattr(AsyncImports, "transform_module_impl", _boom)
    result = CliRunner().invoke(cli.main, ["dry-run", "-j", "1", "--root-relative", *(["-v"] if verbose else []), str(tmp_path)])
    assert result.exit_code == 1  # the file is left for a person
    assert "skipped db.py: internal error in FX002: RuntimeError: boom; left as it is" in result.stderr
    assert ("Traceback (most recent call last)" in result.stderr) == verbose


def test_a_lock_beside_an_edited_pyproject_is_named_with_the_command_that_remakes_it(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_text(
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine = create_async_engine("postgresql+asyncpg://u:p@h/db")\n'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\ndependencies = ["sqlalchemy>=2.0", "psycopg2-binary"]\n'
    )
    (tmp_path / "uv.lock").write_text("version = 1\n")
    done = fixer("dry-run", ".", cwd=tmp_path)
    assert b"pyproject.toml" in done.stdout, done.stderr
    assert "uv.lock will no longer match pyproject.toml: run `uv lock` beside it" in done.stderr.decode()
    assert "uv.lock no longer matches pyproject.toml" in fixer("apply", ".", cwd=tmp_path).stderr.decode()
    (tmp_path / "uv.lock").unlink()
    assert b"no longer match" not in fixer("dry-run", tmp_path).stderr
