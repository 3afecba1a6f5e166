"""The DBAPI a start loads (issue 23): the prediction follows the URL to every engine the documented start
creates, alembic's env.py included when the start runs `alembic upgrade head` first, and FX005 adds the
driver's dependency line where a sync engine fails on it. The fixtures are fixtures/defects/ (before/after,
checked by test_defect_fixtures); here the prediction itself, and the migration step run for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.verify.backend import ensure_venv
from tests.cli_helpers import fixer
from tests.pg_helpers import forget_migrations
from tests.test_e2e_seed import venv_cache_dir, with_platform_query

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "defects"


def _first(backend: Path) -> tuple[str, str]:
    prediction = runner.run(backend, codemods=[], text_rules=[], jobs=1).facts.startup.primary
    assert prediction is not None
    failure = prediction.failures[0] if prediction.failures else None
    return (str(failure), failure.path) if failure else ("ok", "")


@pytest.mark.parametrize(("case", "error", "path"), [
    ("alembic-env-sync-url-asyncpg-only", "ModuleNotFoundError: No module named 'psycopg'", "migrations/env.py"),
    ("sync-no-driver-sa21", "ModuleNotFoundError: No module named 'psycopg'", "app/main.py"),
    ("async-url-rebuilt-by-urllib", "ModuleNotFoundError: No module named 'psycopg'", "app/main.py"),
    ("sync-psycopg2-named-driver", "ok", ""),
    ("async-psycopg3-plain-url", "ok", ""),
    ("async-engine-wrapping-create-engine", "ModuleNotFoundError: No module named 'psycopg2'", "app/main.py"),
    ("async-sqlite-args-chosen-by-url", "ModuleNotFoundError: No module named 'psycopg2'", "app/main.py"),
    ("alembic-env-sync-and-async-engines-one-name", "ModuleNotFoundError: No module named 'psycopg'", "migrations/env.py"),
    ("sync-driver-only-in-the-pyproject", "ModuleNotFoundError: No module named 'psycopg'", "app/main.py"),
    ("session-middleware-without-itsdangerous", "ModuleNotFoundError: No module named 'itsdangerous'", "app/main.py"),
    ("session-middleware-itsdangerous-listed", "ok", ""),
])
def test_the_prediction_names_the_first_driver_failure(case: str, error: str, path: str) -> None:
    assert _first(CASES / case / "before") == (error, path)


def _families(backend: Path) -> list[tuple[str, str]]:
    prediction = runner.run(backend, codemods=[], text_rules=[], jobs=1).facts.startup.primary
    assert prediction is not None
    return [(str(f), f.family) for f in prediction.failures]


def test_a_wrapped_sync_engine_is_an_async_engine_and_its_url_is_the_fix() -> None:
    """`AsyncEngine(create_engine(url))` refuses a sync driver as create_async_engine does: the URL (FX004) is
    the fix, not a psycopg2 line, which would only move the failure to `... 'psycopg2' is not async`."""
    assert _families(CASES / "async-engine-wrapping-create-engine" / "before") == [
        ("ModuleNotFoundError: No module named 'psycopg2'", "async-driver-url")]


def test_a_wrapped_engines_literal_url_names_the_async_driver(tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / "async-engine-wrapping-create-engine" / "before", tmp_path / "p"))
    main = project / "app" / "main.py"
    main.write_text(main.read_text().replace('os.environ["DATABASE_URL"]', '"postgresql://app@db.internal/app"'))
    assert fixer("apply", project).returncode == 0
    assert 'AsyncEngine(create_engine("postgresql+asyncpg://app@db.internal/app", pool_pre_ping=True))' in main.read_text()
    assert fixer("dry-run", project).stdout == b""


def test_a_wrapped_engine_on_psycopg_loads_its_sync_dialect(tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / "async-engine-wrapping-create-engine" / "before", tmp_path / "p"))
    (project / "requirements.txt").write_text("fastapi>=0.110\nuvicorn>=0.29\nsqlalchemy[asyncio]>=2.1\npsycopg[binary]\n")
    main = project / "app" / "main.py"
    main.write_text(main.read_text().replace("from sqlmodel import create_engine", "from sqlalchemy import create_engine"))
    assert _families(project) == [("sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async "
                                   "driver to be used. The loaded 'psycopg' is not async.", "async-driver-url")]
    assert fixer("dry-run", project).stdout == b""  # the helper's postgresql+psycopg would load that dialect too


def test_an_engine_local_to_a_function_is_judged_by_that_function(tmp_path: Path) -> None:
    """The sync `connectable` of env.py's default branch is not made async by another function's `async with
    connectable.connect()`; one the function returns is used where its caller puts it."""
    case = CASES / "alembic-env-sync-and-async-engines-one-name" / "before"
    assert _families(case)[0][1] == "sync-driver"
    project = Path(shutil.copytree(CASES / "async-engine-wrapping-create-engine" / "before", tmp_path / "p"))
    main = project / "app" / "main.py"
    main.write_text(main.read_text().replace(
        "engine = AsyncEngine(create_engine(os.environ[\"DATABASE_URL\"], pool_pre_ping=True))",
        "def make_engine():\n    engine = create_engine(os.environ[\"DATABASE_URL\"])\n    return engine\n\n\n"
        "engine = make_engine()",
    ).replace("from sqlalchemy.ext.asyncio import AsyncEngine\n", ""))
    assert _families(project)[0][1] == "async-engine"


def test_a_migration_documented_only_in_a_readme_is_part_of_the_start(tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / "alembic-env-sync-url-asyncpg-only" / "before", tmp_path / "p"))
    (project / "Procfile").write_text("web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n")
    assert _first(project) == ("ok", "")
    (project / "README.md").write_text("Run `alembic upgrade head`, then `uvicorn app.main:app`.\n")
    assert _first(project)[1] == "migrations/env.py"


def test_a_helper_that_takes_the_async_driver_out_is_not_a_normaliser(tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / "alembic-env-sync-url-asyncpg-only" / "before", tmp_path / "p"))
    env = project / "migrations" / "env.py"
    text = env.read_text().replace(
        'config.set_main_option("sqlalchemy.url", DATABASE_URL.replace("+asyncpg", ""))',
        'def get_url():\n    return DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")\n\n\n'
        'section = config.get_section(config.config_ini_section) or {}\nsection["sqlalchemy.url"] = get_url()',
    ).replace("engine_from_config(config.get_section(config.config_ini_section),", "engine_from_config(section,")
    env.write_text(text)
    assert _first(project) == ("ModuleNotFoundError: No module named 'psycopg'", "migrations/env.py")


@pytest.mark.slow
def test_the_migration_step_fails_before_and_runs_after_apply(tmp_path: Path, database_url: str) -> None:
    """`alembic upgrade head` with the platform-style URL on a real PostgreSQL: the fresh install of the
    project fails as predicted; after `fixer apply` it creates the table."""
    project = Path(shutil.copytree(CASES / "alembic-env-sync-url-asyncpg-only" / "before", tmp_path / "p"))
    forget_migrations(ensure_venv(project / "requirements.txt", venv_cache_dir()), database_url, "notes")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           "DATABASE_URL": with_platform_query(database_url)}

    def upgrade() -> subprocess.CompletedProcess[str]:
        python = ensure_venv(project / "requirements.txt", venv_cache_dir())
        return subprocess.run([str(python), "-m", "alembic", "upgrade", "head"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300)

    before = upgrade()
    assert before.returncode != 0 and "No module named 'psycopg'" in before.stderr, before.stderr
    assert fixer("apply", project).returncode == 0
    after = upgrade()
    assert after.returncode == 0, after.stderr
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    check = subprocess.run(
        [str(python), "-c", "import os, psycopg; c = psycopg.connect(os.environ['DATABASE_URL']); "
                            "print(c.execute(\"select to_regclass('public.notes')\").fetchone()[0])"],
        env=env, capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "notes", check.stderr
