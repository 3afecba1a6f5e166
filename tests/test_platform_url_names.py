"""A database URL under the project's own name (DB_URL, PG_DATABASE_URL) is where a deploy pastes the platform's
connection string: the prediction gives it the platform URL, whatever the example file shows, and the smallest
fix follows (FX004's helper where the engine is in reach, psycopg where alembic's env.py is not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.discover.files import discover
from fixer.model import database, startup
from fixer.model.evidence import PLATFORM_URL, platform_url_read
from tests.cli_helpers import fixer

PYPROJECT = """[project]
name = "todo"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = [
    "fastapi>=0.115",
    "sqlalchemy>=2.1",
    "greenlet>=3",
    "asyncpg>=0.30",
    "pydantic-settings>=2.6",
    "alembic>=1.14",
]
"""
CONFIG = """from pydantic_settings import BaseSettings, SettingsConfigDict


class Config(BaseSettings):
    DB_URL: str
    model_config = SettingsConfigDict(env_file=".env")


def load():
    return Config()


config = load()
"""
ENGINE = """from sqlalchemy.ext.asyncio import create_async_engine

from app.config import config

engine = create_async_engine(url=config.DB_URL)
"""
MAIN = """from fastapi import FastAPI

from app.db import engine

app = FastAPI()


@app.get("/health")
async def health():
    return {"engine": str(engine.url.drivername)}
"""
ENV_PY = """import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

from app.config import config as settings

config = context.config
config.set_main_option("sqlalchemy.url", settings.DB_URL)


async def run() -> None:
    connectable = async_engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                           poolclass=pool.NullPool)
    async with connectable.connect() as connection:
        await connection.run_sync(lambda c: None)


asyncio.run(run())
"""


def _project(root: Path, alembic: bool = False) -> Path:
    files = {
        "pyproject.toml": PYPROJECT,
        ".env.example": "DB_URL=postgresql+asyncpg://app:app@localhost:5432/todo\n",
        "app/__init__.py": "",
        "app/config.py": CONFIG,
        "app/db.py": ENGINE,
        "app/main.py": MAIN,
    }
    if alembic:
        files["alembic.ini"] = "[alembic]\nscript_location = migrations\n"
        files["migrations/env.py"] = ENV_PY
        files["README.md"] = "Run:\n\n```\nalembic upgrade head\nuvicorn app.main:app\n```\n"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _first(root: Path) -> str:
    paths = list(discover(root, []))
    flow = database.read_python((p, (root / p).read_bytes()) for p in paths if p.endswith(".py"))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(), flow, database_url=PLATFORM_URL)
    return str(found.primary.failures[0]) if found.primary.failures else "ok"


@pytest.mark.parametrize(("name", "platform"), [
    ("DATABASE_URL", True), ("settings.DB_URL", True), ("PG_DATABASE_URL", True), ("NEON_DSN", True),
    ("postgres_uri", True), ("SYNC_DATABASE_URL", False), ("ASYNCPG_DSN", False), ("TEST_DB_URL", False),
    ("REPORTS_URL", False), ("REDIS_URL", False), ("DBT_PROFILE", False),
])
def test_which_names_a_platform_url_goes_into(name: str, platform: bool) -> None:
    assert platform_url_read([name]) is platform


def test_a_project_named_url_gets_the_platform_url_not_the_example(tmp_path: Path) -> None:
    # The example shows +asyncpg, but the deploy pastes postgresql://...: SQLAlchemy 2.1 loads psycopg for it.
    assert _first(_project(tmp_path)) == "ModuleNotFoundError: No module named 'psycopg'"


def test_the_engine_in_reach_gets_the_url_helper(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = fixer("dry-run", ".", cwd=root)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 1
    assert "+engine = create_async_engine(url=to_async_database_url(config.DB_URL))" in out
    assert "psycopg[binary]" not in out
    assert "fixed by FX004" in err


def test_an_engine_inside_alembic_config_gets_psycopg_for_every_engine(tmp_path: Path) -> None:
    # env.py's async_engine_from_config takes the URL from a mapping no code edit reaches: psycopg (async too)
    # takes the platform URL as it is, for the app's engine and alembic's alike, in one line.
    root = _project(tmp_path, alembic=True)
    result = fixer("dry-run", ".", cwd=root)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 1
    assert '+    "psycopg[binary]",' in out
    assert "to_async_database_url" not in out
    assert "needs a person" not in err and "fixed by FX005" in err
    assert fixer("apply", ".", cwd=root).returncode == 0
    again = fixer("dry-run", ".", cwd=root)
    assert (again.returncode, again.stdout) == (0, b"")
    # Config.DB_URL has no default: the start imports once the environment sets it, as the prediction says.
    assert "imports (4 project module(s)) once the environment sets 1 variable(s)" in again.stderr.decode()


CLEANER = """import os

