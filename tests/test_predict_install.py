"""The prediction's fresh install: which dependency files the documented start installs, what the
distributions it installs provide, and the names an installed package's fresh version no longer has."""

from __future__ import annotations

from pathlib import Path

from fixer.discover.files import discover
from fixer.model import startup

SYNC_APP = (
    "import os\nfrom fastapi import FastAPI\nfrom sqlmodel import create_engine\n"
    "engine = create_engine(os.environ['DATABASE_URL'])\napp = FastAPI()\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def failures(root: Path) -> list[str]:
    paths = list(discover(root, []))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(),
                            database_url="postgresql://u:p@h/db?sslmode=require")
    return [str(f) for f in found.primary.failures]


def test_another_build_of_a_driver_does_not_bring_the_driver_sqlalchemy_2_1_loads(tmp_path: Path) -> None:
    """psycopg2-binary is psycopg2 built in advance, not a plugin that may bring anything: a bare postgresql://
    on SQLAlchemy 2.1 still needs psycopg (3)."""
    files = {"README.md": "uvicorn main:app\n", "main.py": SYNC_APP,
             "requirements.txt": "fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n"}
    assert failures(write(tmp_path / "a", files)) == ["ModuleNotFoundError: No module named 'psycopg'"]
    files["requirements.txt"] += "psycopg[binary]\n"
    assert failures(write(tmp_path / "b", files)) == []


LOCK = (
    'version = 1\n[[package]]\nname = "sqlalchemy"\nversion = "2.0.40"\n'
    '[[package]]\nname = "psycopg2-binary"\nversion = "2.9.10"\n'
)
PYPROJECT = '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi", "uvicorn", "sqlmodel", "psycopg2-binary"]\n'


def test_the_install_is_the_one_the_documented_start_runs_on(tmp_path: Path) -> None:
    """A Dockerfile that runs `uv sync` installs the lock's SQLAlchemy 2.0 (psycopg2 for a bare postgresql://);
    `pip install .` ignores the lock and gets 2.1, which loads psycopg (3)."""
    from fixer.model.freshinstall import install_plan

    files = {"main.py": SYNC_APP, "pyproject.toml": PYPROJECT, "uv.lock": LOCK}
    synced = write(tmp_path / "a", {**files, "Dockerfile": "FROM python:3.12\nRUN pip install uv\nCOPY . .\n"
                                    "RUN uv sync\nCMD uv run uvicorn main:app\n"})
    assert failures(synced) == []
    assert install_plan(lambda rel: (synced / rel).read_text(), list(discover(synced, [])), "Dockerfile").kind == "lock"
    readme = write(tmp_path / "b", {**files, "README.md": "```\npip install .\nuvicorn main:app\n```\n"})
    assert failures(readme) == ["ModuleNotFoundError: No module named 'psycopg'"]
    # the README's start installs its requirements file, whatever the Dockerfile syncs
    both = write(tmp_path / "c", {**files, "requirements.txt": "fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n",
                                  "README.md": "```\npip install -r requirements.txt\nuvicorn main:app\n```\n"})
    plan = install_plan(lambda rel: (both / rel).read_text(), list(discover(both, [])), "README.md")
    assert (plan.kind, plan.file) == ("requirements", "requirements.txt")


def test_a_lock_the_documented_start_syncs_gets_no_driver_fix_and_pip_install_dot_does(tmp_path: Path) -> None:
    """Correct project, no diff: the Dockerfile's `uv sync` gives the lock's SQLAlchemy 2.0, where a bare
    postgresql:// loads the psycopg2 it installs. Started after `pip install .` (2.1), the URL needs +psycopg2;
    a second apply changes nothing."""
    from tests.cli_helpers import fixer, tree

    files = {"main.py": SYNC_APP, "pyproject.toml": PYPROJECT, "uv.lock": LOCK}
    synced = write(tmp_path / "a", {**files, "Dockerfile": "FROM python:3.12\nRUN pip install uv\nCOPY . .\n"
                                    "RUN uv sync\nCMD uv run uvicorn main:app\n"})
    done = fixer("dry-run", synced)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr.decode()
    unlocked = write(tmp_path / "b", {**files, "README.md": "```\npip install .\nuvicorn main:app\n```\n"})
    assert fixer("apply", unlocked).returncode in (0, 1)
    assert b"to_psycopg2_database_url(os.environ['DATABASE_URL'])" in (unlocked / "main.py").read_bytes()
    before = tree(unlocked)
    fixer("apply", unlocked)
    assert tree(unlocked) == before


