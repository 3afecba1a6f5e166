"""The project's own URL code, run on the platform URL (`?sslmode=require&channel_binding=require`), never trusted
unrun: a cleaner that cuts `?sslmode=...` with its `?` glues `&channel_binding=require` onto the database name.
With no startup hook that connects, the start is up and the first request that uses the database fails: FX030
says so after the start (URL-OWN-CLEANER-CORRUPTS); a cleaner that keeps the separators is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixer.discover.files import discover
from fixer.model import startup
from tests.cli_helpers import fixer

R = "fastapi==0.115.12\nsqlalchemy[asyncio]==2.0.36\nasyncpg==0.30.0\nuvicorn==0.34.0\n"
CUTS_THE_SEPARATOR = 'url = re.sub(r"[?&]sslmode=[^&]+", "", url)\n'
KEEPS_THE_SEPARATOR = 'url = re.sub(r"sslmode=[^&]+&?", "", url).rstrip("?&")\n'
MISSING = 'asyncpg.exceptions.InvalidCatalogNameError: database "db&channel_binding=require" does not exist'


def _project(root: Path, cleaner: str, lifespan: bool = False) -> Path:
    files = {
        "README.md": "uvicorn main:app\n", "requirements.txt": R,
        "db.py": "import os\nimport re\n\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
                 "url = os.environ['DATABASE_URL'].replace('postgresql://', 'postgresql+asyncpg://')\n"
                 f"{cleaner}engine = create_async_engine(url, connect_args={{'ssl': 'require'}})\n",
        "main.py": "from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\nfrom db import engine\n\n"
                   + ("@asynccontextmanager\nasync def lifespan(app):\n    async with engine.begin() as conn:\n"
                      "        pass\n    yield\n\napp = FastAPI(lifespan=lifespan)\n" if lifespan else "app = FastAPI()\n"),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _predict(root: Path) -> startup.Prediction:
    return startup.analyse(root, list(discover(root, [])), lambda rel: (root / rel).read_text()).primary


def test_a_cleaner_that_cuts_the_separator_fails_at_the_first_connection(tmp_path: Path) -> None:
    found = _predict(_project(tmp_path, CUTS_THE_SEPARATOR))
    assert found.failures == ()
    assert [(f.path, f.line, str(f)) for f in found.first_connect] == [("db.py", 8, MISSING)]
    assert "db&channel_binding=require" in found.first_connect[0].detail


def test_a_startup_hook_that_connects_meets_it_at_the_start(tmp_path: Path) -> None:
    found = _predict(_project(tmp_path, CUTS_THE_SEPARATOR, lifespan=True))
    assert [str(f) for f in found.failures] == [MISSING] and found.first_connect == ()


@pytest.mark.parametrize("cleaner", [KEEPS_THE_SEPARATOR, ""])
def test_a_cleaner_that_keeps_the_query_whole_is_left_alone(tmp_path: Path, cleaner: str) -> None:
    found = _predict(_project(tmp_path, cleaner))
    assert not [f for f in found.first_connect if f.family == "url-cleaner"]


def test_fx030_reports_it_after_the_start(tmp_path: Path) -> None:
    root = _project(tmp_path / "backend", CUTS_THE_SEPARATOR)
    report = tmp_path / "report.json"
    fixer("dry-run", root, "--select", "FX030", "--report", report)
    issues = [i for i in json.loads(report.read_text())["issues"] if i["rule"] == "FX030"]
    assert len(issues) == 1, issues
    assert issues[0]["problem_description"].startswith("First database connection fails once started as")
    assert issues[0]["problem_description"].endswith(MISSING)
    assert "URL-OWN-CLEANER-CORRUPTS" in json.dumps(issues[0])
