"""`uv sync` installs the project's dependencies and its default groups (`dev`, or `tool.uv.default-groups`),
not every package of uv.lock: a driver only a `testing` group locks is not there when the app starts, and the
prediction names the import that fails (before SQLAlchemy's check of an async driver)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.discover.files import discover
from fixer.model import startup

APP = """import os

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(os.environ["DATABASE_URL"])
app = FastAPI()
"""
PYPROJECT = """[project]
name = "notes"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["fastapi", "uvicorn", "sqlalchemy[postgresql-asyncpg]>=2.0,<2.1"]

[dependency-groups]
{group} = ["psycopg2-binary>=2.9", "pytest"]
"""
LOCK = """version = 1
requires-python = ">=3.12"

[[package]]
name = "notes"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "fastapi" }},
    {{ name = "uvicorn" }},
    {{ name = "sqlalchemy", extra = ["postgresql-asyncpg"] }},
]

[package.dev-dependencies]
{group} = [
    {{ name = "psycopg2-binary" }},
    {{ name = "pytest" }},
]

[[package]]
name = "sqlalchemy"
version = "2.0.40"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [{{ name = "greenlet" }}]

[package.optional-dependencies]
postgresql-asyncpg = [{{ name = "asyncpg" }}, {{ name = "greenlet" }}]

[[package]]
name = "asyncpg"
version = "0.30.0"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "greenlet"
version = "3.2.0"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "fastapi"
version = "0.115.12"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "uvicorn"
version = "0.34.0"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "psycopg2-binary"
version = "2.9.10"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "pytest"
version = "8.3.5"
source = {{ registry = "https://pypi.org/simple" }}
"""
DOCKERFILE = "FROM python:3.12\nRUN pip install uv\nCOPY . .\nRUN uv sync --frozen\nCMD uv run uvicorn main:app\n"


def _first(root: Path, group: str) -> str:
    files = {"main.py": APP, "pyproject.toml": PYPROJECT.format(group=group), "uv.lock": LOCK.format(group=group),
             "Dockerfile": DOCKERFILE}
    for rel, text in files.items():
        (root / rel).write_text(text)
    paths = list(discover(root, []))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(),
                            database_url="postgresql://u:p@h/db?sslmode=require")
    return str(found.primary.failures[0]) if found.primary.failures else "ok"


@pytest.mark.parametrize(("group", "first"), [
    ("testing", "ModuleNotFoundError: No module named 'psycopg2'"),
    ("dev", "sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver to be used. "
            "The loaded 'psycopg2' is not async."),
])
def test_only_the_groups_uv_syncs_install(tmp_path: Path, group: str, first: str) -> None:
    assert _first(tmp_path, group) == first