def test_the_python_of_an_image_named_after_it() -> None:
    from fixer.model.freshinstall import project_python_version

    for image, expected in (("python:3.12-slim AS build", "3.12"), ("ghcr.io/astral-sh/uv:python3.13-bookworm-slim", "3.13"),
                            ("tiangolo/uvicorn-gunicorn-fastapi:python3.10", "3.10")):
        texts = {"Dockerfile": f"FROM {image}\nCMD uvicorn main:app\n"}
        assert project_python_version(texts.get, list(texts)) == expected


def test_a_pin_only_a_requirement_pulls_in_without_a_wheel_is_reported_not_a_crash(tmp_path: Path) -> None:
    """pydantic 2.5.3 pins pydantic-core 2.14.6, which has no wheel for CPython 3.13: the failure is written on
    no line of the project, and the JSON report still validates (it said `line_number` 0: exit 2)."""
    from tests.cli_helpers import fixer

    # only requires-python names the Python: FX025's raise is unsafe, the failure is reported
    root = write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.13"\n',
                            "README.md": "uvicorn main:app\n",
                            "requirements.txt": "fastapi\nuvicorn\npydantic==2.5.3\n",
                            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    done = fixer("dry-run", root, "--report", tmp_path / "report.json")
    assert done.returncode == 1, done.stderr.decode()
    assert b"Failed to build `pydantic-core==2.14.6`" in done.stderr


def test_a_plugin_of_a_framework_known_by_name_only_brings_no_driver(tmp_path: Path) -> None:
    """celery-acme-beat plugs into a framework fixer knows by name only, and what it brings is unknown, but a
    database driver is the application's choice: psycopg's absence is predicted, not left uncertain (openai-agents
    beside a bare postgresql:// on SQLAlchemy 2.1 fails the same way)."""
    from tests.cli_helpers import fixer

    for plugin in ("celery-acme-beat==2.0", "openai-agents"):
        root = write(tmp_path / plugin, {"README.md": "uvicorn main:app\n", "main.py": SYNC_APP, "requirements.txt":
                                         f"fastapi\nuvicorn\nsqlmodel\nsqlalchemy>=2.1\npsycopg2-binary\n{plugin}\n"})
        paths = list(discover(root, []))
        found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(), database_url="postgresql://u:p@h/db")
        assert [str(f) for f in found.primary.failures] == ["ModuleNotFoundError: No module named 'psycopg'"]
        assert found.primary.uncertain == ()
    said = fixer("dry-run", root).stderr.decode()
    assert "uncertain:" not in said and "No module named 'psycopg'" in said


def test_a_fresh_install_picks_the_releases_the_projects_python_can_install(tmp_path: Path) -> None:
    """SQLAlchemy 2.1 requires Python 3.11: on the image's CPython 3.10 pip installs 2.0, where a bare
    postgresql:// loads the psycopg2 the project lists. On 3.12 it installs 2.1, which loads psycopg (3)."""
    files = {"main.py": SYNC_APP, "requirements.txt": "fastapi\nuvicorn\nsqlmodel\npsycopg2-binary\n"}
    for python, expected in (("3.10", []), ("3.12", ["ModuleNotFoundError: No module named 'psycopg'"])):
        root = write(tmp_path / python, {**files, "Dockerfile": f"FROM python:{python}-slim\nCOPY . .\n"
                                         "RUN pip install -r requirements.txt\nCMD uvicorn main:app\n"})
        assert failures(root) == expected, python


def test_a_url_a_settings_property_builds_is_not_read_from_the_environment(tmp_path: Path) -> None:
    """`settings.DATABASE_URI` is a computed property that names psycopg (3) itself: no platform variable holds
    it, so SQLAlchemy 2.0's psycopg2 default is not what the engine loads. Correct project, no diff."""
    from tests.cli_helpers import fixer

    config = (
        "from pydantic import PostgresDsn, computed_field\nfrom pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n    PG_HOST: str = 'localhost'\n\n"
        "    @computed_field\n    @property\n    def SQLALCHEMY_DATABASE_URI(self) -> PostgresDsn:\n"
        "        return PostgresDsn.build(scheme='postgresql+psycopg', host=self.PG_HOST, path='app')\n\n\n"
        "settings = Settings()\n"
    )
    main = ("from fastapi import FastAPI\nfrom sqlmodel import create_engine\nfrom config import settings\n"
            "engine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI))\napp = FastAPI()\n")
    root = write(tmp_path, {"config.py": config, "main.py": main,
                            "Dockerfile": "FROM python:3.10\nCOPY . .\nRUN pip install -r requirements.txt\nCMD uvicorn main:app\n",
                            "requirements.txt": "fastapi\nuvicorn\nsqlmodel\npydantic-settings\npsycopg[binary]\n"})
    assert failures(root) == []
    done = fixer("dry-run", root)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr.decode()
