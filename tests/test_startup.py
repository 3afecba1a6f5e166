"""The startup model without running anything: start points as the project documents them, the import walk,
the predicted failures in order, the report-only checks, and how the report and the CLI show them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixer.discover.files import discover
from fixer.model import entrypoints, startup
from tests.cli_helpers import fixer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "startup"
R1 = "fastapi==0.115.12\nsqlmodel==0.0.24\nuvicorn==0.34.0\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def analyse(root: Path, **kwargs) -> startup.Startup:
    paths = list(discover(root, []))
    return startup.analyse(root, paths, lambda rel: (root / rel).read_text(), **kwargs)


def failures(root: Path, **kwargs) -> list[str]:
    return [str(f) for f in analyse(root, **kwargs).primary.failures]


# ------------------------------------------------------------------------------------------ start points


def test_start_points_from_every_source(tmp_path: Path) -> None:
    root = write(tmp_path / "backend", {
        "README.md": "```bash\ncd app\nuvicorn main:app --reload\n```\n",
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /code\nCOPY ./app /code/app\nENV PYTHONPATH=/code/app\n"
                      'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n',
        "Procfile": "web: gunicorn -k uvicorn.workers.UvicornWorker app.main:app\n",
        "docker-compose.yml": "services:\n  api:\n    build: ./app\n    command: uvicorn main:app --app-dir .\n",
        "scripts/serve.py": 'import uvicorn\nif __name__ == "__main__":\n    uvicorn.run("app.main:app")\n',
        "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n[project.scripts]\nserve = "app.cli:main"\n',
        "app/__init__.py": "",
        "app/main.py": "",
    })
    points = entrypoints.start_points(root)
    by_source = {p.source.split(" ")[0]: p for p in points}
    assert by_source["Dockerfile"].app == "app.main:app" and by_source["Dockerfile"].run_from == ""
    assert by_source["Dockerfile"].pythonpath == ("app",)
    assert by_source["README.md"].app == "main:app" and by_source["README.md"].run_from == "app"
    assert by_source["Procfile"].app == "app.main:app"
    assert (by_source["docker-compose.yml"].app, by_source["docker-compose.yml"].run_from) == ("main:app", "app")
    assert by_source["docker-compose.yml"].pythonpath == ("app",)
    # scripts/serve.py's uvicorn.run("app.main:app") imports from the backend folder: the Procfile's start, once.
    assert not any(p.source.startswith("uvicorn.run()") for p in points)
    assert any(p.installed and p.app == "app.cli:main" for p in points)
    assert points[0].source == "Dockerfile"  # a deploy file before a README
    assert "disagree" in entrypoints.disagreements(points)


def test_overrides_name_the_one_start(tmp_path: Path) -> None:
    root = write(tmp_path, {"README.md": "uvicorn main:app\n", "main.py": ""})
    assert entrypoints.start_points(root, "src.main:app", None)[0].app == "src.main:app"
    assert entrypoints.start_points(root, "main:app", str(root))[0].run_from == ""


# ------------------------------------------------------------------------------------------ the walk


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("unresolved-import", ["ModuleNotFoundError: No module named 'core'"]),
        ("relative-import", ["ImportError: attempted relative import with no known parent package"]),
        ("missing-dependency", ["ModuleNotFoundError: No module named 'jose'"]),
        ("circular-import", [
            "ImportError: cannot import name 'User' from partially initialized module 'app.models.user' "
            "(most likely due to a circular import)"]),
        ("email-validator", ["ImportError: email-validator is not installed, run `pip install 'pydantic[email]'`"]),
        ("multipart", ['RuntimeError: Form data requires "python-multipart" to be installed.']),
        ("static-dir", ["RuntimeError: Directory 'uploads' does not exist"]),
        ("correct-pydantic1", []),
        ("correct-start-folder", []),
        ("correct-required-settings", []),
        ("syntax-error", ["SyntaxError: '(' was never closed"]),
        ("lifespan-import", ["ModuleNotFoundError: No module named 'jose'"]),
        ("startup-hook-factory", ["ModuleNotFoundError: No module named 'jwt'"]),
        ("settings-list-comma", ['pydantic_settings.sources.SettingsError: error parsing value for field '
                                 '"trusted_hosts" from source "DotEnvSettingsSource"']),
    ],
)
def test_predicted_failures_of_each_fixture(fixture: str, expected: list[str]) -> None:
    assert failures(FIXTURES / fixture / "broken") == expected


def test_email_message_follows_the_pydantic_that_installs(tmp_path: Path) -> None:
    """pydantic quotes the extra in its message from 2.12 on: the prediction says what the installed one says."""
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1 + "pydantic==2.11.7\n",
        "main.py": (FIXTURES / "email-validator" / "broken" / "main.py").read_text(),
        "schemas.py": (FIXTURES / "email-validator" / "broken" / "schemas.py").read_text()})
    assert failures(root) == ["ImportError: email-validator is not installed, run `pip install pydantic[email]`"]


def test_all_at_once_in_the_order_python_meets_them() -> None:
    predicted = analyse(FIXTURES / "all-at-once" / "broken").primary
    assert [f.family for f in predicted.failures] == ["unresolved-import", "missing-dependency", "moved-name"]
    assert [f.fixed_by for f in predicted.failures] == ["FX020", "FX023", "FX021"]
    assert predicted.failures[2].exception == "pydantic.errors.PydanticImportError"
    assert predicted.order == ("src/__init__.py", "src/main.py", "src/core/__init__.py", "src/core/security.py",
                               "src/core/config.py")


def test_relative_import_beyond_the_top_level_package(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn api.main:app\n", "requirements.txt": R1,
        "api/__init__.py": "", "api/main.py": "from ..shared import x\napp = 1\n",
    })
    assert failures(root) == ["ImportError: attempted relative import beyond top-level package"]


def test_dots_above_the_package_name_where_the_module_is(tmp_path: Path) -> None:
    """Inside the backend, another start folder may make the dots fit (FX020's); outside it, or nowhere, no start
    of the folder does, and the detail says where the module is."""
    backend = tmp_path / "repo" / "backend"
    files = {"README.md": "```bash\nuvicorn app.main:app\n```\n", "requirements.txt": R1, "app/__init__.py": "",
             "app/main.py": "from ..tools.text import shout\napp = 1\n"}
    write(backend, {**files, "tools/__init__.py": "", "tools/text.py": "shout = 1\n"})
    (first,) = analyse(backend).primary.failures
    assert first.family == "relative-import" and first.fixed_by == "FX020"
    inside = tmp_path / "repo" / "other"
    write(inside, files)
    write(tmp_path / "repo", {"tools/__init__.py": "", "tools/text.py": "shout = 1\n"})
    (first,) = analyse(inside).primary.failures
    assert (first.family, first.fixed_by) == ("outside-import", None)
    assert "the dots are wrong for any start (the repository has ../tools/text.py, outside the backend folder)" in first.detail
    write(tmp_path / "repo" / "deep", {"tools/__init__.py": "", "tools/text.py": "shout = 1\n"})
    (first,) = analyse(write(tmp_path / "repo" / "deep" / "backend", {
        **files, "app/main.py": "from ...tools.text import shout\napp = 1\n"})).primary.failures
    assert first.family == "outside-import" and "the module it means is ../tools/text.py" in first.detail


def test_missing_name_from_a_project_module_and_a_third_party_one(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1,
        "models.py": "class Note: ...\n",
        "main.py": "from models import Note, Tag\nfrom sqlmodel import AsyncSession\napp = 1\n",
    })
    assert failures(root) == [
        "ImportError: cannot import name 'Tag' from 'models'",
        "ImportError: cannot import name 'AsyncSession' from 'sqlmodel'",
    ]


def test_a_pin_between_two_recorded_releases_is_not_said_to_lack_a_name(tmp_path: Path) -> None:
    """AsyncAttrs came in a 2.0.x the tables do not record: a pin after 2.0.0 is not known to lack it; a name no
    recorded release has still fails."""
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n",
        "requirements.txt": "fastapi==0.115.12\nuvicorn==0.34.0\nsqlalchemy==2.0.30\ngreenlet==3.1.1\n",
        "main.py": "from sqlalchemy.ext.asyncio import AsyncAttrs\nfrom fastapi import FastAPI\napp = FastAPI()\n",
    })
    assert failures(root) == []
    (root / "main.py").write_text("from sqlalchemy.ext.asyncio import AsyncThing\napp = 1\n")
    assert failures(root) == ["ImportError: cannot import name 'AsyncThing' from 'sqlalchemy.ext.asyncio'"]


def test_settings_without_defaults_are_requirements_not_failures(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1 + "pydantic-settings\n",
        "config.py": "from pydantic_settings import BaseSettings\nclass Settings(BaseSettings):\n"
                     "    database_url: str\n    debug: bool = False\nsettings = Settings()\n",
        "main.py": "from config import settings\napp = 1\n",
    })
    found = analyse(root).primary
    assert found.failures == () and found.required_env == ("database_url",)


def test_sys_path_edits_are_followed_and_missing_folders_reported(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1,
        "main.py": "import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), 'lib'))\n"
                   "sys.path.append(os.path.join(os.path.dirname(__file__), 'gone'))\nfrom helpers import x\napp = 1\n",
        "lib/helpers.py": "x = 1\n",
    })
    found = analyse(root).primary
    assert found.failures == ()
    assert [(folder, exists) for _, _, folder, exists in found.sys_path_edits] == [("lib", True), ("gone", False)]


def test_guarded_imports_and_type_checking_are_not_failures(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1,
        "main.py": "from typing import TYPE_CHECKING\ntry:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
                   "if TYPE_CHECKING:\n    from jose import jwt\ndef later():\n    import yaml\napp = 1\n",
    })
    assert failures(root) == []


def test_nothing_is_said_missing_without_dependency_files(tmp_path: Path) -> None:
    root = write(tmp_path, {"README.md": "uvicorn main:app\n", "main.py": "from jose import jwt\napp = 1\n"})
    assert failures(root) == []


def test_routers_never_included_and_tables_never_imported(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1,
        "main.py": "from fastapi import FastAPI\nimport users\nfrom db import init\napp = FastAPI()\n"
                   "app.include_router(users.router)\n",
        "users.py": "from fastapi import APIRouter\nrouter = APIRouter()\nadmin = APIRouter()\n",
        "tasks.py": "from fastapi import APIRouter\nrouter = APIRouter()\n",
        "db.py": "from sqlmodel import SQLModel\ndef init(engine):\n    SQLModel.metadata.create_all(engine)\n",
        "models.py": "from sqlmodel import SQLModel\nclass Task(SQLModel, table=True):\n    id: int\n",
    })
    found = analyse(root)
    assert {(u.path, u.name) for u in found.routers_unincluded} == {("tasks.py", "router"), ("users.py", "admin")}
    assert [(u.path, u.name) for u in found.tables_unimported] == [("models.py", "Task")]


@pytest.mark.parametrize("including", [
    "for r in users.router, posts.router:\n    app.include_router(r, prefix='/api')\n",
    "ROUTERS = [users.router, *[posts.router]]\nfor r in ROUTERS:\n    app.include_router(router=r)\n",
    "[app.include_router(r) for r in (users.router, posts.router)]\n",
    "for module in (users, posts):\n    app.include_router(module.router)\n",
])
def test_routers_included_in_a_loop_are_included(tmp_path: Path, including: str) -> None:
    """FX032 follows the loop's iterable; a router left out of it is still reported."""
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1,
        "main.py": "from fastapi import FastAPI\nimport users, posts\napp = FastAPI()\n" + including,
        "users.py": "from fastapi import APIRouter\nrouter = APIRouter()\nadmin = APIRouter()\n",
        "posts.py": "from fastapi import APIRouter\nrouter = APIRouter()\n",
    })
    assert {(u.path, u.name) for u in analyse(root).routers_unincluded} == {("users.py", "admin")}


