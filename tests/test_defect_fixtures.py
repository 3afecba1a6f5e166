"""Defect classes seen on real backends (issue 23), each as a fixture written from the pattern.

`fixtures/defects/CASE/before` is the project; `after` holds the files `fixer apply` must change (no `after`:
the project works with the platform URL, and fixer leaves every byte alone and exits 0). A second apply
changes nothing and flags nothing fixer wrote. A defect fixer reports and does not fix has a `reports` file
naming the rules that report it: no byte changes, exit 1, and each named rule says it needs a person.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import expected_tree, fixer, tree

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "defects"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_apply_fixes_the_defect_and_only_it(case: str, tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / case / "before", tmp_path / case))
    first = fixer("apply", project)
    assert tree(project) == expected_tree(CASES / case), first.stderr.decode()
    if (CASES / case / "reports").is_file():
        assert first.returncode == 1, first.stderr.decode()
        for rule in (CASES / case / "reports").read_text().split():
            assert f"{rule} needs a person".encode() in first.stderr, first.stderr.decode()
        return
    if not (CASES / case / "after").is_dir():
        assert first.returncode == 0 and first.stdout == b"", first.stderr.decode()
    second = fixer("dry-run", project)
    assert second.stdout == b"", second.stderr.decode()
    assert b"unsafe fix" not in second.stderr and b"needs a person" not in second.stderr, second.stderr.decode()
