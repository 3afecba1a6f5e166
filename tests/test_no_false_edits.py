"""Every class of wrong edit fixer 0.1 made on real backends, as a fixture written from the pattern.

`fixtures/nofalse/CASE/before` is the project; `after` holds only the files `fixer apply` must change (no
`after`: the project is correct, and fixer must leave every byte alone and exit 0). Each case runs the way a
user runs it, as a process; a second apply must change nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import expected_tree, fixer, tree

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "nofalse"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_apply_makes_exactly_the_right_edits(case: str, tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / case / "before", tmp_path / case))
    first = fixer("apply", project)
    assert tree(project) == expected_tree(CASES / case), first.stderr.decode()
    if not (CASES / case / "after").is_dir():
        assert first.returncode == 0 and first.stdout == b"", first.stderr.decode()
        dry = fixer("dry-run", project)
        assert dry.returncode == 0 and dry.stdout == b"", dry.stderr.decode()
    second = fixer("apply", project)
    assert second.stdout == b"", second.stderr.decode()
    assert tree(project) == expected_tree(CASES / case)
