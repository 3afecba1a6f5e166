"""FX037 aware-datetime: naive datetime factories on SQLModel fields, where the SQLModel that installs stores
datetimes timezone-aware (its first insert refuses naive values)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from fixer.model import ProjectModel
from fixer.model.versions import Versions
from fixer.rules.aware_datetime import AwareDatetime
from fixer.rules.base import FINDINGS_KEY

AWARE = ProjectModel(versions=Versions(declared={"sqlmodel": ""}, effective={"sqlmodel": "0.0.50"}))
NAIVE = ProjectModel(versions=Versions(declared={"sqlmodel": "==0.0.22"}, effective={"sqlmodel": "0.0.22"}))


def run(source: str, model: ProjectModel = AWARE) -> tuple[str, list]:
    context = CodemodContext(filename="app/models.py")
    new = AwareDatetime(context, facts=model).transform_module(cst.parse_module(source))
    return new.code, context.scratch.get(FINDINGS_KEY, [])


MODEL = """\
from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel


class Task(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory={factory})
    updated_at: datetime = Field(default_factory={factory}, sa_column_kwargs={{"onupdate": {factory}}})
"""


def test_naive_factories_become_aware() -> None:
    new, findings = run(MODEL.format(factory="datetime.utcnow"))
    assert new == MODEL.format(factory="lambda: datetime.now(timezone.utc)").replace(
        "from datetime import datetime\n", "from datetime import datetime, timezone\n")
    assert [(f.rule, f.fixed, f.safe) for f in findings] == [("FX037", True, True)] * 3
    assert "sqlmodel 0.0.50" in findings[0].evidence
    assert run(new) == (new, [])
    compile(new, "models.py", "exec")


def test_module_import_of_datetime() -> None:
    source = "import datetime\nfrom sqlmodel import Field, SQLModel\n\nclass T(SQLModel):\n    at: datetime.datetime = Field(default_factory=datetime.datetime.now)\n"
    new, findings = run(source)
    assert new.endswith("Field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))\n")
    assert len(findings) == 1


@pytest.mark.parametrize(
    ("source", "model"),
    [
        (MODEL.format(factory="datetime.utcnow"), NAIVE),  # this SQLModel stores naive datetimes: it works
        (MODEL.format(factory="lambda: datetime.now(timezone.utc)"), AWARE),
        # Not SQLModel: a pydantic model keeps whatever it is given.
        ("from datetime import datetime\nfrom pydantic import BaseModel, Field\n\nclass T(BaseModel):\n    at: datetime = Field(default_factory=datetime.utcnow)\n", AWARE),
        # Called at class creation: a value, not a factory (left to a person).
        ("from datetime import datetime\nfrom sqlmodel import SQLModel\n\nstamp = datetime.utcnow()\n", AWARE),
    ],
)
def test_left_alone(source: str, model: ProjectModel) -> None:
    assert run(source, model) == (source, [])


@pytest.mark.slow
def test_the_fixed_model_inserts_on_the_sqlmodel_fixer_judged_against() -> None:
    """The real insert, in a subprocess on the installed SQLModel: the old factory fails as the docs say, the new
    one stores. Needs a SQLModel that stores aware datetimes (the test dependencies install the newest)."""
    from fixer.rules.aware_datetime import stores_aware
    from importlib.metadata import version

    model = ProjectModel(versions=Versions(declared={"sqlmodel": ""}, effective={"sqlmodel": version("sqlmodel")}))
    assert stores_aware(model), f"sqlmodel {version('sqlmodel')} in the test environment stores naive datetimes"
    old = MODEL.format(factory="datetime.utcnow")
    new, _ = run(old, model)
    script = textwrap.dedent("""
        import sys
        from sqlmodel import Session, create_engine
        namespace = {}
        exec(sys.stdin.read(), namespace)
        engine = create_engine("sqlite://")
        namespace["SQLModel"].metadata.create_all(engine)
        with Session(engine) as session:
            session.add(namespace["Task"]())
            try:
                session.commit()
            except Exception as error:
                print(type(error).__name__, error)
                raise SystemExit(1)
        print("stored")
    """)
    before = subprocess.run([sys.executable, "-c", script], input=old, capture_output=True, text=True)
    assert before.returncode == 1 and "Datetime values must have timezone information" in before.stdout
    after = subprocess.run([sys.executable, "-c", script], input=new, capture_output=True, text=True)
    assert after.returncode == 0 and after.stdout.strip() == "stored", after.stdout + after.stderr


HELPERS = ProjectModel(versions=AWARE.versions, naive_now=(("utcnow", "utcnow"), ("local_now", "now")))


@pytest.mark.parametrize(
    ("factory", "aware"),
    [
        ("utcnow", "lambda: utcnow().replace(tzinfo=timezone.utc)"),  # the project's `return datetime.utcnow()`
        ("clock.local_now", "lambda: clock.local_now().astimezone(timezone.utc)"),  # its `return datetime.now()`
    ],
)
def test_a_project_function_returning_a_naive_now_is_kept_and_made_aware(factory: str, aware: str) -> None:
    new, findings = run(MODEL.format(factory=factory), HELPERS)
    assert new == MODEL.format(factory=aware).replace("import datetime\n", "import datetime, timezone\n", 1)
    assert [f.rule for f in findings] == ["FX037"] * 3
    again, more = run(new, HELPERS)
    assert again == new and more == []


def test_a_function_the_model_does_not_know_as_naive_is_left_alone() -> None:
    source = MODEL.format(factory="utc_now_aware")
    assert run(source, HELPERS) == (source, [])


def test_the_model_finds_the_helpers_and_the_files_giving_them(tmp_path) -> None:
    from fixer.model.datetimes import naive_now_functions, naive_now_users
    from fixer.model.sources import Sources

    files = {
        "app/clock.py": b"from datetime import datetime, timezone\n\n\ndef utcnow():\n    return datetime.utcnow()\n\n\n"
                        b"def aware():\n    return datetime.now(timezone.utc)\n\n\ndef either(flag):\n"
                        b"    if flag:\n        return datetime.utcnow()\n    return datetime.now(timezone.utc)\n",
        "app/models.py": b"created_at: datetime = Field(default_factory=utcnow)\n",
        "app/other.py": b"stamp = utcnow()\n",
    }
    found = naive_now_functions(list(files.items()), Sources(lambda p: None))
    assert found == (("utcnow", "utcnow"),)
    users = naive_now_users(lambda p: files[p].decode(), list(files), [n for n, _ in found])
    assert users == {"app/models.py"}


STORED = {
    "app/base.py": b"from datetime import datetime\nfrom sqlmodel import Field, SQLModel\n\n\nclass Stamped(SQLModel):\n"
                   b"    created_at: datetime = Field(default_factory=datetime.utcnow)\n",
    "app/models.py": b"from typing import Optional\nfrom sqlmodel import Field\nfrom app.base import Stamped\n\n\n"
                     b"class Note(Stamped, table=True):\n    id: Optional[int] = Field(default=None, primary_key=True)\n"
                     b"    sent_at: Optional[datetime] = None\n\n\n"
                     b"class NoteEvent(SQLModel):\n    note_id: int\n    emitted_at: datetime = Field(default_factory=datetime.utcnow)\n"
                     b"\n\nclass NoteCopy(SQLModel):\n    sent_at: datetime = Field(default_factory=datetime.utcnow)\n",
}


def stored_model(files: dict[str, bytes]) -> ProjectModel:
    from fixer.model.datetimes import stored_fields
    from fixer.model.sources import Sources

    return ProjectModel(versions=AWARE.versions, stored_fields=stored_fields(list(files.items()), Sources(lambda p: None)))


def test_the_model_knows_which_fields_a_table_stores() -> None:
    stored = stored_model(STORED).stored_fields
    assert stored.known and stored.classes == {"Note", "Stamped"}
    assert stored.stores("Stamped", "created_at")  # a table's base: its field is a column
    assert stored.stores("NoteCopy", "sent_at")  # named as a column: its value may be copied into the table
    assert not stored.stores("NoteEvent", "emitted_at")  # an event: its timestamp never reaches the database
    # A table's base the model did not read (its file had nothing it looks for): any class may be stored.
    unread = {"app/models.py": STORED["app/models.py"].replace(b"Note(Stamped", b"Note(Audited")}
    assert not stored_model(unread).stored_fields.known
    assert stored_model(unread).stored_fields.stores("NoteEvent", "emitted_at")


def test_a_model_no_table_stores_keeps_its_naive_default() -> None:
    model = stored_model(STORED)
    source = STORED["app/models.py"].decode()
    new, findings = run(source, model)
    assert "emitted_at: datetime = Field(default_factory=datetime.utcnow)" in new  # left alone
    assert "sent_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))" in new
    assert len(findings) == 1
    base, found = run(STORED["app/base.py"].decode(), model)
    assert "lambda: datetime.now(timezone.utc)" in base and len(found) == 1
    assert run(new, model) == (new, [])


TABLES = {
    "app/models.py": b"from datetime import datetime\nfrom sqlmodel import Field, SQLModel\nfrom sqlalchemy import Column, DateTime\n\n\n"
                     b"class Visit(SQLModel, table=True):\n    id: int | None = Field(default=None, primary_key=True)\n"
                     b"    arrived_at: datetime\n    left_at: datetime | None = None\n"
                     b"    logged_at: datetime = Field(sa_column=Column(DateTime))\n\n\n"
                     b"class VisitOut(SQLModel):\n    arrived_at: datetime\n",
}
GIVEN = stored_model(TABLES)


def test_the_model_knows_the_tables_and_their_aware_columns() -> None:
    stored = GIVEN.stored_fields
    assert stored.tables == {"Visit"}
    # `logged_at` has the project's own column type
    assert stored.aware_columns == {("Visit", "arrived_at"), ("Visit", "left_at")}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("v = Visit(arrived_at=datetime.utcnow())", "v = Visit(arrived_at=datetime.now(timezone.utc))"),
        ("v = models.Visit(arrived_at=datetime.now() - timedelta(minutes=5))",
         "v = models.Visit(arrived_at=datetime.now(timezone.utc) - timedelta(minutes=5))"),
        ("visit.left_at = datetime.utcnow()", "visit.left_at = datetime.now(timezone.utc)"),
        ("visit.sqlmodel_update({'left_at': datetime.utcnow(), 'note': x})",
         "visit.sqlmodel_update({'left_at': datetime.now(timezone.utc), 'note': x})"),
        ("v = visit.model_copy(update={'left_at': datetime.utcnow()})",
         "v = visit.model_copy(update={'left_at': datetime.now(timezone.utc)})"),
        ("late = visit.arrived_at < datetime.utcnow()", "late = visit.arrived_at < datetime.now(timezone.utc)"),
        ("return row.arrived_at < datetime.utcnow()", "return row.arrived_at < datetime.now(timezone.utc)"),
        ("q = select(Visit).where(Visit.left_at <= datetime.utcnow())",
         "q = select(Visit).where(Visit.left_at <= datetime.now(timezone.utc))"),
        ("now = datetime.utcnow()\n    visit.left_at = now\n    return visit.arrived_at < now",
         "now = datetime.now(timezone.utc)\n    visit.left_at = now\n    return visit.arrived_at < now"),
    ],
)
def test_a_naive_now_a_table_stores_or_is_compared_with_becomes_aware(before: str, after: str) -> None:
    head = "from datetime import datetime, timedelta\nfrom app import models\nfrom app.models import Visit\n\n\ndef f(visit: Visit, x, row: Optional[Visit]):\n    "
    new, findings = run(head + before + "\n", GIVEN)
    assert new == head.replace("timedelta\n", "timedelta, timezone\n", 1) + after + "\n"
    assert findings and all(f.rule == "FX037" and f.fixed for f in findings)
    assert run(new, GIVEN) == (new, [])
    compile(new, "service.py", "exec")


def test_the_finding_names_the_insert() -> None:
    _, findings = run("from datetime import datetime\nfrom app.models import Visit\n\nv = Visit(arrived_at=datetime.utcnow())\n", GIVEN)
    assert findings[0].problem == "`datetime.utcnow()` gives a naive datetime, given to `Visit(arrived_at=...)`, whose insert fails"


def test_a_module_import_of_datetime_gets_the_aware_call_spelled_its_way() -> None:
    new, _ = run("import datetime\nfrom app.models import Visit\n\nv = Visit(arrived_at=datetime.datetime.utcnow())\n", GIVEN)
    assert new.endswith("v = Visit(arrived_at=datetime.datetime.now(datetime.timezone.utc))\n")


@pytest.mark.parametrize(
    "body",
    [
        "out = VisitOut(arrived_at=datetime.utcnow())",  # not a table: a response keeps what it is given
        "visit.logged_at = datetime.utcnow()",  # the project's own column type: naive values are stored
        "visit.seen_at = datetime.utcnow()",  # no table has the column
        "v = Visit(arrived_at=datetime.now(timezone.utc))",  # aware already
        "v = Visit(arrived_at=datetime.now(tz))",  # a time zone given
        "stamp = str(datetime.utcnow())\n    visit.note = stamp",
        # A name also used with in-process naive values: making it aware would break the other use.
        "now = datetime.utcnow()\n    visit.left_at = now\n    cache[visit.id] = now",
        "now = datetime.utcnow()\n    visit.left_at = now\n    return now - started",
        # Bound twice: which binding reaches the row is not one answer.
        "now = datetime.utcnow()\n    if x:\n        now = x\n    visit.left_at = now",
        "cutoff = datetime.utcnow() - timedelta(days=1)\n    return [t for t in stamps if t < cutoff]",
        # A parameter annotated as a model no table is: its datetime is what a client sent, maybe naive.
        "return payload.arrived_at < datetime.utcnow()",
        "payload.left_at = datetime.utcnow()",
    ],
)
def test_naive_values_no_table_gets_are_left_alone(body: str) -> None:
    source = "from datetime import datetime, timedelta, timezone\nfrom app.models import Visit, VisitOut\n\n\ndef f(visit: Visit, x, cache, started, stamps, tz, payload: VisitOut):\n    " + body + "\n"
    assert run(source, GIVEN) == (source, [])


def test_a_naive_now_given_to_a_table_is_left_alone_where_sqlmodel_stores_naive() -> None:
    source = "from datetime import datetime\nfrom app.models import Visit\n\nv = Visit(arrived_at=datetime.utcnow())\n"
    naive = ProjectModel(versions=NAIVE.versions, stored_fields=GIVEN.stored_fields)
    assert run(source, naive) == (source, [])


def test_a_tests_own_rows_are_left_alone() -> None:
    from fixer.model import Role

    source = "from datetime import datetime\nfrom app.models import Visit\n\nv = Visit(arrived_at=datetime.utcnow())\n"
    model = ProjectModel(versions=AWARE.versions, stored_fields=GIVEN.stored_fields, roles={"app/models.py": Role.TEST})
    assert run(source, model) == (source, [])


ASYNCPG_TABLES = '''from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class Booking(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    starts_at: datetime
    cancelled_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Audit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    seen_at: datetime = Field(default_factory=datetime.utcnow)
'''


def asyncpg_project(requirements: str) -> dict[str, str]:
    return {"requirements.txt": requirements, "Procfile": "web: uvicorn app.main:app\n", "app/__init__.py": "",
            "app/models.py": ASYNCPG_TABLES,
            "app/main.py": "import os\nfrom fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
                           "from app.models import Booking\n\nengine = create_async_engine(os.environ['DATABASE_URL'])\n"
                           "app = FastAPI()\n"}


def test_an_older_sqlmodels_naive_columns_of_a_table_giving_aware_values_become_aware_on_asyncpg(tmp_path) -> None:
    from tests.rules.project_helpers import fix

    changed, findings = fix(tmp_path, asyncpg_project("fastapi\nsqlmodel==0.0.22\nasyncpg==0.30.0\n"), [AwareDatetime])
    new = changed["app/models.py"]
    assert "from sqlalchemy import DateTime\n" in new
    assert "cancelled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))" in new
    assert "Field(default_factory=lambda: datetime.now(UTC), sa_type=DateTime(timezone=True))" in new
    assert "starts_at: datetime\n" in new  # no Field to give the type to: left as it is
    assert "seen_at: datetime = Field(default_factory=datetime.utcnow)" in new  # a table giving naive values
    assert [f.rule for f in findings] == ["FX037"] * 2


@pytest.mark.parametrize("requirements", [
    "fastapi\nsqlmodel==0.0.22\npsycopg[binary]==3.2.3\n",  # psycopg casts an aware value for a naive column
    "fastapi\nsqlmodel==0.0.8\nasyncpg==0.30.0\n",  # no sa_type to say it with
])
def test_naive_columns_are_left_alone_where_the_driver_takes_aware_values_or_sqlmodel_cannot_say(requirements, tmp_path) -> None:
    from tests.rules.project_helpers import fix

    changed, findings = fix(tmp_path, asyncpg_project(requirements), [AwareDatetime])
    assert changed == {} and findings == []


def test_naive_columns_are_left_alone_where_a_sync_engine_may_serve_the_table(tmp_path) -> None:
    from tests.rules.project_helpers import fix

    files = asyncpg_project("fastapi\nsqlmodel==0.0.22\nasyncpg==0.30.0\npsycopg2-binary==2.9.10\n")
    files["app/main.py"] += "from sqlmodel import create_engine\n\nreports = create_engine(os.environ['REPORTS_URL'])\n"
    changed, findings = fix(tmp_path, files, [AwareDatetime])
    assert changed == {} and findings == []


def test_a_module_level_name_other_modules_may_use_is_left_alone() -> None:
    # Another module's `datetime.utcnow() - STARTED` would raise on an aware value: only a function's own names
    # are followed to every use.
    source = "from datetime import datetime\nfrom app.models import Visit\n\nSTARTED = datetime.utcnow()\n\n\n" \
             "def mark(visit: Visit):\n    visit.left_at = STARTED\n"
    assert run(source, GIVEN) == (source, [])


def test_time_and_timedelta_fields_are_not_datetimes(tmp_path) -> None:
    from tests.rules.project_helpers import fix

    files = asyncpg_project("fastapi\nsqlmodel==0.0.22\nasyncpg==0.30.0\n")
    files["app/models.py"] = (
        "import datetime\n\nfrom sqlmodel import Field, SQLModel\n\n\nclass Booking(SQLModel, table=True):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n"
        "    opens: datetime.time = Field(default=datetime.time(9, 0))\n"
        "    length: datetime.timedelta = Field(default=datetime.timedelta(hours=1))\n"
        "    created_at: datetime.datetime = Field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))\n")
    changed, findings = fix(tmp_path, files, [AwareDatetime])
    new = changed["app/models.py"]
    assert "opens: datetime.time = Field(default=datetime.time(9, 0))\n" in new
    assert "length: datetime.timedelta = Field(default=datetime.timedelta(hours=1))\n" in new
    assert "datetime.timezone.utc), sa_type=DateTime(timezone=True))\n" in new
    assert [f.rule for f in findings] == ["FX037"]


def test_an_empty_field_of_a_table_giving_aware_values_gets_the_aware_type(tmp_path) -> None:
    from tests.rules.project_helpers import fix

    files = asyncpg_project("fastapi\nsqlmodel==0.0.22\nasyncpg==0.30.0\n")
    files["app/models.py"] = ASYNCPG_TABLES.replace("    starts_at: datetime\n", "    starts_at: datetime = Field()\n")
    changed, _ = fix(tmp_path, files, [AwareDatetime])
    assert "starts_at: datetime = Field(sa_type=DateTime(timezone=True))\n" in changed["app/models.py"]
    compile(changed["app/models.py"], "models.py", "exec")


def test_the_release_whose_field_first_takes_sa_type_gets_it(tmp_path) -> None:
    from fixer import tables
    from tests.rules.project_helpers import fix

    first = tables.first_accepting("sqlmodel", "sqlmodel", "Field", "sa_type", "0.0.8")
    changed, findings = fix(tmp_path, asyncpg_project(f"fastapi\nsqlmodel=={first}\nasyncpg==0.30.0\n"), [AwareDatetime])
    assert "sa_type=DateTime(timezone=True)" in changed["app/models.py"] and findings


NOTES = {"app/models.py": TABLES["app/models.py"] + b"\n\nclass Note(SQLModel, table=True):\n"
         b"    id: int | None = Field(default=None, primary_key=True)\n    logged_at: datetime\n    expires_at: datetime\n"}


@pytest.mark.parametrize(
    "body",
    [
        # Visit's `logged_at` is the project's naive column; Note's column of that name does not make it aware.
        "return Visit(logged_at=datetime.utcnow())",
        "visit = Visit()\n    visit.logged_at = datetime.utcnow()",
        "return Visit.logged_at < datetime.utcnow()",
        # An object not known to be a row: an in-process cache's naive timestamp.
        "return CACHE.expires_at > datetime.utcnow()",
        "return cached.expires_at > datetime.utcnow()",
        "entry.expires_at = datetime.utcnow()",
        "entry.sqlmodel_update({'expires_at': datetime.utcnow()})",
        "entry = make()\n    entry.expires_at = datetime.utcnow()",  # `make` says nothing of what it returns
    ],
)
def test_a_column_is_the_tables_whose_row_holds_it(body: str) -> None:
    source = ("from datetime import datetime\nfrom app.models import Visit\nfrom app.cache import CACHE, Cached\n\n\n"
              "def f(entry, cached: Cached):\n    " + body + "\n")
    assert run(source, stored_model(NOTES)) == (source, [])


@pytest.mark.parametrize(
    "body",
    [
        "return Note(logged_at=datetime.utcnow())",
        "note = Note()\n    note.expires_at = datetime.utcnow()",
        "note = await session.get(Note, 1)\n    return note.expires_at > datetime.utcnow()",
        "return Note.expires_at < datetime.utcnow()",
        "note = one(session)\n    note.expires_at = datetime.utcnow()",  # a function annotated to return one
    ],
)
def test_a_known_rows_aware_column_gets_an_aware_now(body: str) -> None:
    source = ("from datetime import datetime\nfrom app.models import Note\n\n\ndef one(session) -> Note | None:\n"
              "    return session.get(Note, 1)\n\n\nasync def f(session):\n    " + body + "\n")
    new, findings = run(source, stored_model(NOTES))
    assert "datetime.now(timezone.utc)" in new and "utcnow" not in new and len(findings) == 1
    assert run(new, stored_model(NOTES)) == (new, [])


def test_a_tables_aware_columns_take_its_bases_unless_it_declares_them_again() -> None:
    files = dict(STORED)
    files["app/models.py"] += b"\n\nclass Legacy(Stamped, table=True):\n    id: int | None = Field(default=None, primary_key=True)\n" \
                              b"    created_at: datetime = Field(sa_column=Column(DateTime))\n"
    stored = stored_model(files).stored_fields
    assert ("Note", "created_at") in stored.aware_columns and ("Stamped", "created_at") in stored.aware_columns
    assert ("Legacy", "created_at") not in stored.aware_columns
