"""A URL assembled from the pieces platforms also set one by one (`POSTGRES_USER`, `PGHOST`, ...): the prediction
evaluates it as a deploy gives it, so the engine's scheme, and the driver it loads, are known. alembic's env.py
building `postgresql://` from them on SQLAlchemy 2.1 with only psycopg2 installed needs psycopg 3, which one
dependency line brings for the app's engine and the migration's at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.model.evidence import platform_piece
from fixer.rules.sync_driver_dependency import SyncDriverDependency
from fixer.rules.sync_driver_url import SyncDriverUrlCodemod
from tests.rules.project_helpers import fix, write

PIECES = '''import os
from urllib.parse import quote_plus

SECRET = quote_plus(os.getenv("POSTGRES_PASSWORD"))
ADDRESS = f"postgresql://{os.getenv('POSTGRES_USER')}:{SECRET}@{os.getenv('POSTGRES_HOST')}:{os.getenv('POSTGRES_PORT')}/{os.getenv('POSTGRES_DB')}"
'''
ENV = '''from alembic import context
from sqlalchemy import engine_from_config, pool

from app.pieces import ADDRESS

config = context.config
config.set_main_option("sqlalchemy.url", ADDRESS)


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    pass
else:
    run_migrations_online()
'''
DB = "from sqlmodel import create_engine\n\nfrom app.pieces import ADDRESS\n\nengine = create_engine(ADDRESS)\n"
MAIN = "from fastapi import FastAPI\n\nfrom app.db import engine\n\napp = FastAPI()\n"


def _files(requirements: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/pieces.py": PIECES, "app/db.py": DB, "app/main.py": MAIN,
            "alembic.ini": "[alembic]\nscript_location = migrations\n", "migrations/env.py": ENV,
            "README.md": "```\npip install -r requirements.txt\nalembic upgrade head\nuvicorn app.main:app\n```\n",
            "requirements.txt": requirements}


@pytest.mark.parametrize(("name", "value"), [("POSTGRES_PASSWORD", "pass"), ("PGHOST", "host"), ("settings.pg_port", "5432"),
                                             ("POSTGRES_DB", "db"), ("REDIS_HOST", None), ("DB_POOL", None)])
def test_the_pieces_of_the_platform_url(name: str, value: str | None) -> None:
    assert platform_piece(name) == value


def test_a_url_built_from_pieces_gets_the_driver_it_loads(tmp_path: Path) -> None:
    root = write(tmp_path / "p", _files("fastapi\nuvicorn\nsqlmodel\npsycopg2-binary\nalembic\n"))
    prediction = runner.run(root, codemods=[], text_rules=[], jobs=1).facts.startup.primary
    assert [(str(f), f.path) for f in prediction.failures][:1] == [
        ("ModuleNotFoundError: No module named 'psycopg'", "migrations/env.py")]
    changed, findings = fix(root, {}, codemods=[SyncDriverUrlCodemod], text_rules=[SyncDriverDependency])
    assert changed == {"requirements.txt": "fastapi\nuvicorn\nsqlmodel\npsycopg2-binary\nalembic\npsycopg[binary]\n"}
    assert {f.rule for f in findings} == {"FX005"}


def test_pieces_of_a_project_that_installs_psycopg_are_left_alone(tmp_path: Path) -> None:
    root = write(tmp_path / "p", _files("fastapi\nuvicorn\nsqlmodel\npsycopg[binary]\nalembic\n"))
    assert fix(root, {}, codemods=[SyncDriverUrlCodemod], text_rules=[SyncDriverDependency]) == ({}, [])
