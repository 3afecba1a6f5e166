"""FX038 engine-arguments: pool classes of the other kind of engine; sqlite's connect_args on a platform's
PostgreSQL URL."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from fixer.model import ProjectModel
from fixer.model.database import DatabaseFlow, EngineSite, UrlSource
from fixer.model.needs import Installed
from fixer.rules.base import FINDINGS_KEY
from fixer.rules.engine_arguments import EngineArguments


def model(names: tuple[str, ...] = ("DATABASE_URL",), factory: str = "create_engine", line: int = 2,
          sqlite_branch: bool = False) -> ProjectModel:
    site = EngineSite("app/db.py", line, factory, "engine", factory != "create_engine", UrlSource(names), sqlite=True,
                      sqlite_branch=sqlite_branch)
    return ProjectModel(flow=DatabaseFlow(engines=(site,)), installed=Installed(dists=frozenset({"psycopg2-binary"})))


def run(source: str, facts: ProjectModel | None = None) -> tuple[str, list]:
    context = CodemodContext(filename="app/db.py")
    new = EngineArguments(context, facts=facts or model()).transform_module(cst.parse_module(source))
    return new.code, context.scratch.get(FINDINGS_KEY, [])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("from sqlalchemy.pool import QueuePool\nengine = create_async_engine(URL, poolclass=QueuePool)\n",
         "from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool\nengine = create_async_engine(URL, poolclass=AsyncAdaptedQueuePool)\n"),
        ("from sqlalchemy import pool\nengine = create_engine(URL, poolclass=pool.AsyncAdaptedQueuePool)\n",
         "from sqlalchemy import pool\nengine = create_engine(URL, poolclass=pool.QueuePool)\n"),
    ],
)
def test_pool_of_the_engines_kind(before: str, after: str) -> None:
    new, findings = run(before, ProjectModel())
    assert new == after
    assert [(f.rule, f.fixed) for f in findings] == [("FX038", True)]
    assert run(new, ProjectModel()) == (new, [])


def test_sqlite_connect_args_only_for_sqlite() -> None:
    source = 'DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///./app.db")\nengine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})\n'
    new, findings = run(source)
    assert new.endswith('engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False} if DATABASE_URL.startswith("sqlite") else {})\n')
    assert [(f.fixed, f.safe) for f in findings] == [(True, True)]
    assert run(new) == (new, [])


@pytest.mark.parametrize(
    ("source", "facts"),
    [
        ("engine = create_async_engine(URL, poolclass=AsyncAdaptedQueuePool)\n", ProjectModel()),
        ("engine = create_engine(URL, poolclass=NullPool)\n", ProjectModel()),
        # A URL no platform sets: a sqlite project's own.
        ('engine = create_engine(LOCAL_DB, connect_args={"check_same_thread": False})\n', model(("LOCAL_DB",))),
        # The project's own `if ...sqlite...:` already keeps the platform's URL away from this engine.
        ('if IS_SQLITE:\n    engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})\n',
         model(sqlite_branch=True)),
        # No PostgreSQL driver installs: a sqlite project, whatever the variable is called.
        ('engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})\n',
         ProjectModel(flow=model().flow)),
    ],
)
def test_left_alone(source: str, facts: ProjectModel) -> None:
    assert run(source, facts) == (source, [])


def test_each_call_is_judged_by_the_engine_on_its_own_line() -> None:
    # A PostgreSQL engine without the argument comes first in the file: the sqlite one is still found by its line.
    source = ('pg = create_engine(DATABASE_URL, pool_size=2)\n'
              'engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})\n')
    pg = EngineSite("app/db.py", 1, "create_engine", "pg", False, UrlSource(("DATABASE_URL",)))
    facts = model(line=2, sqlite_branch=True)
    facts = ProjectModel(flow=DatabaseFlow(engines=(pg, *facts.flow.engines)), installed=facts.installed)
    assert run(source, facts) == (source, [])


def _wrapped_model(line: int, literal: str | None = None, wrapped: bool = True) -> ProjectModel:
    site = EngineSite("app/db.py", line, "create_engine", "engine", wrapped, UrlSource((), literal), wrapped=wrapped)
    return ProjectModel(flow=DatabaseFlow(engines=(site,)))


@pytest.mark.parametrize(
    ("source", "facts"),
    [
        # `AsyncEngine(create_engine(...))`: the dialect is async, so the async pool is the right one.
        ("from sqlalchemy import AsyncAdaptedQueuePool\nengine = AsyncEngine(\n    create_engine(\n"
         "        build_url(),\n        poolclass=AsyncAdaptedQueuePool,\n    )\n)\n", _wrapped_model(3)),
        # A URL naming an async driver makes create_engine's dialect async, wrapped or not.
        ('engine = create_engine("postgresql+psycopg_async://u@h/db", poolclass=AsyncAdaptedQueuePool)\n',
         _wrapped_model(1, "postgresql+psycopg_async://", wrapped=False)),
    ],
)
def test_async_dialect_keeps_async_pool(source: str, facts: ProjectModel) -> None:
    assert run(source, facts) == (source, [])


def test_wrapped_engine_with_sync_pool_gets_async_pool() -> None:
    source = ("from sqlalchemy.pool import QueuePool\nengine = AsyncEngine(create_engine(\n"
              "    build_url(), poolclass=QueuePool))\n")
    new, findings = run(source, _wrapped_model(2))
    assert "poolclass=AsyncAdaptedQueuePool" in new
    cst.parse_module(new)
    assert [(f.rule, f.fixed) for f in findings] == [("FX038", True)]
    assert run(new, _wrapped_model(2)) == (new, [])
