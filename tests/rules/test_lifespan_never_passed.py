"""FX044 lifespan-never-passed (the codemod) and the model's answer it acts on (`fixer.model.tables`), with
FX045's kinds: a create-tables function nothing calls, no code creating the tables, and what makes them."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from fixer.model import ProjectModel
from fixer.model.entrypoints import StartPoint
from fixer.model.failures import Prediction
from fixer.model.sources import Sources
from fixer.model.startup import Startup
from fixer.model.tables import NeverCreated, never_created
from fixer.rules.base import FINDINGS_KEY
from fixer.rules.lifespan_never_passed import LifespanNeverPassed

NEVER = NeverCreated("lifespan", "app/main.py", 4, "lifespan", ("Reminder",), 9)
MODEL = ProjectModel(startup=Startup(tables_never_created=NEVER))
HEAD = "@asynccontextmanager\nasync def lifespan(app):\n    create_db_and_tables()\n    yield\n\n\n"


def run(source: str, model: ProjectModel = MODEL) -> tuple[str, list]:
    context = CodemodContext(filename="app/main.py")
    new = LifespanNeverPassed(context, facts=model).transform_module(cst.parse_module(source))
    return new.code, context.scratch.get(FINDINGS_KEY, [])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("app = FastAPI()\n", "app = FastAPI(lifespan=lifespan)\n"),
        ('app = FastAPI(title="Notes")\n', 'app = FastAPI(title="Notes", lifespan=lifespan)\n'),
        ('app = fastapi.FastAPI(title="Notes", version="1")\n',
         'app = fastapi.FastAPI(title="Notes", version="1", lifespan=lifespan)\n'),
        ('app = FastAPI(\n    title="Notes",\n    version="1",\n)\n',
         'app = FastAPI(\n    title="Notes",\n    version="1",\n    lifespan=lifespan,\n)\n'),
        ('app = FastAPI(\n    title="Notes"\n)\n', 'app = FastAPI(\n    title="Notes",\n    lifespan=lifespan\n)\n'),
    ],
)
def test_the_lifespan_is_passed(before: str, after: str) -> None:
    new, findings = run(HEAD + before)
    assert new == HEAD + after
    assert [(f.rule, f.fixed, f.safe) for f in findings] == [("FX044", True, True)]
    cst.parse_module(new)
    assert run(new, ProjectModel()) == (new, [])  # the model's answer once it is passed: nothing to do


@pytest.mark.parametrize(
    "source",
    [
        "app = FastAPI(lifespan=other)\n",  # already given one
        "app = FastAPI(**options)\n",  # may be given one
    ],
)
def test_an_app_that_may_have_a_lifespan_is_left_alone(source: str) -> None:
    assert run(HEAD + source) == (HEAD + source, [])


def test_nothing_without_the_models_answer() -> None:
    source = HEAD + "app = FastAPI()\n"
    assert run(source, ProjectModel()) == (source, [])


DB = """\
from sqlmodel import Field, SQLModel, create_engine

engine = create_engine("postgresql+psycopg://u:p@h/d")


class Reminder(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)


def create_db_and_tables():
    SQLModel.metadata.create_all(engine)
"""
LIFESPAN = """\
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db import create_db_and_tables


@asynccontextmanager
async def lifespan(app: FastAPI):
    create_db_and_tables()
    yield


