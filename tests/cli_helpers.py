"""Run fixer the way a user does: as a separate process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def fixer(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "fixer", *map(str, args)], cwd=cwd, capture_output=True, timeout=300)


def tree(root: Path) -> dict[str, bytes]:
    """Every file below root (no .git), by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def expected_tree(case: Path) -> dict[str, bytes]:
    """A before/after fixture's expected tree: `before`, with the files `after` holds (only those change)."""
    expected = tree(case / "before")
    if (case / "after").is_dir():
        expected.update(tree(case / "after"))
    return expected
