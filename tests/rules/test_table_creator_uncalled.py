"""FX046 table-creator-uncalled (the codemod) and the model's answer it acts on (`fixer.model.tables`): which
function the app module's new lifespan calls, from which module, and when the app is left to FX045."""

from __future__ import annotations

import dataclasses

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
from fixer.rules.table_creator_uncalled import TableCreatorUncalled

DB = """\
from sqlmodel import Field, SQLModel, create_engine

engine = create_engine("postgresql+psycopg://u:p@h/d")


class Parcel(SQLModel, table=True):
    __tablename__ = "parcels"
    id: int | None = Field(default=None, primary_key=True)


{kind}def init_db({params}):
    SQLModel.metadata.create_all(engine)
"""
MAIN = "from fastapi import FastAPI\n\nfrom app.db import Parcel\n\napp = FastAPI()\n"


def answer(files: dict[str, str], start: StartPoint | None = None, **prediction) -> NeverCreated | None:
    start = start or StartPoint(app="app.main:app", run_from="", source="Procfile")
    order = tuple(p for p in files if p.endswith(".py") and not p.startswith("tests/") and "make_tables" not in p)
    return never_created(list(files), Sources(files.get), Prediction(start=start, failures=(), order=order, **prediction))


def test_the_model_names_the_module_to_import_and_whether_to_await() -> None:
    found = answer({"app/main.py": MAIN, "app/db.py": DB.format(kind="async ", params="")})
    assert found is not None and (found.kind, found.name, found.app_path, found.module, found.awaited, found.tables) == (
        "uncalled", "init_db", "app/main.py", "app.db", True, ("parcels",))


def test_the_module_is_named_from_the_folder_the_start_runs_in() -> None:
    start = StartPoint(app="main:app", run_from="src", source="Dockerfile")
    main = MAIN.replace("from app.db", "from db")
    found = answer({"src/main.py": main, "src/db.py": DB.format(kind="", params="")}, start)
    assert found is not None and (found.app_path, found.module, found.awaited) == ("src/main.py", "db", False)


@pytest.mark.parametrize(
    ("main", "params", "prediction"),
    [
        (MAIN, "bind", {}),  # an argument to supply
        (MAIN, "", {"sys_path_edits": (("app/main.py", 1, "app", True),)}),  # two import roots: two names
        (MAIN + '\n\n@app.on_event("startup")\ndef hello():\n    pass\n\n\n@app.on_event("startup")\ndef bye():\n'
                '    pass\n', "", {}),  # two hooks: which runs first is not this rule's to arrange
        (MAIN.replace("FastAPI()", "FastAPI(on_startup=[print])"), "", {}),
        (MAIN.replace("FastAPI()", "FastAPI(**options)"), "", {}),
        (MAIN + "\nlifespan = None\n", "", {}),
        (MAIN + "\nother = FastAPI()\n", "", {}),  # which app is started is not this rule's to guess
    ],
)
def test_apps_a_new_lifespan_does_not_fit_are_left_to_fx045(main: str, params: str, prediction: dict) -> None:
    found = answer({"app/main.py": main, "app/db.py": DB.format(kind="", params=params)}, **prediction)
    assert found is not None and found.kind == "uncalled" and (found.module, found.app_path) == ("", "")


@pytest.mark.parametrize("decorator", ['@app.on_event("startup")', '@app.post("/setup")', "@cli.command()"])
def test_a_decorated_creator_is_called_by_what_registers_it(decorator: str) -> None:
    db = "class Store:\n    @classmethod\n    def setup(cls, engine):\n        SQLModel.metadata.create_all(engine)\n"
    main = MAIN + f"\n\n{decorator}\ndef setup_db():\n    Store.setup(engine)\n"
    files = {"app/main.py": main, "app/db.py": DB.split("\n\n\n{kind}")[0] + "\n\n\n" + db}
    assert answer(files) is None


@pytest.mark.parametrize("hook", [
    '@app.on_event("startup")\ndef on_startup():\n    global engine\n    engine = make()\n',
    "@asynccontextmanager\nasync def lifespan(app):\n    global engine\n    engine = make()\n    yield\n",
])
def test_a_startup_function_that_sets_module_names_is_left_to_fx045(hook: str) -> None:
    main = ("from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\nfrom app.db import Parcel, make"
            "\n\nengine = None\n\n\n" + hook + "\n\napp = FastAPI(" + ("lifespan=lifespan" if "lifespan" in hook else "")
            + ")\n")
    found = answer({"app/main.py": main, "app/db.py": DB.format(kind="", params="") + "\n\ndef make():\n    return 1\n"})
    assert found is not None and found.kind == "uncalled" and found.hook == ""


