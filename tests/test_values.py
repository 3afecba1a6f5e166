"""The value analysis (fixer/model/values.py): what each session parameter holds, why, and what it cannot tell;
and the use-layer rules acting on shapes that only the whole project shows."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema

from fixer.apply import runner
from tests.cli_helpers import fixer
from tests.rules.test_async_use import ASYNC_DB, convert
from tests.test_golden import SEED_ISSUE_SCHEMA

FACTORY_DB = """\
    import os
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_async_engine(os.environ["DATABASE_URL"])
    SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
"""


def _uses(root: Path, files: dict[str, str]):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return runner.run(root, [], [], jobs=1).facts.uses


def test_a_reexported_factory_reaches_a_dependency_chain_and_a_repository(tmp_path: Path) -> None:
    """database -> package re-export -> provider -> a provider depending on it -> a repository's self.session."""
    changed, _ = convert(tmp_path, {
        "app/database.py": FACTORY_DB,
        "app/__init__.py": "from app.database import SessionLocal as Factory\n",
        "app/deps.py": """\
            from fastapi import Depends
            from app import Factory
            from app.repo import Repo


            async def get_session():
                async with Factory() as session:
                    yield session


            def get_repo(session=Depends(get_session)):
                return Repo(session)
        """,
        "app/repo.py": """\
            class Base:
                def __init__(self, session):
                    self.session = session


            class Repo(Base):
                async def save(self, obj):
                    self.session.add(obj)
                    self.session.commit()
                    return obj
        """,
        "app/main.py": """\
            from fastapi import Depends, FastAPI
            from app.deps import get_repo

            app = FastAPI()


            @app.post("/x")
            async def create(repo=Depends(get_repo)):
                return await repo.save({})
        """,
    })
    assert "        await self.session.commit()\n" in changed["app/repo.py"]


def test_a_context_manager_function_and_a_module_attribute(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, {
        "app/database.py": FACTORY_DB,
        "app/scope.py": """\
            from contextlib import asynccontextmanager
            import app.database as database


            @asynccontextmanager
            async def session_scope():
                async with database.SessionLocal() as session:
                    yield session


            async def touch(obj):
                async with session_scope() as session:
                    session.add(obj)
                    session.commit()
        """,
    })
    assert "        await session.commit()\n" in changed["app/scope.py"]


def test_mixed_kinds_and_unfollowed_parameters_are_reported_not_guessed(tmp_path: Path) -> None:
    uses = _uses(tmp_path, {
        "app/db.py": ASYNC_DB + """\
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.ext.asyncio import async_sessionmaker

    Async = async_sessionmaker(engine)
    Sync = sessionmaker(create_engine("postgresql+psycopg2://u:p@h/db"))


    def save(session, obj):
        session.add(obj)
        session.commit()


    async def one(obj):
        async with Async() as session:
            save(session, obj)


    def two(obj):
        with Sync() as session:
            save(session, obj)


    async def orphan(db, obj):
        db.add(obj)
        db.commit()
""",
    })
    assert any("save: `session` holds both a sync and an async session" in str(line) for line in uses.undecided), uses.undecided
    assert any("orphan: `db` holds nothing the analysis can follow" in str(line) for line in uses.undecided), uses.undecided
    assert "save" not in uses.functions.get("app/db.py", {}) or not uses.functions["app/db.py"]["save"].awaits


def test_fixer_model_prints_what_each_session_parameter_holds_and_why() -> None:
    shapes = Path(__file__).resolve().parent.parent / "fixtures" / "values" / "shapes"
    result = fixer("model", shapes)
    assert result.returncode == 0, result.stderr
    holds = json.loads(result.stdout)["uses"]["holds"]
    assert holds["app/reports.py::newest_title"]["session"].startswith(
        "session async <- app/main.py:72 report_newest passes session to newest_title <- app/main.py:71 `session` = Depends(get_session)"
    ), holds["app/reports.py::newest_title"]
    assert "app/database.py:7 SessionLocal = sessionmaker(" in holds["app/reports.py::newest_title"]["session"]
    assert holds["app/crud.py::CRUDBase.create_aliased"] == {
        "db": "session async <- app/crud.py:33 `db` annotated DB <- app/crud.py:8 DB = AsyncSession"}
    assert holds["app/repository.py::NoteRepository.__init__"]["session"].startswith("session async <- app/main.py:77 repo_add passes session")


