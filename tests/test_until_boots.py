"""`fixer apply --until-boots` as a user runs it: rounds of apply and a real boot (a throwaway PostgreSQL, the
fixture's own requirements in a cached virtualenv), and `fixer verify`'s predicted first error beside the real one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.verify import CACHE_ENV
from tests.test_e2e_seed import venv_cache_dir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "startup"


def _fixer(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, CACHE_ENV: str(venv_cache_dir())}
    env.pop("FIXER_VERIFY_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "fixer", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_until_boots_fixes_the_import_root_and_the_app_then_boots(tmp_path: Path) -> None:
    backend = Path(shutil.copytree(FIXTURES / "unresolved-import" / "broken", tmp_path / "backend"))
    done = _fixer("apply", "--until-boots", ".", cwd=backend)
    assert done.returncode == 0, done.stderr
    assert "fixer: round 1: apply" in done.stderr and "fixer: round 1: verify" in done.stderr
    assert "fixer: the backend boots after 1 round(s)" in done.stderr
    assert "from src.core.config import DATABASE_URL" in (backend / "src" / "main.py").read_text()


@pytest.mark.slow
def test_verify_shows_the_predicted_first_error_beside_the_real_one(tmp_path: Path) -> None:
    backend = Path(shutil.copytree(FIXTURES / "unresolved-import" / "broken", tmp_path / "backend"))
    done = _fixer("verify", ".", cwd=backend)
    assert done.returncode == 1, done.stderr
    assert "did not start: ModuleNotFoundError: No module named 'core'" in done.stdout, done.stdout
    assert "predicted  ModuleNotFoundError: No module named 'core'  (= the real first error)" in done.stdout
