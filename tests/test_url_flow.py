"""The platform URL's flow through the project's own code (settings, validators, helpers, str methods, re,
urllib.parse, make_url) to the driver, and what the driver does with it at the first connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.discover.files import discover
from fixer.model import startup
from fixer.model.evidence import PLATFORM_URL
from fixer.model.urleval import make_url

REQ = "fastapi==0.115.12\nsqlmodel==0.0.24\nuvicorn==0.34.0\nasyncpg==0.30.0\npsycopg2-binary==2.9.10\n"
LIFESPAN = """from contextlib import asynccontextmanager
from fastapi import FastAPI
from sqlmodel import SQLModel
from app.db import engine


@asynccontextmanager
async def lifespan(app):
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    yield


app = FastAPI(lifespan=lifespan)
"""


def predicted(tmp_path: Path, db: str, main: str = LIFESPAN, extra: dict[str, str] | None = None) -> list[str]:
    files = {"requirements.txt": REQ, "Procfile": "web: uvicorn app.main:app\n", "app/__init__.py": "",
             "app/main.py": main, "app/db.py": db, **(extra or {})}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    paths = list(discover(tmp_path, []))
    found = startup.analyse(tmp_path, paths, lambda rel: (tmp_path / rel).read_text(), database_url=PLATFORM_URL)
    return [str(f) for f in found.primary.failures]


CLEANER_CUTS_QUESTION_MARK = """import os, re
from sqlalchemy.ext.asyncio import create_async_engine


def clean(url):
    url = re.sub(r"\\?sslmode=[^&]*", "", url)
    return url.replace("postgresql://", "postgresql+asyncpg://")


engine = create_async_engine(clean(os.environ["DATABASE_URL"]))
"""

CLEANER_THAT_WORKS = """import os
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode
from sqlalchemy.ext.asyncio import create_async_engine


def clean(url):
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.pop("channel_binding", None)
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, urlencode(query), ""))


engine = create_async_engine(clean(os.environ["DATABASE_URL"]))
"""


def test_a_cleaner_gluing_the_query_onto_the_database_name(tmp_path: Path) -> None:
    assert predicted(tmp_path, CLEANER_CUTS_QUESTION_MARK) == [
        'asyncpg.exceptions.InvalidCatalogNameError: database "db&channel_binding=require" does not exist']


def test_leave_alone_a_cleaner_that_works(tmp_path: Path) -> None:
    assert predicted(tmp_path, CLEANER_THAT_WORKS) == []


def test_the_production_branch_of_a_test_mode_fallback_is_checked(tmp_path: Path) -> None:
    db = """import os
from sqlalchemy.ext.asyncio import create_async_engine

TESTING = os.getenv("TESTING") == "1"
URL = "sqlite+aiosqlite:///:memory:" if TESTING else os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://")
engine = create_async_engine(URL)
"""
    assert predicted(tmp_path, db) == ["TypeError: connect() got an unexpected keyword argument 'sslmode'"]


def test_a_settings_class_and_its_validator_on_the_way(tmp_path: Path) -> None:
    db = """from sqlalchemy.ext.asyncio import create_async_engine
from app.config import settings

engine = create_async_engine(settings.database_url)
"""
    config = """from pydantic import field_validator
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str = "sqlite+aiosqlite:///./dev.db"

    @field_validator("database_url")
    @classmethod
    def to_asyncpg(cls, v):
        if v.startswith("postgresql://"):
            v = "postgresql+asyncpg://" + v.removeprefix("postgresql://")
        return v


settings = Settings()
"""
    extra = {"app/config.py": config, "requirements.txt": REQ + "pydantic-settings==2.7.1\n"}
    assert predicted(tmp_path, db, extra=extra) == ["TypeError: connect() got an unexpected keyword argument 'sslmode'"]


def test_one_url_for_a_sync_and_an_async_engine(tmp_path: Path) -> None:
    db = """import os
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

URL = os.environ["DATABASE_URL"]
sync_engine = create_engine(URL)
engine = create_async_engine(URL.replace("postgresql://", "postgresql+asyncpg://"))
"""
    # The sync engine takes libpq's parameters; the async one, given the same query, does not.
    assert predicted(tmp_path, db) == ["TypeError: connect() got an unexpected keyword argument 'sslmode'"]


def test_no_failure_when_nothing_connects_at_startup(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\nfrom app.db import engine\n\napp = FastAPI()\n"
    assert predicted(tmp_path, CLEANER_CUTS_QUESTION_MARK, main=main) == []


RAW_POOL = """import asyncpg
from app.config import DSN


class Database:
    async def connect(self):
        self.pool = await asyncpg.create_pool({dsn})