def test_a_creator_the_start_does_not_import_is_left_to_fx045() -> None:
    main = "from fastapi import FastAPI\n\nfrom app.models import Parcel\n\napp = FastAPI()\n"
    models = DB.split("\n\n\nasync def")[0].split("\n\n\n{kind}")[0] + "\n"
    files = {"app/main.py": main, "app/models.py": models,
             "setup_db.py": "from app.models import engine\nfrom sqlmodel import SQLModel\n\n\n"
                            "def make():\n    SQLModel.metadata.create_all(engine)\n"}
    found = never_created(list(files), Sources(files.get), Prediction(
        start=StartPoint(app="app.main:app", run_from="", source="Procfile"), failures=(),
        order=("app/main.py", "app/models.py")))
    assert found is not None and found.kind == "uncalled" and found.module == ""


def run(source: str, never: NeverCreated) -> tuple[str, list]:
    context = CodemodContext(filename="app/main.py")
    model = ProjectModel(startup=Startup(tables_never_created=never))
    new = TableCreatorUncalled(context, facts=model).transform_module(cst.parse_module(source))
    return new.code, context.scratch.get(FINDINGS_KEY, [])


NEVER = NeverCreated("uncalled", "app/db.py", 11, "init_db", ("Parcel",), app_path="app/main.py", module="app.db",
                     awaited=True, tables=("parcels",))


@pytest.mark.parametrize(
    ("before", "after", "never"),
    [
        (MAIN,
         "from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\nfrom app.db import Parcel, init_db"
         "\n\n\n@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    await init_db()\n    yield\n\n\n"
         "app = FastAPI(lifespan=lifespan)\n", NEVER),
        ('import fastapi\n\n# the app\napp = fastapi.FastAPI(\n    title="P",\n)\n',
         "from contextlib import asynccontextmanager\n\nimport fastapi\nfrom app.db import init_db\n\n\n"
         "@asynccontextmanager\nasync def lifespan(app: fastapi.FastAPI):\n    init_db()\n    yield\n\n\n# the app\n"
         'app = fastapi.FastAPI(\n    title="P",\n    lifespan=lifespan,\n)\n',
         dataclasses.replace(NEVER, awaited=False)),
        ("from fastapi import FastAPI\n\n\ndef init_db():\n    pass\n\napp = FastAPI()\n",
         "from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\n\ndef init_db():\n    pass\n\n\n"
         "@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    init_db()\n    yield\n\n\n"
         "app = FastAPI(lifespan=lifespan)\n",
         dataclasses.replace(NEVER, path="app/main.py", module="app.main", awaited=False)),
    ],
)
def test_a_lifespan_calls_the_creator(before: str, after: str, never: NeverCreated) -> None:
    new, findings = run(before, never)
    assert new == after
    assert [(f.rule, f.fixed, f.safe) for f in findings] == [("FX046", True, True)]
    cst.parse_module(new)
    # Once it runs, the model no longer answers, and the codemod given the same answer leaves it as it is.
    files = {"app/main.py": new, "app/db.py": DB.format(kind="async " if never.awaited else "", params="")}
    assert answer(files, tables_at=2) is None
    assert run(new, never) == (new, [])


def test_nothing_without_the_models_answer() -> None:
    assert run(MAIN, dataclasses.replace(NEVER, module="")) == (MAIN, [])


DECLARATIVE = """\
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, mapped_column


class Base(DeclarativeBase):
    __abstract__ = True


class Ledger(Base):
    __tablename__ = "ledgers"
    id = mapped_column(Integer, primary_key=True)
"""


def test_declarative_models_count_as_tables() -> None:
    main = "from fastapi import FastAPI\n\nfrom app.models import Ledger\n\napp = FastAPI()\n"
    found = answer({"app/main.py": main, "app/models.py": DECLARATIVE,
                    "tests/conftest.py": "Base.metadata.create_all(engine)\n"})
    assert found is not None and (found.kind, found.models, found.tables) == ("nothing", ("Ledger",), ("ledgers",))


SCRIPT = """\
import asyncio

from app.models import Base, engine


async def make_tables():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)

if __name__ == "__main__":
    asyncio.run(make_tables())
"""


