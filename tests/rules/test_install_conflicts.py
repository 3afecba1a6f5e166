"""FX025 on declarations no install satisfies together (`fixer.model.conflicts`, judged against the release
tables): the prediction says the install stops, and one pin moves when it is the only way out."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.discover.files import discover
from fixer.model import startup
from fixer.rules.dependency_floors import DependencyFloors
from tests.rules.project_helpers import fix, write

MAIN = {"README.md": "```\npip install -r requirements.txt\nuvicorn main:app\n```\n",
        "main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}
# sqlmodel 0.0.8 requires pydantic<2; pydantic-settings 2.1.0 requires pydantic>=2.3: only sqlmodel can move.
HELD = "fastapi==0.104.1\nsqlmodel==0.0.8\npydantic==2.5.0\npydantic-settings==2.1.0\n"


def first_failure(root: Path) -> str:
    paths = list(discover(root, []))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text())
    failures = found.primary.failures
    return str(failures[0]) if failures else "imports cleanly"


def test_the_prediction_says_the_install_stops(tmp_path: Path) -> None:
    root = write(tmp_path, {**MAIN, "requirements.txt": HELD})
    assert first_failure(root) == (
        "error: No solution found when resolving dependencies: sqlmodel==0.0.8 requires pydantic<2.0.0,>=1.8.2, "
        "and requirements.txt declares pydantic==2.5.0")


def test_the_only_pin_that_can_move_moves_to_the_nearest_release(tmp_path: Path) -> None:
    changed, findings = fix(tmp_path, {**MAIN, "requirements.txt": HELD}, text_rules=[DependencyFloors])
    assert changed == {"requirements.txt": HELD.replace("sqlmodel==0.0.8", "sqlmodel==0.0.14")}
    assert [(f.rule, f.safe, f.fixed) for f in findings] == [("FX025", True, True)]
    assert first_failure(tmp_path) == "imports cleanly"


def test_two_ways_out_are_a_persons_call(tmp_path: Path) -> None:
    """Without pydantic-settings, pydantic 1.10 would do as well as sqlmodel 0.0.14: reported, written only
    with --unsafe-fixes."""
    files = {**MAIN, "requirements.txt": "fastapi==0.104.1\nsqlmodel==0.0.8\npydantic==2.5.0\n"}
    changed, findings = fix(tmp_path / "a", files, text_rules=[DependencyFloors])
    assert changed == {} and [(f.rule, f.safe, f.fixed) for f in findings] == [("FX025", False, False)]
    changed, _ = fix(tmp_path / "b", files, text_rules=[DependencyFloors], unsafe=True)
    assert changed == {"requirements.txt": files["requirements.txt"].replace("sqlmodel==0.0.8", "sqlmodel==0.0.14")}


def test_no_way_out_is_reported(tmp_path: Path) -> None:
    """A range cannot be moved as a pin: the conflict is reported with nothing written."""
    files = {**MAIN, "requirements.txt": "sqlmodel<=0.0.8\npydantic>=2.3\n"}
    changed, findings = fix(tmp_path, files, text_rules=[DependencyFloors])
    assert changed == {}
    assert [(f.rule, f.fixed, "nothing installs" in f.problem) for f in findings] == [("FX025", False, True)]


@pytest.mark.parametrize(
    "requirements",
    [
        "sqlmodel==0.0.8\npydantic==1.10.13\n",  # agrees
        "sqlmodel\npydantic==2.5.0\n",  # pip picks a sqlmodel that allows pydantic 2
        "sqlmodel==0.0.8\nsome-unknown-package==1.0\n",  # unknown to the tables: no evidence
    ],
)
def test_left_alone(tmp_path: Path, requirements: str) -> None:
    assert fix(tmp_path, {**MAIN, "requirements.txt": requirements}, text_rules=[DependencyFloors]) == ({}, [])
    assert not first_failure(tmp_path).startswith("error: No solution")
