"""Rules decide by the versions the prediction's fresh install gives on the project's own CPython (issue 23):
the SQLModel a CPython 3.10 image installs, the async driver the install gives, and a PostgreSQL app whose URL
defaults to SQLite."""

from __future__ import annotations

import pytest

from fixer.model import ProjectModel
from fixer.model.urls import async_driver, to_async_url
from tests.test_model import model_of

DOCKERFILE = "FROM python:{python}-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n" \
             'CMD ["uvicorn", "main:app"]\n'
APP = "import os\nfrom fastapi import FastAPI\nfrom sqlmodel import create_engine\n\n" \
      'engine = create_engine(os.getenv("DATABASE_URL", "sqlite:///./local.db"))\napp = FastAPI()\n'


@pytest.mark.parametrize(("python", "sqlmodel"), [("3.10", "0.0.48"), ("3.12", "0.0.50")])
def test_the_model_versions_are_those_of_the_projects_cpython(tmp_path, python: str, sqlmodel: str) -> None:
    # sqlmodel 0.0.50 requires CPython 3.11: pip on 3.10 installs 0.0.48 (fixer's package tables).
    model = model_of(tmp_path, {"Dockerfile": DOCKERFILE.format(python=python), "requirements.txt": "fastapi\nsqlmodel\n",
                                "main.py": APP})
    assert str(model.versions.version("sqlmodel")) == sqlmodel
    assert f"sqlmodel {sqlmodel}" in model.versions.judged_against("sqlmodel")


@pytest.mark.parametrize(
    ("dists", "driver"),
    [({"psycopg"}, "psycopg"), ({"psycopg", "psycopg2"}, "psycopg"), ({"psycopg", "asyncpg"}, "asyncpg"),
     ({"asyncpg"}, "asyncpg"), ({"psycopg2"}, "asyncpg"), (set(), "asyncpg")],
)
def test_the_async_driver_is_the_one_the_install_gives(dists: set[str], driver: str) -> None:
    assert async_driver(dists.__contains__) == driver


@pytest.mark.parametrize(
    ("url", "driver", "new"),
    [
        ("postgresql://u:p@h/db?sslmode=require&channel_binding=require", "psycopg",
         "postgresql+psycopg://u:p@h/db?sslmode=require&channel_binding=require"),
        ("postgres://u:p%40ss@h/db", "psycopg", "postgresql+psycopg://u:p%40ss@h/db"),
        ("postgresql+psycopg2://u@h/db", "psycopg", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db?sslmode=require", "psycopg", None),  # async already
        ("postgresql+asyncpg://u@h/db?sslmode=require", "psycopg", "postgresql+asyncpg://u@h/db?ssl=require"),
        ("sqlite:///./local.db", "psycopg", None),
        ("postgresql://", "psycopg", None),
        ("postgresql://u@h/db?sslmode=require", "asyncpg", "postgresql+asyncpg://u@h/db?ssl=require"),
    ],
)
def test_async_urls_for_each_driver(url: str, driver: str, new: str | None) -> None:
    assert to_async_url(url, driver) == new
    if new is not None:
        assert to_async_url(new, driver) is None  # a second run changes nothing


def test_a_psycopg3_project_on_sqlalchemy_20_gets_psycopg(tmp_path) -> None:
    model: ProjectModel = model_of(tmp_path, {
        "requirements.txt": "fastapi\nsqlmodel==0.0.22\npsycopg[binary]==3.2.3\n",
        "main.py": "import os\nfrom fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
                   'engine = create_async_engine(os.environ["DATABASE_URL"])\napp = FastAPI()\n',
    })
    assert model.async_driver() == "psycopg"


@pytest.mark.parametrize(
    ("files", "shown"),
    [
        ({"Dockerfile": "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y \\\n    gcc \\\n"
                        "    postgresql-client\n"}, "Dockerfile installs postgresql-client"),
        ({"main.py": "import settings\n" + APP, "settings.py": 'import os\nfrom pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n'
                         '    neon: str | None = os.getenv("NEON_DATABASE_URL")\n'},
         "settings.py reads NEON_DATABASE_URL"),
        ({"Dockerfile": "FROM python:3.12-slim\nRUN apt-get install -y curl\n"}, ""),
    ],
)
def test_what_shows_a_postgresql_app(tmp_path, files: dict[str, str], shown: str) -> None:
    model = model_of(tmp_path, {"main.py": APP, "requirements.txt": "fastapi\nsqlmodel\n", **files})
    assert model.flow.postgres_shown == shown


GREENLET_APP = ("import os\nfrom fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
                'engine = create_async_engine(os.environ["DATABASE_URL"])\napp = FastAPI()\n')
POETRY_HELD = ('[tool.poetry]\nname = "x"\nversion = "0"\n[tool.poetry.dependencies]\npython = "^3.11"\n'
               'fastapi = "*"\nsqlmodel = "^0.0.16"\nsqlalchemy = "^2.0.23"\nasyncpg = "^0.29.0"\n')


@pytest.mark.parametrize(("sqlmodel", "changed"), [("sqlmodel", True), ("sqlmodel==0.0.16", False)])
def test_greenlet_is_added_where_the_documented_install_gives_sqlalchemy_2_1(tmp_path, sqlmodel: str, changed: bool) -> None:
    """The README's `pip install -r requirements.txt` of bare names installs SQLAlchemy 2.1, without greenlet, while
    the pyproject beside it holds sqlmodel 0.0.16 (so SQLAlchemy <2.1): the documented install decides (FX001).
    Where requirements.txt holds sqlmodel 0.0.16 too, SQLAlchemy 2.0 brings greenlet: nothing to add."""
    from tests.rules.project_helpers import fix
    from fixer.rules.registry import TEXT_RULES

    files = {"README.md": "```\npip install -r requirements.txt\nuvicorn main:app\n```\n", "main.py": GREENLET_APP,
             "pyproject.toml": POETRY_HELD, "requirements.txt": f"fastapi\n{sqlmodel}\nsqlalchemy\nasyncpg\n"}
    changes, _ = fix(tmp_path, files, text_rules=[r for r in TEXT_RULES if r.__name__ == "AsyncDriverDependency"])
    assert ("sqlalchemy[asyncio]" in changes.get("requirements.txt", "")) is changed
    assert bool(changes) is changed
