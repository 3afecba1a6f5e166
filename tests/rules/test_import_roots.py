"""FX020 import-roots: before/after on small trees, the cases to leave alone, and convergence."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from fixer.apply import runner
from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "startup"


def fix(root: Path, unsafe: bool = False) -> dict[str, tuple[str, str, list]]:
    outcome = runner.run(root, codemods=list(PYTHON_CODEMODS), text_rules=[r() for r in TEXT_RULES], unsafe_fixes=unsafe)
    return {
        r.path: (r.old.decode(), r.new.decode(), [f for f in r.findings if f.rule == "FX020"])
        for r in outcome.results
        if any(f.rule == "FX020" for f in r.findings)
    }


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def apply(root: Path, changes: dict[str, tuple[str, str, list]]) -> None:
    for rel, (_, new, _) in changes.items():
        (root / rel).write_text(new)


@pytest.mark.parametrize(
    ("fixture", "path", "before", "after"),
    [
        ("unresolved-import", "src/main.py", "from core.config import DATABASE_URL", "from src.core.config import DATABASE_URL"),
        ("relative-import", "app/main.py", "from .routes import router", "from routes import router"),
        ("all-at-once", "src/main.py", "from core.security import token_for", "from src.core.security import token_for"),
    ],
)
def test_rewrites_the_import_for_the_documented_start(tmp_path: Path, fixture: str, path: str, before: str, after: str) -> None:
    root = Path(shutil.copytree(FIXTURES / fixture / "broken", tmp_path / "b"))
    changes = fix(root)
    assert set(changes) == {path}
    old, new, findings = changes[path]
    assert before in old and after in new and before not in new
    assert findings[0].fixed and findings[0].safe and "README.md" in findings[0].evidence
    ast.parse(new)
    apply(root, changes)
    assert fix(root) == {}  # a second run changes nothing


@pytest.mark.parametrize("fixture", ["correct-start-folder", "correct-pydantic1", "circular-import", "missing-dependency"])
def test_leaves_imports_that_resolve_alone(tmp_path: Path, fixture: str) -> None:
    root = Path(shutil.copytree(FIXTURES / fixture / "broken", tmp_path / "b"))
    assert fix(root) == {}


def test_every_import_of_the_project_gets_the_same_style(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "```\nuvicorn src.main:app\n```\n",
        "src/__init__.py": "",
        "src/db.py": "from src.models import Note\n",
        "src/models.py": "class Note: ...\n",
        "src/api/__init__.py": "",
        "src/api/notes.py": "from models import Note\nfrom db import Note as N\n",
        "src/main.py": "from fastapi import FastAPI\nfrom api.notes import Note\napp = FastAPI()\n",
    })
    changes = fix(root)
    assert changes["src/main.py"][1].splitlines()[1] == "from src.api.notes import Note"
    assert changes["src/api/notes.py"][1] == "from src.models import Note\nfrom src.db import Note as N\n"
    assert "src/db.py" not in changes  # already in the style the start needs


def test_starts_that_disagree_make_the_fix_unsafe(tmp_path: Path) -> None:
    root = Path(shutil.copytree(FIXTURES / "unresolved-import" / "broken", tmp_path / "b"))
    (root / "Procfile").write_text("web: cd src && uvicorn main:app --port $PORT\n")
    changes = fix(root)
    # The Procfile's start (from src/) imports `core` fine: the deploy file is the start checked, nothing to fix.
    assert changes == {}
    (root / "Procfile").write_text("web: uvicorn src.main:app --port $PORT\n")
    (root / "README.md").write_text("```\ncd src && uvicorn main:app\n```\n")
    changes = fix(root)
    finding = changes["src/main.py"][2][0]
    assert not finding.safe and not finding.fixed and changes["src/main.py"][0] == changes["src/main.py"][1]
    assert fix(root, unsafe=True)["src/main.py"][1].startswith("from fastapi import FastAPI\n\nfrom src.core.config")


def test_the_start_command_when_it_is_the_smaller_change(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "```\ncd src\nuvicorn main:app --reload\n```\n",
        "src/__init__.py": "",
        "src/db.py": "from .models import Note\n",
        "src/models.py": "class Note: ...\n",
        "src/api.py": "from .models import Note\nfrom .db import Note as N\n",
        "src/main.py": "from fastapi import FastAPI\nfrom .api import Note\napp = FastAPI()\n",
    })
    outcome = runner.run(root, codemods=list(PYTHON_CODEMODS), text_rules=[r() for r in TEXT_RULES])
    # The four relative imports stay; the one documented start changes where it is written.
    assert [r.path for r in outcome.results if r.changed] == ["README.md"]
    (readme,) = [r for r in outcome.results if r.changed]
    assert readme.new == b"```\ncd src\nuvicorn src.main:app --app-dir .. --reload\n```\n"
    (finding,) = [f for r in outcome.results for f in r.findings if f.rule == "FX020"]
    assert finding.fixed and finding.safe and "src.main:app --app-dir .." in finding.new_code
    assert outcome.facts.startup.primary.failures[0].message == "attempted relative import with no known parent package"
