import ast
import configparser
import os
import re

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, CodemodTest

from fixer.model import ProjectModel
from fixer.rules.findings import Category, Severity
from fixer.rules.base import FINDINGS_KEY
from fixer.rules.database_url import DatabaseUrlCodemod
from fixer.rules.url_normaliser import NORMALISER_SOURCE, RuntimeUrlNormaliser
from fixer.rules.database_url_text import DatabaseUrlTextRule
from fixer.model.urls import redact, to_async_url

ASYNC = ProjectModel(async_db=True)
SYNC = ProjectModel(async_db=False)
NEON = (
    "postgresql://neondb_owner:npg_Xk7pQ2vLm9Rt@ep-cool-darkness-a1b2c3d4.us-east-2.aws.neon.tech/neondb"
    "?sslmode=require&channel_binding=require"
)
NEON_ASYNC = (
    "postgresql+asyncpg://neondb_owner:npg_Xk7pQ2vLm9Rt@ep-cool-darkness-a1b2c3d4.us-east-2.aws.neon.tech/neondb"
    "?ssl=require"
)


def run(cls, source: str, facts: ProjectModel = ASYNC, filename: str = "app/db.py") -> tuple[str, list]:
    context = CodemodContext(filename=filename)
    module = cls(context, facts=facts).transform_module(cst.parse_module(source))
    return module.code, context.scratch.get(FINDINGS_KEY, [])


# ----------------------------------------------------------------------------------------------- urls.py


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        (NEON, NEON_ASYNC),
        ("postgresql+asyncpg://h/db?sslmode=verify-full", "postgresql+asyncpg://h/db?ssl=verify-full"),
        ("postgresql+asyncpg://h/db?channel_binding=require", "postgresql+asyncpg://h/db"),
        (
            "postgresql://h/db?application_name=x&sslmode=require&connect_timeout=5",
            "postgresql+asyncpg://h/db?application_name=x&ssl=require&connect_timeout=5",
        ),
        ("postgresql://h/db?sslmode=require&ssl=disable", "postgresql+asyncpg://h/db?ssl=disable"),
        # the password and its percent-encoding are kept byte for byte, '?' in the password included
        ("postgresql://u:p%40ss%2Fw%3F@h/db?sslmode=prefer", "postgresql+asyncpg://u:p%40ss%2Fw%3F@h/db?ssl=prefer"),
        ("postgresql://u:p?ss@h/db?sslmode=require", "postgresql+asyncpg://u:p?ss@h/db?ssl=require"),
        ("postgresql://u:p@h/db#frag", "postgresql+asyncpg://u:p@h/db#frag"),
        ("postgresql://u:${PW}@db/${DB}", "postgresql+asyncpg://u:${PW}@db/${DB}"),
    ],
)
def test_to_async_url(url: str, expected: str) -> None:
    assert to_async_url(url) == expected
    assert to_async_url(expected) is None  # idempotent


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:p@h/db?sslmode=require",  # psycopg 3 is async: URL-PSYCOPG3
        "postgresql+asyncpg://u:p@h/db",
        "postgresql+asyncpg://u:p@h/db?ssl=require",
        "sqlite:///./app.db",
        "sqlite+aiosqlite:///./app.db",
        "mysql://u:p@h/db?sslmode=require",
        "postgresql://",  # a bare scheme, as in url.replace("postgresql://", ...)
        "postgres://",
        "https://example.com/postgresql://x",
    ],
)
def test_to_async_url_leaves_alone(url: str) -> None:
    assert to_async_url(url) is None