def test_a_script_no_document_names_is_the_finding_and_a_documented_one_is_not() -> None:
    main = "from fastapi import FastAPI\n\nfrom app.models import Ledger\n\napp = FastAPI()\n"
    files = {"app/main.py": main, "app/models.py": DECLARATIVE, "app/make_tables.py": SCRIPT,
             "README.md": "Run `uvicorn app.main:app`.\n"}
    found = answer(files)
    assert found is not None and (found.kind, found.path, found.line) == ("script", "app/make_tables.py", 10)
    files["README.md"] += "First create the tables: `python -m app.make_tables`.\n"
    assert answer(files) is None
    files["README.md"] = "Run `uvicorn app.main:app`.\n"
    files["app/routes.py"] = "from app.make_tables import make_tables\n\n\nasync def admin():\n    await make_tables()\n"
    assert answer(files) is None  # a route creates them: the project's own step


def test_a_main_block_creating_the_tables_itself_is_a_script_too() -> None:
    main = "from fastapi import FastAPI\n\nfrom app.db import engine\n\napp = FastAPI()\n"
    db = DECLARATIVE + '\nengine = None\n\nif __name__ == "__main__":\n    Base.metadata.create_all(engine)\n'
    files = {"app/main.py": main, "app/db.py": db}
    found = answer(files)
    assert found is not None and (found.kind, found.path) == ("script", "app/db.py")
    files["Makefile"] = "tables:\n\tpython -m app.db\n"
    assert answer(files) is None


def test_a_makefile_above_the_backend_documents_its_script(tmp_path) -> None:
    from fixer.model.tables import documents_above

    backend = tmp_path / "repo" / "backend"
    backend.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "repo" / "Makefile").write_text("tables:\n\tcd backend && python -m app.db\n")
    main = "from fastapi import FastAPI\n\nfrom app.db import engine\n\napp = FastAPI()\n"
    db = DECLARATIVE + '\nengine = None\n\nif __name__ == "__main__":\n    Base.metadata.create_all(engine)\n'
    files = {"app/main.py": main, "app/db.py": db}
    start = StartPoint(app="app.main:app", run_from="", source="Procfile")
    prediction = Prediction(start=start, failures=(), order=("app/main.py", "app/db.py"))
    assert never_created(list(files), Sources(files.get), prediction, documents_above(backend)) is None


LIFESPAN = """\
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db import Parcel


@asynccontextmanager
async def lifespan(app: FastAPI):
    \"\"\"Seed the admin.\"\"\"
    await seed()
    yield
    print("bye")


app = FastAPI(lifespan=lifespan)
"""
STARTUP = MAIN + '\n\n@app.on_event("startup")\nasync def warm():\n    await seed()\n'


@pytest.mark.parametrize(("main", "kind", "hook"), [
    (LIFESPAN, "async ", "lifespan"), (STARTUP, "async ", "warm"), (STARTUP, "", "warm"),
    (LIFESPAN.replace("lifespan=lifespan", "lifespan=span").replace("def lifespan", "def span"), "", "span"),
])
def test_the_app_module_s_own_startup_function_takes_the_call(main: str, kind: str, hook: str) -> None:
    found = answer({"app/main.py": main, "app/db.py": DB.format(kind=kind, params="")})
    assert found is not None and (found.kind, found.app_path, found.module, found.hook) == (
        "uncalled", "app/main.py", "app.db", hook)


@pytest.mark.parametrize(("main", "kind"), [
    (STARTUP.replace("async def warm", "def warm").replace("await seed()", "seed()"), "async "),  # cannot await
    (LIFESPAN.replace("    yield\n", "    try:\n        yield\n    finally:\n        pass\n"), ""),  # a yield not at its top
    (LIFESPAN.replace("    yield\n", "    yield\n    yield\n"), ""),
    (LIFESPAN.replace("@asynccontextmanager\nasync def lifespan", "from app.spans import lifespan\n\n\nasync def other"),
     ""),  # a lifespan of another module
    (STARTUP.replace("app = FastAPI()", "app = FastAPI(lifespan=other)"), ""),  # its hooks never run
])
def test_startup_functions_that_cannot_take_the_call_are_left_to_fx045(main: str, kind: str) -> None:
    found = answer({"app/main.py": main, "app/db.py": DB.format(kind=kind, params="")})
    assert found is not None and found.kind == "uncalled" and (found.module, found.hook) == ("", "")


