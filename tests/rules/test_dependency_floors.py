"""FX025 dependency-floors: pins without a wheel for the project's Python raised to the first that has one."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.dependency_floors import DependencyFloors
from tests.rules.project_helpers import fix

MAIN = {"app/__init__.py": "", "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}


def run(tmp_path: Path, files: dict[str, str], unsafe: bool = False):
    return fix(tmp_path, {**MAIN, **files}, text_rules=[DependencyFloors], unsafe=unsafe)


@pytest.mark.parametrize(
    ("python_file", "before", "after"),
    [
        ({"Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\n"}, "fastapi\nasyncpg==0.27.0\n", "fastapi\nasyncpg==0.29.0\n"),
        ({".python-version": "3.13.1\n"}, "asyncpg==0.29.0  # driver\n", "asyncpg==0.30.0  # driver\n"),
        ({"runtime.txt": "python-3.13.2\n"}, "psycopg2-binary==2.9.9\n", "psycopg2-binary==2.9.10\n"),
        # pydantic 2.5.0 pins pydantic-core 2.14.1, which has no cp313 wheel: pydantic is what moves.
        ({"Dockerfile": "FROM python:3.11 AS build\nFROM python:3.13-slim\n"}, "pydantic==2.5.0\n", "pydantic==2.8.0\n"),
    ],
)
def test_pins_raised(tmp_path: Path, python_file: dict[str, str], before: str, after: str) -> None:
    changed, findings = run(tmp_path, {**python_file, "requirements.txt": before})
    assert changed == {"requirements.txt": after}
    assert [(f.rule, f.safe, f.fixed) for f in findings] == [("FX025", True, True)]


def test_pyproject_requires_python_that_no_wheel_of_the_pin_meets_is_safe(tmp_path: Path) -> None:
    """`>=3.12` leaves no CPython asyncpg 0.27.0 has a wheel for (its last is cp311): whichever the deploy picks,
    the build fails, so the raise is safe although only requires-python bounds the Python."""
    pyproject = '[project]\nname = "x"\nrequires-python = ">=3.12"\ndependencies = ["asyncpg==0.27.0"]\n'
    changed, findings = run(tmp_path, {"pyproject.toml": pyproject})
    assert changed == {"pyproject.toml": pyproject.replace("asyncpg==0.27.0", "asyncpg==0.29.0")}
    assert [(f.safe, f.fixed) for f in findings] == [(True, True)]


def test_a_range_is_unsafe(tmp_path: Path) -> None:
    changed, findings = run(tmp_path, {"Dockerfile": "FROM python:3.13\n", "requirements.txt": "asyncpg<0.29\n"})
    assert changed == {} and [(f.new_code, f.safe) for f in findings] == [("asyncpg>=0.30.0", False)]


@pytest.mark.parametrize(
    "files",
    [
        {"Dockerfile": "FROM python:3.11-slim\n", "requirements.txt": "asyncpg==0.27.0\n"},  # has its wheel
        {"requirements.txt": "asyncpg==0.27.0\n"},  # the project names no Python
        {"Dockerfile": "FROM python:3.13\n", "requirements.txt": "asyncpg>=0.27\n"},  # the newest installs
        {"Dockerfile": "FROM python:3.13\n", "requirements.txt": "sqlalchemy==1.4.41\n"},  # builds without a compiler
    ],
)
def test_left_alone(tmp_path: Path, files: dict[str, str]) -> None:
    assert run(tmp_path, files) == ({}, [])


def test_a_compatible_release_moves_to_the_next_series(tmp_path: Path) -> None:
    """`~=0.25.0` pins asyncpg's 0.25 series as `==` pins a release: no release of it has a cp311 wheel, so the
    entry moves to the first series that has (a raise within the major version, the project naming no Python)."""
    changed, findings = run(tmp_path, {"Dockerfile": "FROM python:3.11-slim\n", "requirements.txt": "asyncpg~=0.25.0\n"})
    assert changed == {"requirements.txt": "asyncpg~=0.27.0\n"}
    assert [(f.rule, f.safe, f.fixed) for f in findings] == [("FX025", True, True)]


def test_the_versions_judged_are_the_documented_installs(tmp_path: Path) -> None:
    """The README installs requirements.txt, whose asyncpg 0.29.0 cannot build on 3.13; the uv.lock beside it
    (asyncpg 0.30.0) is not what that install reads, and the pyproject's range is left as it is."""
    pyproject = '[project]\nname = "x"\nrequires-python = ">=3.13"\ndependencies = ["asyncpg>=0.29.0"]\n'
    lock = 'version = 1\n[[package]]\nname = "asyncpg"\nversion = "0.30.0"\n'
    files = {"README.md": "```\npip install -r requirements.txt\nuvicorn app.main:app\n```\n",
             "pyproject.toml": pyproject, "uv.lock": lock, "requirements.txt": "fastapi\nasyncpg==0.29.0\n"}
    changed, findings = run(tmp_path, files)
    assert changed == {"requirements.txt": "fastapi\nasyncpg==0.30.0\n"}
