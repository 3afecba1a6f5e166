"""Later rounds predict a backend as round 1 did (issue 23): a module the backend imports from the repository
above it (a sibling package a start from the top would find) is still missing from a
deploy of the backend folder after the other fixes, and the summary says so instead of "predicted clean"."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli_helpers import fixer

_MAIN = """\
from fastapi import FastAPI
from pydantic import BaseModel, EmailStr

from shared_tools.text import shout

app = FastAPI()


class Contact(BaseModel):
    email: EmailStr


@app.get("/")
def home() -> dict:
    return {"hi": shout("hi")}
"""


def _repository(root: Path, sibling: bool) -> Path:
    backend = root / "backend"
    backend.mkdir(parents=True)
    (backend / "main.py").write_text(_MAIN)
    (backend / "requirements.txt").write_text("fastapi\npydantic>=2\nuvicorn\n")
    (backend / "Dockerfile").write_text("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                                        'RUN pip install -r requirements.txt\nCMD ["uvicorn", "main:app"]\n')
    if sibling:
        (root / "shared_tools").mkdir()
        (root / "shared_tools" / "__init__.py").write_text("")
        (root / "shared_tools" / "text.py").write_text("def shout(s):\n    return s.upper()\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return backend


def test_a_sibling_package_above_the_backend_still_stands_after_round_1(tmp_path: Path) -> None:
    backend = _repository(tmp_path / "repo", sibling=True)
    done = fixer("dry-run", "-j1", backend).stderr.decode()
    assert "round 1: predicted failing first with ModuleNotFoundError: No module named 'shared_tools'" in done, done
    assert "round 2: predicted failing first with ModuleNotFoundError: No module named 'shared_tools'" in done, done
    assert "No module named 'shared_tools'" in done.split("After the fixes, what still stands", 1)[1]
    assert (tmp_path / "repo" / "shared_tools" / "text.py").is_file()  # the project's tree is left as it was


def test_without_the_sibling_round_1_fixes_and_round_2_walks_on(tmp_path: Path) -> None:
    # Nothing above holds the module: round 1 fixes email-validator and the start stands on the unknown import,
    # as it did before the rounds linked the folders above.
    backend = _repository(tmp_path / "repo", sibling=False)
    done = fixer("dry-run", "-j1", backend).stderr.decode()
    assert "round 1: predicted failing first with ImportError: email-validator" in done, done
    assert "round 2: predicted clean" in done, done
    assert "round 2: predicted failing first with ModuleNotFoundError: No module named 'shared_tools'" not in done, done


def test_a_backend_that_is_the_repository_looks_at_nothing_above_it(tmp_path: Path) -> None:
    """The backend holds `.git`: the folders beside it are other repositories, no module of its own, and a
    round's copy links none of them (nor the copy's own folder, a loop)."""
    from fixer.apply.rounds import _start_files_above
    from fixer.discover.files import discover
    from fixer.model import startup

    backend = tmp_path / "work" / "app"
    backend.mkdir(parents=True)
    (backend / "main.py").write_text("from fastapi import FastAPI\nimport zqlib\n\napp = FastAPI()\n")
    (backend / "Procfile").write_text("web: uvicorn main:app\n")
    (backend / "requirements.txt").write_text("fastapi\nuvicorn\n")
    (tmp_path / "work" / "zqlib").mkdir()
    (tmp_path / "work" / "zqlib" / "__init__.py").write_text("")
    subprocess.run(["git", "init", "-q", str(backend)], check=True)
    found = startup.analyse(backend, list(discover(backend, [])), lambda rel: (backend / rel).read_text())
    assert not [f for f in found.primary.failures if "repository's own" in f.detail]
    copy = tmp_path / "copy" / "work" / "app"
    copy.mkdir(parents=True)
    _start_files_above(backend, copy)
    assert sorted(p.name for p in copy.parent.iterdir()) == ["app"]
