"""FX020 import-roots: a module is renamed everywhere or nowhere, and a project's own try/except ImportError
fallback is left as it is when one of its branches imports from the documented start."""

from __future__ import annotations

import ast
from pathlib import Path

from fixer.apply import runner
from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES
from tests.rules.test_import_roots import apply, fix, write

# Started from the backend folder as `src.main`, imports written for `src/` on sys.path.
HALF_DONE = {
    "README.md": "```\nuvicorn src.main:app\n```\n",
    "src/__init__.py": "",
    "src/core/__init__.py": "",
    "src/core/config.py": "settings = {'url': 'sqlite://'}\n",
    "src/db.py": "import core.config as cfg\n\nurl = cfg.settings['url']\n",
    "src/api.py": (
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/')\ndef read():\n"
        "    from core.config import settings\n    return settings\n"
    ),
    "src/main.py": (
        "from fastapi import FastAPI\nfrom core.config import settings\nfrom src import db\nfrom src.api import router\n\n"
        "app = FastAPI()\napp.include_router(router)\n"
    ),
}


def converges(root: Path, changes: dict) -> None:
    for _, new, _ in changes.values():
        ast.parse(new)
    apply(root, changes)
    assert fix(root) == {}  # a second run changes nothing


def test_every_import_of_a_renamed_module_is_renamed(tmp_path: Path) -> None:
    root = write(tmp_path, HALF_DONE)
    changes = fix(root)
    assert set(changes) == {"src/main.py", "src/db.py", "src/api.py"}
    assert changes["src/main.py"][1].splitlines()[1] == "from src.core.config import settings"
    # `import X as m` keeps the name it binds; the import inside a function goes with the others.
    assert changes["src/db.py"][1].splitlines()[0] == "import src.core.config as cfg"
    assert "    from src.core.config import settings\n" in changes["src/api.py"][1]
    assert all(f.fixed and f.safe for _, _, findings in changes.values() for f in findings)
    converges(root, changes)


def test_a_package_imported_for_its_submodule_is_renamed_with_it(tmp_path: Path) -> None:
    root = write(tmp_path, {**HALF_DONE, "src/db.py": (
        "class Store:\n    def url(self):\n        from core import config\n        return config.settings\n")})
    changes = fix(root)
    assert "        from src.core import config\n" in changes["src/db.py"][1]
    assert changes["src/main.py"][1].splitlines()[1] == "from src.core.config import settings"
    converges(root, changes)


def test_none_when_one_import_cannot_be_renamed(tmp_path: Path) -> None:
    # `import core.config` binds `core`: renaming it changes every `core.config.x` below it. Renaming the other
    # imports alone would load the module twice, as `core.config` and `src.core.config`.
    root = write(tmp_path, {**HALF_DONE, "src/db.py": "import core.config\n\nurl = core.config.settings['url']\n"})
    assert fix(root) == {}
    outcome = runner.run(root, codemods=list(PYTHON_CODEMODS), text_rules=[r() for r in TEXT_RULES])
    assert outcome.facts.startup.primary.failures[0].message == "No module named 'core'"


def test_imports_that_already_work_are_not_touched(tmp_path: Path) -> None:
    root = write(tmp_path, {**HALF_DONE, "src/db.py": "from src.core import config as cfg\n\nurl = cfg.settings['url']\n"})
    changes = fix(root)
    assert "src/db.py" not in changes and set(changes) == {"src/main.py", "src/api.py"}
    converges(root, changes)


# A project that imports both ways on purpose: as a package first, as top-level modules when that fails.
FALLBACK = {
    "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nWORKDIR /app\nCMD uvicorn main:app --host 0.0.0.0\n",
    "requirements.txt": "fastapi\nuvicorn\n",
    "models.py": "class Note:\n    pass\n",
    "services/__init__.py": "",
    "services/notes.py": (
        "try:\n    from ..models import Note\nexcept ImportError:\n    import os\n    import sys\n"
        "    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))\n"
        "    from models import Note\n\n\ndef make():\n    return Note()\n"
    ),
    "main.py": (
        "from fastapi import FastAPI\n\ntry:\n    from .models import Note\n    from .services.notes import make\n"
        "except ImportError:\n    from models import Note\n    from services.notes import make\n\napp = FastAPI()\n"
    ),
}


def test_a_fallback_that_imports_from_the_start_is_left_alone(tmp_path: Path) -> None:
    root = write(tmp_path, FALLBACK)
    assert fix(root) == {}
    outcome = runner.run(root, codemods=list(PYTHON_CODEMODS), text_rules=[r() for r in TEXT_RULES])
    assert outcome.facts.startup.primary.failures == ()
    assert not any(r.changed for r in outcome.results)