@pytest.mark.parametrize(("before", "hook", "after"), [
    (LIFESPAN, "lifespan", LIFESPAN.replace("from app.db import Parcel", "from app.db import Parcel, init_db").replace(
        '"""Seed the admin."""\n', '"""Seed the admin."""\n    await init_db()\n')),
    (STARTUP, "warm", STARTUP.replace("from app.db import Parcel", "from app.db import Parcel, init_db").replace(
        "async def warm():\n", "async def warm():\n    await init_db()\n")),
])
def test_the_existing_startup_function_calls_the_creator_first(before: str, hook: str, after: str) -> None:
    never = dataclasses.replace(NEVER, hook=hook)
    new, findings = run(before, never)
    assert new == after
    assert [(f.rule, f.fixed, f.safe) for f in findings] == [("FX046", True, True)]
    assert f"`{hook}` now runs `await init_db()` first" in findings[0].explanation
    files = {"app/main.py": new, "app/db.py": DB.format(kind="async ", params="")}
    assert answer(files, tables_at=2) is None


@pytest.mark.parametrize("main", [LIFESPAN, STARTUP])
def test_a_project_s_own_startup_function_gets_the_call_once(tmp_path, main: str) -> None:
    """The whole run: the walk then sees the startup function reach create_all, so a second run changes nothing."""
    from tests.rules.project_helpers import fix

    db = DB.format(kind="async ", params="").replace("create_engine(", "create_async_engine(").replace(
        "from sqlmodel import Field, SQLModel, create_engine",
        "from sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlmodel import Field, SQLModel").replace(
        "    SQLModel.metadata.create_all(engine)",
        "    async with engine.begin() as conn:\n        await conn.run_sync(SQLModel.metadata.create_all)")
    db = db.replace("postgresql+psycopg://", "postgresql+asyncpg://")
    files = {"requirements.txt": "fastapi>=0.110\nuvicorn>=0.29\nsqlmodel>=0.0.22\nsqlalchemy[asyncio]>=2.0\n"
                                 "asyncpg>=0.29\n",
             "Procfile": "web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n", "app/__init__.py": "",
             "app/db.py": db + "\n\nasync def seed():\n    pass\n",
             "app/main.py": main.replace("from app.db import Parcel", "from app.db import Parcel, seed")}
    changed, findings = fix(tmp_path, files, codemods=[TableCreatorUncalled])
    assert "    await init_db()\n" in changed["app/main.py"]
    assert [f.rule for f in findings if f.rule == "FX046"] == ["FX046"]


RESET = """\
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Field, SQLModel

engine = create_async_engine("postgresql+asyncpg://u:p@h/d")


class Parcel(SQLModel, table=True):
    __tablename__ = "parcels"
    id: int | None = Field(default=None, primary_key=True)


async def init_models():
    async with engine.begin() as conn:
{drop}        await conn.run_sync(SQLModel.metadata.create_all)
"""
PROJECT = {"requirements.txt": "fastapi>=0.110\nuvicorn>=0.29\nsqlmodel>=0.0.22\nsqlalchemy[asyncio]>=2.0\n"
                               "asyncpg>=0.29\n",
           "Procfile": "web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n", "app/__init__.py": "",
           "app/main.py": MAIN}


@pytest.mark.parametrize(("drop", "extra", "reached"), [
    ("        await conn.run_sync(SQLModel.metadata.drop_all)\n", {}, "drop_all"),
    ("        await conn.execute(text('DROP TABLE IF EXISTS parcels'))\n", {}, "DROP TABLE"),
    # through a helper of another module the start does not import, as the creator's module imports it
    ("        from app.reset import wipe\n        await conn.run_sync(wipe)\n",
     {"app/reset.py": "def wipe(conn):\n    conn.execute('drop schema public')\n"}, "DROP SCHEMA"),
    ("        from . import reset\n        await conn.run_sync(reset.wipe)\n",
     {"app/reset.py": "def wipe(conn):\n    conn.execute('drop schema public')\n"}, "DROP SCHEMA"),
])
def test_a_creator_that_drops_the_tables_first_is_never_called(tmp_path, drop: str, extra: dict, reached: str) -> None:
    """Wired into the startup it would empty every table at each restart: FX045 reports it and says why."""
    from fixer.rules.startup_checks import TablesNeverCreated
    from tests.rules.project_helpers import fix

    files = {**PROJECT, "app/db.py": RESET.format(drop=drop), **extra}
    found = answer({p: t for p, t in files.items() if p.endswith(".py")})
    assert found is not None and (found.kind, found.name, found.module, found.drops) == (
        "uncalled", "init_models", "", reached)
    changed, findings = fix(tmp_path, files, codemods=[TableCreatorUncalled], text_rules=[TablesNeverCreated])
    assert changed == {}
    [report] = [f for f in findings if f.rule in ("FX045", "FX046")]
    assert (report.rule, report.fixed) == ("FX045", False)
    assert "drops them first" in report.problem and f"`{reached}`" in report.explanation