def test_a_generic_base_method_takes_the_session_its_callers_pass(tmp_path: Path) -> None:
    """`class CRUDNote(CRUDBase[Note])`: the method is found on the generic base; the argument decides the kind
    where the annotation names the sync class or nothing."""
    changed, _ = convert(tmp_path, {
        "app/database.py": FACTORY_DB,
        "app/crud.py": """\
            from typing import Generic, TypeVar

            from sqlmodel import Session

            T = TypeVar("T")


            class CRUDBase(Generic[T]):
                async def create(self, obj: T, db: Session | None = None) -> T:
                    db.add(obj)
                    db.commit()
                    return obj

                async def remove(self, obj, db):
                    db.delete(obj)
                    db.commit()


            class CRUDNote(CRUDBase[dict]):
                pass


            notes = CRUDNote()
        """,
        "app/main.py": """\
            from fastapi import Depends, FastAPI
            from app.crud import notes
            from app.database import SessionLocal

            app = FastAPI()


            async def get_db():
                async with SessionLocal() as session:
                    yield session


            @app.post("/x")
            async def create(db=Depends(get_db)):
                note = await notes.create({}, db=db)
                await notes.remove(note, db)
                return note
        """,
    })
    crud = changed["app/crud.py"]
    assert crud.count("        await db.commit()\n") == 2 and "        await db.delete(obj)\n" in crud, crud
    assert "db: AsyncSession | None = None" in crud, crud


UNDECIDED = Path(__file__).resolve().parent.parent / "fixtures" / "nofalse" / "undecided-session" / "before"


def test_what_the_analysis_cannot_decide_is_a_note_in_the_report_and_costs_no_exit_1(tmp_path: Path) -> None:
    """fixtures/nofalse/undecided-session: an engine parameter and a session parameter no caller passes, in an
    otherwise correct async app. Each is named with its function and why; nothing is edited; exit 0."""
    report = tmp_path / "report.json"
    result = fixer("dry-run", UNDECIDED, "--report", report)
    assert result.returncode == 0 and result.stdout == b"", result.stderr.decode()
    stderr = result.stderr.decode()
    assert "app/tools.py:10:9: FX041 note: shelf_labels: `session` is a session whose engine the analysis cannot " \
           "follow (app/tools.py:9 with Session(engine) as session; `engine` is a parameter of shelf_labels with no " \
           "annotation the analysis knows, and no caller in the project passes it an engine)" in stderr, stderr
    assert "app/tools.py:16:5: FX041 note: rename_shelf: `db` holds nothing the analysis can follow" in stderr, stderr
    assert "2 note(s)" in stderr and "need a person" not in stderr, stderr
    audit = json.loads(report.read_text())
    jsonschema.Draft7Validator(json.loads(fixer("schema").stdout)).validate(audit)
    for issue in audit["issues"]:
        jsonschema.Draft7Validator(SEED_ISSUE_SCHEMA).validate(issue)
    assert not any(r["description"].startswith("Needs a person") for r in audit["recommendations"])
    issues = audit["issues"]
    assert [(i["rule"], i["line_number"], i["note"], i["fix_available"]) for i in issues] == [
        ("FX041", 10, True, False), ("FX041", 16, True, False)]
    diagnostics = json.loads(fixer("dry-run", UNDECIDED, "--output-format", "json").stdout)["diagnostics"]
    assert {d["status"] for d in diagnostics} == {"note"}
    junit = fixer("dry-run", UNDECIDED, "--output-format", "junit").stdout.decode()
    assert 'failures="0"' in junit and junit.count("<skipped ") == 2 and "<failure" not in junit, junit


def test_a_sync_project_gets_no_notes(tmp_path: Path) -> None:
    """The notes come with the async conversion: a sync project's unannotated session parameters are its own."""
    uses = _uses(tmp_path, {
        "app/db.py": """\
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    SessionLocal = sessionmaker(create_engine("postgresql+psycopg2://u:p@h/db"))


    def rename(db, obj):
        db.add(obj)
        db.commit()
""",
    })
    assert uses.undecided == ()


