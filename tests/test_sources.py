"""What the model reads and parses: only the files its analyses' text checks pick, each parsed once."""

from __future__ import annotations

import ast
from pathlib import Path

from fixer import model as project_model
from fixer.model import database, entrypoints
from fixer.model.sources import Sources
from fixer.rules.registry import PYTHON_CODEMODS, TEXT_RULES
from fixer.apply.runner import run

ENGINE = b'from sqlalchemy import create_engine\n\nengine = create_engine("postgresql://u:p@h/db")\n'


def test_unrelated_code_and_library_source_are_not_read_by_the_model() -> None:
    assert project_model.reads("app/db.py", ENGINE)
    assert not project_model.reads("app/util.py", b"from os import path\n\ndef join(a, b):\n    return a + b\n")
    assert not project_model.reads("vendor/sqlalchemy/engine/create.py", ENGINE)


def test_each_finding_of_the_flow_passes_its_text_check() -> None:
    rewrite = b'URL = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://")\n'
    settings = b'class Config(AppSettings):\n    url: str = "sqlite:///./app.db"\n'
    for source in (ENGINE, rewrite, settings, b"await session.commit()\n", b'x = "postgresql+asyncpg://"\n'):
        assert database.may_add(source), source
    assert not database.may_add(b"def add(a, b):\n    return a + b\n")
    flow = database.read_python([("a.py", rewrite), ("b.py", settings)])
    assert [r.new for r in flow.rewrites] == ["postgresql://"]
    assert [s.key for s in flow.shipped] == ["url"]


def test_a_pinned_file_is_parsed_once_and_released_after() -> None:
    reads: list[str] = []

    def read_text(path: str) -> str | None:
        reads.append(path)
        return "x = 1\n"

    sources = Sources(read_text)
    sources.pin(["a.py"])
    assert sources.tree("a.py") is sources.tree("a.py")
    assert reads == ["a.py"]
    assert sources.tree("b.py") is not sources.tree("b.py")  # not pinned: nothing kept
    sources.release()
    sources.tree("a.py")
    assert reads == ["a.py", "b.py", "b.py", "a.py"]


def test_held_bytes_are_used_and_bad_files_give_none() -> None:
    sources = Sources(lambda path: None, {"ok.py": b"\xef\xbb\xbfx = 1\n", "latin.py": b"x = '\xe9'\n", "bad.py": b"def (:\n"})
    assert sources.text("ok.py") == "x = 1\n"
    assert sources.text("latin.py") is None
    assert sources.tree("bad.py") is None
    assert sources.tree("missing.py") is None


def test_vendored_library_engines_are_not_the_projects(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("fastapi\nsqlalchemy\n")
    (tmp_path / "main.py").write_text("from fastapi import FastAPI\nimport db\n\napp = FastAPI()\n")
    (tmp_path / "db.py").write_bytes(ENGINE)
    library = tmp_path / "vendor" / "sqlalchemy"
    library.mkdir(parents=True)
    (library / "create.py").write_bytes(ENGINE)
    done = run(tmp_path, PYTHON_CODEMODS, [rule() for rule in TEXT_RULES])
    assert [e.path for e in done.facts.flow.engines] == ["db.py"]
    assert "vendor/sqlalchemy/create.py" not in done.parsed


def test_a_tree_stays_until_every_analysis_that_pinned_it_is_done() -> None:
    sources = Sources(lambda path: "x = 1\n")
    sources.pin(["a.py"])
    sources.pin(["a.py"])
    kept = sources.tree("a.py")
    sources.release(["a.py"])
    assert sources.tree("a.py") is kept
    sources.release(["a.py"])
    assert sources.tree("a.py") is not kept


def test_the_start_points_the_model_and_the_startup_walk_parse_the_app_module_once(tmp_path: Path, monkeypatch) -> None:
    main = ('import uvicorn\nfrom fastapi import FastAPI\nfrom sqlalchemy import create_engine\n\n'
            'engine = create_engine("postgresql://u:p@h/db")\napp = FastAPI()\n\n'
            'if __name__ == "__main__":\n    uvicorn.run("main:app")\n')
    (tmp_path / "requirements.txt").write_text("fastapi\nsqlalchemy\nuvicorn\n")
    (tmp_path / "main.py").write_text(main)
    parsed: list[object] = []
    real = ast.parse

    def counting(source, *args, **kwargs):
        parsed.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    done = run(tmp_path, PYTHON_CODEMODS, [rule() for rule in TEXT_RULES])
    assert [p.app for p in done.facts.startup.starts] == ["main:app"]
    assert done.facts.startup.primary is not None and done.facts.startup.primary.order == ("main.py",)
    assert sum(1 for s in parsed if s in (main, main.encode())) == 1


def test_uvicorn_run_is_matched_by_its_dotted_name() -> None:
    tree = ast.parse('import uvicorn\nfrom uvicorn import run as serve\nimport other\n\n'
                     'uvicorn.run("a:app")\nserve(app)\n(uvicorn).run("b:api", app_dir="src")\nother.uvicorn.run("c:app")\n'
                     'uvicorn.run.x("d:app")\n')
    found = [(app, name, app_dir) for _, app, name, app_dir in entrypoints.uvicorn_runs(tree)]
    assert found == [("a:app", None, None), (None, "app", None), ("b:api", None, "src")]
    assert entrypoints.mentions_start(b"import uvicorn") and not entrypoints.mentions_start(b"import os\n")
