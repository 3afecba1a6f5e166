"""Defect classes of the startup path that pass a boot and fail at the first request (or at the start), run
for real against PostgreSQL with the platform URL: before `fixer apply` the request fails, after it answers.

- lifespan-never-passed: the lifespan that creates the tables never runs (FX044 passes it);
- create-tables-helper-never-called, async-table-creator-uncalled: a function creates the tables and nothing calls
  it (FX046 calls it from a new lifespan, awaited when it is `async def`);
- sqlmodel-naive-now-helper: the project's own `utcnow()` gives SQLModel's aware type a naive value (FX037);
- sqlmodel-naive-now-given: a service gives a table's constructor, a row and a query `datetime.utcnow()`, and
  compares a stored value with it (FX037);
- sqlmodel-aware-on-naive-asyncpg: an older SQLModel's naive columns get aware values through asyncpg (FX037);
- poolclass-queuepool-on-async-engine: the engine is never made, the app does not start (FX038).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from fixer.verify.backend import BackendStartError, ensure_venv, run_backend
from tests.cli_helpers import fixer
from tests.test_e2e_seed import request, venv_cache_dir, with_platform_query

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "defects"


def _drop(project: Path, database_url: str, table: str) -> None:
    """A table an earlier run left would hide the defect. Dropped with the backend's own driver (psycopg, in
    its virtualenv): fixer's test environment installs no PostgreSQL driver."""
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    url = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", database_url)
    done = subprocess.run(
        [str(python), "-c", "import sys, psycopg\nwith psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
         "    c.execute(f'DROP TABLE IF EXISTS \"{sys.argv[2]}\"')", with_platform_query(url), table],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _serve(project: Path, database_url: str):
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    env = {"DATABASE_URL": with_platform_query(database_url)}
    return run_backend(project, python, env, entrypoint="app.main:app", timeout=90, health_path="/docs")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "method", "path", "table"),
    [
        ("lifespan-never-passed", "GET", "/reminders", "reminder"),
        ("create-tables-helper-never-called", "GET", "/invoices", "invoice"),
        ("async-table-creator-uncalled", "GET", "/parcels", "parcels"),
        ("sqlmodel-naive-now-helper", "POST", "/memos?text={run}", None),
        ("sqlmodel-naive-now-given", "POST", "/leases?holder={run}", "lease"),
        ("sqlmodel-aware-on-naive-asyncpg", "POST", "/shifts?worker={run}", "shift"),
    ],
)
def test_the_route_fails_before_and_answers_after(case: str, method: str, path: str, table: str | None,
                                                    tmp_path: Path, database_url: str) -> None:
    project = Path(shutil.copytree(CASES / case / "before", tmp_path / case))
    if table:
        _drop(project, database_url, table)
    target = path.format(run=uuid.uuid4().hex[:8])
    with _serve(project, database_url) as backend:
        status, _ = request(method, backend.base_url + target)
        log = backend.log
    assert status == 500, log
    assert fixer("apply", project).returncode in (0, 1)
    with _serve(project, database_url) as backend:
        status, data = request(method, backend.base_url + target)
        assert 200 <= status < 300, (status, data, backend.log)


@pytest.mark.slow
def test_the_pool_of_the_other_kind_stops_the_start_before_and_not_after(tmp_path: Path, database_url: str) -> None:
    project = Path(shutil.copytree(CASES / "poolclass-queuepool-on-async-engine" / "before", tmp_path / "pool"))
    with pytest.raises(BackendStartError, match="cannot be used with asyncio engine"):
        with _serve(project, database_url):
            pass
    assert fixer("apply", project).returncode in (0, 1)
    with _serve(project, database_url) as backend:
        assert request("GET", backend.base_url + "/health")[0] == 200