# ------------------------------------------------------------------------------------------ report and CLI


def test_dry_run_prints_the_sequence_and_the_report_gives_the_order(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    # FX021 and FX023 would fix the 2nd and 3rd failures in the same run (and their own issues would say so):
    # without them, FX030 reports them in order.
    result = fixer("dry-run", ".", "--report", report, "--select", "FX020,FX030", cwd=FIXTURES / "all-at-once" / "broken")
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "predicted failures in order:" in err
    assert "1. ModuleNotFoundError: No module named 'core'  [src/main.py:3; fixed by FX020]" in err
    assert "2. ModuleNotFoundError: No module named 'jose'  [src/core/security.py:1; FX023 made no fix for it in this run]" in err  # not selected
    data = json.loads(report.read_text())
    startup_issues = [i for i in data["issues"] if i["rule"] == "FX030"]
    assert len(startup_issues) == 2  # the first is fixed by FX020 in this run: its own issue says so
    jose, moved = sorted(startup_issues, key=lambda i: i["problem_description"])
    assert moved["id"] in jose["related_issues"] and jose["id"] in moved["related_issues"]
    assert data["recommendations"][0]["description"].startswith("Fix the startup failures in this order")


def test_entrypoint_and_run_from_override(tmp_path: Path) -> None:
    result = fixer("dry-run", FIXTURES / "correct-start-folder" / "broken", "--entrypoint", "src.main:app",
                   "--run-from", FIXTURES / "correct-start-folder" / "broken")
    assert "No module named 'core'" in result.stderr.decode()
    assert fixer("dry-run", FIXTURES / "correct-start-folder" / "broken", "--entrypoint", "nope").returncode == 2


def test_a_settings_validator_that_rejects_the_platform_url(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1 + "pydantic-settings\n",
        "config.py": "from pydantic import field_validator\nfrom pydantic_settings import BaseSettings\n"
                     "class Settings(BaseSettings):\n    database_url: str = 'sqlite+aiosqlite://'\n"
                     "    @field_validator('database_url')\n    @classmethod\n    def check(cls, v):\n"
                     "        if not v.startswith(('postgresql+asyncpg://', 'sqlite+aiosqlite://')):\n"
                     "            raise ValueError('DATABASE_URL must use asyncpg')\n        return v\n"
                     "settings = Settings()\n",
        "main.py": "from config import settings\napp = 1\n",
    })
    assert failures(root) == ["pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings"]


