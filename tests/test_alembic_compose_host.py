"""The documented migration connects to a docker-compose host (issue 23): alembic.ini's `sqlalchemy.url` names the
compose network's `db` service and env.py puts no URL of its own into alembic's config, so `alembic upgrade head`
on a platform (which gives DATABASE_URL) fails resolving that host before the server starts. fixer predicts the
driver's own words at env.py's engine, after the fixes too (the rounds keep the compose file and README above the
backend), and leaves alone what is not that shape: a host compose does not name, an env.py that sets the URL.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.verify.backend import ensure_venv
from tests.cli_helpers import fixer
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


class Note(Base):
    __tablename__ = "compose_notes"
    id = Column(Integer, primary_key=True)
    body = Column(String(200))
"""
_ENV = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
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

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("compose_notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.String(200)))


def downgrade() -> None:
    op.drop_table("compose_notes")
"""
_COMPOSE = """\
services:
  api:
    build: ./api
    environment:
      - DATABASE_URL=postgresql://notes:notes@db:5432/notes
  db:
    image: postgres:16
    hostname: pg_main
"""
_FROM_ENVIRONMENT = 'import os\n\nconfig.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"])\n'


def _project(tmp_path: Path, host: str = "db", driver: str = "psycopg2-binary", scheme: str = "postgresql") -> Path:
    """`repo/api`, a backend whose Dockerfile runs the migration before the server; the compose file beside it."""
    repo = tmp_path / "repo"
    backend = repo / "api"
    (backend / "app").mkdir(parents=True)
    (backend / "migrations" / "versions").mkdir(parents=True)
    (repo / "docker-compose.yml").write_text(_COMPOSE)
    (backend / "app" / "__init__.py").write_text("")
    (backend / "app" / "main.py").write_text(_MAIN)
    (backend / "app" / "models.py").write_text(_MODELS)
    (backend / "migrations" / "env.py").write_text(_ENV)
    (backend / "migrations" / "versions" / "0001_notes.py").write_text(_REVISION)
    (backend / "alembic.ini").write_text(
        f"[alembic]\nscript_location = migrations\nsqlalchemy.url = {scheme}://notes:notes@{host}:5432/notes\n")
    (backend / "requirements.txt").write_text(
        f"fastapi>=0.110\nuvicorn>=0.29\nsqlalchemy>=2.0,<2.1\nalembic>=1.13\n{driver}\n")
    (backend / "Dockerfile").write_text(
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nRUN pip install -r requirements.txt\n"
        'CMD ["sh", "-c", "alembic upgrade head && uvicorn app.main:app --host 0.0.0.0"]\n')
    return backend


def _failures(backend: Path) -> list[tuple[str, str, int]]:
    prediction = runner.run(backend, codemods=[], text_rules=[], jobs=1).facts.startup.primary
    assert prediction is not None
    return [(str(f), f.path, f.line) for f in prediction.failures]


_PSYCOPG2 = ('sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "{}" to '
             'address: Name or service not known')

_PSYCOPG = ("sqlalchemy.exc.OperationalError: (psycopg.OperationalError) failed to resolve host 'db': [Errno -2] Name "
            "or service not known")


@pytest.mark.parametrize("host", ["db", "pg_main"])
def test_the_migration_fails_resolving_the_compose_host_the_ini_names(tmp_path: Path, host: str) -> None:
    """The service's key and its `hostname:` both name it on compose's network only."""
    assert _failures(_project(tmp_path, host)) == [(_PSYCOPG2.format(host), "migrations/env.py", 11)]


@pytest.mark.parametrize(("pin", "words"), [
    (">=3.2", _PSYCOPG), ("==3.2.6", _PSYCOPG.replace("failed to resolve host 'db': ", "")),
])
def test_psycopg_3_words_it_as_python_resolves_the_host(tmp_path: Path, pin: str, words: str) -> None:
    """psycopg 3 resolves the host itself; from 3.3 its message names the host."""
    backend = _project(tmp_path, driver=f"psycopg[binary]{pin}", scheme="postgresql+psycopg")
    assert _failures(backend) == [(words, "migrations/env.py", 11)]


@pytest.mark.parametrize("host", ["localhost", "database.internal.example.com"])
def test_a_host_compose_does_not_name_is_left_alone(tmp_path: Path, host: str) -> None:
    assert _failures(_project(tmp_path, host)) == []


def test_an_env_py_that_sets_the_url_from_the_environment_is_left_alone(tmp_path: Path) -> None:
    """env.py's own URL beats the ini's: the compose host is never connected to."""
    backend = _project(tmp_path)
    env = backend / "migrations" / "env.py"
    env.write_text(env.read_text().replace("target_metadata = Base.metadata\n",
                                           "target_metadata = Base.metadata\n" + _FROM_ENVIRONMENT))
    assert _failures(backend) == []


def test_the_report_names_what_to_set_and_survives_the_fixes(tmp_path: Path) -> None:
    """A round that fixes something else runs on a copy: it still sees the compose file above the backend, so the
    failure is still what stands after the fixes, and the finding says where the URL has to come from."""
    backend = _project(tmp_path)
    (backend / "app" / "main.py").write_text("from fastapi.staticfiles import StaticFiles\n" + _MAIN
                                             + 'app.mount("/static", StaticFiles(directory="static"), name="static")\n')
    done = fixer("dry-run", "-j1", backend).stderr.decode()
    assert "round 2: predicted failing first with " + _PSYCOPG2.format("db") in done, done
    assert _PSYCOPG2.format("db") in done.split("After the fixes, what still stands", 1)[1]
    report = fixer("dry-run", "-j1", "--report", "-", backend).stdout.decode()
    assert "compose's network name for its `db` service (../docker-compose.yml)" in report
    assert "compose host resolves only on compose's network" in report


@pytest.mark.slow
def test_the_real_migration_fails_as_predicted_and_runs_once_env_py_reads_the_url(tmp_path: Path,
                                                                                   database_url: str) -> None:
    """`alembic upgrade head` with the platform's DATABASE_URL: the driver's words are the prediction's; with env.py
    reading DATABASE_URL (what the report says to do, in psycopg's form) the migration runs on a real PostgreSQL."""
    backend = _project(tmp_path, driver="psycopg[binary]>=3.2", scheme="postgresql+psycopg")
    python = ensure_venv(backend / "requirements.txt", venv_cache_dir())
    forget_migrations(python, database_url, "compose_notes")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           "DATABASE_URL": with_platform_query(database_url)}

    def upgrade() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-m", "alembic", "upgrade", "head"], cwd=backend, env=env,
                              capture_output=True, text=True, timeout=300)

    before = upgrade()
    assert before.returncode != 0 and _PSYCOPG in before.stderr, before.stderr
    script = backend / "migrations" / "env.py"
    reading = _FROM_ENVIRONMENT.replace("]", '].replace("postgresql://", "postgresql+psycopg://", 1)')
    script.write_text(script.read_text().replace("target_metadata = Base.metadata\n",
                                                 "target_metadata = Base.metadata\n" + reading))
    assert _failures(backend) == []
    after = upgrade()
    assert after.returncode == 0, after.stderr


def test_a_compose_file_named_in_capitals_names_its_hosts_too(tmp_path: Path) -> None:
    backend = _project(tmp_path)
    (backend.parent / "docker-compose.yml").rename(backend.parent / "Docker-Compose.yml")
    assert _failures(backend) == [(_PSYCOPG2.format("db"), "migrations/env.py", 11)]
