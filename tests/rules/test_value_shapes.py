"""Sessions and engines reaching code through closures and `*args`/`**kwargs` (issue 22): the value analysis
follows them, the use-layer rules convert what it decides, and code where they hold a sync session (a sync
app, a worker's sync engine beside an async app) is left alone."""

from __future__ import annotations

from pathlib import Path

from tests.rules.test_async_use import ASYNC_DB, convert

SYNC_DB = """\
    import os
    from sqlmodel import Session, create_engine

    engine = create_engine(os.environ["DATABASE_URL"])
"""

CLOSURE = """\
    from sqlalchemy import text
    from sqlmodel import Session

    from app.db import engine


    def counter(engine):
        async def count() -> int:
            with Session(engine) as session:
                return session.execute(text("SELECT 1")).scalar_one()

        return count


    count = counter(engine)


    async def route():
        return await count()
"""

PASSING = """\
    from app.db import engine


    async def in_transaction(work, *args, **kwargs):
        return await work(*args, **kwargs)


    async def add(db, note):
        db.add(note)
        db.commit()
        return note


    async def add_keyed(*, note, **options):
        db = options["db"]
        db.add(note)
        db.commit()
        return note
"""


def test_a_closure_reads_the_async_engine_of_the_function_that_made_it(tmp_path: Path) -> None:
    changed, _ = convert(tmp_path, {"app/__init__.py": "", "app/db.py": ASYNC_DB, "app/count.py": CLOSURE})
    assert "async with AsyncSession(engine" in changed["app/count.py"], changed
    assert "(await session.execute(" in changed["app/count.py"]


def test_a_closure_over_a_sync_engine_is_left_alone(tmp_path: Path) -> None:
    changed, findings = convert(tmp_path, {"app/__init__.py": "", "app/db.py": SYNC_DB, "app/count.py": CLOSURE})
    assert "app/count.py" not in changed, changed


def test_a_session_handed_on_through_star_args_and_keywords(tmp_path: Path) -> None:
    caller = """\
        from app.db import engine
        from app.work import add, add_keyed, in_transaction
        from sqlalchemy.ext.asyncio import AsyncSession


        async def route(note):
            async with AsyncSession(engine) as session:
                await in_transaction(add, session, note)
                return await in_transaction(add_keyed, note=note, db=session)
    """
    changed, _ = convert(tmp_path, {"app/__init__.py": "", "app/db.py": ASYNC_DB, "app/work.py": PASSING,
                                    "app/main.py": caller})
    work = changed["app/work.py"]
    assert work.count("    await db.commit()") == 2, work


def test_a_sync_session_handed_on_through_keywords_stays_sync(tmp_path: Path) -> None:
    worker = """\
        from sqlmodel import Session

        from app.sync_db import engine as sync_engine
        from app.work import add, in_transaction


        async def job(note):
            with Session(sync_engine) as session:
                return await in_transaction(add, db=session, note=note)
    """
    changed, _ = convert(tmp_path, {"app/__init__.py": "", "app/db.py": ASYNC_DB, "app/sync_db.py": SYNC_DB,
                                    "app/work.py": PASSING, "app/worker.py": worker})
    assert "app/work.py" not in changed and "app/worker.py" not in changed, changed


def test_modules_imported_under_the_root_folders_own_name(tmp_path: Path) -> None:
    """`uvicorn app.main:app` run beside the root folder `app/`: its modules import each other as `app.x`."""
    root = tmp_path / "app"
    health = """\
        from sqlalchemy import text

        from app.db import factory


        async def ping():
            db = factory()
            async with db:
                db.execute(text("SELECT 1"))
    """
    main = """\
        from fastapi import FastAPI

        from app.health import ping

        app = FastAPI()
        app.get("/health")(ping)
    """
    factory = ASYNC_DB + "\n    from sqlalchemy.ext.asyncio import async_sessionmaker\n    factory = async_sessionmaker(engine)\n"
    changed, _ = convert(root, {"db.py": factory, "health.py": health, "main.py": main})
    assert "        await db.execute(text(" in changed["health.py"], changed


def test_a_nested_async_generator_handed_to_a_response_is_not_awaited(tmp_path: Path) -> None:
    route = """\
        from fastapi.responses import StreamingResponse
        from sqlalchemy.ext.asyncio import AsyncSession


        async def stream(session: AsyncSession):
            async def events():
                for row in (await session.execute("SELECT 1")).all():
                    yield f"data: {row}\\n\\n"

            return StreamingResponse(events(), media_type="text/event-stream")
    """
    changed, _ = convert(tmp_path, {"app/__init__.py": "", "app/db.py": ASYNC_DB, "app/stream.py": route})
    assert "await events()" not in changed.get("app/stream.py", ""), changed


def test_fixer_model_shows_what_star_args_and_keywords_carry(tmp_path: Path) -> None:
    import json
    import textwrap

    from tests.cli_helpers import fixer

    files = {"app/__init__.py": "", "app/db.py": ASYNC_DB, "app/work.py": PASSING, "app/main.py": """\
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.db import engine
        from app.work import add_keyed, in_transaction


        async def route(note):
            async with AsyncSession(engine) as session:
                return await in_transaction(add_keyed, note=note, db=session)
    """}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    holds = json.loads(fixer("model", tmp_path).stdout)["uses"]["holds"]
    assert holds["app/work.py::in_transaction"]["**db"].startswith("session async <- app/main.py:"), holds
    assert "in_transaction passes db" in holds["app/work.py::add_keyed"]["**db"], holds


def test_factories_on_an_engine_made_inline(tmp_path: Path) -> None:
    """`sessionmaker(create_async_engine(url))` (no class_), `sessionmaker(bind=create_async_engine(url),
    class_=AsyncSession)` and `create_async_engine(url).sessionmaker(...)`: each engine's kind is inferred where it
    is made, so the factory's sessions are async and their calls awaited in the same run."""
    changed, _ = convert(tmp_path, {
        "app/db.py": """\
            import os
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
            from sqlalchemy.orm import sessionmaker

            Plain = sessionmaker(create_async_engine(os.environ["DATABASE_URL"]), expire_on_commit=False)
            Typed = sessionmaker(bind=create_async_engine(os.environ["DATABASE_URL"]), class_=AsyncSession)


            async def chained(title):
                maker = create_async_engine(os.environ["DATABASE_URL"]).sessionmaker(class_=AsyncSession)
                async with maker() as session:
                    session.add({"title": title})
                    session.commit()


            async def plain(title):
                async with Plain() as session:
                    session.add({"title": title})
                    session.commit()


            async def typed(title):
                async with Typed() as session:
                    session.add({"title": title})
                    session.commit()
        """,
    })
    text = changed["app/db.py"]
    assert text.count("        await session.commit()\n") == 3, text  # the factory lines are FX003's
