"""Every path fixer prints is relative to the current folder, as ruff's are, so the patch applies from there."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cli_helpers import fixer

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "seed"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = Path(shutil.copytree(SEED / "broken", tmp_path / "repo"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_patch_and_messages_from_the_current_folder(repo: Path) -> None:
    done = fixer("dry-run", "backend", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(b"--- a/backend/requirements.txt\n+++ b/backend/requirements.txt\n")
    (repo.parent / "fix.patch").write_bytes(done.stdout)
    subprocess.run(["git", "apply", "--check", "../fix.patch"], cwd=repo, check=True)  # from where it was made
    stderr = done.stderr.decode()
    # `path:line:col: FXnnn message`: what editors and terminals turn into a link.
    assert re.search(r"^backend/src/core/database\.py:12:1: FX003 unsafe fix", stderr, re.M), stderr
    assert "note: backend/.env: 1 line(s) would change" in stderr

    as_json = fixer("dry-run", "backend", "--output-format", "json", cwd=repo)
    assert all(d["filename"].startswith("backend/") for d in json.loads(as_json.stdout)["diagnostics"])

    applied = fixer("apply", "backend", "--select", "FX001", cwd=repo)
    assert applied.stdout.startswith(b"fixed backend/requirements.txt (FX001"), applied


def test_root_relative_paths_on_request(repo: Path) -> None:
    done = fixer("dry-run", "backend", "--root-relative", cwd=repo)
    assert done.stdout.startswith(b"--- a/requirements.txt\n+++ b/requirements.txt\n")
    assert re.search(rb"^src/core/database\.py:12:1: FX003 ", done.stderr, re.M)
    (repo.parent / "fix.patch").write_bytes(done.stdout)
    subprocess.run(["git", "apply", "--check", "../../fix.patch"], cwd=repo / "backend", check=True)
    as_json = fixer("dry-run", "backend", "--root-relative", "--output-format", "json", cwd=repo)
    assert "src/core/database.py" in {d["filename"] for d in json.loads(as_json.stdout)["diagnostics"]}


def test_a_root_above_the_current_folder_gives_a_root_relative_patch_and_says_so(repo: Path) -> None:
    inside = repo / "backend" / "src"
    done = fixer("dry-run", "core/database.py", cwd=inside)
    assert done.stdout.startswith(b"--- a/src/core/database.py\n"), done.stdout[:200]
    assert b"the patch's paths are relative to" in done.stderr and b"apply it there" in done.stderr
    (repo.parent / "fix.patch").write_bytes(done.stdout)
    subprocess.run(["git", "apply", "--check", "../../fix.patch"], cwd=repo / "backend", check=True)
