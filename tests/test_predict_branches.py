"""The import walk decides an `if` inside a function the start runs (not only at module level) when its test
depends only on what the start's environment holds: the platform URL for URL variables, unset otherwise, the
defaults the code gives."""

from __future__ import annotations

from pathlib import Path

from tests.test_startup import failures, write

REQUIREMENTS = "fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\nasyncpg\ngreenlet\n"
ENGINE = '''import os

from fastapi import FastAPI


def build_engine():
    asynchronous = os.getenv("ENGINE_ASYNC", "{default}").lower() == "true"
    if asynchronous:
        from sqlalchemy.ext.asyncio import create_async_engine
        return create_async_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://"))
    else:
        from sqlalchemy import create_engine
        return create_engine(os.environ["DATABASE_URL"])


engine = build_engine()
app = FastAPI()
'''


def test_the_else_branch_a_default_flag_takes_is_predicted(tmp_path: Path) -> None:
    root = write(tmp_path, {"main.py": ENGINE.format(default="false"), "requirements.txt": REQUIREMENTS})
    assert failures(root) == ["ModuleNotFoundError: No module named 'psycopg'"]


def test_the_branch_not_taken_is_left_alone(tmp_path: Path) -> None:
    root = write(tmp_path, {"main.py": ENGINE.format(default="true"), "requirements.txt": REQUIREMENTS})
    assert failures(root) == []


def test_a_test_on_a_parameter_stays_undecided(tmp_path: Path) -> None:
    text = ENGINE.replace("def build_engine():", "def build_engine(asynchronous=False):").replace(
        '    asynchronous = os.getenv("ENGINE_ASYNC", "{default}").lower() == "true"\n', "")
    root = write(tmp_path, {"main.py": text, "requirements.txt": REQUIREMENTS})
    assert failures(root) == []


ENV_PY = '''import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

config = context.config


def database_url():
    return os.getenv("DATABASE_URL", "").replace("postgresql+asyncpg://", "postgresql://")


async def migrate_async():
    section = config.get_section(config.config_ini_section) or {{}}
    section["sqlalchemy.url"] = database_url().replace("postgresql://", "postgresql+asyncpg://")
    engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with engine.connect():
        pass


def migrate_online():
    through_asyncio = os.getenv("MIGRATE_ASYNC", "{default}") == "yes"
    if through_asyncio:
        asyncio.run(migrate_async())
    else:
        from sqlalchemy import engine_from_config
        section = config.get_section(config.config_ini_section) or {{}}
        section["sqlalchemy.url"] = database_url()
        engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.connect():
            pass


if context.is_offline_mode():
    pass
else:
    migrate_online()
'''


def migrating(tmp_path: Path, default: str) -> list[str]:
    return failures(write(tmp_path, {
        "main.py": "from fastapi import FastAPI\napp = FastAPI()\n", "requirements.txt": REQUIREMENTS + "alembic\n",
        "README.md": "alembic upgrade head\nuvicorn main:app\n",
        "alembic.ini": "[alembic]\nscript_location = alembic\n",
        "alembic/env.py": ENV_PY.format(default=default)}))


def test_alembic_env_branch_inside_a_function_with_a_local_section(tmp_path: Path) -> None:
    """`alembic upgrade head` runs migrate_online(); its flag is unset, so the sync engine_from_config gets the
    platform URL (a local `section` from config.get_section) and SQLAlchemy 2.1 loads psycopg."""
    assert migrating(tmp_path / "sync", "no") == ["ModuleNotFoundError: No module named 'psycopg'"]
    # the flag set by default: the async branch runs (asyncpg meets the platform's sslmode), the sync one does not
    assert migrating(tmp_path / "async", "yes") == ["TypeError: connect() got an unexpected keyword argument 'sslmode'"]
