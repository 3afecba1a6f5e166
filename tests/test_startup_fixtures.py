"""The startup codemods (FX021-FX025) together on one backend that has every defect they fix, run as a user
runs fixer: `after` holds exactly the files apply changes; a second apply changes nothing.

The fixed tree was checked with the real packages (pip install -r of the fixed requirements on CPython 3.11):
the app imports, registers its form route and hashes a password; the unfixed one stops at
`PydanticImportError: BaseSettings has been moved to the pydantic-settings package`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import fixer, tree

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "startup"


# Only the before/after cases: the other fixtures here (broken/fix1) are the startup prediction's (test_startup_real).
@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "before").is_dir()))
def test_apply(case: str, tmp_path: Path) -> None:
    project = Path(shutil.copytree(CASES / case / "before", tmp_path / case))
    expected = {**tree(CASES / case / "before"), **tree(CASES / case / "after")}
    first = fixer("apply", project)
    assert tree(project) == expected, first.stderr.decode()
    second = fixer("apply", project)
    assert second.stdout == b"" and tree(project) == expected, second.stderr.decode()
