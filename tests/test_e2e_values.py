"""The value analysis at the request: sessions, engines and factories reaching the code from elsewhere
(fixtures/values/shapes, one app, one route per shape).

Each route fails at its first request before `fixer apply` (the app boots: these are use-layer defects no
startup check sees) and answers after it, under `-W error::RuntimeWarning`, against a real PostgreSQL.
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

SHAPES = Path(__file__).resolve().parent.parent / "fixtures" / "values" / "shapes"
# (method, path) of each shape's route: what brings it its session or engine.
ROUTES = [
    ("POST", "/notes?title={run}-a"),  # CRUDBase method, `db: AsyncSession | None = None`, un-awaited commit
    ("POST", "/notes/optional?title={run}-b"),  # Optional[AsyncSession]
    ("POST", "/notes/annotated?title={run}-c"),  # Annotated[Union[AsyncSession, None], ...]
    ("POST", "/notes/aliased?title={run}-d"),  # DB = AsyncSession
    ("GET", "/notes/titles"),  # sync generator dependency over sessionmaker(class_=AsyncSession) from another module
    ("GET", "/reports/count"),  # engine from a getter stored on self, `with Session(self.engine)` in an async def
    ("GET", "/reports/kind/plain"),  # engine passed in by the caller that owns it
    ("GET", "/reports/newest"),  # unannotated session parameter, passed from a Depends route
    ("POST", "/repo/notes?title={run}-e"),  # `self.session` from __init__: rollback in except, scalars(...).all()
    ("GET", "/closure/count"),  # engine read by a closure from the function that made it, `with Session(engine)`
    ("POST", "/passing/positional?title={run}-f"),  # session handed on through `*args`, unannotated parameter
    ("POST", "/passing/keywords?title={run}-g"),  # session handed on through `**kwargs`, read as `options["db"]`
    # `session: SessionDep`, the alias `Annotated[AsyncSession, Depends(...)]` imported from another module, by a
    # router included in a loop; the route module imports nothing from SQLAlchemy
    ("POST", "/aliased/imported?title={run}-h"),
    ("POST", "/aliased/typealias?title={run}-i"),  # `Db: TypeAlias = Annotated[...]`
    ("GET", "/jobs/count"),  # `create_async_engine(url).sessionmaker(class_=AsyncSession)`: AttributeError
]


def _url(database_url: str) -> str:
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql+asyncpg://", database_url)


def _drop_note_table(project: Path, database_url: str) -> None:
    """Other fixtures on the same server have a `note` table of their own columns: the shapes' model must make its
    own (dropped with the backend's asyncpg: fixer's test environment installs no PostgreSQL driver)."""
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    script = ("import asyncio, sys, asyncpg\nasync def main():\n    c = await asyncpg.connect(sys.argv[1])\n"
              "    await c.execute('DROP TABLE IF EXISTS note')\n    await c.close()\nasyncio.run(main())")
    url = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", database_url)
    done = subprocess.run([str(python), "-c", script, url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _serve(project: Path, database_url: str):
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    env = {"DATABASE_URL": _url(database_url), "PYTHONWARNINGS": "error::RuntimeWarning"}
    return run_backend(project, python, env, entrypoint="app.main:app", timeout=90)


@pytest.mark.slow
def test_every_shape_fails_at_its_request_before_and_answers_after(tmp_path: Path, database_url: str) -> None:
    project = Path(shutil.copytree(SHAPES, tmp_path / "shapes"))
    _drop_note_table(project, database_url)
    run = uuid.uuid4().hex[:8]
    with _serve(project, database_url) as backend:
        assert request("GET", backend.base_url + "/health")[0] == 200
        failed = {path: request(method, backend.base_url + path.format(run=run))[0] for method, path in ROUTES}
    assert all(status == 500 for status in failed.values()), failed

    assert fixer("apply", project).returncode in (0, 1)
    run = uuid.uuid4().hex[:8]
    with _serve(project, database_url) as backend:
        def call(method: str, path: str) -> object:
            status, data = request(method, backend.base_url + path.format(run=run))
            assert 200 <= status < 300, (method, path, status, data, backend.log)
            return data

        for method, path in ROUTES[:4]:
            assert call(method, path)["title"].startswith(run)
        mine = [t for t in call("GET", "/notes/titles") if t.startswith(run)]
        assert mine == [f"{run}-a", f"{run}-b", f"{run}-c", f"{run}-d"]
        assert call("GET", "/reports/count")["count"] >= 4
        assert call("GET", "/reports/kind/plain")["count"] >= 4
        assert call("GET", "/reports/newest") == {"title": f"{run}-d"}
        repo = ROUTES[8][1]
        first = call("POST", repo)
        again = call("POST", repo)  # the same title: IntegrityError, rolled back, the session still usable
        assert first["created"] and not again["created"] and again["titles"] == first["titles"], (first, again)
        assert call("GET", "/closure/count")["count"] >= 5
        assert call(*ROUTES[10])["title"] == f"{run}-f"
        assert call(*ROUTES[11])["title"] == f"{run}-g"
        assert call(*ROUTES[12])["title"] == f"{run}-h"
        assert call(*ROUTES[13])["title"] == f"{run}-i".upper()
        assert call(*ROUTES[14])["count"] >= 7
        log = backend.log
    assert "never awaited" not in log and "Traceback" not in log, log