def test_a_fallback_inside_a_function_is_left_alone(tmp_path: Path) -> None:
    root = write(tmp_path, {**FALLBACK, "services/notes.py": (
        "def make():\n    try:\n        from ..models import Note\n    except ImportError:\n"
        "        from models import Note\n    return Note()\n")})
    assert fix(root) == {}


def test_a_fallback_whose_branches_both_fail_gets_the_branch_that_runs(tmp_path: Path) -> None:
    # Started from src/: neither `.models` (main is top-level there) nor `src.models` imports. The handler runs
    # whenever the module loads: it is the one rewritten; the try keeps its package form.
    root = write(tmp_path, {
        "README.md": "```\ncd src && uvicorn main:app\n```\n",
        "src/models.py": "class Note:\n    pass\n",
        "src/main.py": (
            "from fastapi import FastAPI\n\ntry:\n    from .models import Note\nexcept ImportError:\n"
            "    from src.models import Note\n\napp = FastAPI()\n"
        ),
    })
    changes = fix(root)
    assert changes["src/main.py"][1] == (
        "from fastapi import FastAPI\n\ntry:\n    from .models import Note\nexcept ImportError:\n"
        "    from models import Note\n\napp = FastAPI()\n"
    )
    converges(root, changes)


def test_a_namespace_package_start_is_the_smaller_change(tmp_path: Path) -> None:
    # No `__init__.py` anywhere; `uvicorn.run(app)` in src/main.py, and every import written for `python -m
    # src.main` from the backend folder. Renaming them all for `python main.py` from src/ is the larger change:
    # no import is rewritten, and the start is named where it is run.
    root = write(tmp_path, {
        "src/models/note.py": "class Note:\n    pass\n",
        "src/api/notes.py": "from fastapi import APIRouter\n\nfrom ..models.note import Note\n\nrouter = APIRouter()\n",
        "src/api/users.py": "from fastapi import APIRouter\n\nfrom ..models.note import Note\n\nrouter = APIRouter()\n",
        "src/main.py": (
            "from fastapi import FastAPI\nfrom src.api import notes, users\nfrom src.models.note import Note\n\n"
            "app = FastAPI()\napp.include_router(notes.router)\napp.include_router(users.router)\n\n"
            "if __name__ == '__main__':\n    import uvicorn\n    uvicorn.run(app)\n"
        ),
    })
    outcome = runner.run(root, codemods=list(PYTHON_CODEMODS), text_rules=[r() for r in TEXT_RULES])
    assert not any(r.changed for r in outcome.results)
    (finding,) = [f for r in outcome.results for f in r.findings if f.rule == "FX020"]
    assert not finding.fixed and finding.new_code.startswith("python -m src.main")
    assert outcome.facts.startup.start_fix.run_from == ""


def test_imports_inside_functions_count_when_the_start_command_is_the_smaller_change(tmp_path: Path) -> None:
    # One relative import runs at the start, a second one in a function: renaming the module means two edits,
    # so the one README line changes instead and both imports stay.
    root = write(tmp_path, {
        "README.md": "```\ncd app && uvicorn main:app\n```\n",
        "app/__init__.py": "",
        "app/routes.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n",
        "app/main.py": (
            "from fastapi import FastAPI\nfrom .routes import router\n\napp = FastAPI()\napp.include_router(router)\n\n\n"
            "def routes_again():\n    from .routes import router\n    return router\n"
        ),
    })
    outcome = runner.run(root, codemods=list(PYTHON_CODEMODS), text_rules=[r() for r in TEXT_RULES])
    assert [r.path for r in outcome.results if r.changed] == ["README.md"]
    assert outcome.results[[r.path for r in outcome.results].index("README.md")].new == b"```\nuvicorn app.main:app\n```\n"


def test_a_start_that_imports_cleanly_gets_no_rename(tmp_path: Path) -> None:
    # Only an import inside a function names the module by another root: the start does not fail, no edit.
    root = write(tmp_path, {**HALF_DONE, "src/main.py": (
        "from fastapi import FastAPI\nfrom src.core.config import settings\nfrom src.api import router\n\n"
        "app = FastAPI()\napp.include_router(router)\n"), "src/db.py": ""})
    assert fix(root) == {}
    outcome = runner.run(root, codemods=list(PYTHON_CODEMODS), text_rules=[r() for r in TEXT_RULES])
    assert outcome.facts.startup.primary.failures == ()
