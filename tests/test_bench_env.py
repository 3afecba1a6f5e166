"""The bench's environment for a backend's start: a setting nothing sets gets a value of its declared type (as a
deploy sets one), and the database URL variables are found by the bench's own reading (names, example values,
declared DSN types), not by fixer's evidence."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixer.model.settingsenv import declared_types

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import appenv  # noqa: E402

SETTINGS = """from typing import Annotated, Literal, Optional
from pydantic import AnyHttpUrl, EmailStr, Field, PostgresDsn, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    TEST_MODE: bool


class Settings(Base):
    ECHO_SQL: Optional[bool]
    POOL_SIZE: Annotated[int, Field(gt=0)]
    RATIO: float | None = None
    WORKERS: PositiveInt
    CLIENT_ORIGIN: list
    PORTS: list[int]
    HEADERS: dict[str, str]
    SITE: AnyHttpUrl
    ADMIN_EMAIL: EmailStr
    MODE: Literal["prod", "dev"]
    NAME: str | int
    PRIMARY: PostgresDsn
    token: str = Field(alias="API_TOKEN")
"""
CASTS = """import os

LIFESPAN = int(os.getenv("TOKEN_LIFESPAN"))
TIMEOUT = float(os.environ.get("TIMEOUT", "2.5"))
RETRIES = int(os.environ["RETRIES"])
NAME = str(os.getenv("NAME"))
"""


def _types(files: dict[str, str]):
    return {t.variable: t for t in declared_types(files.items())}


def test_settings_fields_and_casts_are_read_with_their_kind() -> None:
    types = _types({"app/config.py": SETTINGS, "app/limits.py": CASTS})
    kinds = {name: (t.kind, t.item, t.choices, t.required) for name, t in types.items()}
    assert kinds["APP_TEST_MODE"] == ("bool", "", (), True)
    # the subclass inherits the parent's env_prefix; an Optional field defaults to None in pydantic 1
    assert kinds["APP_ECHO_SQL"] == ("bool", "", (), False)
    assert kinds["APP_POOL_SIZE"][0] == "int" and kinds["APP_WORKERS"][0] == "int"
    assert kinds["APP_RATIO"] == ("float", "", (), False)
    assert kinds["APP_CLIENT_ORIGIN"] == ("list", "text", (), True)
    assert kinds["APP_PORTS"] == ("list", "int", (), True)
    assert kinds["APP_HEADERS"][0] == "dict"
    assert kinds["APP_SITE"][0] == "url" and kinds["APP_ADMIN_EMAIL"][0] == "email"
    assert kinds["APP_MODE"] == ("choice", "", ("prod", "dev"), True)
    assert kinds["APP_NAME"][0] == "text"  # a union with str takes any text
    assert kinds["APP_PRIMARY"][0] == "database-url"
    assert types["API_TOKEN"].name == "token"
    assert kinds["TOKEN_LIFESPAN"] == ("int", "", (), True)
    assert kinds["TIMEOUT"] == ("float", "", (), False)
    assert kinds["RETRIES"] == ("int", "", (), True)


def test_a_class_that_is_no_settings_class_declares_nothing() -> None:
    assert _types({"models.py": "from pydantic import BaseModel\n\nclass Item(BaseModel):\n    done: bool\n"}) == {}
    assert _types({"broken.py": "def (:\n"}) == {}


@pytest.mark.parametrize(("name", "kind", "item", "choices", "value"), [
    ("TEST_MODE", "bool", "", (), "false"),
    ("ECHO_SQL", "bool", "", (), "false"),
    ("TOKEN_LIFESPAN", "int", "", (), "10"),
    ("FILE_LOG_INFO_LEVEL", "int", "", (), "10"),
    ("RATIO", "float", "", (), "1.0"),
    ("CLIENT_ORIGIN", "list", "text", (), '["http://localhost"]'),
    ("PORTS", "list", "int", (), "[10]"),
    ("APP_MODULES", "list", "text", (), "[]"),
    ("HEADERS", "dict", "", (), "{}"),
    ("ADMIN", "email", "", (), "admin@example.com"),
    ("MODE", "choice", "", ("prod", "dev"), "prod"),
])
def test_a_setting_nothing_sets_gets_a_value_of_its_declared_kind(name, kind, item, choices, value) -> None:
    found = appenv.DeclaredType(name, name, kind, item, choices, True, None, "config.py", 1)
    assert appenv.dummy_value(name, {name: found}) == value
    assert appenv.fits(value, kind, item, choices)


@pytest.mark.parametrize(("name", "kind", "value"), [
    ("ACCESS_TOKEN_EXPIRE_MINUTES", "int", "60"),  # the name's own value already passes: it is kept
    ("DEBUG", "bool", "false"),
    ("ALLOWED_ORIGINS", "list", '["http://localhost"]'),
    ("FRONTEND_URL", "url", "http://localhost"),
    ("SECRET", "text", "dummy-" + "x" * 32),
])
def test_a_value_the_name_suggests_stays_where_it_passes_the_type(name, kind, value) -> None:
    found = appenv.DeclaredType(name, name, kind, "text" if kind == "list" else "", (), True, None, "config.py", 1)
    assert appenv.dummy_value(name, {name: found}) == value
    assert appenv.dummy_value(name) == value  # undeclared: by the name alone, as before


def test_a_placeholder_in_the_example_file_gets_the_declared_kind(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("TOKEN_LIFESPAN=\nJWT_SECRET_KEY=\n")
    (tmp_path / "config.py").write_text(CASTS)
    env = appenv.app_env(tmp_path, appenv.PLATFORM_URL, appenv.declared(tmp_path))
    assert env["TOKEN_LIFESPAN"] == "10"


URL_SETTINGS = """from typing import Optional
from pydantic import PostgresDsn, field_validator
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    PRIMARY: PostgresDsn
    DB_URL: str = "sqlite:///./app.db"
    ASYNC_DATABASE_URI: str = ""
    SYNC_DATABASE_URI: Optional[str]
    NEON_API_URL: str
    DATABASE_URI: Optional[PostgresDsn] = None

    @field_validator("ASYNC_DATABASE_URI")
    def assemble(cls, v):
        return v or "postgresql+asyncpg://..."
