"""FX005 sync-driver-url: `postgresql://` for a sync engine names psycopg2 where SQLAlchemy 2.1 installs."""

from __future__ import annotations

import dataclasses

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from fixer.model import ProjectModel
from fixer.model.database import DatabaseFlow, EngineSite, ShippedUrl, UrlRewrite, UrlSource
from fixer.model.versions import Versions
from fixer.rules.base import FINDINGS_KEY
from fixer.rules.sync_driver_url import SyncDriverUrlCodemod, SyncDriverUrlTextRule

SA21 = Versions(declared={"psycopg2-binary": ">=2.9"}, effective={"sqlalchemy": "2.1.9", "psycopg2-binary": "2.9.11"})
SYNC_READS_IT = DatabaseFlow(engines=(EngineSite("app/db.py", 3, "create_engine", "engine", False, UrlSource(("DATABASE_URL",))),))
ASYNC_READS_IT = DatabaseFlow(engines=(EngineSite("app/db.py", 3, "create_async_engine", "engine", True, UrlSource(("DATABASE_URL",))),))
MODEL = ProjectModel(versions=SA21, flow=SYNC_READS_IT)


def run(source: str, model: ProjectModel = MODEL) -> tuple[str, list]:
    context = CodemodContext(filename="app/db.py")
    new = SyncDriverUrlCodemod(context, facts=model).transform_module(cst.parse_module(source))
    return new.code, context.scratch.get(FINDINGS_KEY, [])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('engine = create_engine("postgresql://localhost/app")\n', 'engine = create_engine("postgresql+psycopg2://localhost/app")\n'),
        ("engine = create_engine('postgres://localhost/app', echo=True)\n", "engine = create_engine('postgresql+psycopg2://localhost/app', echo=True)\n"),
        ('URL = os.getenv("DATABASE_URL", "postgresql://localhost/app")\n', 'URL = os.getenv("DATABASE_URL", "postgresql+psycopg2://localhost/app")\n'),
        ('class S(BaseSettings):\n    DATABASE_URL: str = "postgresql://localhost/app"\n', 'class S(BaseSettings):\n    DATABASE_URL: str = "postgresql+psycopg2://localhost/app"\n'),
        # A URL built from parts in an f-string: its leading text holds the scheme.
        ('engine = create_engine(\n    f"postgresql://{NAME}:{SECRET}@{SERVER}/{BASE}", echo=True)\n',
         'engine = create_engine(\n    f"postgresql+psycopg2://{NAME}:{SECRET}@{SERVER}/{BASE}", echo=True)\n'),
        ("URL = os.getenv(\"DATABASE_URL\", f'postgres://{NAME}@{SERVER}/app')\n",
         "URL = os.getenv(\"DATABASE_URL\", f'postgresql+psycopg2://{NAME}@{SERVER}/app')\n"),
    ],
)
def test_sync_urls_name_psycopg2(before: str, after: str) -> None:
    new, findings = run(before)
    assert new == after
    assert [f.defects for f in findings] == [("ENG-SYNC-DEFAULT-DRIVER",)]
    assert "sqlalchemy 2.1.9" in findings[0].evidence
    assert run(new) == (new, [])


@pytest.mark.parametrize(
    ("source", "model"),
    [
        # SQLAlchemy 2.0 still maps postgresql:// to psycopg2.
        ('engine = create_engine("postgresql://localhost/app")\n', ProjectModel(versions=Versions(declared={"psycopg2": ""}, effective={"sqlalchemy": "2.0.44"}))),
        # psycopg 3 is installed: postgresql:// works on 2.1.
        ('engine = create_engine("postgresql://localhost/app")\n', ProjectModel(versions=Versions(declared={"psycopg2": "", "psycopg": ""}, effective={"sqlalchemy": "2.1.9"}))),
        # An async engine reads this name: FX004's business.
        ('DATABASE_URL: str = "postgresql://localhost/app"\n', ProjectModel(versions=SA21, flow=ASYNC_READS_IT)),
        # Nothing says which engine reads it.
        ('OTHER_URL = "postgresql://localhost/app"\n', MODEL),
        ('"""Docs: postgresql://localhost/app"""\n', MODEL),
        # What a string method looks for and puts back is no URL (a training backend's Heroku-style fix-up): the
        # engine's own argument names the driver, and rewriting both made `.replace("postgresql+psycopg2://",
        # "postgresql+psycopg2://")`, a no-op.
        ('DATABASE_URL = DATABASE_URL.replace("postgres://", "postgresql://", 1)\n', MODEL),
        ('if DATABASE_URL.startswith("postgres://"):\n    pass\n', MODEL),
        # f-strings: one that names a driver already, one whose scheme is a part, one no engine reads.
        ('engine = create_engine(f"postgresql+psycopg2://{NAME}@{SERVER}/app")\n', MODEL),
        ('engine = create_engine(f"{SCHEME}://{NAME}@{SERVER}/app")\n', MODEL),
        ('LOG_LINE = f"postgresql://{SERVER}/app"\n', MODEL),
        ('engine = create_engine(f"postgresql://{NAME}@{SERVER}/app")\n', ProjectModel(versions=Versions(declared={"psycopg2": "", "psycopg": ""}, effective={"sqlalchemy": "2.1.9"}))),
    ],
)
def test_left_alone(source: str, model: ProjectModel) -> None:
    assert run(source, model) == (source, [])


