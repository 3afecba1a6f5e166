"""FX054 alembic-app-url: the documented `alembic upgrade head` connects to the compose host alembic.ini names,
while the app reads the platform's DATABASE_URL; env.py gets the app engine's URL instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.alembic_app_url import AlembicAppUrl
from tests.rules.project_helpers import fix

_DB = """\
import os

from sqlalchemy.ext.asyncio import create_async_engine

DATABASE_URL = os.environ["DATABASE_URL"]
engine = create_async_engine(DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://", 1).split("?")[0])
"""
_SYNC_DB = """\
import os

from sqlalchemy import create_engine

engine = create_engine(os.environ["DATABASE_URL"])
"""
_MODELS = """\
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String(80))
"""
_MAIN = """\
from fastapi import FastAPI

from app import db, models

app = FastAPI()
"""
_ASYNC_ENV = """\
import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from app.models import Base

# alembic's Config
config = context.config
target_metadata = Base.metadata


def do_run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with connectable.connect() as connection:
        await connection.run_sync(do_run)


asyncio.run(run_async())
"""
_SYNC_ENV = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""
_COMPOSE = "services:\n  api:\n    build: .\n  db:\n    image: postgres:16\n"
_SET = 'config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))\n'


def _project(env: str = _ASYNC_ENV, db: str = _DB, host: str = "db", **more: str) -> dict[str, str]:
    scheme = "postgresql+asyncpg" if "async_engine" in env else "postgresql"
    return {
        "requirements.txt": "fastapi>=0.110\nuvicorn>=0.29\nsqlalchemy[asyncio]>=2.0,<2.1\nasyncpg>=0.29\n"
                            "psycopg2-binary>=2.9\nalembic>=1.13\n",
        "Procfile": "web: alembic upgrade head && uvicorn app.main:app --host 0.0.0.0 --port $PORT\n",
        "docker-compose.yml": _COMPOSE,
        "alembic.ini": f"[alembic]\nscript_location = migrations\nprepend_sys_path = .\n"
                       f"sqlalchemy.url = {scheme}://app:app@{host}:5432/app\n",
        "app/__init__.py": "", "app/db.py": db, "app/models.py": _MODELS, "app/main.py": _MAIN,
        "migrations/env.py": env, "migrations/versions/0001_items.py": 'revision = "0001"\ndown_revision = None\n',
        **more,
    }


def _mine(findings) -> list:
    return [f for f in findings if f.rule == "FX054"]


@pytest.mark.parametrize(("env", "db"), [(_ASYNC_ENV, _DB), (_SYNC_ENV, _SYNC_DB)])
def test_env_py_connects_with_the_app_engine_url(tmp_path: Path, env: str, db: str) -> None:
    changed, findings = fix(tmp_path, _project(env, db), codemods=[AlembicAppUrl])
    after = changed["migrations/env.py"]
    assert "config = context.config\nfrom app.db import engine\n" + _SET in after
    assert [(f.fixed, f.safe) for f in _mine(findings)] == [(True, True)]
    assert "compose" in _mine(findings)[0].root_cause and "DATABASE_URL" in _mine(findings)[0].root_cause


def test_a_url_env_py_writes_itself_is_replaced(tmp_path: Path) -> None:
    own = _ASYNC_ENV.replace("target_metadata = Base.metadata\n", "target_metadata = Base.metadata\n"
                             'config.set_main_option("sqlalchemy.url", "postgresql+asyncpg://app:app@db/app")\n')
    changed, _ = fix(tmp_path, _project(own, host="localhost"), codemods=[AlembicAppUrl])
    after = changed["migrations/env.py"]
    assert "@db/app" not in after and after.count("set_main_option") == 1 and _SET in after


def test_an_env_py_binding_the_name_imports_it_under_another(tmp_path: Path) -> None:
    env = _ASYNC_ENV.replace("config = context.config\n", "config = context.config\nengine = None\n")
    changed, _ = fix(tmp_path, _project(env), codemods=[AlembicAppUrl])
    after = changed["migrations/env.py"]
    assert "from app.db import engine as app_engine\n" in after
    assert "app_engine.url.render_as_string" in after


@pytest.mark.parametrize("case", ["localhost", "environment", "other-kind", "no-engine", "two-engines"])
def test_left_alone(tmp_path: Path, case: str) -> None:
    """A host the compose file does not name, an env.py that reads the environment itself, an app engine of the
    other kind or none, or two candidates: env.py is not FX054's to edit."""
    files = {
        "localhost": _project(host="localhost"),
        "environment": _project(_ASYNC_ENV.replace(
            "target_metadata = Base.metadata\n", "target_metadata = Base.metadata\nimport os\n\n"
            'config.set_main_option("sqlalchemy.url", os.environ["DATABASE_URL"].replace("postgresql://", '
            '"postgresql+asyncpg://", 1).split("?")[0])\n')),
        "other-kind": _project(_SYNC_ENV, _DB),
        "no-engine": _project(db="import os\n"),
        "two-engines": _project(db=_DB + 'other = create_async_engine(os.environ["DATABASE_URL"].replace('
                                       '"postgresql://", "postgresql+asyncpg://", 1).split("?")[0])\n'),
    }[case]
    changed, findings = fix(tmp_path, files, codemods=[AlembicAppUrl])
    assert "migrations/env.py" not in changed and not _mine(findings)


def test_the_import_follows_a_sys_path_insert(tmp_path: Path) -> None:
    """env.py makes the package importable itself: the engine import goes below that, not into the first
    import block (ModuleNotFoundError: No module named 'app')."""
    env = _ASYNC_ENV.replace("from app.models import Base\n", "").replace(
        "config = context.config\n", "config = context.config\n\nimport os\nimport sys\n\n"
        "sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))\n\nfrom app.models import Base  # noqa\n")
    changed, findings = fix(tmp_path, _project(env), codemods=[AlembicAppUrl])
    after = changed["migrations/env.py"]
    assert after.index("sys.path.insert") < after.index("from app.db import engine") < after.index(_SET)
    assert [(f.fixed, f.safe) for f in _mine(findings)] == [(True, True)]


@pytest.mark.parametrize("where", ["db", "models"])
def test_an_engine_module_that_creates_tables_at_import_is_left_alone(tmp_path: Path, where: str) -> None:
    """Importing it from env.py would run create_all before the migrations (DuplicateTable)."""
    more = {"app/db.py": _DB + "from app.models import Base\n\nBase.metadata.create_all(engine)\n"} \
        if where == "db" else {"app/db.py": "from app import models\n" + _DB,
                               "app/models.py": _MODELS + "\nimport sqlalchemy\n"
                                                 "Base.metadata.create_all(sqlalchemy.create_engine('sqlite://'))\n"}
    changed, findings = fix(tmp_path, _project(**more), codemods=[AlembicAppUrl])
    assert "migrations/env.py" not in changed and not [f for f in _mine(findings) if f.fixed]
