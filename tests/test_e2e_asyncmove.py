"""The sync-to-async driver, proven on a todo app with users (fixtures/asyncmove).

`sync/` is a working sync SQLModel app on psycopg2; `half/` the same app half moved to asyncio (an async engine
and factory, some services async, the dependency, the startup and the rest still sync): it fails at startup.
`fixer apply` (half) and `fixer apply --to-async` (sync) give `half-fixed/` and `sync-fixed/` exactly; one HTTP
scenario (sign up, log in, create/list/update/delete todos, another user sees none of them) gives the same
answers on the sync app and on both converted ones, under `-W error::RuntimeWarning` (no "coroutine ... was
never awaited"), and the half app does not start.
"""

from __future__ import annotations

import ast
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixer.verify.backend import BackendStartError, ensure_venv, run_backend
from tests.cli_helpers import fixer, tree
from tests.test_e2e_seed import request, venv_cache_dir

ASYNCMOVE = Path(__file__).resolve().parent.parent / "fixtures" / "asyncmove"
ENTRYPOINT = "app.main:app"
COROUTINES = {"exec", "execute", "commit", "refresh", "get", "delete", "flush", "rollback", "scalar", "scalars"}


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(ASYNCMOVE / name, tmp_path / name))


# ----------------------------------------------------------------------------------------------- golden


@pytest.mark.parametrize(("source", "options", "expected"), [("half", (), "half-fixed"), ("sync", ("--to-async",), "sync-fixed")])
def test_apply_gives_the_expected_tree_and_converges(source: str, options: tuple[str, ...], expected: str, tmp_path: Path) -> None:
    project = _copy(source, tmp_path)
    first = fixer("apply", *options, project)
    assert first.returncode == 0, first.stderr
    assert tree(project) == tree(ASYNCMOVE / expected)
    second = fixer("apply", *options, project)
    assert second.stdout == b"", second.stderr
    assert tree(project) == tree(ASYNCMOVE / expected)


def test_sync_app_is_left_alone_without_to_async() -> None:
    # FX005 is the platform URL's business, not the use layer's: on SQLAlchemy 2.1 a psycopg2-only app fails
    # with `postgresql://` (psycopg 3 is loaded), whatever its sessions do.
    # The startup prediction still names that failure (FX030), hence exit 1; the point is that nothing is edited.
    result = fixer("dry-run", ASYNCMOVE / "sync", "--ignore", "FX005")
    assert result.stdout == b"" and b"FX01" not in result.stderr, result.stderr


@pytest.mark.parametrize("converted", ["half-fixed", "sync-fixed"])
def test_no_sync_session_use_is_left(converted: str) -> None:
    """No sync Session on the async engine, no un-awaited session coroutine, no await on add."""
    for path in (ASYNCMOVE / converted).rglob("*.py"):
        source = path.read_text()
        module = ast.parse(source)
        assert not re.search(r"\bwith\s+Session\(", source), path
        awaited = {id(node.value) for node in ast.walk(module) if isinstance(node, ast.Await)}
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and "session" in ast.unparse(node.func.value):
                method = node.func.attr
                if method in COROUTINES:
                    assert id(node) in awaited, f"{path}: {ast.unparse(node)} not awaited"
                if method in ("add", "add_all"):
                    assert id(node) not in awaited, f"{path}: await on {ast.unparse(node)}"
        for function in ast.walk(module):
            if isinstance(function, ast.FunctionDef):
                inner = [n for n in ast.walk(function) if isinstance(n, (ast.Await, ast.AsyncWith))]
                assert not inner, f"{path}: await in plain def {function.name}"


# ----------------------------------------------------------------------------------------------- end to end


def _ids(value: Any, seen: dict[int, str]) -> Any:
    """The answer with database ids replaced by their order of appearance: the same scenario gives the same."""
    if isinstance(value, dict):
        return {k: (seen.setdefault(v, f"id{len(seen)}") if k in ("id", "owner_id") and isinstance(v, int) else _ids(v, seen))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_ids(v, seen) for v in value]
    if isinstance(value, str) and value.count(".") == 1 and len(value) > 40:
        return "<token>"
    if isinstance(value, str) and "@example.com" in value:
        return value.split("-")[0]  # alice-<run>@example.com: the run's own addresses
    return value