def test_what_unrecorded_packages_pull_in_is_read_from_the_lock_graph(tmp_path: Path) -> None:
    lock = (
        'version = 1\n[[package]]\nname = "uvicorn"\nversion = "0.34.0"\ndependencies = [{ name = "click" }]\n'
        '[package.optional-dependencies]\nstandard = [{ name = "pyyaml" }]\n'
        '[[package]]\nname = "pyyaml"\nversion = "6.0.2"\n[[package]]\nname = "click"\nversion = "8.1.8"\n'
        '[[package]]\nname = "pre-commit"\nversion = "4.2.0"\ndependencies = [{ name = "pyyaml" }]\n'
    )
    files = {
        "README.md": "uvicorn main:app\n", "uv.lock": lock,
        "pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi", "uvicorn[standard]"]\n',
        "main.py": "import yaml\napp = 1\n",
    }
    assert failures(write(tmp_path / "a", files)) == []
    # without the extra, only a dev tool of the lock pulls PyYAML in: `pip install .` does not install it
    files["pyproject.toml"] = files["pyproject.toml"].replace("uvicorn[standard]", "uvicorn")
    assert failures(write(tmp_path / "b", files)) == ["ModuleNotFoundError: No module named 'yaml'"]


@pytest.mark.parametrize("fixture", ["unresolved-import", "relative-import", "all-at-once"])
def test_fx020_makes_the_first_fix_the_fixture_expects(tmp_path: Path, fixture: str) -> None:
    """fix1/ is what fixing the first failure gives: where FX020 fixes it, `fixer apply` writes exactly that
    (a start command fixed instead is the fixture's own choice: relative-import's README)."""
    import shutil

    root = Path(shutil.copytree(FIXTURES / fixture / "broken", tmp_path / "b"))
    assert fixer("apply", root, "--select", "FX020").returncode in (0, 1)
    for path in (FIXTURES / fixture / "fix1").rglob("*"):
        rel = path.relative_to(FIXTURES / fixture / "fix1")
        if path.is_file() and rel.suffix == ".py":
            assert (root / rel).read_text() == path.read_text(), rel
    assert failures(root)[:1] == failures(Path(shutil.copytree(FIXTURES / fixture / "broken", tmp_path / "c")))[1:2]


