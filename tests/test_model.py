"""The project model: roles from the import graph, versions that install, engines and the URLs that reach them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fixer.apply import runner
from fixer.model import ProjectModel, Role


def model_of(tmp_path: Path, files: dict[str, str]) -> ProjectModel:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return runner.run(tmp_path, codemods=[], text_rules=[], jobs=1).facts


APP = "from fastapi import FastAPI\nfrom app import db\napp = FastAPI()\n"


def test_roles_follow_the_import_graph_from_the_app(tmp_path: Path) -> None:
    model = model_of(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/main.py": APP,
            "app/db.py": "from .models import User\n",
            "app/models.py": "",
            "app/old_db.py": "from sqlalchemy import create_engine\n",
            "tests/test_db.py": "from app.db import User\n",
            "alembic/env.py": "from app.models import User\n",
            "scripts/seed.py": "if __name__ == '__main__':\n    pass\n",
            "vendor/sqlmodel/ext/asyncio/session.py": "",
        },
    )
    assert {path: model.role(path).value for path in model.roles} == {
        "app/__init__.py": "live",
        "app/main.py": "live",
        "app/db.py": "live",
        "app/models.py": "live",
        "app/old_db.py": "dead",
        "tests/test_db.py": "test",
        "alembic/env.py": "migration",
        "scripts/seed.py": "script",
        "vendor/sqlmodel/ext/asyncio/session.py": "library",
    }
    assert not model.runs("app/old_db.py") and model.role("unknown.py") is Role.LIVE


def test_versions_follow_the_caps_of_what_is_declared(tmp_path: Path) -> None:
    model = model_of(tmp_path, {"requirements.txt": "fastapi==0.95.2\nsqlmodel==0.0.8\n", "main.py": ""})
    assert str(model.versions.version("sqlalchemy")) == "1.4.41"
    assert model.versions.version("pydantic").major == 1
    assert not model.versions.supports("sqlalchemy", ">=2.0")
    assert "sqlmodel 0.0.8 requires SQLAlchemy" in model.versions.judged_against("sqlalchemy")


def test_a_folder_of_requirements_files_declares_the_dependencies(tmp_path: Path) -> None:
    model = model_of(
        tmp_path,
        {"requirements/base.txt": "pydantic==1.10.13\n", "requirements/test.txt": "-r base.txt\npytest\n", "main.py": ""},
    )
    assert str(model.versions.version("pydantic")) == "1.10.13"
    assert set(model.versions.files) == {"requirements/base.txt", "requirements/test.txt"}


def test_a_lock_file_and_a_fresh_install_are_two_install_routes(tmp_path: Path) -> None:
    lock = '[[package]]\nname = "sqlalchemy"\nversion = "2.0.45"\n\n[[package]]\nname = "sqlmodel"\nversion = "0.0.24"\n'
    model = model_of(tmp_path, {"uv.lock": lock, "requirements.txt": "sqlmodel>=0.0.24\n", "main.py": ""})
    assert str(model.versions.version("sqlalchemy")) == "2.0.45"
    assert model.versions.may_install("sqlalchemy", ">=2.1")  # `pip install -r requirements.txt` ignores the lock
    assert not model.versions.supports("sqlalchemy", ">=2.1")


def test_a_url_is_followed_through_every_assignment_and_rewrite(tmp_path: Path) -> None:
    model = model_of(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/main.py": APP,
            ".env.example": "DATABASE_URL=postgresql://u:p@h/db?sslmode=require\n",
            "app/db.py": """
                from sqlalchemy import create_engine
                from sqlalchemy.ext.asyncio import create_async_engine
                from app.config import settings

                URL = settings.DATABASE_URL
                if URL.startswith("postgresql"):
                    URL = URL.replace("postgresql://", "postgresql+asyncpg://")
                engine = create_async_engine(URL)
                reports = create_engine(settings.REPORTS_URL)
                if settings.USE_SQLITE:
                    local = create_async_engine("sqlite+aiosqlite:///app.db")
            """,
        },
    )
    engine, reports, local = sorted(model.flow.engines, key=lambda e: e.line)
    assert (engine.kind, engine.url.names, engine.url.through) == ("async", ("DATABASE_URL",), ("str.replace",))
    assert (reports.kind, reports.url.names) == ("sync", ("REPORTS_URL",))
    assert local.sqlite
    assert model.url_consumers("database_url") == {"async"}  # pydantic-settings matches names in any case
    assert model.url_consumers("REPORTS_URL") == {"sync"}
    assert [s.key for s in model.failing_inputs(["DATABASE_URL"])] == ["DATABASE_URL"]
    # The project's replace() makes the scheme async but keeps sslmode: the URL it shows still fails.
    assert not model.rewrites_handle(engine, ["postgresql://u@h/db?sslmode=require"])
    assert model.rewrites_handle(engine, ["postgresql://u@h/db"])


def test_own_helpers_are_those_that_give_the_async_driver(tmp_path: Path) -> None:
    model = model_of(
        tmp_path,
        {
            "urls.py": '''
                def converts(url):
                    """Turns postgresql+asyncpg on."""
                    return url.replace("postgresql://", "postgresql+asyncpg://")

                def tidies(url):
                    if make_url(url).drivername != "postgresql+asyncpg":
                        return url
                    return url.replace("sslmode=", "ssl=")

                def to_async_database_url(url):
                    return url.replace("postgresql://", "postgresql+asyncpg://")
            ''',
            "db.py": "from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine(f'postgresql+asyncpg://{host}/db')\n",
        },
    )
    assert "converts" in model.flow.url_helpers and "tidies" not in model.flow.url_helpers
    assert "to_async_database_url" not in model.flow.url_helpers  # fixer's own: not the project's doing
    (engine,) = model.flow.engines
    assert model.normalised_by_project(engine)  # an async URL built in place from its parts


def test_objects_read_after_commit_are_found(tmp_path: Path) -> None:
    model = model_of(
        tmp_path,
        {
            "routes.py": """
                async def update(session, item_id):
                    item = await session.get(Item, item_id)
                    item.name = "x"
                    session.add(item)
                    await session.commit()
                    return item

                async def create(session, item):
                    session.add(item)
                    await session.commit()
                    await session.refresh(item)
                    return item
            """,
        },
    )
    assert [(r.path, r.line, r.name) for r in model.flow.expired_reads] == [("routes.py", 6, "item")]


def test_a_query_cut_off_by_the_project_counts_as_handled(tmp_path: Path) -> None:
    model = model_of(
        tmp_path,
        {
            "db.py": """
                from sqlalchemy.ext.asyncio import create_async_engine
                url = settings.DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://")
                if "?" in url:
                    url = url.split("?")[0]
                engine = create_async_engine(url)
            """,
        },
    )
    (engine,) = model.flow.engines
    assert model.rewrites_handle(engine, ["postgresql://u@h/db?sslmode=require&channel_binding=require"])


def _graph_case(files: dict[str, str]):
    from fixer.model.modules import read_module

    return [read_module(path, text.encode()) for path, text in files.items()]


def test_a_later_rounds_graph_is_what_a_fresh_one_would_be():
    """Within the rounds, the graph of round 1 is reused (same modules) or built on (a fixed file's import lines
    changed): its roles and importers are those a graph built from nothing gives, imports gained or lost."""
    from fixer.model.modules import ModuleGraph, graph_of, remembering_graphs

    before = {
        "app/main.py": "from fastapi import FastAPI\nfrom app import db\napp = FastAPI()\n",
        "app/__init__.py": "",
        "app/db.py": "import os\n",
        "app/extra.py": "from app import helpers\n",
        "app/helpers.py": "def helper(): ...\n",
        "app/old.py": "if __name__ == '__main__':\n    pass\n",
        "scripts/seed.py": "from app.db import engine\n",
    }
    gained = {**before, "app/db.py": "import os\nfrom app import extra\n"}
    lost = {**before, "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"}
    with remembering_graphs():
        first = graph_of(_graph_case(before), ["app.main"], "root")
        assert first.roles() == ModuleGraph(_graph_case(before), ["app.main"], "root").roles()
        assert graph_of(_graph_case(before), ["app.main"], "root") is first
        for later in (gained, lost, before):
            graph = graph_of(_graph_case(later), ["app.main"], "root")
            fresh = ModuleGraph(_graph_case(later), ["app.main"], "root")
            assert graph.roles() == fresh.roles()
            assert graph.importers({"app/helpers.py"}) == fresh.importers({"app/helpers.py"})
    assert graph_of(_graph_case(before), ["app.main"], "root") is not first  # outside the rounds, nothing is kept
    assert ModuleGraph(_graph_case(gained), ["app.main"], "root").roles()["app/extra.py"] is Role.LIVE
