"""The import walk decides an `if` inside a function the start runs (not only at module level) when its test
depends only on what the start's environment holds: the platform URL for URL variables, unset otherwise, the
defaults the code gives."""

from __future__ import annotations

from pathlib import Path

from tests.test_startup import failures, write

REQUIREMENTS = "fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\nasyncpg\ngreenlet\n"
ENGINE = '''import os

from fastapi import FastAPI


def build_engine():
    asynchronous = os.getenv("ENGINE_ASYNC", "{default}").lower() == "true"
    if asynchronous:
        from sqlalchemy.ext.asyncio import create_async_engine
        return create_async_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://"))
    else:
        from sqlalchemy import create_engine
        return create_engine(os.environ["DATABASE_URL"])


engine = build_engine()
app = FastAPI()
'''


def test_the_else_branch_a_default_flag_takes_is_predicted(tmp_path: Path) -> None:
    root = write(tmp_path, {"main.py": ENGINE.format(default="false"), "requirements.txt": REQUIREMENTS})
    assert failures(root) == ["ModuleNotFoundError: No module named 'psycopg'"]


def test_the_branch_not_taken_is_left_alone(tmp_path: Path) -> None:
    root = write(tmp_path, {"main.py": ENGINE.format(default="true"), "requirements.txt": REQUIREMENTS})
    assert failures(root) == []


def test_a_test_on_a_parameter_stays_undecided(tmp_path: Path) -> None:
    text = ENGINE.replace("def build_engine():", "def build_engine(asynchronous=False):").replace(
        '    asynchronous = os.getenv("ENGINE_ASYNC", "{default}").lower() == "true"\n', "")
    root = write(tmp_path, {"main.py": text, "requirements.txt": REQUIREMENTS})
    assert failures(root) == []