def test_a_failure_another_rule_fixes_in_the_same_run_is_that_rules_issue(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    fixer("dry-run", FIXTURES / "all-at-once" / "broken", "--report", report)
    rules = {issue["rule"] for issue in json.loads(report.read_text())["issues"]}
    assert "FX030" not in rules and {"FX020", "FX021", "FX023"} <= rules


def test_tables_imported_inside_the_function_that_creates_them_count(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn src.main:app\n", "requirements.txt": R1,
        "src/__init__.py": "", "src/models/__init__.py": "", "src/db/__init__.py": "",
        "src/main.py": "from fastapi import FastAPI\nfrom src.db.session import create_tables\napp = FastAPI()\n"
                       "@app.on_event('startup')\ndef on_startup():\n    create_tables()\n",
        "src/db/session.py": "from sqlmodel import SQLModel, create_engine\nengine = create_engine('sqlite://')\n"
                             "def register():\n    from src.models import task  # noqa: F401\n"
                             "def create_tables():\n    from src.models.user import User  # noqa: F401\n"
                             "    register()\n    SQLModel.metadata.create_all(engine)\n"
                             "    from src.models import late  # noqa: F401\n",
        "src/models/user.py": "from sqlmodel import SQLModel\nclass User(SQLModel, table=True):\n    id: int\n",
        "src/models/task.py": "from sqlmodel import SQLModel\nclass Task(SQLModel, table=True):\n    id: int\n",
        "src/models/late.py": "from sqlmodel import SQLModel\nclass Late(SQLModel, table=True):\n    id: int\n",
    })
    assert [(u.path, u.name) for u in analyse(root).tables_unimported] == [("src/models/late.py", "Late")]


def test_tables_of_another_program_or_already_defined_are_not_asked_for(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn app.main:app\n", "requirements.txt": R1,
        "app/__init__.py": "", "app/models/__init__.py": "", "mcp_server/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\nfrom sqlmodel import SQLModel\nfrom app.models.task import Task\n"
                       "app = FastAPI()\nSQLModel.metadata.create_all(None)\n",
        "app/models/task.py": "from sqlmodel import SQLModel\nclass Task(SQLModel, table=True):\n"
                              "    __tablename__ = 'tasks'\n    id: int\n",
        "app/models/copy.py": "from sqlmodel import SQLModel\nclass TaskCopy(SQLModel, table=True):\n"
                              "    __tablename__ = 'tasks'\n    id: int\n",
        "app/models/tag.py": "from sqlmodel import SQLModel\nclass Tag(SQLModel, table=True):\n    id: int\n",
        "mcp_server/models.py": "from sqlmodel import SQLModel\nclass Note(SQLModel, table=True):\n    id: int\n",
    })
    assert [(u.path, u.name) for u in analyse(root).tables_unimported] == [("app/models/tag.py", "Tag")]


@pytest.mark.skipif(__import__("sys").version_info >= (3, 12), reason="needs a Python older than PEP 695")
def test_newer_grammar_than_fixers_python_is_not_a_syntax_error(tmp_path: Path) -> None:
    files = {
        "README.md": "uvicorn app.main:app\n", "requirements.txt": R1, "app/__init__.py": "",
        "app/main.py": "from app.crud import CRUD\napp = 1\n",
        "app/crud.py": "class CRUD[T: int]:\n    pass\n",
    }
    newer = analyse(write(tmp_path / "a", {**files, ".python-version": "3.12\n"}))
    assert newer.primary.failures == () and newer.primary.unchecked[0][0] == "app/crud.py"
    assert [f.exception for f in analyse(write(tmp_path / "b", files)).primary.failures] == ["SyntaxError"]
    broken = {**files, ".python-version": "3.12\n", "app/crud.py": "class CRUD[T: int]:\n    pass(\n"}
    assert [f.exception for f in analyse(write(tmp_path / "c", broken)).primary.failures] == ["SyntaxError"]


def test_a_failure_whose_rule_makes_no_fix_here_is_not_said_to_be_fixed(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn app.main:app\n",
        "requirements.txt": "fastapi==0.115.12\nsqlmodel==0.0.24\nuvicorn==0.34.0\ngreenlet==3.1.1\nasyncpg==0.30.0\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\nfrom app.db import engine\napp = FastAPI()\n",
        # FX002 would make the engine async, but `create_async_engine` here is the module's own function.
        "app/db.py": "from sqlalchemy.ext.asyncio import AsyncSession\nfrom sqlmodel import create_engine\n"
                     "engine = create_engine('postgresql://u@h/db')\n\n\ndef create_async_engine(url):\n    return url\n\n\n"
                     "async def session():\n    async with AsyncSession(engine) as s:\n        yield s\n",
    })
    report = tmp_path / "report.json"
    result = fixer("dry-run", ".", "--report", report, cwd=root)
    assert result.stdout == b""
    assert "[app/db.py:3; FX002 made no fix for it in this run]" in result.stderr.decode()
    [issue] = [i for i in json.loads(report.read_text())["issues"] if i["rule"] == "FX030"]
    # FX002 reports the engine for a person itself: FX030 points at its finding.
    assert issue["exact_fix"]["explanation"].startswith("Not fixed by `fixer apply`: FX002's finding")
    assert "fixer apply` fixes it" not in json.dumps(issue)


