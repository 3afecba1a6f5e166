"""Where fixer could say something untrue or hide what it does (issue 21): each test fails on the code before
its fix. The boot itself is `fixer verify`'s (tests/test_verify.py); here only which folder it is asked about."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixer.cli.commands import main as group
from tests.cli_helpers import tree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders `fixer verify` is run on, each said to boot (the boot is not what these tests are about)."""
    import fixer.verify.command as command

    folders: list[Path] = []

    def boots(path: Path, **_options) -> int:
        folders.append(Path(path).resolve())
        return 0

    monkeypatch.setattr(command, "verify_and_print", boots)
    return folders


@pytest.mark.parametrize("flag", ["--until-boots", "--verify"])
def test_apply_then_verify_verifies_the_path_named_not_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verified: list[Path], flag: str
) -> None:
    healthy = Path(shutil.copytree(FIXTURES / "seed" / "fixed" / "backend", tmp_path / "healthy"))
    broken = Path(shutil.copytree(FIXTURES / "seed" / "broken" / "backend", tmp_path / "broken"))
    monkeypatch.chdir(healthy)
    result = CliRunner().invoke(group, ["apply", flag, str(broken)])
    assert result.exit_code == 0, result.output
    assert verified and set(verified) == {broken.resolve()}


@pytest.mark.parametrize("flag", ["--until-boots", "--verify"])
def test_apply_then_verify_on_several_backends_is_a_usage_error_before_anything_is_written(
    tmp_path: Path, verified: list[Path], flag: str
) -> None:
    for name in ("one", "two"):
        shutil.copytree(FIXTURES / "seed" / "broken" / "backend", tmp_path / "backends" / name)
    before = tree(tmp_path)
    for paths in ([tmp_path / "backends"], [tmp_path / "backends" / "one", tmp_path / "backends" / "two"]):
        result = CliRunner().invoke(group, ["apply", flag, *map(str, paths)])
        assert result.exit_code == 2, result.output
        assert "one backend" in result.output and "one" in result.output and "two" in result.output
    assert tree(tmp_path) == before and verified == []


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


@pytest.mark.parametrize("module", ["donnees", "données", "データ"])
def test_a_module_named_by_any_identifier_python_accepts_is_followed_and_fixed(tmp_path: Path, module: str) -> None:
    from tests.cli_helpers import fixer

    (tmp_path / "app").mkdir()
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\nsqlmodel\nasyncpg\n")
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text(
        f"from fastapi import FastAPI\n\nfrom app.{module} import engine\n\napp = FastAPI()\n", encoding="utf-8")
    (tmp_path / "app" / f"{module}.py").write_text(
        "from sqlalchemy import AsyncEngine\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine: AsyncEngine = create_async_engine("sqlite+aiosqlite:///app.db")\n', encoding="utf-8")
    done = fixer("dry-run", ".", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"+++ b/app/{module}.py".encode() in done.stdout
    assert b"+from sqlalchemy.ext.asyncio import AsyncEngine" in done.stdout
    model = fixer("model", ".", cwd=tmp_path)
    import json

    assert json.loads(model.stdout)["roles"].get(f"app/{module}.py", "live") == "live"


def test_the_prediction_beside_a_verify_counts_the_url_normaliser_fixer_wrote() -> None:
    """The fixed seed boots under `fixer verify` (the platform's `postgresql://...?sslmode=prefer` goes through
    the `to_async_database_url` fixer wrote): the prediction must not say it fails on psycopg."""
    from fixer.model.startup import predicted_first_error

    assert predicted_first_error(FIXTURES / "seed" / "fixed" / "backend", "src.main:app") == "none"
    assert predicted_first_error(FIXTURES / "seed" / "broken" / "backend", "src.main:app") != "none"


def test_a_second_apply_after_the_sync_normaliser_fixer_wrote_finds_nothing(tmp_path: Path) -> None:
    """Two training backends: FX005 wraps a sync engine's URL in `to_psycopg2_database_url`; the startup walk of
    the next run must run the URL through it, not predict the psycopg 3 failure the helper fixed (exit 1)."""
    from tests.cli_helpers import fixer

    (tmp_path / "app").mkdir()
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n")
    (tmp_path / "README.md").write_text("Run:\n\n```sh\nuvicorn app.main:app\n```\n")
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text("from fastapi import FastAPI\n\nfrom app.db import engine\n\napp = FastAPI()\n")
    (tmp_path / "app" / "db.py").write_text(
        'import os\n\nfrom sqlmodel import create_engine\n\nengine = create_engine(os.environ["DATABASE_URL"])\n')
    first = fixer("apply", "--unsafe-fixes", ".", cwd=tmp_path)
    assert first.returncode == 0 and b"fixed app/db.py (FX005" in first.stdout, first.stderr
    after = tree(tmp_path)
    second = fixer("apply", "--unsafe-fixes", ".", cwd=tmp_path)
    assert second.returncode == 0 and b"FX030" not in second.stderr, second.stderr
    assert tree(tmp_path) == after


def test_the_normalisers_the_walk_evaluates_are_the_ones_the_rules_write() -> None:
    from fixer.model.database import FIXER_NORMALISER
    from fixer.rules.sync_driver_url import HELPER_NAME
    from fixer.model.urls import WRITTEN_NORMALISERS

    assert set(WRITTEN_NORMALISERS) == {FIXER_NORMALISER, HELPER_NAME}
