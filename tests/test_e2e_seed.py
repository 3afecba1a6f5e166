"""End to end on real PostgreSQL: the fixed seed backend boots and serves auth; the broken one does not start."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from fixer.verify.backend import BackendStartError, ensure_venv, run_backend
from tests.cli_helpers import fixer

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = REPO_ROOT / "fixtures" / "seed"
# what hosting platforms (Neon, Render, Heroku, ...) inject: a plain libpq URL with libpq-only options
PLATFORM_QUERY = "sslmode=prefer&channel_binding=prefer"


def venv_cache_dir() -> Path:
    """Where backend virtualenvs are cached: $FIXER_TEST_CACHE or <repo>/.cache/venvs (gitignored)."""
    return Path(os.environ.get("FIXER_TEST_CACHE") or REPO_ROOT / ".cache" / "venvs")


def with_platform_query(database_url: str) -> str:
    return database_url + ("&" if "?" in database_url else "?") + PLATFORM_QUERY


def request(method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def exercise_backend(backend_dir: Path, database_url: str) -> None:
    """Install backend_dir's requirements, boot it against database_url, and walk the auth flow."""
    python = ensure_venv(backend_dir / "requirements.txt", venv_cache_dir())
    env = {"DATABASE_URL": with_platform_query(database_url)}
    with run_backend(backend_dir, python, env, entrypoint="src.main:app", timeout=90) as backend:
        base = backend.base_url
        assert "Application startup complete" in backend.log
        print(f"backend healthy after {backend.startup_seconds:.2f}s on port {backend.port}")

        assert request("GET", f"{base}/health") == (200, {"status": "ok"})

        email = f"alice.{uuid.uuid4().hex[:8]}@example.com"  # unique: the database may be shared between runs
        credentials = {"email": email, "password": "s3cure-Passw0rd"}
        status, user = request("POST", f"{base}/auth/signup", credentials)
        assert status == 201, (user, backend.log)
        assert user["email"] == email and isinstance(user["id"], int), user
        assert "password" not in json.dumps(user)

        status, detail = request("POST", f"{base}/auth/signup", credentials)
        assert status == 400, (detail, backend.log)

        status, token = request("POST", f"{base}/auth/login", credentials)
        assert status == 200, (token, backend.log)
        assert token["token_type"] == "bearer" and token["access_token"], token

        status, _ = request("POST", f"{base}/auth/login", {**credentials, "password": "wrong-passw0rd"})
        assert status == 401

        status, me = request("GET", f"{base}/auth/me", token=token["access_token"])
        assert status == 200, (me, backend.log)
        assert me == {"id": user["id"], "email": email}, me

        assert request("GET", f"{base}/auth/me")[0] == 401
        assert "Traceback" not in backend.log, backend.log


def copy_tree(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEED / name / "backend", tmp_path / name / "backend"))


@pytest.mark.slow
def test_fixer_apply_makes_the_seed_backend_work(tmp_path: Path, database_url: str) -> None:
    """The bar: after `fixer apply`, the backend's own requirements install, it boots, and auth works."""
    backend_dir = copy_tree("broken", tmp_path)
    applied = fixer("apply", backend_dir)
    assert applied.returncode == 0, applied.stderr
    exercise_backend(backend_dir, database_url)


@pytest.mark.slow
def test_broken_seed_backend_fails(tmp_path: Path, database_url: str) -> None:
    backend_dir = copy_tree("broken", tmp_path)
    python = ensure_venv(backend_dir / "requirements.txt", venv_cache_dir())  # installs fine: the code is what breaks
    env = {"DATABASE_URL": with_platform_query(database_url)}
    try:
        with run_backend(backend_dir, python, env, entrypoint="src.main:app", timeout=90) as backend:
            raise AssertionError(f"the broken backend started:\n{backend.log}")
    except BackendStartError as error:
        assert error.returncode not in (None, 0), error
        assert "ImportError: cannot import name 'AsyncEngine' from 'sqlalchemy'" in error.log, error.log
