"""`dry-run --plan` records what would change; `apply --plan` writes exactly that, or nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.cli_helpers import fixer, tree

BAD = "from sqlalchemy import AsyncEngine\n"
GOOD = "from sqlalchemy.ext.asyncio import AsyncEngine\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _backend(root: Path) -> None:
    (root / "app").mkdir(parents=True)
    (root / "app" / "db.py").write_text(BAD)
    (root / "app" / "ok.py").write_text(GOOD)
    (root / ".env").write_text("DATABASE_URL=postgresql://app:s3cret@db/app\n")


def test_the_plan_records_each_files_hashes_and_findings_and_no_content(tmp_path: Path) -> None:
    _backend(tmp_path / "b")
    result = fixer("dry-run", tmp_path / "b", "--plan", tmp_path / "plan.json")
    assert result.returncode == 1, result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["fixer_plan"] == 1
    by_path = {entry["path"]: entry for entry in plan["files"]}
    assert sorted(by_path) == ["app/db.py"]  # .env: not shown (git does not track it), so not planned
    db = by_path["app/db.py"]
    assert db["sha256"] == _sha(BAD.encode()) and db["new_sha256"] == _sha(GOOD.encode())
    assert [(f["rule"], f["line"]) for f in db["findings"]] == [("FX002", 1)]
    assert "s3cret" not in (tmp_path / "plan.json").read_text()


def test_apply_with_the_plan_writes_exactly_the_planned_bytes(tmp_path: Path) -> None:
    root = tmp_path / "b"
    _backend(root)
    fixer("dry-run", root, "--plan", tmp_path / "plan.json")
    result = fixer("apply", root, "--plan", tmp_path / "plan.json")
    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    for entry in plan["files"]:
        assert _sha((root / entry["path"]).read_bytes()) == entry["new_sha256"]
    assert (root / "app" / "db.py").read_text() == GOOD


def test_apply_refuses_a_plan_whose_files_changed_since(tmp_path: Path) -> None:
    root = tmp_path / "b"
    _backend(root)
    fixer("dry-run", root, "--plan", tmp_path / "plan.json")
    (root / "app" / "db.py").write_text(BAD + "import os\n")  # edited after the review
    (root / "app" / "new.py").write_text(BAD)  # not reviewed at all
    before = tree(root)
    result = fixer("apply", root, "--plan", tmp_path / "plan.json")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        "fixer: error: the files differ from the plan: app/db.py changed since the plan; "
        "app/new.py would change but is not in the plan; nothing was changed"
    )
    assert tree(root) == before


def test_apply_refuses_a_plan_made_with_other_rules(tmp_path: Path) -> None:
    root = tmp_path / "b"
    _backend(root)
    fixer("dry-run", root, "--plan", tmp_path / "plan.json", "--select", "FX004")
    before = tree(root)
    result = fixer("apply", root, "--plan", tmp_path / "plan.json")
    assert result.returncode == 2
    assert "app/db.py would change but is not in the plan" in result.stderr.decode()
    assert tree(root) == before


def test_a_plan_already_applied_or_not_a_plan(tmp_path: Path) -> None:
    root = tmp_path / "b"
    _backend(root)
    fixer("dry-run", root, "--plan", tmp_path / "plan.json")
    assert fixer("apply", root, "--plan", tmp_path / "plan.json").returncode == 0
    again = fixer("apply", root, "--plan", tmp_path / "plan.json")  # each file holds its planned bytes already
    assert again.returncode == 0 and again.stdout == b"", again.stderr

    (tmp_path / "junk.json").write_text('{"files": 3}')
    junk = fixer("apply", root, "--plan", tmp_path / "junk.json")
    assert junk.returncode == 2
    assert junk.stderr.decode().splitlines()[-1].startswith(f"fixer: error: {tmp_path / 'junk.json'} is not a fixer plan")