db = Database()
"""
RAW_MAIN = """from contextlib import asynccontextmanager
from fastapi import FastAPI
from app.db import db


@asynccontextmanager
async def lifespan(app):
    await db.connect()
    yield


app = FastAPI(lifespan=lifespan)
"""


def test_raw_asyncpg_gets_channel_binding(tmp_path: Path) -> None:
    extra = {"app/config.py": 'import os\nDSN = os.environ["DATABASE_URL"]\n'}
    assert predicted(tmp_path, RAW_POOL.format(dsn="DSN"), main=RAW_MAIN, extra=extra) == [
        'asyncpg.exceptions.UndefinedObjectError: unrecognized configuration parameter "channel_binding"']


def test_leave_alone_raw_asyncpg_whose_dsn_the_project_trims(tmp_path: Path) -> None:
    extra = {"app/config.py": 'import os\nDSN = os.environ["DATABASE_URL"].replace("&channel_binding=require", "")\n'}
    assert predicted(tmp_path, RAW_POOL.format(dsn="DSN"), main=RAW_MAIN, extra=extra) == []


STARLETTE_CONFIG = """import os
from starlette.config import Config

config = Config(os.path.join(os.path.dirname(__file__), "..", ".env"))
SECRET_KEY = config("SECRET_KEY")
DEBUG = config("DEBUG", default=False)
"""


def test_starlette_config_without_its_env_file(tmp_path: Path) -> None:
    # starlette raises for a missing env file up to 0.36 (later releases warn); fastapi 0.110 installs beside it.
    extra = {"app/settings.py": STARLETTE_CONFIG, "requirements.txt": REQ.replace("fastapi==0.115.12", "fastapi==0.110.0") + "starlette==0.36.3\n"}
    main = "from fastapi import FastAPI\nimport app.settings\n\napp = FastAPI()\n"
    out = predicted(tmp_path, "", main=main, extra=extra)
    assert out == [f"FileNotFoundError: Config file '{tmp_path / 'app'}/../.env' not found."]
    paths = list(discover(tmp_path, []))
    failure = startup.analyse(tmp_path, paths, lambda rel: (tmp_path / rel).read_text()).primary.failures[0]
    assert failure.detail.endswith("needs the file .env: create it, setting SECRET_KEY (no default)")


def test_leave_alone_starlette_config_with_its_env_file(tmp_path: Path) -> None:
    extra = {"app/settings.py": STARLETTE_CONFIG, "requirements.txt": REQ.replace("fastapi==0.115.12", "fastapi==0.110.0") + "starlette==0.36.3\n", ".env": "SECRET_KEY=x\n"}
    main = "from fastapi import FastAPI\nimport app.settings\n\napp = FastAPI()\n"
    assert predicted(tmp_path, "", main=main, extra=extra) == []


@pytest.mark.parametrize("url", [
    PLATFORM_URL,
    "postgresql+asyncpg://u:p%40ss@h:5433/db?ssl=require",
    "postgres://u@h/db",
    "sqlite+aiosqlite:///./x.db",
    "postgresql://user:pass@host/db&channel_binding=require",
])
def test_make_url_reads_as_sqlalchemy_does(url: str) -> None:
    from sqlalchemy.engine import make_url as real

    ours, theirs = make_url(url), real(url)
    assert (ours.drivername, ours.username, ours.password, ours.host, ours.port, ours.database, ours.query) == (
        theirs.drivername, theirs.username, theirs.password, theirs.host, theirs.port, theirs.database, dict(theirs.query))
    assert ours.render_as_string(hide_password=False) == theirs.render_as_string(hide_password=False)
    assert str(ours) == str(theirs)


def test_a_lifespan_that_catches_the_connection_error_starts(tmp_path: Path) -> None:
    main = LIFESPAN.replace("""    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)""", """    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
    except Exception as error:
        print("no tables:", error)""")
    assert predicted(tmp_path, CLEANER_CUTS_QUESTION_MARK, main=main) == []


def test_a_url_from_unset_pieces_predicts_without_crashing(tmp_path: Path) -> None:
    """Only the platform URL is set: a port read from an unset variable renders as `:None`, which SQLAlchemy
    cannot parse; the walk does not know what the deploy sets there, so it predicts nothing of the connection."""
    db = """import os
from sqlmodel import create_engine

port = os.getenv("PG_PORT")
host = os.getenv("PG_HOST")
engine = create_engine(f"postgresql+psycopg2://u:p@{host}:{port}/db")
"""
    main = "from fastapi import FastAPI\nfrom app.db import engine\n\napp = FastAPI()\n"
    assert predicted(tmp_path, db, main=main) == []