def scenario(base: str, log: Callable[[], str]) -> list[tuple[str, int, Any]]:
    """One user journey; returns every answer (ids normalised) so runs of different apps can be compared."""
    run = uuid.uuid4().hex[:8]
    alice, bob = f"alice-{run}@example.com", f"bob-{run}@example.com"
    seen: dict[int, str] = {}
    answers: list[tuple[str, int, Any]] = []

    def call(method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, Any]:
        status, data = request(method, base + path, body, token)
        label = re.sub(r"/(\d+)$", lambda m: "/" + seen.get(int(m[1]), "?"), path)
        answers.append((f"{method} {label}", status, _ids(data, seen) if status < 400 else None))
        assert status < 500, (method, path, data, log())
        return status, data

    assert call("GET", "/health")[0] == 200
    status, user = call("POST", "/auth/signup", {"email": alice, "password": "s3cret-alice"})
    assert status == 201 and user["email"] == alice, user
    assert call("POST", "/auth/signup", {"email": alice, "password": "again"})[0] == 409
    assert call("POST", "/auth/login", {"email": alice, "password": "wrong"})[0] == 401
    status, login = call("POST", "/auth/login", {"email": alice, "password": "s3cret-alice"})
    assert status == 200, login
    token = login["access_token"]
    assert call("GET", "/todos")[0] == 401

    status, milk = call("POST", "/todos", {"title": "Buy milk"}, token)
    assert status == 201 and milk["title"] == "Buy milk" and milk["done"] is False, milk
    status, dog = call("POST", "/todos", {"title": "Walk the dog"}, token)
    assert status == 201, dog
    assert call("POST", "/todos", {"title": ""}, token)[0] == 422
    status, todos = call("GET", "/todos", token=token)
    assert status == 200 and [t["title"] for t in todos] == ["Buy milk", "Walk the dog"], todos
    status, done = call("PATCH", f"/todos/{milk['id']}", {"done": True}, token)
    assert status == 200 and done == {**milk, "done": True}, done
    assert call("GET", f"/todos/{milk['id']}", token=token) == (200, done)

    assert call("POST", "/auth/signup", {"email": bob, "password": "s3cret-bob"})[0] == 201
    bob_token = call("POST", "/auth/login", {"email": bob, "password": "s3cret-bob"})[1]["access_token"]
    assert call("GET", "/todos", token=bob_token) == (200, [])
    assert call("GET", f"/todos/{milk['id']}", token=bob_token)[0] == 404
    assert call("PATCH", f"/todos/{milk['id']}", {"done": False}, bob_token)[0] == 404
    assert call("DELETE", f"/todos/{milk['id']}", token=bob_token)[0] == 404

    assert call("DELETE", f"/todos/{milk['id']}", token=token)[0] == 204
    assert call("GET", f"/todos/{milk['id']}", token=token)[0] == 404
    status, todos = call("GET", "/todos", token=token)
    assert status == 200 and [t["title"] for t in todos] == ["Walk the dog"], todos
    return answers


def _serve(project: Path, url: str) -> list[tuple[str, int, Any]]:
    python = ensure_venv(project / "requirements.txt", venv_cache_dir())
    env = {"DATABASE_URL": url, "PYTHONWARNINGS": "error::RuntimeWarning"}
    with run_backend(project, python, env, entrypoint=ENTRYPOINT, timeout=90) as backend:
        answers = scenario(backend.base_url, lambda: backend.log)
        log = backend.log
    assert "never awaited" not in log and "Traceback" not in log, log
    return answers


def _driver(database_url: str, driver: str) -> str:
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", f"postgresql+{driver}://", database_url)


@pytest.mark.slow
def test_one_scenario_same_answers_before_and_after(tmp_path: Path, database_url: str) -> None:
    sync_url = _driver(database_url, "psycopg2")
    expected = _serve(_copy("sync", tmp_path), sync_url)

    half = _copy("half", tmp_path)
    python = ensure_venv(half / "requirements.txt", venv_cache_dir())
    with pytest.raises(BackendStartError) as failed:
        with run_backend(half, python, {"DATABASE_URL": _driver(database_url, "asyncpg")}, entrypoint=ENTRYPOINT, timeout=90):
            pass
    assert "_run_ddl_visitor" in failed.value.log, failed.value.log

    assert fixer("apply", half).returncode == 0
    assert _serve(half, _driver(database_url, "asyncpg")) == expected

    converted = _copy("sync", tmp_path / "to-async")
    assert fixer("apply", "--to-async", converted).returncode == 0
    assert _serve(converted, sync_url) == expected  # the platform's URL as it was: the app now makes it asyncpg's
