"""The todo fixture: a second, differently shaped broken backend, proven the way the seed is.

Layout `app/` (entrypoint `app.main:app`), dependencies in a PEP 621 pyproject.toml installed with `pip install .`,
`load_dotenv()` before the rest of db.py's imports, asyncio names imported from `sqlmodel`, a positional
`sessionmaker(engine, class_=AsyncSession, expire_on_commit=True)`, an `os.getenv` default URL, and URLs in
docker-compose.yml, alembic.ini and a Neon `.env.example`.

(1) golden: `fixer apply` gives exactly fixtures/todo/fixed, converges, and its dry-run patch applies with git;
(2) end to end: the applied tree installs with `pip install .`, boots under uvicorn against a real PostgreSQL
given the URL the way a platform injects it, and serves every todo endpoint; (3) the unfixed tree does not start.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fixer.verify.backend import BackendStartError, ensure_project_venv, run_backend
from tests.cli_helpers import fixer, tree
from tests.test_e2e_seed import request, venv_cache_dir, with_platform_query

TODO = Path(__file__).resolve().parent.parent / "fixtures" / "todo"
ENTRYPOINT = "app.main:app"
# What fixer apply writes, in its output order; every other file of the two trees is byte-identical.
APPLIED = [
    "fixed .env.example (FX004 x1)",
    "fixed alembic.ini (FX004 x1)",
    "fixed app/db.py (FX002 x1, FX003 x1, FX004 x2)",
    "fixed docker-compose.yml (FX004 x1)",
    "fixed pyproject.toml (FX001 x2)",
]
CHANGED = {".env.example", "alembic.ini", "app/db.py", "docker-compose.yml", "pyproject.toml"}
PASSWORDS = (b"npg_8hKqW3zRt5Ym", b"p%40ss", b"p%%40ss")
# in app/db.py's os.getenv default, three lines below the import change: see test_no_password_in_patch_context
CONTEXT_PASSWORD = b"todo:todo@"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return Path(shutil.copytree(TODO / "broken", tmp_path / "todo"))


# ----------------------------------------------------------------------------------------------- (1) golden


def test_fixture_trees_differ_only_where_fixer_writes() -> None:
    before, after = tree(TODO / "broken"), tree(TODO / "fixed")
    assert before.keys() == after.keys()
    assert {path for path in before if before[path] != after[path]} == CHANGED
    assert not any("__pycache__" in path or path.endswith(".pyc") for path in before), "stray build output in fixtures"


def test_apply_gives_the_expected_tree_and_converges(broken: Path) -> None:
    first = fixer("apply", ".", cwd=broken)
    assert first.returncode == 0, first.stderr
    assert first.stdout.decode().splitlines() == APPLIED
    assert tree(broken) == tree(TODO / "fixed")

    second = fixer("apply", broken)
    assert (second.returncode, second.stdout) == (0, b""), second
    assert tree(broken) == tree(TODO / "fixed")


def test_dry_run_patch_applies_with_git_and_writes_nothing(broken: Path) -> None:
    before = tree(broken)
    result = fixer("dry-run", broken)
    assert result.returncode == 1, result.stderr
    assert tree(broken) == before
    # every other changed file holds a password in its hunks: only pyproject.toml can be shown
    assert result.stdout.startswith(b"--- a/pyproject.toml\n+++ b/pyproject.toml\n"), result.stdout
    assert result.stdout.count(b"--- a/") == 1
    assert fixer("dry-run", broken).stdout == result.stdout, "the patch must be identical on every run"
    for secret in PASSWORDS:
        assert secret not in result.stdout and secret not in result.stderr, secret
    # outside a git work tree nothing is tracked: the changes that would show a password are named instead
    assert b"note: .env.example: 1 line(s) would change" in result.stderr
    for held_back in (b"alembic.ini:", b"docker-compose.yml:", b"app/db.py:"):
        assert b"note: " + held_back in result.stderr and b"a change not in the patch" in result.stderr, result.stderr

    (broken.parent / "fix.patch").write_bytes(result.stdout)
    subprocess.run(["git", "init", "-q"], cwd=broken, check=True)
    subprocess.run(["git", "apply", "--check", "../fix.patch"], cwd=broken, check=True)
    subprocess.run(["git", "apply", "../fix.patch"], cwd=broken, check=True)
    patched = tree(broken)
    assert patched["pyproject.toml"] == tree(TODO / "fixed")["pyproject.toml"]
    assert patched[".env.example"] == before[".env.example"]


def test_patch_then_apply_gives_the_fixed_tree(broken: Path) -> None:
    result = fixer("dry-run", broken)
    (broken.parent / "fix.patch").write_bytes(result.stdout)
    subprocess.run(["git", "init", "-q"], cwd=broken, check=True)
    subprocess.run(["git", "apply", "../fix.patch"], cwd=broken, check=True)
    assert fixer("apply", broken).returncode == 0
    assert tree(broken) == tree(TODO / "fixed")


def test_no_password_in_patch_context(broken: Path) -> None:
    result = fixer("dry-run", broken)
    assert CONTEXT_PASSWORD not in result.stdout


def test_correct_async_project_gives_no_diff() -> None:
    result = fixer("dry-run", TODO / "fixed")
    assert (result.returncode, result.stdout) == (0, b""), result.stderr
    assert b"Nothing to fix" in result.stderr


# ----------------------------------------------------------------------------------------------- (2) end to end


def exercise_todos(base: str, log: Callable[[], str]) -> None:
    assert request("GET", f"{base}/health") == (200, {"status": "ok"})

    status, todo = request("POST", f"{base}/todos", {"title": "Buy milk", "description": "2 litres, semi-skimmed"})
    assert status == 201, (todo, log())
    assert isinstance(todo["id"], int) and todo["title"] == "Buy milk", todo
    assert todo["description"] == "2 litres, semi-skimmed" and todo["completed"] is False, todo
    assert todo["created_at"], todo
    url = f"{base}/todos/{todo['id']}"

    status, other = request("POST", f"{base}/todos", {"title": "Walk the dog"})
    assert status == 201 and other["description"] is None and other["id"] != todo["id"], (other, log())
    assert request("POST", f"{base}/todos", {"title": ""})[0] == 422

    status, todos = request("GET", f"{base}/todos")
    assert status == 200, (todos, log())
    by_id = {item["id"]: item for item in todos}  # the database may be shared: look for ours only
    assert by_id[todo["id"]] == todo and by_id[other["id"]] == other, todos

    assert request("GET", url) == (200, todo)

    status, updated = request("PATCH", url, {"completed": True})
    assert status == 200, (updated, log())
    assert updated == {**todo, "completed": True}, updated
    status, renamed = request("PATCH", url, {"title": "Buy oat milk", "description": None})
    assert status == 200, (renamed, log())
    assert renamed == {**updated, "title": "Buy oat milk", "description": None}, renamed
    assert request("GET", url) == (200, renamed)

    assert request("DELETE", url) == (204, None)
    assert request("GET", url)[0] == 404
    assert request("PATCH", url, {"completed": False})[0] == 404
    assert request("DELETE", url)[0] == 404
    assert request("DELETE", f"{base}/todos/{other['id']}") == (204, None)
    status, todos = request("GET", f"{base}/todos")
    assert status == 200 and not {todo["id"], other["id"]} & {item["id"] for item in todos}, todos


@pytest.mark.slow
def test_fixer_apply_makes_the_todo_backend_work(broken: Path, database_url: str) -> None:
    """After `fixer apply`: `pip install .` of the project works, it boots, and every todo endpoint works."""
    applied = fixer("apply", broken)
    assert applied.returncode == 0, applied.stderr
    started = time.monotonic()
    python = ensure_project_venv(broken, venv_cache_dir())
    print(f"virtualenv ready after {time.monotonic() - started:.1f}s: {python}")

    env = {"DATABASE_URL": with_platform_query(database_url)}
    with run_backend(broken, python, env, entrypoint=ENTRYPOINT, timeout=90) as backend:
        assert "Application startup complete" in backend.log
        print(f"backend healthy after {backend.startup_seconds:.2f}s on port {backend.port}")
        exercise_todos(backend.base_url, lambda: backend.log)
        assert "Traceback" not in backend.log, backend.log


# ----------------------------------------------------------------------------------------------- (3) unfixed


@pytest.mark.slow
def test_broken_todo_backend_fails(broken: Path, database_url: str) -> None:
    python = ensure_project_venv(broken, venv_cache_dir())  # `pip install .` works as it is: the code is what breaks
    env = {"DATABASE_URL": with_platform_query(database_url)}
    try:
        with run_backend(broken, python, env, entrypoint=ENTRYPOINT, timeout=90) as backend:
            raise AssertionError(f"the broken backend started:\n{backend.log}")
    except BackendStartError as error:
        assert error.returncode not in (None, 0), error
        assert "ImportError: cannot import name 'AsyncSession' from 'sqlmodel'" in error.log, error.log
        assert 'File "' + str(broken / "app" / "db.py") + '"' in error.log, error.log