app = FastAPI({args})
"""


def answer(files: dict[str, str], tables_at: int | None = None) -> NeverCreated | None:
    point = StartPoint(app="app.main:app", run_from="", source="Procfile")
    order = tuple(p for p in ("app/main.py", "app/db.py") if p in files)
    prediction = Prediction(start=point, failures=(), order=order, tables_at=tables_at)
    return never_created(list(files), Sources(files.get), prediction)


def test_the_model_names_the_lifespan_never_passed() -> None:
    found = answer({"app/main.py": LIFESPAN.format(args=""), "app/db.py": DB})
    assert found is not None and (found.kind, found.path, found.name, found.models) == (
        "lifespan", "app/main.py", "lifespan", ("Reminder",))


def test_the_model_names_the_function_nothing_calls_and_says_when_nothing_creates_them() -> None:
    main = "from fastapi import FastAPI\n\nfrom app.db import Reminder\n\napp = FastAPI()\n"
    found = answer({"app/main.py": main, "app/db.py": DB})
    assert found is not None and (found.kind, found.path, found.name) == ("uncalled", "app/db.py", "create_db_and_tables")
    bare = DB.split("\n\ndef ")[0] + "\n"
    found = answer({"app/main.py": main, "app/db.py": bare,
                    "tests/test_db.py": "def test():\n    SQLModel.metadata.create_all(engine)\n"})
    assert found is not None and (found.kind, found.path, found.name) == ("nothing", "app/db.py", "Reminder")


@pytest.mark.parametrize(
    ("extra", "tables_at"),
    [
        ({}, 2),  # a startup hook reaches create_all
        ({"alembic/env.py": "", "alembic/versions/0001_init.py": ""}, None),  # migrations make them
        ({"schema.sql": "CREATE TABLE reminder (id int);\n"}, None),  # a SQL script does
        ({"app/cli.py": "from app.db import create_db_and_tables\n\nif __name__ == '__main__':\n"
                        "    create_db_and_tables()\n",
          "README.md": "Create the tables once: `python -m app.cli`.\n"}, None),  # a documented step calls it
    ],
)
def test_tables_made_somehow_are_no_finding(extra: dict[str, str], tables_at: int | None) -> None:
    main = "from fastapi import FastAPI\n\nfrom app.db import Reminder\n\napp = FastAPI()\n"
    assert answer({"app/main.py": main, "app/db.py": DB, **extra}, tables_at) is None


def test_tables_made_at_import_are_no_finding() -> None:
    made = DB + "\n\ncreate_db_and_tables()\n"
    assert answer({"app/main.py": "from app.db import engine\n", "app/db.py": made}) is None


def test_a_module_with_on_event_hooks_gets_no_lifespan() -> None:
    main = LIFESPAN.format(args="") + '\n\n@app.on_event("startup")\ndef hello():\n    pass\n'
    assert answer({"app/main.py": main, "app/db.py": DB}) is None


def test_a_sqlite_url_on_an_async_engine_is_predicted_and_reported(tmp_path) -> None:
    """ENG-SQLITE-ASYNC: the walk predicts the start's failure (it said "imports cleanly") and names the fix."""
    from tests.cli_helpers import fixer

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "Procfile").write_text("web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n")
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\nsqlalchemy[asyncio]>=2.0\n")
    (tmp_path / "app" / "main.py").write_text(
        "from fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine = create_async_engine("sqlite:///./app.db")\napp = FastAPI()\n')
    err = fixer("dry-run", tmp_path).stderr.decode()
    assert "1. sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver to be used. " \
           "The loaded 'pysqlite' is not async.  [" in err, err
    assert "FX030 needs a person" in err


def test_a_helper_calling_the_creator_counts_as_uncalled_too() -> None:
    db = DB + "\n\ndef init_db():\n    create_db_and_tables()\n"
    main = "from fastapi import FastAPI\n\nfrom app.db import Reminder\n\napp = FastAPI()\n"
    found = answer({"app/main.py": main, "app/db.py": db})
    assert found is not None and (found.kind, found.name) == ("uncalled", "init_db")


def test_no_create_all_anywhere_is_no_finding() -> None:
    """The tables may come from elsewhere (a console, another service): nothing shows the project relies on
    create_all."""
    main = "from fastapi import FastAPI\n\nfrom app.db import Reminder\n\napp = FastAPI()\n"
    assert answer({"app/main.py": main, "app/db.py": DB.split("\n\ndef ")[0] + "\n"}) is None


def test_a_lifespan_that_drops_the_tables_first_is_reported_not_passed() -> None:
    """Passed to `FastAPI(...)` it would empty every table at each restart: FX045 reports it and says why."""
    from fixer.rules.startup_checks import TablesNeverCreated

    db = DB.replace("def create_db_and_tables():\n",
                    "def create_db_and_tables():\n    SQLModel.metadata.drop_all(engine)\n")
    main = LIFESPAN.format(args="")
    found = answer({"app/main.py": main, "app/db.py": db})
    assert found is not None and (found.kind, found.name, found.drops) == ("lifespan", "lifespan", "drop_all")
    model = ProjectModel(startup=Startup(tables_never_created=found))
    assert not LifespanNeverPassed.wants("app/main.py", model) and run(main, model) == (main, [])
    [(path, finding)] = TablesNeverCreated().missing(model)
    assert path == "app/main.py" and "drops them first" in finding.problem and "`drop_all`" in finding.explanation
    # The plain lifespan is still passed.
    assert answer({"app/main.py": main, "app/db.py": DB}).drops == ""
