"""FX042 settings-url-validator and FX043 asyncpg-dsn: the project's own URL code, fixed where the prediction
(the platform URL run through that code) fails, and left alone where it works."""

from __future__ import annotations

from pathlib import Path

from fixer.model.evidence import PLATFORM_URL
from fixer.rules.asyncpg_dsn import AsyncpgDsn
from fixer.rules.settings_url_validator import SettingsUrlValidator
from fixer.model.urls import to_async_url
from tests.rules.project_helpers import fix

REQ = "fastapi==0.115.12\nsqlmodel==0.0.24\nuvicorn==0.34.0\nasyncpg==0.30.0\npydantic-settings==2.7.1\n"
CONFIG = '''from pydantic import field_validator
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str

    @field_validator("database_url")
    @classmethod
    def check_url(cls, v: str) -> str:
        """Async drivers only."""
{check}
        return v


settings = Settings()
'''
REJECTS = '''        if not v.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("DATABASE_URL must use asyncpg")'''
# Accepts only a URL without any query: the converted platform URL (`?ssl=require`) still fails it.
REJECTS_ANY_QUERY = '''        if "+asyncpg" not in v or "?" in v:
            raise ValueError("DATABASE_URL must use asyncpg, no options")'''
CONVERTS = '''        if v.startswith("postgresql://"):
            v = v.replace("postgresql://", "postgresql+asyncpg://", 1)
        if "+asyncpg" not in v:
            raise ValueError("DATABASE_URL must use asyncpg")'''


def project(check: str) -> dict[str, str]:
    return {"requirements.txt": REQ, "Procfile": "web: uvicorn app.main:app\n", "app/__init__.py": "",
            "app/config.py": CONFIG.format(check=check),
            "app/main.py": "from fastapi import FastAPI\nfrom app.config import settings\n\napp = FastAPI()\n"}


def test_a_validator_rejecting_the_platform_url_converts_it_first(tmp_path: Path) -> None:
    changed, findings = fix(tmp_path, project(REJECTS), [SettingsUrlValidator])
    text = changed["app/config.py"]
    assert '        """Async drivers only."""\n        v = to_async_database_url(v)\n        if not v.startswith' in text
    assert "def to_async_database_url(url: str) -> str:" in text and "from sqlalchemy.engine import make_url" in text
    [finding] = [f for f in findings if f.rule == "FX042"]
    assert finding.fixed and finding.safe and "1 validation error for Settings" in finding.evidence
    assert to_async_url(PLATFORM_URL) in finding.evidence


def test_leave_alone_a_validator_that_converts_itself(tmp_path: Path) -> None:
    changed, findings = fix(tmp_path, project(CONVERTS), [SettingsUrlValidator])
    assert changed == {} and not [f for f in findings if f.rule == "FX042"]


def test_no_fix_when_the_converted_url_still_fails(tmp_path: Path) -> None:
    changed, findings = fix(tmp_path, project(REJECTS_ANY_QUERY), [SettingsUrlValidator])
    assert changed == {}


POOL = '''import asyncpg
from app.config import DSN


class Database:
    async def connect(self):
        self.pool = await asyncpg.create_pool(DSN, min_size=1)


db = Database()
'''
MAIN = '''from contextlib import asynccontextmanager
from fastapi import FastAPI
from app.db import db


@asynccontextmanager
async def lifespan(app):
    await db.connect()
    yield


app = FastAPI(lifespan=lifespan)
'''


def pool_project(config: str) -> dict[str, str]:
    return {"requirements.txt": REQ, "Procfile": "web: uvicorn app.main:app\n", "app/__init__.py": "",
            "app/config.py": config, "app/db.py": POOL, "app/main.py": MAIN}


def test_a_dsn_given_to_asyncpg_drops_channel_binding(tmp_path: Path) -> None:
    changed, findings = fix(tmp_path, pool_project('import os\nDSN = os.environ["DATABASE_URL"]\n'), [AsyncpgDsn])
    text = changed["app/db.py"]
    assert "        self.pool = await asyncpg.create_pool(to_asyncpg_dsn(DSN), min_size=1)\n" in text
    namespace: dict = {}
    exec(text[text.index("def to_asyncpg_dsn"):text.index("class Database")], namespace)
    helper = namespace["to_asyncpg_dsn"]
    assert helper("postgresql://u:p%3F@h/db?sslmode=require&channel_binding=require") == "postgresql://u:p%3F@h/db?sslmode=require"
    assert helper("postgresql://u@h/db?application_name=api") == "postgresql://u@h/db?application_name=api"
    assert helper("postgresql://u@h/db") == "postgresql://u@h/db"
    [finding] = [f for f in findings if f.rule == "FX043"]
    assert finding.safe and 'unrecognized configuration parameter "channel_binding"' in finding.evidence


