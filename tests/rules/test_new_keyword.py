"""FX048 new-keyword: a pin older than a keyword the app passes as it loads is raised to the first release that
takes it (sqlmodel's `Field(ondelete=...)` came in 0.0.21)."""

from __future__ import annotations

from pathlib import Path

from fixer.rules.new_keyword import NewKeyword
from tests.rules.project_helpers import fix

MODELS = """\
import uuid

from sqlmodel import Field, SQLModel


class Owner(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="owner.id", ondelete="CASCADE")
"""
MAIN = "from fastapi import FastAPI\n\nfrom app import models\n\napp = FastAPI()\n"


def run(tmp_path: Path, requirements: str, models: str = MODELS):
    files = {"Procfile": "web: uvicorn app.main:app\n", "requirements.txt": requirements, "app/__init__.py": "",
             "app/main.py": MAIN, "app/models.py": models}
    return fix(tmp_path, files, text_rules=[NewKeyword])


def test_an_exact_pin_older_than_the_keyword_is_raised(tmp_path: Path) -> None:
    changed, findings = run(tmp_path, "fastapi==0.104.1\nsqlmodel==0.0.16  # orm\npydantic==2.5.0\n")
    assert changed == {"requirements.txt": "fastapi==0.104.1\nsqlmodel==0.0.21  # orm\npydantic==2.5.0\n"}
    [finding] = findings
    assert finding.safe and finding.fixed
    assert "Field(ondelete=...)" in finding.problem and "sqlmodel 0.0.21 is the first release" in finding.problem
    assert "TypeError: Field() got an unexpected keyword argument 'ondelete'" in finding.evidence


def test_left_alone_where_the_release_takes_it_or_the_code_does_not_pass_it(tmp_path: Path) -> None:
    for i, (requirements, models) in enumerate([
        ("fastapi==0.115.0\nsqlmodel==0.0.21\n", MODELS),
        ("fastapi\nsqlmodel>=0.0.8\n", MODELS),  # a fresh install takes the newest, which takes it
        ("fastapi==0.104.1\nsqlmodel==0.0.16\n", MODELS.replace(', ondelete="CASCADE"', "")),
    ]):
        changed, findings = run(tmp_path / str(i), requirements, models)
        assert (changed, findings) == ({}, []), requirements


def test_a_range_that_excludes_it_or_a_conflicting_pin_is_reported(tmp_path: Path) -> None:
    changed, findings = run(tmp_path / "range", "fastapi==0.104.1\nsqlmodel>=0.0.14,<0.0.20\n")
    assert changed == {}
    [finding] = findings
    assert not finding.safe and not finding.fixed and "the entry is a range that excludes it" in finding.explanation
    # sqlmodel 0.0.21 requires SQLAlchemy>=2.0.14: a pin below it would leave the install nothing to pick
    changed, findings = run(tmp_path / "pin", "fastapi==0.104.1\nsqlmodel==0.0.16\nsqlalchemy==2.0.10\n")
    assert changed == {}
    [finding] = findings
    assert not finding.fixed and "requires SQLAlchemy" in finding.explanation
