"""FX040 static-dir: the folder a log file handler or a StaticFiles mount needs is created before the statement
the prediction stops at, and only where the code does not create it itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.rules.static_dir import StaticDir
from tests.cli_helpers import fixer
from tests.rules.project_helpers import fix

HEAD = "import logging\nimport os\nfrom pathlib import Path\n\nfrom fastapi import FastAPI\n\n"
HANDLER = 'handler = logging.FileHandler("logs/app.log")\n'


def run(tmp_path: Path, main: str):
    files = {"Procfile": "web: uvicorn app.main:app\n", "requirements.txt": "fastapi\nuvicorn\n",
             "app/__init__.py": "", "app/main.py": main}
    return fix(tmp_path, files, [StaticDir])


@pytest.mark.parametrize("makes", [
    'Path("logs").mkdir(exist_ok=True)\n',
    'LOG_DIR = "logs"\nos.makedirs(LOG_DIR, exist_ok=True)\n',
    'LOG_FILE = "logs/app.log"\nos.makedirs(os.path.dirname(LOG_FILE), exist_ok=True)\n',
    'os.makedirs("./logs/archive", exist_ok=True)\n',
    'if not os.path.exists("logs"):\n    os.mkdir("logs")\n',  # a branch the walk does not decide
    'LOG_DIR = Path(__file__).parent.parent / "logs"\nLOG_DIR.mkdir(exist_ok=True)\n',  # not worked out: no failure
])
def test_a_project_that_creates_the_folder_itself_is_left_alone(tmp_path: Path, makes: str) -> None:
    main = HEAD + makes + HANDLER + "app = FastAPI()\n"
    assert run(tmp_path, main) == ({}, [])
    done = fixer("dry-run", "-j1", tmp_path)
    assert (done.returncode, done.stdout) == (0, b""), done.stderr.decode()


def test_the_folder_is_created_before_the_handler_the_start_builds(tmp_path: Path) -> None:
    changed, [finding] = run(tmp_path, HEAD + 'os.makedirs("data", exist_ok=True)\n' + HANDLER + "app = FastAPI()\n")
    assert changed["app/main.py"].endswith('os.makedirs("logs", exist_ok=True)\n' + HANDLER + "app = FastAPI()\n")
    assert finding.rule == "FX040" and finding.fixed


def test_a_handler_of_the_same_folder_in_a_function_never_called_is_not_the_one(tmp_path: Path) -> None:
    main = (HEAD + 'def debug_handler():\n    return logging.FileHandler("logs/debug.log")\n\n\n' + HANDLER
            + "app = FastAPI()\n")
    changed, [finding] = run(tmp_path, main)  # `fix` also checks that a second run changes nothing
    assert changed["app/main.py"] == main.replace(HANDLER, 'os.makedirs("logs", exist_ok=True)\n' + HANDLER)
    assert finding.fixed


def test_a_mount_gets_its_folder_on_the_failures_line(tmp_path: Path) -> None:
    mount = 'app.mount("/media", StaticFiles(directory="media"), name="media")\n'
    main = "from fastapi import FastAPI\nfrom fastapi.staticfiles import StaticFiles\n\napp = FastAPI()\n" + mount
    changed, [finding] = run(tmp_path, main)
    assert changed["app/main.py"].endswith('os.makedirs("media", exist_ok=True)\n' + mount)
    assert run(tmp_path / "made", main.replace(mount, 'os.makedirs("media", exist_ok=True)\n' + mount)) == ({}, [])
