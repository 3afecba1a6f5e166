"""Dependency edits leave a set pip can resolve: pip's own resolver on the fixed requirements of the fixtures.

Needs the package index (CI reaches it). A fixture whose fixed requirements do not resolve would install
nothing at all: the worst wrong edit there is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import fixer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = [
    FIXTURES / "seed" / "broken" / "backend",
    *(p / "before" for p in sorted((FIXTURES / "nofalse").iterdir()) if (p / "before" / "requirements.txt").is_file()),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(FIXTURES)) for c in CASES])
def test_fixed_requirements_resolve_with_pip(case: Path, tmp_path: Path) -> None:
    project = Path(shutil.copytree(case, tmp_path / "project"))
    fixer("apply", project)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "-r", "requirements.txt"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
