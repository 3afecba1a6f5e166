"""Fixes in files no documented start reaches (tests, scripts, samples) are offers, not safe fixes
(`fixer.apply.reach`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import fixer

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "defects" / "poolclass-queuepool-on-async-engine"
ENGINE = (
    "from sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlalchemy.pool import QueuePool\n\n"
    "engine = create_async_engine('postgresql+asyncpg://u:p@h/db', poolclass=QueuePool, pool_size=5)\n"
)


def project(tmp_path: Path, procfile_extra: str = "") -> Path:
    root = tmp_path / "p"
    shutil.copytree(FIXTURE / "before", root)
    for rel in ("scripts/check_pool.py", "tests/test_pool.py", "samples/demo.py", "scripts/seed.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(ENGINE + ("\nif __name__ == '__main__':\n    print(engine)\n" if "scripts" in rel else ""))
    # Another app module nothing documents starting: its engine is not the started one.
    (root / "legacy_main.py").write_text("from fastapi import FastAPI\n" + ENGINE + "app = FastAPI()\n")
    if procfile_extra:
        with (root / "Procfile").open("a") as procfile:
            procfile.write(procfile_extra)
    return root


def test_only_the_started_code_gets_the_safe_fix(tmp_path: Path) -> None:
    root = project(tmp_path, "release: python scripts/seed.py\n")
    result = fixer("apply", root)
    assert "AsyncAdaptedQueuePool" in (root / "app/main.py").read_text()  # the start imports it
    assert "AsyncAdaptedQueuePool" in (root / "scripts/seed.py").read_text()  # the Procfile runs it
    for rel in ("scripts/check_pool.py", "tests/test_pool.py", "samples/demo.py"):
        assert (root / rel).read_text() == ENGINE + ("\nif __name__ == '__main__':\n    print(engine)\n"
                                                     if "scripts" in rel else ""), rel
    assert "AsyncAdaptedQueuePool" not in (root / "legacy_main.py").read_text()
    stderr = result.stderr.decode()
    assert "unsafe fix (--unsafe-fixes)" in stderr and "tests/test_pool.py" in stderr
    # Offers cost no exit 1, and the second run changes nothing.
    again = fixer("dry-run", root)
    assert again.returncode == 0 and again.stdout == b"", again.stderr.decode()


@pytest.mark.parametrize(("procfile", "runs"), [
    ("release: python ./scripts/seed.py\n", True),
    ("release: python /app/scripts/seed.py\n", True),
    ('release: python "/code/scripts/seed.py"\n', True),
    ("release: python myscripts/seed.py\n", False),
    ("release: python other/seed.py\n", False),
])
def test_a_script_is_named_by_any_path_that_ends_in_its_folders(tmp_path: Path, procfile: str, runs: bool) -> None:
    root = project(tmp_path, procfile)
    fixer("apply", root)
    assert ("AsyncAdaptedQueuePool" in (root / "scripts/seed.py").read_text()) is runs


def test_unsafe_fixes_write_the_offers(tmp_path: Path) -> None:
    root = project(tmp_path)
    fixer("apply", "--unsafe-fixes", root)
    assert "AsyncAdaptedQueuePool" in (root / "tests/test_pool.py").read_text()


def test_a_module_a_route_imports_is_reached(tmp_path: Path) -> None:
    # The walk follows what runs at import; the route's own import runs at the first request: still the start's.
    root = tmp_path / "lazy"
    (root / "app").mkdir(parents=True)
    (root / "README.md").write_text("uvicorn app.main:app\n")
    (root / "requirements.txt").write_text("fastapi\nuvicorn\nsqlalchemy[asyncio]>=2.0\nasyncpg\n")
    (root / "app/__init__.py").write_text("")
    (root / "app/main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/x')\n"
                                      "async def x():\n    from .db import engine\n    return str(engine)\n")
    (root / "app/db.py").write_text(ENGINE)
    fixer("apply", root)
    assert "AsyncAdaptedQueuePool" in (root / "app/db.py").read_text()
