"""What keeps a large tree cheap without changing an answer: vendored packages are library source, and the
later rounds of `fixer.apply.rounds` work on links to the project's files that they never write through."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from fixer.apply import runner
from fixer.rules.findings import FileResult
from fixer.model import Role
from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES
from fixer.apply.rounds import run_rounds

APP = "from fastapi import FastAPI\nfrom app import db\napp = FastAPI()\n"
ENGINE = 'from sqlalchemy import create_engine\nengine = create_engine("postgresql://u:p@h/db")\n'


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_vendored_package_is_library_source_never_parsed(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": APP,
        "app/db.py": ENGINE,
        "vendor/fastapi/__init__.py": "from .applications import FastAPI\n",
        "vendor/fastapi/applications.py": ENGINE + "class FastAPI: ...\n",
        "lib/_vendor/helper/engine.py": ENGINE,
    })
    run = runner.run(tmp_path, PYTHON_CODEMODS, [rule() for rule in TEXT_RULES])
    for rel in ("vendor/fastapi/applications.py", "vendor/fastapi/__init__.py", "lib/_vendor/helper/engine.py"):
        assert run.facts.role(rel) is Role.LIBRARY
        assert rel not in run.parsed
        assert all(result.path != rel for result in run.results)
    assert "app/db.py" in run.parsed  # the project's own engine is still the rules'


def _failing(rel: str) -> SimpleNamespace:
    failure = SimpleNamespace(path=rel, line=1)
    return SimpleNamespace(startup=SimpleNamespace(primary=SimpleNamespace(failures=[failure])))


def test_a_later_round_sees_the_fix_and_the_project_keeps_its_bytes(tmp_path: Path) -> None:
    project = tmp_path / "backend"
    _tree(project, {"app.py": "old\n", "other.py": "same\n"})
    seen: list[tuple[bytes, bytes]] = []

    def one_round(root: Path) -> runner.Run:
        now, other = (root / "app.py").read_bytes(), (root / "other.py").read_bytes()
        seen.append((now, other))
        if now == b"old\n":
            results = [FileResult(path="app.py", old=now, new=b"new\n")]
            return runner.Run(results=results, files_scanned=2, facts=_failing("app.py"), root=root)
        clean = SimpleNamespace(startup=SimpleNamespace(primary=SimpleNamespace(failures=[])))
        return runner.Run(results=[], files_scanned=2, facts=clean, root=root)

    outcome, rounds = run_rounds(project, one_round)
    assert seen == [(b"old\n", b"same\n"), (b"new\n", b"same\n")]
    assert len(rounds) == 2
    assert (project / "app.py").read_bytes() == b"old\n"  # the copy's file was replaced, not written through
    assert [(r.path, r.old, r.new) for r in outcome.results] == [("app.py", b"old\n", b"new\n")]