def test_tests_importing_a_root_package_under_its_folder_name_are_read(tmp_path: Path) -> None:
    """`shop/` holds an `__init__.py` and its tests import `shop.core.db` (pytest puts `shop/`'s parent on
    sys.path), while the app starts as `uvicorn main:app` inside it: the sync fixture's `Session(engine)` on the
    async engine is found, and reported (pytest calls the fixture synchronously), not guessed or missed. A
    fixture that only yields such a session gets a note (no exit 1 of its own)."""
    root = tmp_path / "shop"
    files = {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/db.py": ASYNC_DB,
        "main.py": """\
            from fastapi import FastAPI

            from core.db import engine  # noqa: F401

            app = FastAPI()
        """,
        "tests/__init__.py": "",
        "tests/conftest.py": """\
            import pytest
            from sqlmodel import Session

            from shop.core.db import engine


            @pytest.fixture
            def saved(thing):
                with Session(engine) as session:
                    session.add(thing)
                    session.commit()
                    return thing


            @pytest.fixture
            def db():
                with Session(engine) as session:
                    yield session
        """,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    result = fixer("dry-run", root)
    assert "tests/conftest.py:8:1: FX016 needs a person: `saved` would have to await (session.commit)" in \
        result.stderr.decode(), result.stderr.decode()
    # Only handed on: it works until a method is called on it, which fixer cannot follow through pytest.
    assert "tests/conftest.py:16:1: FX016 note: `db` opens a sync Session on the async engine and only hands it on" \
        in result.stderr.decode(), result.stderr.decode()
    assert result.returncode == 1


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


SHELF_ASYNC = {
    "requirements.txt": "fastapi==0.115.6\nsqlmodel==0.0.22\nasyncpg==0.30.0\n",
    "app/__init__.py": "",
    "app/models.py": """\
        from sqlmodel import Field, SQLModel


        class Shelf(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            label: str = ""
    """,
    "app/db.py": """\
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel.ext.asyncio.session import AsyncSession

        engine = create_async_engine("postgresql+asyncpg://localhost/shelf")
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


        async def get_session():
            async with SessionLocal() as session:
                yield session
    """,
}


def test_a_parameter_annotated_with_the_sync_session_that_nothing_async_reaches_gets_no_note(tmp_path: Path) -> None:
    """An app on a sync engine, with async sessions elsewhere in the project (a tool module): a helper whose
    `session: Session` no caller in the project passes holds the sync class it declares, as does the helper it
    hands that session to. No FX041 note, exit 0."""
    requirements = SHELF_ASYNC["requirements.txt"] + "psycopg2-binary==2.9.10\n"
    root = _tree(tmp_path, {**SHELF_ASYNC, "requirements.txt": requirements, "app/main.py": """\
        from fastapi import Depends, FastAPI
        from sqlmodel import Session, create_engine, select

        from app import db  # noqa: F401  (the async tools ship with the app)
        from app.models import Shelf

        engine = create_engine("postgresql://localhost/shelf")
        app = FastAPI()


        def session_dep():
            with Session(engine) as session:
                yield session


        def relabel(session: Session, shelf: Shelf, label: str) -> Shelf:
            shelf.label = label
            return save(session, shelf)


        def save(session, shelf: Shelf) -> Shelf:
            session.add(shelf)
            session.commit()
            session.refresh(shelf)
            return shelf


        @app.get("/shelves")
        def shelves(session: Session = Depends(session_dep)) -> list[Shelf]:
            return list(session.exec(select(Shelf)).all())
    """})
    result = fixer("dry-run", root)
    assert result.returncode == 0 and "FX041" not in result.stderr.decode(), result.stderr.decode()


def test_a_classmethods_cls_is_never_a_session(tmp_path: Path) -> None:
    """`cls.add(db, obj)` in a mixin's classmethod calls a method the concrete class brings: `cls` is the class,
    not a session of unknown kind, and `ShelfCrud.create(session, ...)` hands the session to `db`, not to `cls`
    (before, the use plan took `cls` for that AsyncSession and dropped the `await` of `cls.add(...)`, the
    session's sync `add`). No FX041 note, no edit, exit 0."""
    root = _tree(tmp_path, {**SHELF_ASYNC, "app/crud.py": """\
        from sqlmodel.ext.asyncio.session import AsyncSession


        class Adder:
            @classmethod
            async def add(cls, db: AsyncSession, obj):
                db.add(obj)
                await db.commit()
                return obj


        class AsyncCrud:
            @classmethod
            async def create(cls, db: AsyncSession, **values):
                return await cls.add(db, cls(**values))
    """, "app/main.py": """\
        from fastapi import Depends, FastAPI
        from sqlmodel.ext.asyncio.session import AsyncSession

        from app.crud import Adder, AsyncCrud
        from app.db import get_session
        from app.models import Shelf

        app = FastAPI()


        class ShelfCrud(Shelf, AsyncCrud, Adder):
            pass


        @app.post("/shelves")
        async def create(label: str, session: AsyncSession = Depends(get_session)):
            return await ShelfCrud.create(session, label=label)
    """})
    result = fixer("dry-run", root)
    assert result.returncode == 0 and result.stdout == b"" and "FX041" not in result.stderr.decode(), result.stderr.decode()