"""


def test_database_url_variables_are_found_by_name_example_value_and_dsn_type(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("CONNECTION=postgresql+asyncpg://u:p@localhost/db\nREDIS_URL=redis://x\n")
    (tmp_path / "config.py").write_text(URL_SETTINGS)
    (tmp_path / "db.py").write_text(
        'import os\nURL = os.environ["MAIN_DB_URI"]\nOTHER = os.getenv("SQLALCHEMY_DATABASE_URI")\n'
        'CACHE = os.getenv("CACHE_URL")\nLOCAL = os.getenv("PG_DSN", "sqlite:///x.db")\n'
        'OWN = os.getenv("TEST_DATABASE_URL", "")\nSYNC = os.getenv("DATABASE_URL_SYNC")\n'
        'MIGRATE = os.getenv("SYNC_DB_URL", "sqlite:///app.db")\nDRIVER = os.environ["ASYNC_DB_DSN"]\n')
    names = set(appenv.database_url_names(tmp_path, appenv.declared(tmp_path)))
    # the example's value, a database URL's name or DSN type (a flavour: with no default or a database URL one)
    assert {"CONNECTION", "MAIN_DB_URI", "SQLALCHEMY_DATABASE_URI", "PG_DSN", "PRIMARY", "DB_URL",
            "DATABASE_URI", "SYNC_DB_URL", "ASYNC_DB_DSN"} <= names
    # another service's URL; a flavour with an empty or no default (the project's assembly); a name a URL does not end
    assert not {"REDIS_URL", "CACHE_URL", "TEST_DATABASE_URL", "ASYNC_DATABASE_URI", "SYNC_DATABASE_URI",
                "NEON_API_URL", "DATABASE_URL_SYNC"} & names


def test_a_host_gets_a_host_name_and_a_database_host_the_server() -> None:
    assert appenv.dummy_value("REDIS_HOST") == "127.0.0.1"  # not a URL: `redis://:pw@http:6379` fails on the name
    assert appenv.dummy_value("FRONTEND_URL") == "http://localhost"
    env = appenv.database_env(["POSTGRES_HOSTNAME", "DATABASE_PORT", "DB_NAME"], "postgresql://u:p@10.0.0.1:5555/d")
    assert (env["POSTGRES_HOSTNAME"], env["DATABASE_PORT"], env["DB_NAME"]) == ("10.0.0.1", "5555", "d")
