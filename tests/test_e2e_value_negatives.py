"""The negatives of the value analysis at the request (issue 22): code that holds a sync session works today
and must keep working after `fixer apply`, against a real PostgreSQL.

- fixtures/nofalse/sync-app-async-dependency: a sync app whose `async def` dependency opens a sync Session
  (blocking, but correct): no use-layer edit, the routes answer before and after;
- fixtures/nofalse/sync-sessions-beside-async-values: an async app beside a Celery task, a script and a
  report route on a sync engine of their own: the sync sessions stay sync, and each still runs after apply.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from fixer.verify.backend import ensure_venv, run_backend
from tests.cli_helpers import fixer
from tests.test_e2e_seed import request, venv_cache_dir

NOFALSE = Path(__file__).resolve().parent.parent / "fixtures" / "nofalse"


def _driver(database_url: str, driver: str) -> str:
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", f"postgresql+{driver}://", database_url)


def _calls(project: Path, env: dict[str, str], calls: list[tuple[str, str]]) -> list[tuple[int, object]]:
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    with run_backend(project, python, env, entrypoint="app.main:app", timeout=90, health_path="/docs") as backend:
        return [request(method, backend.base_url + path) for method, path in calls]


def _changed(project: Path, original: Path) -> list[str]:
    return sorted(
        str(p.relative_to(project)) for p in project.rglob("*.py")
        if p.read_bytes() != (original / p.relative_to(project)).read_bytes()
    )


@pytest.mark.slow
def test_a_sync_apps_async_dependency_keeps_its_sync_session(tmp_path: Path, database_url: str) -> None:
    original = NOFALSE / "sync-app-async-dependency" / "before"
    project = Path(shutil.copytree(original, tmp_path / "app"))
    env = {"DATABASE_URL": _driver(database_url, "psycopg2")}
    title = uuid.uuid4().hex[:8]
    calls = [("POST", f"/notes?title={title}"), ("GET", "/notes")]
    for run in ("before", "after"):
        answers = _calls(project, env, calls)
        assert [status for status, _ in answers] == [201, 200], (run, answers)
        assert title in [note["title"] for note in answers[1][1]], (run, answers)
        if run == "before":
            assert fixer("apply", project).returncode in (0, 1)
            # The URL line only (FX005, SQLAlchemy 2.1's psycopg default): no use-layer edit.
            assert _changed(project, original) == ["app/main.py"]
            text = (project / "app" / "main.py").read_text()
            assert "async def get_db():\n" in text and "    with Session(engine) as session:" in text, text
            assert "await session" not in text, text


@pytest.mark.slow
def test_sync_sessions_beside_an_async_app_stay_sync_and_still_run(tmp_path: Path, database_url: str) -> None:
    original = NOFALSE / "sync-sessions-beside-async-values" / "before"
    project = Path(shutil.copytree(original, tmp_path / "app"))
    env = {"DATABASE_URL": _driver(database_url, "asyncpg"), "SYNC_DATABASE_URL": _driver(database_url, "psycopg2")}
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    for run in ("before", "after"):
        answers = _calls(project, env, [("POST", f"/notes?title={uuid.uuid4().hex[:8]}"), ("GET", "/notes/count")])
        assert [status for status, _ in answers] == [201, 200], (run, answers)
        for script in (["-m", "scripts.seed"], ["-c", "from app.worker import cleanup; cleanup()"]):
            done = subprocess.run([str(python), *script], cwd=project, env={**env, "PATH": "/usr/bin:/bin"},
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (run, script, done.stderr)
        if run == "before":
            assert fixer("apply", project).returncode in (0, 1)
            # The async engine's URL only (FX004): the worker, the script and the report session stay sync.
            assert _changed(project, original) == ["app/db.py"]


@pytest.mark.slow
def test_an_imported_session_alias_and_looped_routers_keep_working(tmp_path: Path, database_url: str) -> None:
    """fixtures/nofalse/alias-routers-correct, its engine reading DATABASE_URL: `session: Session` (the alias in
    depends.py) and routers included in a loop. The routes answer before and after `fixer apply`, whose only
    edit is the URL line (the platform's plain URL); no FX032, no FX041."""
    original = tmp_path / "original"
    shutil.copytree(NOFALSE / "alias-routers-correct" / "before", original)
    db = original / "app" / "db.py"
    db.write_text("import os\n\n" + db.read_text().replace(
        '"postgresql+asyncpg://localhost/blog"', 'os.environ["DATABASE_URL"]'))
    # the shapes fixture's requirements: its cached virtualenv serves both
    shutil.copy(Path(__file__).resolve().parent.parent / "fixtures" / "values" / "shapes" / "requirements.txt", original)
    project = Path(shutil.copytree(original, tmp_path / "app"))
    env = {"DATABASE_URL": _driver(database_url, "asyncpg")}
    title = uuid.uuid4().hex[:8]
    for run in ("before", "after"):
        answers = _calls(project, env, [("POST", f"/api/posts?title={title}-{run}"), ("GET", "/api/posts")])
        assert [status for status, _ in answers] == [201, 200], (run, answers)
        post = answers[0][1]
        liked = _calls(project, env, [("POST", f"/api/posts/{post['id']}/like")])
        assert liked[0][0] == 200 and liked[0][1]["likes"] == 1, (run, liked)
        if run == "before":
            applied = fixer("apply", project)
            assert applied.returncode in (0, 1)
            assert "FX032" not in applied.stderr.decode() and "FX041" not in applied.stderr.decode()
            assert _changed(project, original) == ["app/db.py"]