JOSE = "from jose import jwt\n"  # python-jose is not a dependency: every start fails on it first


def test_starts_that_meet_the_same_first_result_do_not_disagree(tmp_path: Path) -> None:
    same = analyse(write(tmp_path / "a", {
        "Dockerfile": "FROM python:3.11\nWORKDIR /code\nCOPY . .\nCMD [\"uvicorn\", \"src.main:app\"]\n",
        "README.md": "```\ncd src\nuvicorn main:app\n```\n", "requirements.txt": R1,
        "src/main.py": "import db\napp = 1\n", "src/db.py": JOSE, "db.py": JOSE,
    }))
    assert same.disagreement and {str(p.failures[0]) for p in same.predictions} == {
        "ModuleNotFoundError: No module named 'jose'"}
    assert same.differing == ()
    main_block = analyse(write(tmp_path / "b", {
        "README.md": "uvicorn src.main:app\n", "requirements.txt": R1,
        "src/main.py": "import uvicorn\n" + JOSE + "app = 1\nif __name__ == '__main__':\n    uvicorn.run('main:app')\n",
    }))
    assert len(main_block.predictions) == 2 and main_block.differing == ()


def test_differing_starts_give_each_first_result(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn src.main:app\n", "requirements.txt": R1,
        "src/main.py": "import uvicorn\nfrom core import config\napp = 1\n"
                       "if __name__ == '__main__':\n    uvicorn.run('main:app')\n",
        "src/core/__init__.py": "", "src/core/config.py": "",
    })
    assert len(analyse(root).differing) == 2
    report = tmp_path / "report.json"
    fixer("dry-run", root, "--report", report, "--select", "FX036")
    [issue] = json.loads(report.read_text())["issues"]
    assert issue["root_cause"].endswith("(uvicorn.run() in src/main.py) imports cleanly.")
    assert "fails first with ModuleNotFoundError: No module named 'core'" in issue["root_cause"]


def test_an_installed_project_imports_from_the_folders_its_setuptools_names(tmp_path: Path) -> None:
    # setuptools installs `src` itself as a package (where = ["."]): src/agents/ is `src.agents`, and
    # `from agents import Agent` in it means the library, not the project's folder.
    build = ('[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi==0.115.12", "openai-agents==0.6.0"]\n'
             '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n')
    files = {
        "README.md": "uvicorn src.main:app\n",
        "src/__init__.py": "", "src/agents/__init__.py": "from .bot import make\n",
        "src/agents/bot.py": "from agents import Agent\nmake = 1\n",
        "src/main.py": "from src.agents import make\napp = 1\n",
    }
    flat = write(tmp_path / "a", {**files, "pyproject.toml": build + '[tool.setuptools.packages.find]\nwhere = ["."]\ninclude = ["src*"]\n'})
    assert entrypoints.installed_roots(flat) == [flat.resolve()]
    assert failures(flat) == []
    # No configuration: the src layout setuptools finds by itself puts src/ on the path.
    layout = write(tmp_path / "b", {**files, "pyproject.toml": build})
    assert entrypoints.installed_roots(layout) == [layout, layout / "src"]
    assert any("agents" in f for f in failures(layout))  # there, src/agents/ is the top-level `agents`


def test_a_table_model_nothing_names_is_a_note(tmp_path: Path) -> None:
    # The app never imports audit.py before create_all(), and nothing it loads names the model or its table:
    # no start or request fails on the missing table, so FX035 notes it and the exit stays 0.
    files = {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1,
        "main.py": "from fastapi import FastAPI\nfrom sqlmodel import SQLModel, create_engine\nimport models\n"
                   "app = FastAPI()\nSQLModel.metadata.create_all(create_engine('sqlite://'))\n",
        "models.py": "from sqlmodel import SQLModel\nclass Task(SQLModel, table=True):\n    id: int\n",
        "audit.py": "from sqlmodel import SQLModel\nclass AuditEntry(SQLModel, table=True):\n    id: int\n",
    }
    root = write(tmp_path / "a", files)
    [unused] = analyse(root).tables_unimported
    assert (unused.name, unused.used) == ("AuditEntry", False)
    result = fixer("dry-run", root, "--select", "FX035")
    assert result.returncode == 0 and b"FX035 note" in result.stderr
    # A route that queries it: the table is missing at the first request, exit 1.
    root = write(tmp_path / "b", {**files, "routes.py": "def list_all(session):\n    return session.query(AuditEntry)\n",
                                  "main.py": files["main.py"] + "import routes\n"})
    [unused] = analyse(root).tables_unimported
    assert unused.used
    assert fixer("dry-run", root, "--select", "FX035").returncode == 1