from sqlalchemy.ext.asyncio import create_async_engine

DATABASE_URL = os.getenv("DATABASE_URL", "postgresql+asyncpg://localhost/app")
if DATABASE_URL.startswith("postgresql://"):
    DATABASE_URL = "postgresql+asyncpg://" + DATABASE_URL[12:]
DATABASE_URL = DATABASE_URL.split("?")[0]

if DATABASE_URL.startswith("postgresql+asyncpg://"):
    engine = create_async_engine(DATABASE_URL, pool_pre_ping=True)
else:
    engine = create_async_engine(DATABASE_URL)
"""
LIFESPAN = """from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from app.db import engine


@asynccontextmanager
async def lifespan(app):
    async with engine.begin() as conn:
        await conn.execute(text("select 1"))
    yield


app = FastAPI(lifespan=lifespan)
"""


def test_a_branch_the_platform_url_decides_is_walked_and_a_cleaner_that_loses_the_host_is_named(tmp_path: Path) -> None:
    # `url[12:]` is one short of len("postgresql://"): the authority lands in the path, asyncpg connects to its
    # default and nothing listens there. The engine sits in the branch the converted URL takes.
    root = _project(tmp_path)
    (root / "app/db.py").write_text(CLEANER)
    (root / "app/main.py").write_text(LIFESPAN)
    paths = list(discover(root, []))
    flow = database.read_python((p, (root / p).read_bytes()) for p in paths if p.endswith(".py"))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(), flow, database_url=PLATFORM_URL)
    [failure] = found.primary.failures
    assert (str(failure), failure.path, failure.line) == (
        "ConnectionRefusedError: [Errno 111] Connection refused", "app/db.py", 11)
    assert "postgresql+asyncpg:///user:pass@host/db" in failure.detail
    fixed = CLEANER.replace("[12:]", "[13:]")
    (root / "app/db.py").write_text(fixed)
    assert _first(root) == "ok"


LOGGER = """import logging
from logging.handlers import RotatingFileHandler

LOG_FILE = "{folder}/app.log"


def get_logger(name):
    logger = logging.getLogger(name)
    logger.addHandler(RotatingFileHandler(LOG_FILE, maxBytes=1024))
    return logger
"""


@pytest.mark.parametrize("shipped", [False, True])
def test_a_log_file_in_a_folder_the_tree_lacks_stops_the_start(tmp_path: Path, shipped: bool) -> None:
    root = tmp_path
    files = {"requirements.txt": "fastapi\n", "app/__init__.py": "",
             "app/log.py": LOGGER.format(folder="logs"),
             "app/main.py": "from fastapi import FastAPI\n\nfrom app.log import get_logger\n\nlogger = get_logger('x')\n"
                            "app = FastAPI()\n"}
    if shipped:
        files["logs/.gitkeep"] = ""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    expected = "ok" if shipped else f"FileNotFoundError: [Errno 2] No such file or directory: '{root.resolve()}/logs/app.log'"
    assert _first(root) == expected
