"""What the documented `alembic upgrade head` needs beyond the server (issue 23): the step runs alembic itself,
env.py and, once env.py has connected, every revision file. A requirements file without `alembic`, a revision
importing a column type's package no file lists (pgvector), and env.py appending `?param=...` to a URL that has a
query already (the platform's `?sslmode=require&channel_binding=require`) each stop the start before the server
imports anything. fixer predicts each at the file that fails, adds the missing distribution (FX023), reports the
glued query (FX030), and leaves alone what the start does not run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.verify.backend import ensure_venv
from tests.cli_helpers import fixer, tree
from tests.pg_helpers import forget_migrations
from tests.test_e2e_seed import venv_cache_dir, with_platform_query

_MAIN = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health() -> dict:
    return {"ok": True}
"""
_MODELS = """\
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Shelf(Base):
    __tablename__ = "needs_shelves"
    id = Column(Integer, primary_key=True)
    label = Column(String(80))
"""
_ENV = """\
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from app.models import Base

config = context.config
config.set_main_option("sqlalchemy.url", {url})
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {{}}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""
_REVISION = """\
import sqlalchemy as sa
from alembic import op
{extra}
revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("needs_shelves", sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(80)))


def downgrade() -> None:
    op.drop_table("needs_shelves")
"""
_REQUIREMENTS = "fastapi>=0.110\nuvicorn>=0.29\nsqlalchemy>=2.0,<2.1\npsycopg2-binary>=2.9\n"
_MIGRATING = 'CMD ["sh", "-c", "alembic upgrade head && uvicorn app.main:app --host 0.0.0.0"]\n'
_SERVING = 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
_PLATFORM_GLUED = 'invalid channel_binding value: "require?connect_timeout=10"'


def _project(tmp_path: Path, requirements: str = _REQUIREMENTS + "alembic>=1.13\n", url: str = 'os.environ["DATABASE_URL"]',
             extra: str = "", command: str = _MIGRATING) -> Path:
    backend = tmp_path / "shelves"
    (backend / "app").mkdir(parents=True)
    (backend / "migrations" / "versions").mkdir(parents=True)
    (backend / "app" / "__init__.py").write_text("")
    (backend / "app" / "main.py").write_text(_MAIN)
    (backend / "app" / "models.py").write_text(_MODELS)
    (backend / "migrations" / "env.py").write_text(_ENV.format(url=url))
    (backend / "migrations" / "versions" / "0001_shelves.py").write_text(_REVISION.format(extra=extra))
    (backend / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    (backend / "requirements.txt").write_text(requirements)
    (backend / "Dockerfile").write_text(
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt\n" + command)
    return backend


def _failures(backend: Path) -> list[tuple[str, str]]:
    prediction = runner.run(backend, codemods=[], text_rules=[], jobs=1).facts.startup.primary
    assert prediction is not None
    return [(str(f), f.path) for f in prediction.failures]


def _apply_twice(backend: Path) -> str:
    """`fixer apply`, then a second run that must change nothing; the requirements file after the first."""
    first = fixer("apply", backend)
    assert first.returncode in (0, 1), first.stderr.decode()
    written = tree(backend)
    second = fixer("apply", backend)
    assert tree(backend) == written, second.stderr.decode()
    return (backend / "requirements.txt").read_text()


def test_alembic_the_requirements_do_not_list_is_predicted_and_added(tmp_path: Path) -> None:
    backend = _project(tmp_path, requirements=_REQUIREMENTS)
    assert _failures(backend)[0] == ("ModuleNotFoundError: No module named 'alembic'", "migrations/env.py")
    assert _apply_twice(backend) == _REQUIREMENTS + "alembic\n"
    assert _failures(backend) == []


def test_alembic_is_reported_not_written_where_the_documented_install_syncs_a_lock(tmp_path: Path) -> None:
    """`poetry install` reads pyproject.toml and poetry.lock: a line in requirements.txt does not reach it, and an
    edited pyproject.toml beside the old lock makes poetry refuse to install."""
    backend = _project(tmp_path, requirements=_REQUIREMENTS)
    (backend / "pyproject.toml").write_text(
        '[project]\nname = "shelves"\nversion = "0.1.0"\ndependencies = ["fastapi>=0.110", "uvicorn>=0.29", '
        '"sqlalchemy>=2.0,<2.1", "psycopg2-binary>=2.9"]\n')
    (backend / "poetry.lock").write_text('[[package]]\nname = "fastapi"\nversion = "0.115.0"\n')
    (backend / "Dockerfile").write_text("FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nRUN pip install poetry && "
                                        "poetry install --no-root\n" + _MIGRATING)
    report = fixer("dry-run", backend).stderr.decode()
    assert "requirements.txt:5:1: FX023 unsafe fix (--unsafe-fixes): migrations/env.py imports alembic" in report, report
    assert _apply_twice(backend) == _REQUIREMENTS


def test_alembic_is_not_added_when_no_documented_start_migrates(tmp_path: Path) -> None:
    backend = _project(tmp_path, requirements=_REQUIREMENTS, command=_SERVING)
    assert _failures(backend) == []
    assert _apply_twice(backend) == _REQUIREMENTS


def test_a_project_that_lists_what_its_migration_needs_gets_no_diff(tmp_path: Path) -> None:
    backend = _project(tmp_path, extra="from pgvector.sqlalchemy import Vector\n",
                       requirements=_REQUIREMENTS + "alembic>=1.13\npgvector>=0.3\n")
    before = tree(backend)
    done = fixer("dry-run", backend)
    assert done.returncode == 0 and done.stdout == b"", done.stderr.decode()
    assert tree(backend) == before


def test_a_revision_importing_an_unlisted_package_is_predicted_after_env_py_and_added(tmp_path: Path) -> None:
    backend = _project(tmp_path, extra="from pgvector.sqlalchemy import Vector\n")
    assert _failures(backend) == [("ModuleNotFoundError: No module named 'pgvector'",
                                   "migrations/versions/0001_shelves.py")]
    assert _apply_twice(backend) == _REQUIREMENTS + "alembic>=1.13\npgvector\n"
    assert _failures(backend) == []


def test_a_revision_folder_the_ini_does_not_name_is_not_loaded(tmp_path: Path) -> None:
    """`version_locations` names the folder alembic reads: revisions elsewhere (an old copy) are never loaded."""
    backend = _project(tmp_path, extra="from pgvector.sqlalchemy import Vector\n")
    (backend / "migrations" / "current").mkdir()
    (backend / "migrations" / "current" / "0001_shelves.py").write_text(_REVISION.format(extra=""))
    (backend / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nversion_locations = %(here)s/migrations/current\n")
    assert _failures(backend) == []


@pytest.mark.parametrize("url, glued", [
    ('os.environ["DATABASE_URL"] + "?connect_timeout=10"', True),
    ('os.environ["DATABASE_URL"] + "&connect_timeout=10"', False),
    ('os.environ["DATABASE_URL"].split("?")[0] + "?connect_timeout=10"', False),
])
def test_a_query_glued_on_with_a_second_question_mark_is_predicted(tmp_path: Path, url: str, glued: bool) -> None:
    backend = _project(tmp_path, url=url)
    expected = [("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) " + _PLATFORM_GLUED,
                 "migrations/env.py")]
    assert _failures(backend) == (expected if glued else [])
    if glued:
        report = fixer("dry-run", backend).stderr.decode()
        assert "migrations/env.py:14:1: FX030 needs a person" in report, report
        assert _apply_twice(backend) == _REQUIREMENTS + "alembic>=1.13\n"  # reported, not edited


@pytest.mark.slow
def test_the_real_migration_fails_on_the_glued_query_as_predicted(tmp_path: Path, database_url: str) -> None:
    """On a real PostgreSQL with the platform's query, psycopg2 says what the prediction says; joined with `&` it
    migrates."""
    backend = _project(tmp_path, url='os.environ["DATABASE_URL"] + "?connect_timeout=10"')
    python = ensure_venv(backend / "requirements.txt", venv_cache_dir())
    forget_migrations(python, database_url, "needs_shelves")
    # the suite's server's form of the platform query (`prefer`): libpq reads the glued value the same way
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           "DATABASE_URL": with_platform_query(database_url)}

    def upgrade() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-m", "alembic", "upgrade", "head"], cwd=backend, env=env,
                              capture_output=True, text=True, timeout=300)

    before = upgrade()
    assert before.returncode != 0 and _PLATFORM_GLUED.replace("require", "prefer") in before.stderr, before.stderr
    script = backend / "migrations" / "env.py"
    script.write_text(script.read_text().replace('"?connect_timeout=10"', '"&connect_timeout=10"'))
    after = upgrade()
    assert after.returncode == 0, after.stderr


_HEADS = ("alembic.util.exc.CommandError: Multiple head revisions are present for given argument 'head'; please "
          "specify a specific target revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads")


def _second(revision: str, down: str) -> str:
    return (f'from alembic import op\n\nrevision: str = "{revision}"\ndown_revision: str | None = {down}\n\n\n'
            'def upgrade() -> None:\n    op.add_column("needs_shelves", __import__("sqlalchemy").Column("note", '
            '__import__("sqlalchemy").Text))\n\n\ndef downgrade() -> None:\n    op.drop_column("needs_shelves", "note")\n')


@pytest.mark.parametrize("files, expected", [
    ({"0002_note.py": _second("0002", '"0001"')}, []),
    ({"0002_note.py": _second("0002", '"0001"'), "0003_merge.py": _second("0003", '("0001", "0002")')}, []),
    ({"0002_note.py": _second("0002", '"0009"')},
     [("KeyError: '0009'", "migrations/versions/0002_note.py")]),
    ({"0002_note.py": _second("0002", '"0001"'), "0002_other.py": _second("0003", '"0001"')},
     [(_HEADS, "migrations/versions/0002_note.py")]),
    ({"0001_again.py": _second("0001", "None")}, [(_HEADS, "migrations/versions/0001_again.py")]),
    ({"0002_note.py": _second("0002", "PREVIOUS")}, []),  # not a literal: alembic reads what fixer cannot
])
def test_the_revision_map_alembic_builds_is_predicted(tmp_path: Path, files: dict[str, str],
                                                       expected: list[tuple[str, str]]) -> None:
    backend = _project(tmp_path)
    for name, text in files.items():
        (backend / "migrations" / "versions" / name).write_text(text)
    assert _failures(backend) == expected
    if expected:
        report = fixer("dry-run", backend).stderr.decode()
        assert f"{expected[0][1]}:" in report and "FX030 needs a person" in report
        assert _apply_twice(backend) == _REQUIREMENTS + "alembic>=1.13\n"  # reported, not edited


@pytest.mark.slow
@pytest.mark.parametrize("files, words", [
    ({"0002_note.py": _second("0002", '"0009"')}, "KeyError: '0009'"),
    ({"0001_again.py": _second("0001", "None")}, _HEADS.partition(": ")[2]),
])
def test_the_real_migration_fails_on_the_revision_map_as_predicted(tmp_path: Path, database_url: str,
                                                                    files: dict[str, str], words: str) -> None:
    backend = _project(tmp_path)
    for name, text in files.items():
        (backend / "migrations" / "versions" / name).write_text(text)
    python = ensure_venv(backend / "requirements.txt", venv_cache_dir())
    forget_migrations(python, database_url, "needs_shelves")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           "DATABASE_URL": with_platform_query(database_url)}
    done = subprocess.run([str(python), "-m", "alembic", "upgrade", "head"], cwd=backend, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and words in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.mark.parametrize("target, expected", [
    ("heads", []),  # every head: two branches are what it is for
    ("0002", []),  # an explicit revision names one
    ("head", [(_HEADS, "migrations/versions/0002_a.py")]),
])
def test_only_upgrade_head_needs_one_head(tmp_path: Path, target: str, expected: list[tuple[str, str]]) -> None:
    backend = _project(tmp_path, command=_MIGRATING.replace("upgrade head", f"upgrade {target}"))
    (backend / "migrations" / "versions" / "0002_a.py").write_text(_second("0002", '"0001"'))
    (backend / "migrations" / "versions" / "0003_b.py").write_text(_second("0003", '"0001"'))
    assert _failures(backend) == expected


def test_a_broken_revision_map_fails_whatever_the_target(tmp_path: Path) -> None:
    backend = _project(tmp_path, command=_MIGRATING.replace("upgrade head", "upgrade heads"))
    (backend / "migrations" / "versions" / "0002_a.py").write_text(_second("0002", '"0009"'))
    assert _failures(backend) == [("KeyError: '0009'", "migrations/versions/0002_a.py")]