def test_the_plain_creator_is_called_beside_a_reset_nothing_calls(tmp_path) -> None:
    from fixer.rules.startup_checks import TablesNeverCreated
    from tests.rules.project_helpers import fix

    reset = ("async def reset_models():\n    async with engine.begin() as conn:\n"
             "        await conn.run_sync(SQLModel.metadata.drop_all)\n"
             "        await conn.run_sync(SQLModel.metadata.create_all)\n\n\n")
    plain = RESET.format(drop="")
    for order, db in (("after", plain + "\n\n" + reset),
                      ("before", plain.replace("async def init_models", reset + "async def init_models"))):
        files = {**PROJECT, "app/db.py": db}
        found = answer({p: t for p, t in files.items() if p.endswith(".py")})
        assert found is not None and (found.name, found.module, found.drops) == ("init_models", "app.db", ""), order
        changed, findings = fix(tmp_path / order, files, codemods=[TableCreatorUncalled],
                                text_rules=[TablesNeverCreated])
        assert "    await init_models()\n" in changed["app/main.py"] and "reset" not in changed["app/main.py"]
        assert [f.rule for f in findings if f.rule in ("FX045", "FX046")] == ["FX046"]


def test_a_same_named_dropper_of_an_unrelated_module_is_not_the_one_called(tmp_path) -> None:
    """`clean()` in the creator's module only disposes the engine; a script's own `clean()` drops everything.
    A call resolves in its module's scope, so the creator is no dropper and FX046 calls it."""
    from fixer.rules.startup_checks import TablesNeverCreated
    from tests.rules.project_helpers import fix

    db = RESET.format(drop="").replace("async def init_models():\n    async with",
                                       "def clean():\n    engine.sync_engine.dispose()\n\n\n"
                                       "async def init_models():\n    clean()\n    async with")
    wipe = ("from sqlmodel import SQLModel, create_engine\n\nengine = create_engine('postgresql://u:p@h/d')\n\n\n"
            "def clean():\n    SQLModel.metadata.drop_all(engine)\n")
    files = {**PROJECT, "app/db.py": db, "scripts/wipe.py": wipe}
    found = answer({p: t for p, t in files.items() if p.endswith(".py")})
    assert found is not None and (found.name, found.module, found.drops) == ("init_models", "app.db", "")
    changed, findings = fix(tmp_path, files, codemods=[TableCreatorUncalled], text_rules=[TablesNeverCreated])
    assert "    await init_models()\n" in changed["app/main.py"]
    assert [f.rule for f in findings if f.rule in ("FX045", "FX046")] == ["FX046"]
    # Imported from there, the script's `clean` is the one called: then it is a dropper.
    files["app/db.py"] = db.replace("def clean():\n    engine.sync_engine.dispose()\n\n\n",
                                    "from scripts.wipe import clean\n\n\n")
    found = answer({p: t for p, t in files.items() if p.endswith(".py")})
    assert found is not None and (found.name, found.module, found.drops, found.drops_first) == (
        "init_models", "", "drop_all", True)


def test_a_drop_after_the_creation_is_not_said_to_come_first(tmp_path) -> None:
    from fixer.rules.startup_checks import TablesNeverCreated
    from tests.rules.project_helpers import fix

    db = RESET.format(drop="") + "        await conn.run_sync(SQLModel.metadata.drop_all)\n"
    files = {**PROJECT, "app/db.py": db}
    found = answer({p: t for p, t in files.items() if p.endswith(".py")})
    assert found is not None and (found.module, found.drops, found.drops_first) == ("", "drop_all", False)
    changed, findings = fix(tmp_path, files, codemods=[TableCreatorUncalled], text_rules=[TablesNeverCreated])
    assert changed == {}
    [report] = [f for f in findings if f.rule in ("FX045", "FX046")]
    assert report.rule == "FX045" and "also drops them" in report.problem and "first" not in report.problem