def test_to_async_url_agrees_with_sqlalchemy() -> None:
    from sqlalchemy.engine import make_url

    url = to_async_url("postgresql://u:p%40ss@h:5432/db?sslmode=prefer&channel_binding=prefer")
    parsed = make_url(url)
    assert parsed.drivername == "postgresql+asyncpg"
    assert parsed.password == "p@ss"
    assert dict(parsed.query) == {"ssl": "prefer"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:secret@h/db", "postgresql://u:***@h/db"),
        (
            'DATABASE_URL="postgresql+asyncpg://app:p%40ss@db:5432/app?ssl=require"',
            'DATABASE_URL="postgresql+asyncpg://app:***@db:5432/app?ssl=require"',
        ),
        (NEON, NEON.replace("npg_Xk7pQ2vLm9Rt", "***")),
        ("a postgres://a:1@x and redis://:pw@cache:6379/0 b", "a postgres://a:***@x and redis://:***@cache:6379/0 b"),
        ("sqlalchemy.url = postgresql://u:p%%40ss@h/db", "sqlalchemy.url = postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),  # no password
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),  # a port is no password
        ("postgresql://u:${POSTGRES_PASSWORD}@db/app", "postgresql://u:${POSTGRES_PASSWORD}@db/app"),  # placeholder
        ('f"postgresql://{user}:{password}@{host}/db"', 'f"postgresql://{user}:{password}@{host}/db"'),
        ("postgresql://u:***@h/db", "postgresql://u:***@h/db"),
        ("no url here: a@b", "no url here: a@b"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


# ----------------------------------------------------------------------------------------------- text rule

RULE = DatabaseUrlTextRule()


def fix(path: str, text: str, facts: ProjectModel = ASYNC) -> tuple[str, list]:
    return RULE.fix(path, text, facts)


def test_rule_metadata() -> None:
    for cls in (DatabaseUrlTextRule, DatabaseUrlCodemod, RuntimeUrlNormaliser):
        assert cls.RULE_ID == "FX004"
        assert cls.RULE_NAME == "async-database-url"
        assert cls.title()
        for defect in cls.DEFECTS:
            assert defect in (cls.__doc__ or "") or defect == "URL-WHERE"


@pytest.mark.parametrize(
    ("path", "applies"),
    [
        (".env", True),
        ("backend/.env", True),
        ("backend/.env.example", True),
        (".env.local", True),
        ("alembic.ini", True),
        ("backend/alembic.ini", True),
        ("docker-compose.yml", True),
        ("deploy/docker-compose.prod.yaml", True),
        ("compose.yaml", True),
        ("compose.override.yml", True),
        ("settings.env", False),
        ("environment.yml", False),
        ("setup.cfg", False),
        ("app/config.py", False),
    ],
)
def test_applies_to(path: str, applies: bool) -> None:
    assert RULE.applies_to(path) is applies


def test_seed_dotenv_neon_url() -> None:
    text = f"DATABASE_URL={NEON}\nSECRET_KEY=change-me\n"
    new, findings = fix(".env", text)
    assert new == f"DATABASE_URL={NEON_ASYNC}\nSECRET_KEY=change-me\n"
    [finding] = findings
    assert finding.rule == "FX004"
    assert finding.category is Category.CONFIG and finding.severity is Severity.CRITICAL
    assert finding.line == 1
    assert finding.old_code == f"DATABASE_URL={NEON}"
    assert finding.new_code == f"DATABASE_URL={NEON_ASYNC}"
    assert set(finding.defects) == {"URL-PLAIN", "URL-NEON-SSL", "URL-WHERE"}
    assert "sslmode" in finding.root_cause


def test_dotenv_keeps_everything_but_the_url() -> None:
    text = (
        "# database\r\n"
        'export DATABASE_URL="postgres://u:p%40ss@db:5432/app"\r\n'
        "# DATABASE_URL=postgresql://old@h/db\r\n"
        "  TEST_DATABASE_URL = 'postgresql+psycopg2://u:p@db/test'\r\n"
        "SYNC_DATABASE_URL=postgresql://u:p@db/app\r\n"
        "REDIS_URL=redis://:pw@cache:6379/0\r\n"
        "OTHER=postgresql://u:p@db/app?sslmode=require # was postgres://x@y/z"
    )
    new, findings = fix("backend/.env.example", text)
    assert new == (
        "# database\r\n"
        'export DATABASE_URL="postgresql+asyncpg://u:p%40ss@db:5432/app"\r\n'
        "# DATABASE_URL=postgresql://old@h/db\r\n"
        "  TEST_DATABASE_URL = 'postgresql+asyncpg://u:p@db/test'\r\n"
        "SYNC_DATABASE_URL=postgresql://u:p@db/app\r\n"
        "REDIS_URL=redis://:pw@cache:6379/0\r\n"
        "OTHER=postgresql+asyncpg://u:p@db/app?ssl=require # was postgres://x@y/z"
    )
    assert [f.line for f in findings] == [2, 4, 7]
    assert findings[0].old_code == 'export DATABASE_URL="postgres://u:p%40ss@db:5432/app"'  # no "\r"
    assert "URL-POSTGRES" in findings[0].defects
    assert "URL-PSYCOPG2" in findings[1].defects


def test_unchanged_text_is_the_same_object() -> None:
    for path, text in [
        (".env", "DATABASE_URL=postgresql+asyncpg://u:p@h/db\n"),
        (".env", "DATABASE_URL=postgresql+psycopg://u:p@h/db?sslmode=require\n"),
        (".env", "DATABASE_URL=sqlite:///./app.db\n"),
        ("alembic.ini", "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/dbname\n"),
        ("docker-compose.yml", "services:\n  db:\n    image: postgres:16\n"),
    ]:
        new, findings = fix(path, text)
        assert new is text and findings == []


def test_non_async_project_is_left_alone() -> None:
    text = f"DATABASE_URL={NEON}\n"
    new, findings = fix(".env", text, SYNC)
    assert new is text and findings == []
    ini = "[alembic]\nsqlalchemy.url = postgresql://u:p%40ss@h/db\n"
    assert fix("alembic.ini", ini, SYNC) == (ini, [])


def test_alembic_percent_escaping() -> None:
    text = (
        "[alembic]\n"
        "script_location = %(here)s/alembic\n"
        "# sqlalchemy.url = postgresql://u:p%40ss@h/db\n"
        "sqlalchemy.url = postgresql://u:p%40ss@h:5432/db?sslmode=require&channel_binding=require\n"
        "\n"
        "[second]\n"
        "sqlalchemy.url=postgresql+asyncpg://u:p%%40ss@h/db\n"  # already escaped: correct as it is
        "\n"
        "[third]\n"
        "sqlalchemy.url = postgresql+asyncpg://u:50%@h/%(db)s\n"
        "db = app\n"
    )
    new, findings = fix("alembic.ini", text)
    assert new == (
        "[alembic]\n"
        "script_location = %(here)s/alembic\n"
        "# sqlalchemy.url = postgresql://u:p%40ss@h/db\n"
        "sqlalchemy.url = postgresql+asyncpg://u:p%%40ss@h:5432/db?ssl=require\n"
        "\n"
        "[second]\n"
        "sqlalchemy.url=postgresql+asyncpg://u:p%%40ss@h/db\n"
        "\n"
        "[third]\n"
        "sqlalchemy.url = postgresql+asyncpg://u:50%%@h/%(db)s\n"
        "db = app\n"
    )
    assert [f.line for f in findings] == [4, 10]
    assert "URL-ALEMBIC-PCT" in findings[0].defects and "URL-NEON-SSL" in findings[0].defects
    assert set(findings[1].defects) == {"URL-ALEMBIC-PCT", "URL-WHERE"}

    # configparser (alembic's reader) now reads back the URL as written, percent-encoding included
    parser = configparser.ConfigParser(defaults={"here": "/srv"})
    parser.read_string(new)
    assert parser.get("alembic", "sqlalchemy.url") == "postgresql+asyncpg://u:p%40ss@h:5432/db?ssl=require"
    assert parser.get("second", "sqlalchemy.url") == "postgresql+asyncpg://u:p%40ss@h/db"
    assert parser.get("third", "sqlalchemy.url") == "postgresql+asyncpg://u:50%@h/app"


def test_alembic_unchanged_when_escaping_is_already_right() -> None:
    text = "[alembic]\r\nsqlalchemy.url = postgresql+asyncpg://u:p%%40ss@h/db\r\n"
    assert fix("alembic.ini", text) == (text, [])


COMPOSE = """\
x-db-env: &db-env
  DATABASE_URL: postgres://app:app@db:5432/app

services:
  api:
    build: ./backend
    environment:
      - DATABASE_URL=postgresql://app:p%40ss@db:5432/app?sslmode=disable
      - "READ_URL=postgres://app:app@replica/app"
      - SYNC_DATABASE_URL=postgresql://app:app@db/app
      - DEBUG=1
    command: ["sh", "-c", "psql postgresql://app:app@db/app -c 'select 1' && uvicorn app.main:app"]
  worker:
    build: .
    environment:
      DATABASE_URL: 'postgresql+psycopg2://app:${POSTGRES_PASSWORD}@db/app' # keep this comment postgres://x@y/z
      BACKUP_URL: "${BACKUP_URL:-postgresql://app:app@db/app}"
      PSYCOPG3_URL: postgresql+psycopg://app:app@db/app
    healthcheck:
      test: pg_isready -d postgresql://app:app@db/app
  hasura:
    image: hasura/graphql-engine:v2
    environment:
      HASURA_GRAPHQL_DATABASE_URL: postgres://app:app@db:5432/app
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: app"""


def test_compose_environment_both_forms() -> None:
    new, findings = fix("docker-compose.yml", COMPOSE)
    expected = (
        COMPOSE.replace(
            "DATABASE_URL: postgres://app:app@db:5432/app\n",
            "DATABASE_URL: postgresql+asyncpg://app:app@db:5432/app\n",
            1,
        )
        .replace(
            "- DATABASE_URL=postgresql://app:p%40ss@db:5432/app?sslmode=disable",
            "- DATABASE_URL=postgresql+asyncpg://app:p%40ss@db:5432/app?ssl=disable",
        )
        .replace('"READ_URL=postgres://', '"READ_URL=postgresql+asyncpg://')
        .replace("'postgresql+psycopg2://app:${POSTGRES_PASSWORD}", "'postgresql+asyncpg://app:${POSTGRES_PASSWORD}")
        .replace("${BACKUP_URL:-postgresql://", "${BACKUP_URL:-postgresql+asyncpg://")
    )
    assert new == expected
    assert [f.line for f in findings] == [2, 8, 9, 16, 17]
    # untouched: the sync key, psql's command line, the healthcheck, psycopg 3, the third-party image
    assert "SYNC_DATABASE_URL=postgresql://app:app@db/app" in new
    assert "psql postgresql://app:app@db/app" in new
    assert "pg_isready -d postgresql://app:app@db/app" in new
    assert "HASURA_GRAPHQL_DATABASE_URL: postgres://app:app@db:5432/app" in new
    assert "# keep this comment postgres://x@y/z" in new
    assert not new.endswith("\n")


def test_compose_list_items_at_the_key_indent_and_crlf() -> None:
    text = "services:\r\n  api:\r\n    build: .\r\n    environment:\r\n    - DATABASE_URL=postgres://u:p@db/app\r\n"
    new, [finding] = fix("compose.yaml", text)
    assert new == text.replace("postgres://", "postgresql+asyncpg://")
    assert finding.line == 5
    assert finding.new_code == "    - DATABASE_URL=postgresql+asyncpg://u:p@db/app"


# ----------------------------------------------------------------------------------------------- literals


class TestDatabaseUrlCodemod(CodemodTest):
    TRANSFORM = DatabaseUrlCodemod

    def check(self, before: str, after: str, facts: ProjectModel = ASYNC, findings: int | None = None) -> None:
        self.assertCodemod(before, after, facts=facts)
        ast.parse(self.make_fixture_data(after))
        code, reported = run(DatabaseUrlCodemod, self.make_fixture_data(before), facts)
        self.assertEqual(code, self.make_fixture_data(after))
        if findings is not None:
            self.assertEqual(len(reported), findings)
        again, found_again = run(DatabaseUrlCodemod, code, facts)
        self.assertEqual(again, code, "a second run must change nothing")
        self.assertEqual(found_again, [])

    def unchanged(self, source: str, facts: ProjectModel = ASYNC, filename: str = "app/db.py") -> None:
        code, findings = run(DatabaseUrlCodemod, self.make_fixture_data(source), facts, filename)
        self.assertEqual(code, self.make_fixture_data(source))
        self.assertEqual(findings, [])

    def test_seed_settings_default(self) -> None:
        self.check(
            """
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):
                DATABASE_URL: str = "postgresql://postgres:postgres@localhost:5432/app"
                SECRET_KEY: str = "change-me"
            """,
            """
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):
                DATABASE_URL: str = "postgresql+asyncpg://postgres:postgres@localhost:5432/app"
                SECRET_KEY: str = "change-me"
            """,
            findings=1,
        )

    def test_finding(self) -> None:
        _, [finding] = run(DatabaseUrlCodemod, 'DATABASE_URL = "postgres://u:p@h/db?sslmode=require"\n')
        self.assertEqual(finding.rule, "FX004")
        self.assertEqual(finding.old_code, '"postgres://u:p@h/db?sslmode=require"')
        self.assertEqual(finding.new_code, '"postgresql+asyncpg://u:p@h/db?ssl=require"')
        self.assertEqual(set(finding.defects), {"URL-POSTGRES", "URL-NEON-SSL", "URL-WHERE"})
        self.assertIs(finding.severity, Severity.CRITICAL)
        self.assertTrue(finding.fixed)

    def test_each_scheme_and_quote_style(self) -> None:
        self.check(
            """
            import os

            a = os.getenv("DATABASE_URL", 'postgres://u:p@h/db')
            b = "postgresql://u:p@h/db"
            c = r"postgresql+psycopg2://u:p@h/db"
            d = R'''postgresql://u:p@h/db'''
            e = u"postgresql://u:p@h/db"
            engine = create_async_engine("postgresql://u:p@h/db", echo=True)
            """,
            """
            import os

            a = os.getenv("DATABASE_URL", 'postgresql+asyncpg://u:p@h/db')
            b = "postgresql+asyncpg://u:p@h/db"
            c = r"postgresql+asyncpg://u:p@h/db"
            d = R'''postgresql+asyncpg://u:p@h/db'''
            e = u"postgresql+asyncpg://u:p@h/db"
            engine = create_async_engine("postgresql+asyncpg://u:p@h/db", echo=True)
            """,
            findings=6,
        )

    def test_neon_url_and_percent_encoded_password(self) -> None:
        self.check(
            f"""
            DATABASE_URL = "{NEON}"
            OTHER = Field(default="postgresql+asyncpg://u:p%40ss%23w@h/db?sslmode=require&channel_binding=require")
            """,
            f"""
            DATABASE_URL = "{NEON_ASYNC}"
            OTHER = Field(default="postgresql+asyncpg://u:p%40ss%23w@h/db?ssl=require")
            """,
            findings=2,
        )

    def test_f_strings_and_concatenation(self) -> None:
        self.check(
            """
            url = f"postgresql://{user}:{password}@{host}:{port}/{name}?sslmode={mode}&channel_binding={cb}"
            other = rf'postgres://{user}@h/{name!r:>{width}}'
            neon = (
                "postgresql://owner:pw@ep-1.neon.tech/neondb"
                "?sslmode=require&channel_binding=require"
            )
            mixed = "postgresql://" f"{user}:{pw}@h/db" "?sslmode=require"
            """,
            """
            url = f"postgresql+asyncpg://{user}:{password}@{host}:{port}/{name}?ssl={mode}"
            other = rf'postgresql+asyncpg://{user}@h/{name!r:>{width}}'
            neon = (
                "postgresql+asyncpg://owner:pw@ep-1.neon.tech/neondb"
                "?ssl=require"
            )
            mixed = "postgresql+asyncpg://" f"{user}:{pw}@h/db" "?ssl=require"
            """,
            findings=4,
        )

    def test_left_alone(self) -> None:
        self.unchanged(
            '''
            """Set DATABASE_URL=postgresql://user:pass@host/db in production."""
            import psycopg

            A = "postgresql+psycopg://u:p@h/db?sslmode=require"
            B = "sqlite:///./app.db"
            C = "mysql://u:p@h/db"
            D = b"postgresql://u:p@h/db"
            E = f"{scheme}://u:p@h/db"
            F = "postgresql+asyncpg://u:p@h/db?ssl=require"
            url = url.replace("postgres://", "postgresql://", 1)
            if url.startswith("postgresql+psycopg2://"):
                pass
            SYNC_DATABASE_URL = "postgresql://u:p@h/db"
            settings = Settings(database_url_sync="postgresql://u:p@h/db")
            sync_engine = create_engine("postgresql://u:p@h/db")
            pool = await asyncpg.create_pool("postgresql://u:p@h/db?sslmode=require")
            conn = psycopg.connect("postgresql://u:p@h/db")
            print("see postgresql://docs")
            '''
        )

    def test_non_async_project_is_left_alone(self) -> None:
        self.unchanged('DATABASE_URL = "postgresql://u:p@h/db"\n', facts=SYNC)

    def test_sync_driver_user_file_is_left_alone(self) -> None:
        facts = ProjectModel(async_db=True, sync_driver_users=("scripts/seed.py",))
        source = 'import psycopg2\n\nconn = psycopg2.connect(DSN)\nDSN = "postgresql://u:p@h/db"\n'
        self.unchanged(source, facts, filename="scripts/seed.py")
        self.unchanged(source, facts, filename="/abs/project/scripts/seed.py")
        code, findings = run(DatabaseUrlCodemod, source, facts, filename="app/db.py")
        self.assertIn('"postgresql+asyncpg://u:p@h/db"', code)
        self.assertEqual(len(findings), 1)

    def test_trigger(self) -> None:
        trigger = DatabaseUrlCodemod.TRIGGER
        self.assertTrue(trigger.search(b'URL = "postgresql://u@h/db"'))
        self.assertTrue(trigger.search(b'URL = "postgres://u@h/db"'))
        self.assertTrue(trigger.search(b'URL = "postgresql+psycopg2://u@h/db"'))
        self.assertTrue(trigger.search(b'URL = "postgresql+asyncpg://u@h/db?sslmode=require"'))
        self.assertFalse(trigger.search(b'URL = "postgresql+asyncpg://u@h/db?ssl=require"'))
        self.assertFalse(trigger.search(b'URL = "postgresql+psycopg://u@h/db"'))
        self.assertFalse(trigger.search(b'URL = "sqlite:///app.db"'))


# ----------------------------------------------------------------------------------------------- normaliser

FUNCTION = NORMALISER_SOURCE


def module_with_function(head: str, tail: str) -> str:
    """`head` (imports) + make_url import + the function + `tail`, separated as black would."""
    return f"{head}from sqlalchemy.engine import make_url\n\n\n{FUNCTION}\n\n{tail}"


class TestRuntimeUrlNormaliser(CodemodTest):
    TRANSFORM = RuntimeUrlNormaliser

    def check(self, before: str, after: str, facts: ProjectModel = ASYNC, findings: int | None = None) -> None:
        # `after` is given without indentation (it embeds the function), `before` is dedented
        before = self.make_fixture_data(before)
        code, reported = run(RuntimeUrlNormaliser, before, facts)
        self.assertEqual(code, after)
        self.assertCodemod(before, after, facts=facts)
        ast.parse(code)
        if findings is not None:
            self.assertEqual(len(reported), findings)
        again, found_again = run(RuntimeUrlNormaliser, code, facts)
        self.assertEqual(again, code, "a second run must change nothing")
        self.assertEqual(found_again, [])

    def unchanged(self, source: str, facts: ProjectModel = ASYNC) -> None:
        source = self.make_fixture_data(source)
        code, findings = run(RuntimeUrlNormaliser, source, facts)
        self.assertEqual(code, source)
        self.assertEqual(findings, [])

    def test_seed_database_module(self) -> None:
        self.check(
            '''
            """Database engine."""
            from __future__ import annotations

            from sqlalchemy.ext.asyncio import create_async_engine

            from app.core.config import settings

            # one engine per process
            engine = create_async_engine(settings.DATABASE_URL, echo=False, pool_pre_ping=True)


            async def init_db() -> None:
                other = create_async_engine(url=os.environ["OTHER_URL"])
            ''',
            module_with_function(
                '"""Database engine."""\n'
                "from __future__ import annotations\n\n"
                "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
                "from app.core.config import settings\n",
                "# one engine per process\n"
                "engine = create_async_engine(to_async_database_url(settings.DATABASE_URL), echo=False, "
                "pool_pre_ping=True)\n"
                "\n\n"
                "async def init_db() -> None:\n"
                '    other = create_async_engine(url=to_async_database_url(os.environ["OTHER_URL"]))\n',
            ),
            findings=2,
        )

    def test_imports_after_load_dotenv(self) -> None:
        # Regression (todo fixture): the function and make_url's import used to land between
        # `from dotenv import load_dotenv` and `load_dotenv()`, i.e. a def in the middle of the imports.
        self.check(
            """
            \"\"\"Database.\"\"\"
            import os

            from dotenv import load_dotenv

            load_dotenv()

            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(os.getenv("DATABASE_URL"))
            from app import models  # noqa: E402  after the first use: not a place for the function
            """,
            module_with_function(
                '"""Database."""\nimport os\n\nfrom dotenv import load_dotenv\n\nload_dotenv()\n\n'
                "from sqlalchemy.ext.asyncio import create_async_engine\n",
                'engine = create_async_engine(to_async_database_url(os.getenv("DATABASE_URL")))\n'
                "from app import models  # noqa: E402  after the first use: not a place for the function\n",
            ),
            findings=1,
        )

    def test_late_imports_extend_an_existing_sqlalchemy_engine_import(self) -> None:
        self.check(
            """
            from dotenv import load_dotenv
            load_dotenv()
            from sqlalchemy.engine import URL
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(get_url())
            """,
            "from dotenv import load_dotenv\nload_dotenv()\nfrom sqlalchemy.engine import URL, make_url\n"
            f"from sqlalchemy.ext.asyncio import create_async_engine\n\n\n{FUNCTION}\n\n"
            "engine = create_async_engine(to_async_database_url(get_url()))\n",
            findings=1,
        )

    def test_engine_built_inside_a_function_after_late_imports(self) -> None:
        self.check(
            """
            import os
            os.environ.setdefault("TZ", "UTC")
            from sqlalchemy.ext.asyncio import create_async_engine


            def make_engine():
                return create_async_engine(os.environ["DATABASE_URL"])
            """,
            module_with_function(
                'import os\nos.environ.setdefault("TZ", "UTC")\nfrom sqlalchemy.ext.asyncio import create_async_engine\n',
                'def make_engine():\n    return create_async_engine(to_async_database_url(os.environ["DATABASE_URL"]))\n',
            ),
            findings=1,
        )

    def test_finding(self) -> None:
        _, [finding] = run(
            RuntimeUrlNormaliser,
            "from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine(URL, echo=True)\n",
        )
        self.assertEqual(finding.rule, "FX004")
        self.assertEqual(finding.old_code, "create_async_engine(URL, echo=True)")
        self.assertEqual(finding.new_code, "create_async_engine(to_async_database_url(URL), echo=True)")
        self.assertIn("URL-WHERE", finding.defects)
        self.assertIs(finding.category, Category.CONFIG)

    def test_existing_make_url_import_and_attribute_call(self) -> None:
        self.check(
            """
            import sqlalchemy.ext.asyncio
            from sqlalchemy import make_url
            engine = sqlalchemy.ext.asyncio.create_async_engine(get_url())
            """,
            "import sqlalchemy.ext.asyncio\n"
            "from sqlalchemy import make_url\n\n\n"
            f"{FUNCTION}\n\n"
            "engine = sqlalchemy.ext.asyncio.create_async_engine(to_async_database_url(get_url()))\n",
            findings=1,
        )

    def test_left_alone(self) -> None:
        self.unchanged(
            """
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import create_async_engine

            a = create_async_engine("postgresql+asyncpg://u:p@h/db")
            b = create_async_engine(url=f"postgresql+asyncpg://{host}/db")
            c = create_async_engine(*args)
            d = create_async_engine(**kwargs)
            e = create_engine(settings.DATABASE_URL)
            """
        )

    def test_non_async_project_is_left_alone(self) -> None:
        self.unchanged("engine = create_async_engine(settings.DATABASE_URL)\n", facts=SYNC)

    def test_module_that_already_has_the_function(self) -> None:
        self.unchanged(
            """
            from app.db.urls import to_async_database_url

            engine = create_async_engine(settings.DATABASE_URL)
            """
        )

    def test_module_whose_own_make_url_is_something_else(self) -> None:
        # Found while writing the fuzz test's rename mutation: the function would call the module's `make_url`,
        # a string here.
        self.unchanged(
            """
            import os

            make_url = os.environ["DATABASE_URL"]
            engine = create_async_engine(make_url)
            """
        )

    def test_tabs_and_crlf(self) -> None:
        source = "import os\r\nif True:\r\n\tengine = create_async_engine(os.environ['URL'])\r\n"
        code, [_] = run(RuntimeUrlNormaliser, source)
        self.assertNotIn("\n", code.replace("\r\n", ""))
        self.assertIn("\tparsed = make_url(url)\r\n", code)
        self.assertNotIn("    ", code)
        compile(code, "db.py", "exec")
        self.assertEqual(run(RuntimeUrlNormaliser, code), (code, []))

    def test_trigger(self) -> None:
        self.assertTrue(RuntimeUrlNormaliser.TRIGGER.search(b"engine = create_async_engine(url)"))
        self.assertTrue(RuntimeUrlNormaliser.TRIGGER.search(b"engine = create_engine(url)"))  # FX002 runs first
        self.assertFalse(RuntimeUrlNormaliser.TRIGGER.search(b"engine = make_engine(url)"))

    def test_inserted_function_runs_with_sqlalchemy(self) -> None:
        source = "import os\n\nengine = create_async_engine(os.environ['DATABASE_URL'], echo=True)\n"
        code, _ = run(RuntimeUrlNormaliser, source)
        cases = {
            "postgresql://u:p%40ss@h:5432/db?sslmode=prefer&channel_binding=prefer": (
                "postgresql+asyncpg://u:p%40ss@h:5432/db?ssl=prefer"
            ),
            NEON: NEON_ASYNC,
            "postgres://u:p@h/db": "postgresql+asyncpg://u:p@h/db",
            "postgresql+psycopg2://u:p@h/db": "postgresql+asyncpg://u:p@h/db",
            "postgresql+asyncpg://u:p@h/db?ssl=require": "postgresql+asyncpg://u:p@h/db?ssl=require",
            "postgresql+psycopg://u:p@h/db?sslmode=require": "postgresql+psycopg://u:p@h/db?sslmode=require",
            "sqlite+aiosqlite:///./app.db": "sqlite+aiosqlite:///./app.db",
        }
        for url, expected in cases.items():
            namespace = {"create_async_engine": lambda url, **kwargs: url}
            old = os.environ.get("DATABASE_URL")
            os.environ["DATABASE_URL"] = url
            try:
                exec(compile(code, "db.py", "exec"), namespace)
            finally:
                if old is None:
                    del os.environ["DATABASE_URL"]
                else:
                    os.environ["DATABASE_URL"] = old
            self.assertEqual(namespace["engine"], expected)
            # and the pure-string helper agrees with the run-time one
            self.assertEqual(to_async_url(url) or url, expected)

    def test_function_source_is_verbatim(self) -> None:
        self.assertTrue(NORMALISER_SOURCE.startswith("def to_async_database_url(url: str) -> str:\n"))
        self.assertIn("render_as_string(hide_password=False)", NORMALISER_SOURCE)
        self.assertEqual(len(re.findall(r"^def ", NORMALISER_SOURCE, re.MULTILINE)), 1)


def test_make_url_import_lands_in_the_third_party_section() -> None:
    # Not after the project's own `from app.config import settings`, where LibCST appends it (isort/ruff `I`).
    facts = ProjectModel(async_db=True, first_party=frozenset({"app"}))
    source = (
        "import os\n\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\nfrom app.config import settings\n\n"
        "engine = create_async_engine(settings.DATABASE_URL)\n"
    )
    new, _ = run(RuntimeUrlNormaliser, source, facts)
    assert new.startswith(
        "import os\n\nfrom sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlalchemy.engine import make_url\n\n"
        "from app.config import settings\n\n\ndef to_async_database_url("
    ), new


def test_make_url_import_stays_in_the_top_section_when_the_module_imports_again_at_its_end() -> None:
    # A training backend ends with a stray `from sqlalchemy import select`: the new import went after the
    # project's relative import (LibCST's place), not into the third-party lines at the top.
    source = (
        "from sqlalchemy.ext.asyncio import create_async_engine\nimport asyncio\n\nfrom .config import settings\n\n"
        "engine = create_async_engine(settings.DATABASE_URL)\n\n\nfrom sqlalchemy import select\n"
    )
    new, _ = run(RuntimeUrlNormaliser, source)
    assert new.startswith(
        "from sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlalchemy.engine import make_url\nimport asyncio\n\n"
        "from .config import settings\n\n\ndef to_async_database_url("
    ), new
    assert run(RuntimeUrlNormaliser, new) == (new, [])


def test_alembic_ini_url_that_env_py_overrides_is_left_alone() -> None:
    # env.py calls config.set_main_option("sqlalchemy.url", ...): the ini's value is never read.
    text = "[alembic]\nsqlalchemy.url = postgresql://u@db/app\n"
    assert fix("alembic.ini", text, ProjectModel(async_db=True, alembic_ini_url_unused=True)) == (text, [])


def test_a_url_compared_against_is_not_rewritten() -> None:
    # The project's sentinel for "the default URL": the literal tests the input, it is not a URL given.
    source = 'if URL == "postgresql+psycopg2://user:password@localhost/db":\n    URL = "sqlite+aiosqlite:///./app.db"\n'
    assert run(DatabaseUrlCodemod, source) == (source, [])