def test_a_command_line_script_is_no_start(tmp_path: Path) -> None:
    # A [project.scripts] entry whose module neither runs a server nor builds an app (a user-creation CLI, broken
    # by a circular import of its own) is not what the deploy file's start meets: no disagreement, exit 0.
    root = write(tmp_path, {
        "Dockerfile": "FROM python:3.12\nCOPY . .\nCMD [\"uvicorn\", \"app.main:app\"]\n", "requirements.txt": R1,
        "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n[project.scripts]\ntool = "app.cli.main:cli"\n'
                          '[project.optional-dependencies]\n[build-system]\nrequires = ["hatchling"]\n'
                          'build-backend = "hatchling.build"\n',
        "app/__init__.py": "", "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        "app/cli/__init__.py": "", "app/cli/main.py": "from .validate import check\nclass Display: ...\ncli = 1\n",
        "app/cli/validate.py": "from app.cli.main import Display\ncheck = 1\n",
    })
    found = analyse(root)
    assert [p.start.app for p in found.predictions] == ["app.main:app"] and found.differing == ()
    assert fixer("dry-run", root).returncode == 0
    # A script that does start the server stays a start.
    (root / "app/cli/main.py").write_text("import uvicorn\ndef cli():\n    uvicorn.run('app.main:app')\n")
    assert "app.cli.main:cli" in [p.start.app for p in analyse(root).predictions]


def test_a_disagreeing_start_beside_a_clean_deploy_start_is_a_note(tmp_path: Path) -> None:
    # The deploy file's start imports cleanly; the README's out-of-date one fails: shown, but no exit 1.
    root = write(tmp_path, {
        "Dockerfile": "FROM python:3.12\nCOPY . .\nCMD [\"uvicorn\", \"src.main:app\"]\n", "requirements.txt": R1,
        "README.md": "uvicorn main:app\n", "src/__init__.py": "", "src/main.py": "app = 1\n",
    })
    assert len(analyse(root).differing) == 2
    report = tmp_path / "report.json"
    result = fixer("dry-run", root, "--report", report)
    [issue] = [i for i in json.loads(report.read_text())["issues"] if i["rule"] == "FX036"]
    assert issue["note"] is True
    assert result.returncode == 0, result.stderr.decode()
    # The same disagreement when the deploy file's start is the one that fails: exit 1 (FX030 reports it).
    (root / "Dockerfile").write_text("FROM python:3.12\nCOPY . .\nCMD [\"uvicorn\", \"main:app\"]\n")
    (root / "README.md").write_text("uvicorn src.main:app\n")
    assert fixer("dry-run", root).returncode == 1


def test_imports_written_for_another_documented_start_are_one_finding(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn src.main:app --reload\n", "requirements.txt": R1,
        "src/main.py": "import uvicorn\nfrom core.config import settings\nfrom api.routes import router\n"
                       "from api.deps import dep\napp = 1\nif __name__ == '__main__':\n    uvicorn.run('main:app')\n",
        "src/core/__init__.py": "", "src/core/config.py": "settings = 1\n",
        "src/api/__init__.py": "", "src/api/routes.py": "from core.config import settings\nrouter = 1\n",
        "src/api/deps.py": "from core.config import settings\ndep = 1\n",
    })
    found = analyse(root)
    assert (found.start_fix.app, found.start_fix.run_from, found.imports_kept) == ("main:app", "src", 5)
    assert found.primary.import_fixes == ()
    report = tmp_path / "report.json"
    result = fixer("dry-run", root, "--report", report)
    # The one documented start is changed where it is written, not the five imports.
    assert b"-uvicorn src.main:app --reload\n+uvicorn main:app --app-dir src --reload\n" in result.stdout
    assert b"src/main.py" not in result.stdout
    rules = [i["rule"] for i in json.loads(report.read_text())["issues"]]
    assert rules.count("FX020") == 1 and rules.count("FX030") == 0
    fixer("apply", root)
    again = fixer("dry-run", root)
    assert again.stdout == b"" and b"imports cleanly" in again.stderr, again.stderr.decode()


def test_a_syntax_error_on_the_import_chain_with_no_documented_start_is_reported() -> None:
    done = fixer("dry-run", ".", cwd=FIXTURES / "syntax-error" / "broken")
    assert done.returncode == 1, done.stderr.decode()
    assert "inferred: app/main.py builds the app" in done.stderr.decode()
    assert "SyntaxError: '(' was never closed  [app/routes.py:3" in done.stderr.decode()


def test_an_engine_url_is_followed_to_the_settings_default_that_reaches_it() -> None:
    done = fixer("dry-run", ".", cwd=FIXTURES / "engine-url-default" / "broken")
    assert "1. ModuleNotFoundError: No module named 'psycopg2'  [app/db.py:5" in done.stderr.decode()


def test_required_settings_are_variables_to_set_with_their_file_and_field() -> None:
    done = fixer("dry-run", FIXTURES / "correct-required-settings" / "broken")
    stderr = done.stderr.decode()
    assert done.returncode == 0 and done.stdout == b"", stderr
    assert "imports cleanly" not in stderr and "once the environment sets 2 variable(s)" in stderr
    assert "NOTES_SIGNING_KEY (config.py:8 Settings.signing_key), NOTES_STORE (config.py:9 Settings.store_url)" in stderr


