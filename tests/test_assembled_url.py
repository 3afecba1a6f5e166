"""A settings attribute named like the platform's variable holds the platform's URL only when the environment
can set it: a plain class's `DATABASE_URL = f"postgresql+asyncpg://{DB_USER}..."` is assembled by the project
from its own parts (no variable holds it whole) and needs no fix; a settings field of that name, or a plain
attribute read from DATABASE_URL, gets the platform's `postgresql://...?sslmode=` and FX004's fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import fixer

REQUIREMENTS = "fastapi\nuvicorn\nsqlalchemy>=2.0,<2.1\nasyncpg\npydantic-settings\npython-dotenv\nalembic\n"
PARTS = '''    DB_USER: str = os.getenv("DB_USER")
    DB_PASSWORD: str = os.getenv("DB_PASSWORD")
    DB_HOST: str = os.getenv("DB_HOST", "localhost")
    DB_PORT: str = os.getenv("DB_PORT", 5432)
    DB_NAME: str = os.getenv("DB_NAME")
'''
# The project assembles the URL in the class body: the environment sets the parts, never the whole.
PLAIN = f'''import os


class DatabaseConfig:
{PARTS}    DATABASE_URL: str = (
        f"postgresql+asyncpg://{{DB_USER}}:{{DB_PASSWORD}}@{{DB_HOST}}:{{DB_PORT}}/{{DB_NAME}}"
    )


db_config = DatabaseConfig()
'''
# A pydantic-settings field of that name: the platform's DATABASE_URL replaces the assembled default.
SETTINGS = f'''import os

from pydantic_settings import BaseSettings


class DatabaseConfig(BaseSettings):
{PARTS}    DATABASE_URL: str = (
        f"postgresql+asyncpg://{{DB_USER}}:{{DB_PASSWORD}}@{{DB_HOST}}:{{DB_PORT}}/{{DB_NAME}}"
    )


db_config = DatabaseConfig()
'''
# A plain class that reads DATABASE_URL itself, the assembled URL only its fallback.
READ = PLAIN.replace('DATABASE_URL: str = (\n        f"', 'DATABASE_URL: str = os.getenv(\n        "DATABASE_URL", f"')
ENGINE = """from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import db_config

engine = create_async_engine(db_config.DATABASE_URL)
session_maker = async_sessionmaker(engine, expire_on_commit=False)
"""
MAIN = """from fastapi import FastAPI

from app.db import session_maker

app = FastAPI()


@app.get("/health")
async def health():
    return {"ok": session_maker is not None}
"""
ENV_PY = """import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from app.config import db_config

config = context.config
config.set_main_option("sqlalchemy.url", db_config.DATABASE_URL)


async def run() -> None:
    connectable = async_engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                           poolclass=pool.NullPool)
    async with connectable.connect() as connection:
        await connection.run_sync(lambda c: None)


asyncio.run(run())
"""


def _project(root: Path, config: str) -> Path:
    files = {
        "requirements.txt": REQUIREMENTS,
        "README.md": "Run:\n\n```\nalembic upgrade head\nuvicorn app.main:app\n```\n",
        ".env.sample": "DB_USER=\nDB_PASSWORD=\nDB_HOST=\nDB_PORT=\nDB_NAME=\n",
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "migrations/env.py": ENV_PY,
        "app/__init__.py": "",
        "app/config.py": config,
        "app/db.py": ENGINE,
        "app/main.py": MAIN,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_url_the_project_assembles_in_a_plain_class_gets_no_diff(tmp_path: Path) -> None:
    root = _project(tmp_path, PLAIN)
    result = fixer("dry-run", ".", cwd=root)
    assert (result.returncode, result.stdout) == (0, b""), result.stderr.decode()
    assert "psycopg2" not in result.stderr.decode()


@pytest.mark.parametrize("config", [SETTINGS, READ], ids=["settings-field", "plain-getenv"])
def test_a_url_the_environment_sets_still_gets_the_fix(tmp_path: Path, config: str) -> None:
    root = _project(tmp_path, config)
    result = fixer("dry-run", ".", cwd=root)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "No module named 'psycopg2'" in err and "fixed by FX004" in err
    assert fixer("apply", ".", cwd=root).returncode == 0
    again = fixer("dry-run", ".", cwd=root)
    assert (again.returncode, again.stdout) == (0, b""), again.stderr.decode()
