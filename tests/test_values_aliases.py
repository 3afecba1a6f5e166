"""Type aliases of a session imported from another module (`SessionDep = Annotated[AsyncSession, Depends(...)]`
in `deps.py`, `db: SessionDep` in a route module that imports nothing from SQLAlchemy), through re-exports,
`TypeAlias` and PEP 695 `type` statements: the value analysis follows them like any other name."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from fixer.apply import runner
from tests.cli_helpers import fixer
from tests.rules.test_async_use import convert

DATABASE = """\
    import os
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(os.environ["DATABASE_URL"])
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


    async def get_session():
        async with SessionLocal() as session:
            yield session
"""

SERVICE = """\
    async def add_like(post_id, session):
        session.add({"post": post_id})
        session.commit()
        return post_id
"""

VIEW = """\
    from fastapi import APIRouter

    from {module} import {name}
    from app.services import add_like

    router = APIRouter()


    @router.post("/likes/{{post_id}}")
    async def like(post_id: int, session: {name}):
        return await add_like(post_id, session)
"""


def _project(alias: str, module: str = "app.depends", name: str = "Session", extra: dict[str, str] | None = None):
    return {
        "app/__init__.py": "",
        "app/database.py": DATABASE,
        "app/depends.py": alias,
        "app/services.py": SERVICE,
        "app/views.py": VIEW.format(module=module, name=name),
        "app/main.py": """\
            from fastapi import FastAPI
            from app.views import router

            app = FastAPI()
            app.include_router(router)
        """,
        **(extra or {}),
    }


ANNOTATED = """\
    from typing import Annotated

    from fastapi import Depends
    from sqlalchemy.ext.asyncio import AsyncSession

    from .database import get_session

    Session = Annotated[AsyncSession, Depends(get_session)]
"""


@pytest.mark.parametrize("alias", [
    ANNOTATED,
    ANNOTATED.replace("Session = Annotated", "Session: TypeAlias = Annotated").replace(
        "from typing import Annotated", "from typing import Annotated, TypeAlias"),
    # only the Depends: the provider says what it is
    ANNOTATED.replace("Annotated[AsyncSession, Depends(get_session)]", 'Annotated["AsyncSession", Depends(get_session)]'),
], ids=["annotated", "typealias", "string"])
def test_an_alias_imported_from_another_module_reaches_the_service(tmp_path: Path, alias: str) -> None:
    changed, _ = convert(tmp_path, _project(alias))
    assert "    await session.commit()\n" in changed["app/services.py"], changed


def test_an_alias_reexported_by_a_package(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, _project(ANNOTATED, module="app.api", name="DB", extra={
        "app/api/__init__.py": "from app.depends import Session as DB\n",
    }))
    assert "    await session.commit()\n" in changed["app/services.py"], changed


@pytest.mark.skipif(sys.version_info < (3, 12), reason="`type X = ...` parses on Python 3.12+ only")
def test_a_pep695_type_statement(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, _project(ANNOTATED.replace("Session = Annotated", "type Session = Annotated")))
    assert "    await session.commit()\n" in changed["app/services.py"], changed


def test_an_alias_of_the_sync_class_on_a_sync_engine_is_left_alone(tmp_path: Path) -> None:
    """The same shape on a sync engine: nothing to convert, and no note."""
    files = _project(ANNOTATED.replace("AsyncSession", "Session as OrmSession").replace(
        "Annotated[Session as OrmSession", "Annotated[OrmSession").replace("sqlalchemy.ext.asyncio", "sqlalchemy.orm"))
    files["app/database.py"] = """\
        import os
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        engine = create_engine(os.environ["DATABASE_URL"])
        SessionLocal = sessionmaker(engine)


        def get_session():
            with SessionLocal() as session:
                yield session
    """
    files["app/services.py"] = SERVICE.replace("async def", "def")
    files["app/views.py"] = files["app/views.py"].replace("return await add_like", "return add_like")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    run = runner.run(tmp_path, [], [], jobs=1)
    assert not [r.path for r in run.results if r.changed]
    assert run.facts.uses.undecided == ()


def test_the_shapes_fixture_shows_the_alias_in_its_chain_and_no_router_report() -> None:
    """fixtures/values/shapes: `fixer model` names the alias's line in the chain; the routers its app includes
    in a loop (`for module in (likes, jobs): app.include_router(module.router)`) are not reported (FX032)."""
    shapes = Path(__file__).resolve().parent.parent / "fixtures" / "values" / "shapes"
    holds = json.loads(fixer("model", shapes).stdout)["uses"]["holds"]
    assert holds["app/liking.py::keep_note"]["session"].startswith(
        "session async <- app/likes.py:11 imported passes session to keep_note <- app/likes.py:10 `session` "
        "annotated SessionDep <- app/aliases.py:8 SessionDep = Annotated[AsyncSession, Depends(get_session)] <- "
        "app/deps.py:11 get_session yields session"), holds["app/liking.py::keep_note"]
    assert "app/jobs.py:11 maker = " in holds["app/jobs.py::count"]["session"], holds["app/jobs.py::count"]
    assert "FX032" not in fixer("dry-run", shapes).stderr.decode()


def test_a_correct_app_with_an_imported_alias_and_looped_routers_gets_nothing() -> None:
    """fixtures/nofalse/alias-routers-correct: every call awaited, the session alias in `depends.py`, routers
    included in a loop. Before, its services got FX041 notes and its routers FX032 (exit 1); now nothing."""
    correct = Path(__file__).resolve().parent.parent / "fixtures" / "nofalse" / "alias-routers-correct" / "before"
    result = fixer("dry-run", correct)
    assert result.returncode == 0 and result.stdout == b"", result.stderr.decode()
    assert "FX041" not in result.stderr.decode() and "FX032" not in result.stderr.decode(), result.stderr.decode()


def test_an_alias_read_as_a_module_attribute(tmp_path: Path) -> None:
    """`from app import depends` then `session: depends.Session`."""
    files = _project(ANNOTATED)
    files["app/views.py"] = VIEW.format(module="app", name="depends").replace(
        "session: depends)", "session: depends.Session)")
    changed, _ = convert(tmp_path, files)
    assert "    await session.commit()\n" in changed["app/services.py"], changed