def test_env_lines_read_only_by_sync_engines() -> None:
    rule = SyncDriverUrlTextRule()
    text = "# db\nDATABASE_URL=postgresql://localhost/app\r\nOTHER=postgresql://localhost/x\n"
    new, findings = rule.fix(".env.example", text, MODEL)
    assert new == "# db\nDATABASE_URL=postgresql+psycopg2://localhost/app\r\nOTHER=postgresql://localhost/x\n"
    assert [f.line for f in findings] == [2]
    assert rule.fix(".env.example", new, MODEL) == (new, [])


def test_a_url_a_platform_sets_fails_as_the_platform_gives_it_so_the_fix_is_safe() -> None:
    """DATABASE_URL is what Neon, Render, Heroku... set to `postgresql://...?sslmode=require`: on SQLAlchemy 2.1
    that loads psycopg 3, which does not install. The project need not show it."""
    new, findings = run("engine = create_engine(settings.DATABASE_URL)\n")
    assert new.endswith("engine = create_engine(to_psycopg2_database_url(settings.DATABASE_URL))\n")
    assert [(f.fixed, f.safe, f.rule) for f in findings] == [(True, True, "FX005")]
    assert "the platform URL postgresql://user:pass@host/db?..." in findings[0].evidence
    assert run(new)[0] == new


def test_a_url_no_platform_sets_that_the_project_shows_nowhere_is_an_unsafe_fix() -> None:
    model = ProjectModel(versions=SA21, flow=DatabaseFlow(engines=(dataclasses.replace(
        SYNC_READS_IT.engines[0], url=UrlSource(names=("REPORTS_URL",))),)))
    new, findings = run("engine = create_engine(settings.REPORTS_URL)\n", model)
    assert new == "engine = create_engine(settings.REPORTS_URL)\n"
    assert [(f.fixed, f.safe, f.rule) for f in findings] == [(False, False, "FX005")]
    assert "to_psycopg2_database_url" in findings[0].new_code


SHOWN = ProjectModel(
    versions=SA21,
    flow=DatabaseFlow(
        engines=SYNC_READS_IT.engines,
        shipped=(ShippedUrl(".env.example", 1, "DATABASE_URL", "postgresql", True),),
    ),
)


def test_a_url_read_at_run_time_names_the_driver_where_the_project_shows_a_plain_one() -> None:
    new, findings = run("from app.config import settings\n\nengine = create_engine(settings.DATABASE_URL)\n", SHOWN)
    assert new.endswith("\n\nengine = create_engine(to_psycopg2_database_url(settings.DATABASE_URL))\n")
    assert "from sqlalchemy.engine import make_url\n" in new and "def to_psycopg2_database_url(url: str) -> str:" in new
    assert [(f.fixed, f.safe) for f in findings] == [(True, True)]
    assert ".env.example:1 DATABASE_URL=postgresql://" in findings[0].evidence
    assert run(new, SHOWN)[0] == new


def test_an_engine_the_project_only_gives_sqlite_is_left_alone() -> None:
    model = ProjectModel(
        versions=SA21,
        flow=DatabaseFlow(engines=SYNC_READS_IT.engines, shipped=(ShippedUrl(".env", 1, "DATABASE_URL", "sqlite", False),)),
    )
    source = "engine = create_engine(settings.DATABASE_URL)\n"
    assert run(source, model) == (source, [])


def test_one_platform_url_for_a_sync_and_an_async_engine_is_fixed_at_the_sync_engine() -> None:
    """The sync engine reads the async URL through the project's `.replace("+asyncpg", "+psycopg2")`: the
    shown URL would reach it as psycopg2's, but the platform's `postgresql://` passes that replace untouched
    and loads psycopg 3: no query string satisfies both engines, so each names its driver itself."""
    model = ProjectModel(
        versions=SA21,
        async_db=True,
        flow=DatabaseFlow(
            engines=(
                EngineSite("app/db.py", 3, "create_async_engine", "engine", True, UrlSource(("DATABASE_URL",))),
                EngineSite("app/tools.py", 4, "create_engine", "sync_engine", False,
                           UrlSource(("DATABASE_URL",), through=("str.replace",))),
            ),
            shipped=(ShippedUrl(".env.example", 1, "DATABASE_URL", "postgresql", True),),
            rewrites=(UrlRewrite("app/tools.py", 3, "postgresql+asyncpg://", "postgresql+psycopg2://"),),
        ),
    )
    source = (
        "from app.config import settings\n\n"
        'sync_url = settings.DATABASE_URL.replace("postgresql+asyncpg://", "postgresql+psycopg2://")\n'
        "sync_engine = create_engine(sync_url)\n"
    )
    context = CodemodContext(filename="app/tools.py")
    new = SyncDriverUrlCodemod(context, facts=model).transform_module(cst.parse_module(source)).code
    findings = context.scratch.get(FINDINGS_KEY, [])
    assert new.endswith("sync_engine = create_engine(to_psycopg2_database_url(sync_url))\n")
    assert [(f.fixed, f.safe) for f in findings] == [(True, True)]
