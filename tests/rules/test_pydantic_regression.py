"""FX049 pydantic-default-factory: an exact pydantic 2.10.0 pin, whose FieldInfo.get_default refuses SQLModel's
table constructor on a field with a default factory, is raised to 2.10.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.pydantic_regression import PydanticDefaultFactory
from tests.rules.project_helpers import fix

REQ = "fastapi==0.115.0\nsqlmodel==0.0.22\npydantic==2.10.0\npydantic[email]==2.10.0 # e-mail fields\n"
MODELS = '''import uuid

from sqlmodel import Field, SQLModel


class Note(SQLModel, table=True):
    id: uuid.UUID = Field({default}, primary_key=True)
    text: str
'''
MAIN = "from fastapi import FastAPI\nfrom app.models import Note\n\napp = FastAPI()\n"


def project(requirements: str = REQ, default: str = "default_factory=uuid.uuid4", **more: str) -> dict[str, str]:
    return {"requirements.txt": requirements, "Procfile": "web: uvicorn app.main:app\n", "app/__init__.py": "",
            "app/models.py": MODELS.format(default=default), "app/main.py": MAIN, **more}


def test_every_entry_of_the_broken_pin_is_raised(tmp_path: Path) -> None:
    changed, findings = fix(tmp_path, project(), text_rules=[PydanticDefaultFactory])
    assert changed == {"requirements.txt": REQ.replace("==2.10.0", "==2.10.1")}
    mine = [f for f in findings if f.rule == "FX049"]
    assert [(f.fixed, f.safe) for f in mine] == [(True, True)] * 2
    assert "'validated_data' must be provided" in mine[0].problem and "id" in mine[0].problem


@pytest.mark.parametrize(
    "case",
    [
        project(default="default=None"),  # no default factory: the constructor never asks for one
        project(REQ.replace("==2.10.0", "==2.10.1")),  # the fixed release
        project("fastapi==0.115.0\nsqlmodel==0.0.22\npydantic>=2.10.0\n"),  # a range: the install gives a newer one
        # Not SQLModel: pydantic's own validation passes validated_data.
        {**project(), "app/models.py": "import uuid\nfrom pydantic import BaseModel, Field\n\n\nclass Note(BaseModel):\n"
                                       "    id: uuid.UUID = Field(default_factory=uuid.uuid4)\n"},
    ],
)
def test_left_alone(case: dict[str, str], tmp_path: Path) -> None:
    changed, findings = fix(tmp_path, case, text_rules=[PydanticDefaultFactory])
    assert changed == {} and [f for f in findings if f.rule == "FX049"] == []


def test_a_pyproject_range_beside_the_pinned_requirements_is_left_as_it_is(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "x"\nversion = "0"\ndependencies = ["sqlmodel>=0.0.22", "pydantic[email]>=2.0.0"]\n'
    changed, _ = fix(tmp_path, project(**{"pyproject.toml": pyproject}), text_rules=[PydanticDefaultFactory])
    assert changed == {"requirements.txt": REQ.replace("==2.10.0", "==2.10.1")}


def test_an_exact_pydantic_core_pin_beside_it_is_raised_with_it(tmp_path: Path) -> None:
    # pip-freeze shape: pydantic 2.10.1 requires pydantic-core==2.27.1, so the old core pin alone would leave the
    # install nothing to pick
    requirements = "fastapi==0.115.5\nsqlmodel==0.0.22\npydantic==2.10.0\npydantic_core==2.27.0\n"
    changed, findings = fix(tmp_path, project(requirements), text_rules=[PydanticDefaultFactory])
    assert changed == {"requirements.txt": requirements.replace("2.10.0", "2.10.1").replace("2.27.0", "2.27.1")}
    assert [(f.fixed, f.safe) for f in findings] == [(True, True)] * 2
    assert "pydantic 2.10.1 requires pydantic-core==2.27.1" in findings[1].explanation


@pytest.mark.parametrize(
    ("extra", "held"),
    [
        # a range cannot be raised with it: its cap is someone's choice
        ("pydantic-core>=2.27.0,<2.27.1\n",
         "pydantic 2.10.1 requires pydantic-core==2.27.1; the project declares pydantic-core<2.27.1,>=2.27.0"),
        ("", "a lock file holds it"),
    ],
)
def test_a_conflicting_pin_or_a_lock_is_reported_not_raised(extra: str, held: str, tmp_path: Path) -> None:
    requirements = "fastapi==0.115.5\nsqlmodel==0.0.22\npydantic==2.10.0\n" + extra
    lock = {} if extra else {"uv.lock": 'version = 1\n\n[[package]]\nname = "pydantic"\nversion = "2.10.0"\n'}
    changed, findings = fix(tmp_path, project(requirements, **lock), text_rules=[PydanticDefaultFactory])
    assert changed == {}
    [finding] = findings
    assert not finding.fixed and not finding.safe and held in finding.explanation
