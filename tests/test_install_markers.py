"""Environment markers in dependency files (`poetry export` writes `; python_version >= "3.13" and ...` on every
line) are evaluated for the CPython and platform the backend runs on, never for the interpreter running fixer;
the lines a fix rewrites keep their markers and hashes."""

from __future__ import annotations

from pathlib import Path

from fixer.discover.files import discover
from fixer.model import startup
from tests.rules.project_helpers import write
from fixer.model.freshinstall import installed
from fixer.model.versions import collect, environment, resolve

ASYNC_APP = (
    "from fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
    "engine = create_async_engine('postgresql+asyncpg://db/app')\napp = FastAPI()\n"
)
MARK = ' ; python_version >= "3.13" and python_version < "4.0"'
EXPORTED = "".join(f"{pin}{MARK}\n" for pin in (
    "fastapi==0.119.0", "uvicorn==0.37.0", "sqlalchemy==2.0.44", "greenlet==3.2.4", "asyncpg==0.30.0"))


def dockerfile(python: str) -> str:
    return f"FROM python:{python}-slim\nCOPY . .\nRUN pip install -r requirements.txt\nCMD uvicorn main:app\n"


def failures(root: Path) -> list[str]:
    paths = list(discover(root, []))
    found = startup.analyse(root, paths, lambda rel: (root / rel).read_text(), database_url="postgresql+asyncpg://u:p@h/db")
    return [str(f) for f in found.primary.failures]


def test_markers_are_evaluated_for_the_projects_python_on_linux() -> None:
    texts = {"requirements.txt": (
        'fastapi==0.119.0 ; python_version >= "3.13"\n'
        'colorama==0.4.6 ; sys_platform == "win32"\n'  # poetry export keeps Windows-only lines
        'tomli==2.0.1 ; python_version < "3.11"\n'
        'uvloop==0.21.0 ; platform_machine == "x86_64" and implementation_name == "cpython"\n')}
    declared = {python: set(resolve(collect(texts.get, list(texts), python), python).declared) for python in ("3.10", "3.13")}
    assert declared == {"3.10": {"tomli", "uvloop"}, "3.13": {"fastapi", "uvloop"}}
    assert environment("3.13")["python_full_version"] == "3.13.0"


def test_a_poetry_export_installs_on_the_python_it_was_exported_for(tmp_path: Path) -> None:
    """Every line marked `python_version >= "3.13"`: on the image's CPython 3.13 all of them install, whatever
    Python runs fixer (on 3.11 the file read as empty, and every import was predicted missing). On 3.12 none does."""
    hashed = EXPORTED.replace(f"asyncpg==0.30.0{MARK}\n", f"asyncpg==0.30.0{MARK} \\\n    --hash=sha256:{'0' * 64}\n")
    for name, text in (("plain", EXPORTED), ("hashed", hashed)):
        root = write(tmp_path / name, {"main.py": ASYNC_APP, "requirements.txt": text, "Dockerfile": dockerfile("3.13")})
        assert failures(root) == [], name
        read = lambda rel: (root / rel).read_text()  # noqa: E731
        assert installed(read, list(discover(root, [])), "3.13", route=["requirements.txt"]).has("asyncpg")
    older = write(tmp_path / "older", {"main.py": ASYNC_APP, "requirements.txt": EXPORTED, "Dockerfile": dockerfile("3.12")})
    assert failures(older)[0] == "ModuleNotFoundError: No module named 'fastapi'"


def test_a_driver_swap_keeps_the_marker_and_a_correct_export_gets_no_diff(tmp_path: Path) -> None:
    from tests.cli_helpers import fixer, tree

    correct = write(tmp_path / "correct", {"main.py": ASYNC_APP, "requirements.txt": EXPORTED, "Dockerfile": dockerfile("3.13")})
    done = fixer("dry-run", correct)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr.decode()

    swapped = EXPORTED.replace("asyncpg==0.30.0", "psycopg2-binary==2.9.10")
    root = write(tmp_path / "psycopg2", {"main.py": ASYNC_APP.replace("+asyncpg", ""),
                                         "requirements.txt": swapped, "Dockerfile": dockerfile("3.13")})
    assert fixer("apply", root).returncode in (0, 1)
    lines = (root / "requirements.txt").read_text().splitlines()
    assert [line for line in lines if line.startswith("asyncpg")] == [f"asyncpg>=0.31{MARK}"]
    assert not any(line.startswith("psycopg2") for line in lines)
    assert all(line.endswith(MARK) for line in lines), lines
    before = tree(root)
    fixer("apply", root)
    assert tree(root) == before
