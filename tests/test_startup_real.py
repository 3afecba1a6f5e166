"""The startup prediction against reality: for each fixture under fixtures/startup/, the unfixed app is imported
and its lifespan run for real (a subprocess, in a virtualenv with the fixture's requirements, a platform-style
environment with the variables the prediction says to set) and the first predicted failure must be the
exception Python raises, type and message. Then the first fix (the
fixture's fix1/ overlay, what the fixing rule or a person does) is applied and the next prediction is checked
the same way, down to "imports cleanly".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.model import startup
from fixer.verify.backend import ensure_venv
from fixer.verify.diagnose import first_error
from tests.test_e2e_seed import venv_cache_dir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "startup"
PLATFORM_URL = "postgresql://user:pass@127.0.0.1:5432/db?sslmode=require"
CASES = [
    (fixture.name, stage)
    for fixture in sorted(FIXTURES.iterdir())
    for stage in ("broken", "fix1")
    if (fixture / stage).is_dir()
]


def _tree(tmp_path: Path, fixture: str, stage: str) -> Path:
    backend = Path(shutil.copytree(FIXTURES / fixture / "broken", tmp_path / "backend"))
    if stage == "fix1":
        shutil.copytree(FIXTURES / fixture / "fix1", backend, dirs_exist_ok=True)
    return backend


def _predicted(backend: Path) -> startup.Prediction:
    """As a run predicts it: the whole model (engines, the URLs that reach them) behind the walk."""
    found = runner.run(backend, codemods=[], text_rules=[], jobs=1).facts.startup
    assert found.primary is not None, "no start point found"
    return found.primary


def real_first_error(python: Path, backend: Path, prediction: startup.Prediction) -> str:
    """What importing the app as the start does raises (the exception line, paths cut off), or 'ok'."""
    start = prediction.start
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "PYTHONDONTWRITEBYTECODE": "1",
           "DATABASE_URL": PLATFORM_URL, "SECRET_KEY": "x" * 40}
    env.update({variable: "dummy" for variable, _, _, _ in prediction.required_settings})
    extra = [str((backend / p).resolve()) for p in start.pythonpath]
    if extra:
        env["PYTHONPATH"] = os.pathsep.join(extra)
    # uvicorn puts the folder it runs in first on sys.path (python -c does too: ''), then runs the lifespan
    # (the startup handlers with it) before "Application startup complete".
    code = (f"import asyncio, importlib\nm = importlib.import_module({start.module!r})\napp = getattr(m, {start.attr!r})\n"
            "async def main():\n    async with app.router.lifespan_context(app):\n        pass\n"
            "asyncio.run(main())\n")
    done = subprocess.run([str(python), "-c", code], cwd=backend / start.run_from, env=env, capture_output=True,
                          text=True, timeout=120)
    if done.returncode == 0:
        return "ok"
    found = first_error(done.stderr)
    assert found is not None, done.stderr
    return normalise(found.message)


def normalise(message: str) -> str:
    """Python's own message, less what depends on the machine: `cannot import name 'X' from 'm' (/path/m.py)`."""
    return re.sub(r" \((?:/|[A-Za-z]:\\)[^()]*\)$", "", message.splitlines()[0].rstrip())


@pytest.mark.slow
@pytest.mark.parametrize(("fixture", "stage"), CASES, ids=[f"{f}-{s}" for f, s in CASES])
def test_first_predicted_error_is_the_real_one(tmp_path: Path, fixture: str, stage: str) -> None:
    backend = _tree(tmp_path, fixture, stage)
    prediction = _predicted(backend)
    python = ensure_venv(backend / "requirements.txt", venv_cache_dir())
    real = real_first_error(python, backend, prediction)
    predicted = str(prediction.failures[0]) if prediction.failures else "ok"
    assert predicted == real, f"{fixture}/{stage}: predicted {predicted!r}, Python raised {real!r}"
    if fixture.startswith("correct-"):
        assert not prediction.failures


def test_fixtures_cover_every_family_and_the_correct_projects() -> None:
    names = {fixture for fixture, _ in CASES}
    assert {"all-at-once", "correct-pydantic1", "correct-start-folder"} <= names
    assert len(names) >= 10