def test_leave_alone_a_dsn_the_project_trims(tmp_path: Path) -> None:
    config = 'import os\nDSN = os.environ["DATABASE_URL"].split("&channel_binding")[0]\n'
    changed, findings = fix(tmp_path, pool_project(config), [AsyncpgDsn])
    assert changed == {} and findings == []


HELPER_DB = '''import os
from sqlalchemy.ext.asyncio import create_async_engine


def async_url(url: str) -> str:
{body}


engine = create_async_engine(async_url(os.environ["DATABASE_URL"]))
'''
SWAPS_SCHEME_ONLY = '''    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://"):]
    return url'''
DOES_IT_ALL = '''    url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    base, _, query = url.partition("?")
    params = [p.replace("sslmode=", "ssl=") for p in query.split("&") if p and not p.startswith("channel_binding=")]
    return base + ("?" + "&".join(params) if params else "")'''


def helper_project(body: str) -> dict[str, str]:
    return {"requirements.txt": REQ, "Procfile": "web: uvicorn app.main:app\n", "app/__init__.py": "",
            "app/db.py": HELPER_DB.format(body=body),
            "app/main.py": "from fastapi import FastAPI\nfrom app.db import engine\n\napp = FastAPI()\n"}


def test_the_projects_own_url_helper_is_run_not_trusted(tmp_path: Path) -> None:
    from fixer.rules.url_normaliser import RuntimeUrlNormaliser

    changed, findings = fix(tmp_path, helper_project(SWAPS_SCHEME_ONLY), [RuntimeUrlNormaliser])
    assert "engine = create_async_engine(to_async_database_url(async_url(os.environ[\"DATABASE_URL\"])))" in changed["app/db.py"]
    [finding] = [f for f in findings if f.rule == "FX004"]
    assert finding.safe and "unexpected keyword argument 'sslmode'" in finding.evidence


def test_leave_alone_a_url_helper_that_works(tmp_path: Path) -> None:
    from fixer.rules.url_normaliser import RuntimeUrlNormaliser

    changed, findings = fix(tmp_path, helper_project(DOES_IT_ALL), [RuntimeUrlNormaliser])
    assert changed == {} and not [f for f in findings if f.rule == "FX004"]


ENGINE_MODULE = '''import os

from sqlalchemy.ext.asyncio import create_async_engine

URL = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://")
{strip}
engine = create_async_engine(URL, connect_args={{"ssl": True}})
'''
# The project's own cleaning of the libpq parameters the platform URL carries, as `.replace(...)` steps.
STRIPS = 'URL = URL.replace("?sslmode=require&channel_binding=require", "")\nURL = URL.replace("?sslmode=require", "")'


def engine_project(strip: str) -> dict[str, str]:
    return {"requirements.txt": REQ, "Procfile": "web: uvicorn app.main:app\n", "app/__init__.py": "",
            "app/db.py": ENGINE_MODULE.format(strip=strip),
            "app/main.py": "from fastapi import FastAPI\nfrom app.db import engine\n\napp = FastAPI()\n"}


def test_leave_alone_an_engine_url_the_projects_replaces_clean(tmp_path: Path) -> None:
    from fixer.rules.url_normaliser import RuntimeUrlNormaliser

    changed, findings = fix(tmp_path, engine_project(STRIPS), [RuntimeUrlNormaliser])
    assert changed == {} and [f for f in findings if f.rule == "FX004"] == []


def test_an_engine_url_whose_libpq_parameters_stay_is_still_wrapped(tmp_path: Path) -> None:
    from fixer.rules.url_normaliser import RuntimeUrlNormaliser

    changed, findings = fix(tmp_path, engine_project(""), [RuntimeUrlNormaliser])
    assert "create_async_engine(to_async_database_url(URL)" in changed["app/db.py"]
    [finding] = [f for f in findings if f.rule == "FX004"]
    assert finding.safe and "unexpected keyword argument 'sslmode'" in finding.evidence
