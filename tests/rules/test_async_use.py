"""The use-layer rules (FX010-FX016) on small projects: the model plans, each rule applies its part.

Every case runs the real runner on files written to a temporary tree; every output parses, and a second run
changes nothing."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.rules.registry import PYTHON_CODEMODS

USE_LAYER = [c for c in PYTHON_CODEMODS if "FX010" <= c.RULE_ID <= "FX019"]

ASYNC_DB = """\
    import os
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel import Session, SQLModel

    engine = create_async_engine(os.environ["DATABASE_URL"])
"""


def convert(root: Path, files: dict[str, str], **options: bool) -> tuple[dict[str, str], list]:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    run = runner.run(root, USE_LAYER, [], jobs=1, **options)
    assert not [r.error for r in run.results if r.error], [r.error for r in run.results]
    changed = {r.path: r.new.decode() for r in run.results if r.changed}
    for text in changed.values():
        ast.parse(text)
    for rel, text in changed.items():
        (root / rel).write_text(text)
    again = runner.run(root, USE_LAYER, [], jobs=1, **options)
    assert not [r.path for r in again.results if r.changed], "a second run changed something"
    return changed, [f for r in run.results for f in r.findings]


def test_awaits_inside_expressions_and_removes_await_on_add(tmp_path: Path) -> None:
    changed, findings = convert(tmp_path, {"app/db.py": ASYNC_DB, "app/crud.py": """\
        from sqlmodel import select
        from sqlmodel.ext.asyncio.session import AsyncSession


        async def first(session: AsyncSession, q):
            return session.exec(q).first()


        async def misplaced(session: AsyncSession, q):
            return await session.exec(q).all()


        async def indexed(session: AsyncSession, q):
            return session.execute(q).all()[0]


        async def save(session: AsyncSession, item):
            await session.add(item)
            session.commit()
            await session.refresh(item)
            return item
    """})
    crud = changed["app/crud.py"]
    assert "return (await session.exec(q)).first()" in crud
    assert "return (await session.exec(q)).all()" in crud
    assert "return (await session.execute(q)).all()[0]" in crud
    assert "    session.add(item)\n    await session.commit()\n    await session.refresh(item)" in crud
    assert {f.rule for f in findings} == {"FX010"}


def test_sync_session_on_async_engine_in_a_function_without_factory(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, {"app/db.py": ASYNC_DB + """\

    def seed(item):
        with Session(engine) as session:
            session.add(item)
            session.commit()
    """})
    db = changed["app/db.py"]
    assert "async def seed(item):" in db
    assert "async with AsyncSession(engine, expire_on_commit=False) as session:" in db
    assert "await session.commit()" in db
    assert "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine" in db


def test_propagates_through_modules_methods_and_depends(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, {
        "app/db.py": ASYNC_DB + """\

    def get_session():
        with Session(engine) as session:
            yield session
    """,
        "app/repo.py": """\
        from sqlmodel import Session, select


        class Repo:
            def __init__(self, session: Session):
                self.session = session

            def names(self):
                return [row.name for row in self.session.exec(select(Row)).all()]

            def count(self):
                return len(self.names())
    """,
        "app/main.py": """\
        from fastapi import Depends, FastAPI
        from sqlmodel import Session

        from app.db import get_session
        from app.repo import Repo

        app = FastAPI()


        def total(session):
            repo = Repo(session)
            return repo.count()


        @app.get("/count")
        def count(session: Session = Depends(get_session)):
            return {"count": total(session)}
    """})
    assert "    async def names(self):\n        return [row.name for row in (await self.session.exec(select(Row))).all()]" in changed["app/repo.py"]
    assert "    async def count(self):\n        return len(await self.names())" in changed["app/repo.py"]
    main = changed["app/main.py"]
    assert "async def total(session):\n    repo = Repo(session)\n    return await repo.count()" in main
    assert "async def count(session: AsyncSession = Depends(get_session)):\n    return {\"count\": await total(session)}" in main
    assert "async with AsyncSession(engine, expire_on_commit=False) as session:" in changed["app/db.py"]


def test_create_all_in_startup_hook(tmp_path: Path) -> None:
    changed, findings = convert(tmp_path, {"app/db.py": ASYNC_DB + """\

    def init_db():
        SQLModel.metadata.create_all(engine)
    """, "app/main.py": """\
        from fastapi import FastAPI

        from app.db import init_db

        app = FastAPI()


        @app.on_event("startup")
        def startup():
            init_db()
    """})
    assert "async def init_db():\n    async with engine.begin() as conn:\n        await conn.run_sync(SQLModel.metadata.create_all)" in changed["app/db.py"]
    assert "async def startup():\n    await init_db()" in changed["app/main.py"]
    assert "FX013" in {f.rule for f in findings}


def test_celery_task_and_module_level_caller_are_reported_not_converted(tmp_path: Path) -> None:
    changed, findings = convert(tmp_path, {"app/db.py": ASYNC_DB + """\

    def purge():
        with Session(engine) as session:
            session.commit()
    """, "app/tasks.py": """\
        from celery import shared_task

        from app.db import purge


        @shared_task
        def nightly():
            purge()
    """, "app/main.py": "from fastapi import FastAPI\n\nfrom app import tasks  # noqa: F401\n\napp = FastAPI()\n"})
    assert changed == {}
    reported = [f for f in findings if not f.fixed]
    assert {f.rule for f in reported} == {"FX016"}
    assert any("shared_task" in f.root_cause for f in reported), [f.root_cause for f in reported]


def test_unconvertible_caller_with_unsafe_fixes_converts_and_says_so(tmp_path: Path) -> None:
    files = {"app/db.py": ASYNC_DB + """\

    def purge():
        with Session(engine) as session:
            session.commit()


    purge()
    """, "app/main.py": "from fastapi import FastAPI\n\nfrom app import db  # noqa: F401\n\napp = FastAPI()\n"}
    changed, findings = convert(tmp_path, files, unsafe_fixes=True)
    assert "async def purge():" in changed["app/db.py"]
    unsafe = [f for f in findings if not f.safe]
    assert unsafe and "module level" in unsafe[0].explanation


def test_all_sync_project_is_not_touched_without_to_async(tmp_path: Path) -> None:
    files = {"app/db.py": """\
        from sqlmodel import Session, create_engine

        engine = create_engine("postgresql+psycopg2://u:p@db/app")


        def get_session():
            with Session(engine) as session:
                yield session
    """, "app/main.py": """\
        from fastapi import Depends, FastAPI
        from sqlmodel import Session

        from app.db import get_session

        app = FastAPI()


        @app.get("/n")
        async def n(session: Session = Depends(get_session)):
            return session.exec("x").all()
    """}
    changed, _ = convert(tmp_path, files)
    assert changed == {}


@pytest.mark.parametrize("pin", ["sqlalchemy==1.3.24"])
def test_to_async_does_nothing_where_sqlalchemy_has_no_asyncio(tmp_path: Path, pin: str) -> None:
    changed, _ = convert(tmp_path, {"requirements.txt": f"{pin}\npsycopg2-binary\n", "app/db.py": """\
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        engine = create_engine("postgresql+psycopg2://u:p@db/app")


        def get_session():
            with Session(engine) as session:
                yield session
    """}, to_async=True)
    assert changed == {}


def test_raw_sql_and_legacy_queries(tmp_path: Path) -> None:
    changed, findings = convert(tmp_path, {"requirements.txt": "sqlalchemy>=2.0\nasyncpg\n", "app/db.py": ASYNC_DB, "app/users.py": """\
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession


        async def ping(session: AsyncSession):
            await session.execute("SELECT 1")


        async def by_email(session: AsyncSession, email):
            return session.query(User).filter(User.email == email).first()


        async def everyone(session: AsyncSession):
            return session.query(User).order_by(User.id).limit(10).all()


        async def one(session: AsyncSession, user_id):
            return session.query(User).get(user_id)


        async def how_many(session: AsyncSession):
            return session.query(User).count()
    """})
    users = changed["app/users.py"]
    assert 'await session.execute(text("SELECT 1"))' in users
    assert "from sqlalchemy import select, text" in users
    assert "return (await session.execute(select(User).filter(User.email == email))).scalars().first()" in users
    assert "return (await session.execute(select(User).order_by(User.id).limit(10))).scalars().all()" in users
    assert "return await session.get(User, user_id)" in users
    assert "return session.query(User).count()" in users
    reported = [f for f in findings if not f.fixed]
    assert [f.rule for f in reported] == ["FX017"], reported


def test_a_coroutine_handed_to_asyncio_is_not_awaited(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, {"app/db.py": ASYNC_DB + """\

    async def init_db():
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)


    def main():
        asyncio.run(init_db())
    """})
    assert changed == {}


def test_a_coroutine_handed_to_the_projects_own_bridge_is_not_awaited(tmp_path: Path) -> None:
    # A training backend's agent tools: sync functions run an inner coroutine through the project's helper.
    changed, _ = convert(tmp_path, {"app/db.py": ASYNC_DB, "app/tools.py": """\
        import asyncio
        import concurrent.futures

        from app.db import engine


        def run_async(coro):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return asyncio.run(coro)
            with concurrent.futures.ThreadPoolExecutor() as pool:
                return pool.submit(asyncio.run, coro).result()


        def run_in_loop(job):
            return asyncio.get_event_loop().run_until_complete(job)


        def count_rows(table: str) -> int:
            async def _count():
                async with engine.connect() as conn:
                    return (await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar()

            return run_async(_count())


        def ping() -> None:
            async def _ping():
                async with engine.connect() as conn:
                    await conn.exec_driver_sql("SELECT 1")

            run_in_loop(job=_ping())
    """})
    assert changed == {}


def test_async_with_a_sync_session_class(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, {"app/db.py": ASYNC_DB + """\

    async def count(q):
        async with Session(engine) as session:
            return (await session.execute(q)).scalar()
    """})
    assert "    async with AsyncSession(engine, expire_on_commit=False) as session:\n" in changed["app/db.py"]


def test_lazy_relationship_read_in_async_code_is_reported(tmp_path: Path) -> None:
    changed, findings = convert(tmp_path, {"app/db.py": ASYNC_DB, "app/models.py": """\
        from sqlmodel import Field, Relationship, SQLModel


        class Todo(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            owner: "User" = Relationship(back_populates="todos")
            tags: list["Tag"] = Relationship(sa_relationship_kwargs={"lazy": "selectin"})
    """, "app/read.py": """\
        from sqlmodel.ext.asyncio.session import AsyncSession


        async def owner_email(session: AsyncSession, todo_id: int):
            todo = await session.get(Todo, todo_id)
            return todo.owner.email, todo.tags
    """})
    assert changed == {}
    lazy = [f for f in findings if f.rule == "FX018"]
    assert [f.problem.split("`")[1] for f in lazy] == ["todo.owner"] and not lazy[0].fixed


def test_session_shared_by_concurrent_tasks_is_reported(tmp_path: Path) -> None:
    changed, findings = convert(tmp_path, {"app/db.py": ASYNC_DB, "app/stats.py": """\
        import asyncio

        from sqlmodel.ext.asyncio.session import AsyncSession


        async def count(session: AsyncSession, q):
            return (await session.exec(q)).one()


        async def dashboard(session: AsyncSession):
            return await asyncio.gather(count(session, 1), count(session, 2))


        async def one_task(session: AsyncSession):
            return await asyncio.gather(count(session, 1), asyncio.sleep(0))
    """})
    assert changed == {}
    shared = [f for f in findings if f.rule == "FX019"]
    assert len(shared) == 1 and not shared[0].fixed and "asyncio.gather" in shared[0].old_code


def test_an_async_dependency_annotated_as_a_sync_generator_is_left_alone(tmp_path) -> None:
    """It runs all the same (typing only): no diff, and no internal error writing the finding (it crashed)."""
    from tests.cli_helpers import fixer

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    source = (
        "from collections.abc import Generator\n\nfrom fastapi import Depends, FastAPI\n"
        "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\nfrom sqlalchemy.orm import sessionmaker\n\n"
        'engine = create_async_engine("postgresql+asyncpg://u:p@localhost/db")\napp = FastAPI()\n\n\n'
        "async def get_db() -> Generator[AsyncSession, None, None]:\n"
        "    async_session = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)\n"
        "    async with async_session() as session:\n        yield session\n\n\n"
        '@app.get("/")\nasync def root(db: AsyncSession = Depends(get_db)) -> dict:\n    return {}\n'
    )
    (tmp_path / "app" / "main.py").write_text(source)
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\nsqlalchemy[asyncio]\nasyncpg\n")
    result = fixer("dry-run", tmp_path)
    assert result.stdout == b"" and b"internal error" not in result.stderr, result.stderr.decode()
