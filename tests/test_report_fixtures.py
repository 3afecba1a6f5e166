"""Defect classes fixer reports exactly and does not fix (issue 23), each as a fixture written from the pattern.

`fixtures/reports/CASE/before` is the tree; `expected.json` names the folder fixer is run on (`run`) and lines
its report must hold (`stderr`). fixer writes nothing (no patch on stdout) and exits 1: the documented start
fails, and the smallest edit would change what works elsewhere (the Lambda deploy, a cap someone chose) or is
not fixer's to make (a module the repository keeps outside the backend).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import fixer, tree

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "reports"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_report_names_the_failure_and_writes_nothing(case: str, tmp_path: Path) -> None:
    expected = json.loads((CASES / case / "expected.json").read_text())
    project = Path(shutil.copytree(CASES / case / "before", tmp_path / case))
    before = tree(project)
    result = fixer("apply", project / expected["run"])
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert tree(project) == before, err
    for line in expected["stderr"]:
        assert line in err, err