def test_imports_a_startup_hook_makes_after_create_all_create_no_table(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": R1,
        "main.py": "from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\nfrom sqlmodel import SQLModel\n"
                   "from db import engine\n\n@asynccontextmanager\nasync def lifespan(app):\n    import models\n"
                   "    SQLModel.metadata.create_all(engine)\n    import extra\n    yield\n\napp = FastAPI(lifespan=lifespan)\n",
        "db.py": "from sqlmodel import create_engine\nengine = create_engine('sqlite://')\n",
        "models.py": "from sqlmodel import SQLModel\nclass Note(SQLModel, table=True):\n    id: int\n",
        "extra.py": "from sqlmodel import SQLModel\nclass Tag(SQLModel, table=True):\n    id: int\n",
    })
    found = analyse(root)
    assert "models.py" in found.primary.order and "extra.py" in found.primary.order
    assert [(u.path, u.name) for u in found.tables_unimported] == [("extra.py", "Tag")]


ROUTER = "from fastapi import APIRouter\nrouter = APIRouter()\n"


@pytest.mark.parametrize(("main", "extra", "unincluded"), [
    # every router is called `router`: posts.router is its own object, not users.router
    ("from app.api import users, posts\napp.include_router(users.router)\n", {}, {"app/api/posts.py"}),
    ("from app.api.users import router as users_router\nfrom app.api import posts\n"
     "app.include_router(users_router)\napp.include_router(posts.router)\n", {}, set()),
    ("from .api import users, posts\nfor m in (users, posts):\n    app.include_router(m.router)\n", {}, set()),
    # a list another module builds, looped over here
    ("from app.api import routers\nfor r in routers.ALL:\n    app.include_router(r)\n",
     {"app/api/routers.py": "from app.api import users, posts\nALL = [users.router]\nALL += [posts.router]\n"}, set()),
    ("from app.api.routers import ALL\nfor r in ALL:\n    app.include_router(r)\n",
     {"app/api/routers.py": "from app.api import users, posts\nALL = [users.router]\n"}, {"app/api/posts.py"}),
    # an aggregating router: served only when it is included itself
    ("from app.api.api import api\napp.include_router(api)\n",
     {"app/api/api.py": "from fastapi import APIRouter\nfrom app.api import users, posts\napi = APIRouter()\n"
                        "api.include_router(users.router)\napi.include_router(posts.router)\n"}, set()),
    ("from app.api.api import api\n",
     {"app/api/api.py": "from fastapi import APIRouter\nfrom app.api import users, posts\napi = APIRouter()\n"
                        "api.include_router(users.router)\napi.include_router(posts.router)\n"},
     {"app/api/api.py", "app/api/posts.py", "app/api/users.py"}),
    # what a project function returns
    ("from app.api import users, posts\ndef every():\n    return [users.router, posts.router]\n"
     "for r in every():\n    app.include_router(r)\n", {}, set()),
    # a package whose __init__ re-exports its `router` module's router: the import gives the object, not the module
    ("from app.api.users import router as users_router\nfrom app.api.posts import router as posts_router\n"
     "for r in [users_router, posts_router]:\n    app.include_router(r)\n",
     {"app/api/users.py": None, "app/api/posts.py": None, "app/api/users/__init__.py": "from .router import router\n",
      "app/api/users/router.py": ROUTER, "app/api/posts/__init__.py": "from .router import router\n",
      "app/api/posts/router.py": ROUTER}, set()),
    # a package whose __init__ imports its own submodules (`from . import users, posts`): each is the module
    ("from app.api import users, posts\napp.include_router(users.router)\napp.include_router(posts.router)\n",
     {"app/api/__init__.py": "from . import users, posts\n"}, set()),
    ("from app.api import users, posts\napp.include_router(users.router)\n",
     {"app/api/__init__.py": "from . import users, posts\n"}, {"app/api/posts.py"}),
    # a value not followed (a third-party factory's result): judged by the name written, never reported by mistake
    ("from app.api import users, posts\nfrom plugins import collect\nfor router in collect(users, posts):\n"
     "    app.include_router(router)\n", {}, set()),
])
def test_routers_are_decided_by_value(tmp_path: Path, main: str, extra: dict, unincluded: set) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn app.main:app\n", "requirements.txt": R1, "app/__init__.py": "", "app/api/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n" + main,
        **{rel: text for rel, text in {"app/api/users.py": ROUTER, "app/api/posts.py": ROUTER, **extra}.items()
           if text is not None},  # None: the file is not there
    })
    assert {u.path for u in analyse(root).routers_unincluded} == unincluded


@pytest.mark.parametrize(("config", "call", "expected"), [
    ('    VERSION: str = ""\n', "FastAPI(title='x', version=settings.VERSION)",
     ["AssertionError: A version must be provided for OpenAPI, e.g.: '2.1.0'"]),
    ('    VERSION: str = ""\n', "FastAPI(title=settings.VERSION or 'x', version='1')", []),
    ('    VERSION: str = "0.1.0"\n', "FastAPI(title='x', version=settings.VERSION)", []),
    ('    VERSION: str = ""\n', "FastAPI(title='x', version=settings.VERSION, openapi_url=None)", []),
    ('    NAME: str = ""\n', "FastAPI(title=settings.NAME)", ["AssertionError: A title must be provided for OpenAPI, e.g.: 'My API'"]),
])
def test_fastapi_asserts_a_title_and_a_version_for_openapi(tmp_path: Path, config: str, call: str, expected: list[str]) -> None:
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": "fastapi\npydantic-settings\n",
        "config.py": "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n" + config
                     + "\n\nsettings = Settings()\n",
        "main.py": f"from fastapi import FastAPI\n\nfrom config import settings\n\napp = {call}\n",
    })
    found = analyse(root).primary.failures
    assert [str(f) for f in found] == expected
    assert all(f.family == "empty-setting" and (f.path, f.line) == ("main.py", 5) for f in found)


