"""Predicted first errors of the documented start that the import of the app alone does not show: the server's
event loop (an old uvicorn on a newer uvloop or CPython), an engine URL that is no URL where the start reaches it
(`dotenv_values` reads only its file), and FastAPI's assertions on `Annotated` markers when a route is declared."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fixer import tables
from fixer.model.annotated import annotated_conflicts
from tests.test_startup import failures, write

_LOOP = "RuntimeError: There is no current event loop in thread 'MainThread'."
_APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


# ------------------------------------------------------------------------------------------ the server's loop


@pytest.mark.parametrize(("requirements", "python", "expected"), [
    ("fastapi\nuvicorn[standard]==0.13.4\n", "3.8", [_LOOP]),  # uvloop 0.22+ installs beside it (3.8.1+)
    ("fastapi\nuvicorn[standard]==0.13.4\nuvloop==0.21.0\n", "3.8", []),  # uvloop's policy still asyncio's
    ("fastapi\nuvicorn==0.13.4\n", "3.12", []),  # asyncio's policy makes the loop (a DeprecationWarning)
    ("fastapi\nuvicorn==0.13.4\n", "3.14", [_LOOP]),  # and no longer from 3.14
    ("fastapi\nuvicorn[standard]==0.15.0\n", "3.8", []),  # 0.15 starts its own loop
])
def test_an_old_uvicorn_asks_for_a_loop_the_policy_refuses(tmp_path: Path, requirements: str, python: str,
                                                           expected: list[str]) -> None:
    root = write(tmp_path, {"README.md": "uvicorn main:app\n", "requirements.txt": requirements,
                            ".python-version": f"{python}\n", "main.py": _APP})
    assert failures(root) == expected


def test_the_asyncio_loop_option_leaves_uvloop_out(tmp_path: Path) -> None:
    root = write(tmp_path, {"README.md": "uvicorn main:app --loop asyncio\n", ".python-version": "3.8\n",
                            "requirements.txt": "fastapi\nuvicorn[standard]==0.13.4\n", "main.py": _APP})
    assert failures(root) == []


def test_a_series_runs_as_its_newest_patch_release() -> None:
    """Requires-Python `>=3.8.1` allows the CPython 3.8 a deploy's image carries (3.8.20), not 3.8.0."""
    assert any(v.release[:2] >= (0, 22) for v in tables.allowed("uvloop", ">=0.14", python="3.8"))


# ------------------------------------------------------------------------------------------ engine URL text


@pytest.mark.parametrize(("env", "sqlalchemy", "expected"), [
    (None, "2.0.23", ["sqlalchemy.exc.ArgumentError: Could not parse SQLAlchemy URL from string ''"]),
    (None, "2.0.41", ["sqlalchemy.exc.ArgumentError: Could not parse SQLAlchemy URL from given URL string"]),
    ("DATABASE_URL=postgresql+psycopg://u:p@db.example.com/app\n", "2.0.23", []),  # the file the tree ships
])
def test_dotenv_values_reads_its_file_not_the_platforms_environment(tmp_path: Path, env: str | None, sqlalchemy: str,
                                                                    expected: list[str]) -> None:
    files = {
        "README.md": "uvicorn main:app\n", "requirements.txt": f"fastapi\nsqlalchemy=={sqlalchemy}\npsycopg[binary]\npython-dotenv\n",
        "settings.py": "from dotenv import dotenv_values\n\nvalues = dotenv_values('.env')\n",
        "db.py": "from sqlalchemy import create_engine\n\nimport settings\n\n"
                 "engine = create_engine(str(settings.values.get('DATABASE_URL', '')))\n",
        "main.py": "from fastapi import FastAPI\n\nimport db\n\napp = FastAPI()\n",
    }
    if env is not None:
        files[".env"] = env
    assert failures(write(tmp_path, files)) == expected


def test_an_environment_read_the_platform_sets_is_no_empty_url(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": "fastapi\nsqlalchemy==2.0.23\npsycopg[binary]\n",
        "main.py": "import os\n\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine\n\n"
                   "engine = create_engine(os.environ.get('DATABASE_URL', '').replace('postgresql://', 'postgresql+psycopg://'))\n"
                   "app = FastAPI()\n",
    })
    assert failures(root) == []


def test_an_unset_variable_of_the_projects_own_gives_an_empty_url(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": "fastapi\nsqlalchemy==2.0.23\npsycopg[binary]\n",
        "main.py": "import os\n\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine\n\n"
                   "engine = create_engine(os.getenv('BOOKS_STORE', ''))\napp = FastAPI()\n",
    })
    assert failures(root) == ["sqlalchemy.exc.ArgumentError: Could not parse SQLAlchemy URL from string ''"]


# ------------------------------------------------------------------------------------------ Annotated markers

_DEPS = ("from typing import Annotated\n\nfrom fastapi import Depends, Query\n\n\ndef get_user():\n    return {}\n\n\n"
         "User = Annotated[dict, Depends(get_user)]\nLimit = Annotated[int, Query()]\n")


@pytest.mark.parametrize(("fastapi", "parameters", "expected"), [
    ("0.116.1", "file: str = Query(''), user: User = Depends()",
     ["AssertionError: Cannot specify `Depends` in `Annotated` and default value together for 'user'"]),
    ("0.116.1", "user: Annotated[dict, Depends(get_user)] = Depends(get_user)",
     ["AssertionError: Cannot specify `Depends` in `Annotated` and default value together for 'user'"]),
    ("0.116.1", "limit: Limit = Depends(get_user)",
     ["AssertionError: Cannot specify a FastAPI annotation in `Annotated` and `Depends` as a default value together "
      "for 'limit'"]),
    ("0.116.1", "limit: Limit = Query(10)",
     ["AssertionError: Cannot specify FastAPI annotations in `Annotated` and default value together for 'limit'"]),
    ("0.116.1", "user: User, limit: Limit = 10", []),  # one marker each: fine
    ("0.94.1", "user: User = Depends()", []),  # before 0.95 fastapi does not read Annotated metadata
])
def test_fastapi_asserts_one_marker_per_parameter(tmp_path: Path, fastapi: str, parameters: str,
                                                  expected: list[str]) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": f"fastapi=={fastapi}\nuvicorn\n",
        "deps.py": _DEPS,
        "main.py": "from typing import Annotated\n\nfrom fastapi import Depends, FastAPI, Query\n\n"
                   "from deps import Limit, User, get_user\n\napp = FastAPI()\n\n\n"
                   f"@app.get('/items')\nasync def items({parameters}):\n    return []\n",
    })
    assert failures(root) == expected


def test_a_function_no_route_declares_is_not_read(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": "fastapi==0.116.1\n", "deps.py": _DEPS,
        "main.py": "from fastapi import Depends, FastAPI\n\nfrom deps import User\n\napp = FastAPI()\n\n\n"
                   "def helper(user: User = Depends()):\n    return user\n",
    })
    assert failures(root) == []


def test_a_redundant_default_is_told_from_another_dependency() -> None:
    source = ("async def f(a: User = Depends(), b: User = Depends(get_user), c: User = Depends(other)):\n    pass\n")
    function = ast.parse(source).body[0]
    alias = {"User": ast.parse("Annotated[dict, Depends(get_user)]", mode="eval").body}.get
    found = annotated_conflicts(function, alias)
    assert [(c.parameter, c.redundant) for c in found] == [("a", True), ("b", True), ("c", False)]
