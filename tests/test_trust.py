"""Where fixer could say something untrue or hide what it does (issue 21): each test fails on the code before
its fix. The boot itself is `fixer verify`'s (tests/test_verify.py); here only which folder it is asked about."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixer.cli import main as group
from tests.cli_helpers import tree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _two_backends(tmp_path: Path) -> Path:
    """The same sync app twice, one on SQLAlchemy 1.4 (sqlmodel 0.0.8 holds it there: `postgresql://` loads the
    psycopg2 that is installed) and one on 2.1 (`postgresql://` loads psycopg 3, which is not)."""
    for name, requirements in (("old", "sqlmodel==0.0.8\n"), ("new", "sqlmodel>=0.0.24\nsqlalchemy>=2.1\n")):
        backend = Path(shutil.copytree(FIXTURES / "nofalse" / "sync-app-sqlalchemy-2.1" / "before", tmp_path / name))
        (backend / "requirements.txt").write_text(f"fastapi\nuvicorn\n{requirements}psycopg2-binary\n")
    return tmp_path


@pytest.mark.parametrize("named", [("old", "new"), ("new", "old"), ("old/app/db.py", "new/app/db.py")])
@pytest.mark.parametrize("command", [("dry-run",), ("dry-run", "--output-format", "github"), ("dry-run", "--statistics")])
def test_several_projects_in_one_run_are_each_judged_alone(tmp_path: Path, named: tuple[str, ...],
                                                           command: tuple[str, ...]) -> None:
    from tests.cli_helpers import fixer

    folder = _two_backends(tmp_path)
    together = fixer(*command, *named, cwd=folder)
    alone = [fixer(*command, path, cwd=folder) for path in named]
    assert sorted(run.returncode for run in alone) == [0, 1]  # the 2.1 backend needs the fix, the 1.4 one not
    assert together.stdout == b"".join(run.stdout for run in alone)
    assert together.stderr == b"".join(run.stderr for run in alone)
    assert together.returncode == 1


@pytest.mark.parametrize("option", [("--report", "r.json"), ("--plan", "p.json"), ("-o", "out.txt"),
                                    ("--output-format", "json"), ("--output-format", "sarif")])
def test_one_document_for_several_projects_is_a_usage_error(tmp_path: Path, option: tuple[str, str]) -> None:
    from tests.cli_helpers import fixer

    folder = _two_backends(tmp_path)
    before = tree(folder)
    done = fixer("dry-run", *option, "old", "new", cwd=folder)
    assert done.returncode == 2 and b"run fixer once per project" in done.stderr, done.stderr
    assert tree(folder) == before