@pytest.mark.parametrize("sets", [
    {".env": "APP_NAME=Shop\n"},
    {"Dockerfile": "FROM python:3.12-slim\nCOPY . .\nENV APP_NAME=Shop\nCMD [\"uvicorn\", \"main:app\"]\n"},
    {"Dockerfile": "FROM python:3.12-slim\nCOPY . .\nENV SHOP_APP_NAME Shop\nCMD [\"uvicorn\", \"main:app\"]\n"},
    {".env.example": "app_name=Shop\n"},  # the backend's template: the deploy sets what it names
])
def test_an_empty_default_the_documented_environment_sets_is_no_failure(tmp_path: Path, sets: dict) -> None:
    """What the deploy's environment gives the field is not the code's "": FastAPI gets a title there."""
    files = {
        "README.md": "uvicorn main:app\n", "requirements.txt": "fastapi\npydantic-settings\n",
        "config.py": "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\nclass Settings(BaseSettings):\n"
                     "    model_config = SettingsConfigDict(env_file='.env')\n    app_name: str = ''\n\n\nsettings = Settings()\n",
        "main.py": "from fastapi import FastAPI\n\nfrom config import settings\n\napp = FastAPI(title=settings.app_name)\n",
    }
    assert failures(write(tmp_path / "unset", files)) == ["AssertionError: A title must be provided for OpenAPI, e.g.: 'My API'"]
    assert failures(write(tmp_path / "set", {**files, **sets})) == []


@pytest.mark.parametrize("template", [
    {"docker-compose.yml": "services:\n  web:\n    build: .\n    command: uvicorn main:app\n    environment:\n"
                           "      - APP_NAME=Shop\n"},
    {"deploy/.env.sample": "APP_NAME=Shop\n"},
    {"migrations/env.py": "APP_NAME = 'Shop'\n"},
])
def test_a_variable_only_compose_or_another_folder_names_is_unset_on_the_platform(tmp_path: Path, template: dict) -> None:
    """The platform runs no compose file and copies no template of another folder than the backend's (nor is an
    alembic env.py an env file): the field keeps its "" and FastAPI asserts."""
    files = {
        "README.md": "uvicorn main:app\n", "requirements.txt": "fastapi\npydantic-settings\n",
        "config.py": "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\nclass Settings(BaseSettings):\n"
                     "    model_config = SettingsConfigDict(env_file='.env')\n    app_name: str = ''\n\n\nsettings = Settings()\n",
        "main.py": "from fastapi import FastAPI\n\nfrom config import settings\n\napp = FastAPI(title=settings.app_name)\n",
        **template,
    }
    assert failures(write(tmp_path, files)) == ["AssertionError: A title must be provided for OpenAPI, e.g.: 'My API'"]


@pytest.mark.parametrize(("kwargs", "expected"), [
    # a mapping the code builds, the setting read in a function the start runs
    ("os.getenv('APP_TITLE')", ["AssertionError: A title must be provided for OpenAPI, e.g.: 'My API'"]),
    ("os.getenv('APP_TITLE', 'Shop')", []),
    ("os.getenv('DATABASE_URL')", []),  # the one variable the platform sets
])
@pytest.mark.parametrize("template", ["deploy/.env.example", ".env.example"])
def test_fastapi_keywords_from_a_mapping_built_in_a_function(tmp_path: Path, kwargs: str, expected: list[str],
                                                             template: str) -> None:
    """The backend's own template is what the deploy sets (APP_TITLE then is not the code's None); another
    folder's is not."""
    if template == ".env.example":
        expected = []
    files = {
        "README.md": "uvicorn main:app\n", "requirements.txt": "fastapi\n",
        template: "APP_TITLE=Shop\n",
        "settings.py": f"import os\n\n\nclass AppSettings:\n    title: str = {kwargs}\n    version: str = '1.0'\n\n"
                       "    @property\n    def app_kwargs(self):\n        return {'title': self.title, 'version': self.version}\n",
        "main.py": "from fastapi import FastAPI\n\nfrom settings import AppSettings\n\n\ndef build():\n"
                   "    settings = AppSettings()\n    made = FastAPI(**settings.app_kwargs)\n    return made\n\n\napp = build()\n",
    }
    assert failures(write(tmp_path, files)) == expected


@pytest.mark.parametrize(("pydantic", "quoted"), [("2.5.0", False), ("2.11.7", False), ("2.12.0", True)])
def test_the_email_validator_message_is_the_installing_pydantics(tmp_path: Path, pydantic: str, quoted: bool) -> None:
    """pydantic quotes `'pydantic[email]'` in its message from 2.12 on: the prediction says what the start prints."""
    root = write(tmp_path, {
        "README.md": "uvicorn main:app\n", "requirements.txt": f"fastapi\npydantic=={pydantic}\n",
        "main.py": "from fastapi import FastAPI\nfrom pydantic import BaseModel, EmailStr\n\n\nclass User(BaseModel):\n"
                   "    email: EmailStr\n\n\napp = FastAPI()\n",
    })
    requirement = "'pydantic[email]'" if quoted else "pydantic[email]"
    assert failures(root) == [f"ImportError: email-validator is not installed, run `pip install {requirement}`"]
