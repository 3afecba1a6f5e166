"""Where a start is written, parsed as the shell, Docker, compose and fastapi-cli read it: one fixture per shape
under fixtures/startup/starts/ (each a repository: its expected.json names the backend folder and the start
fixer must find first), then the shell lines themselves, and what verify boots (read from the model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fixer.model import entrypoints
from fixer.model.commands import commands_in
from fixer.verify.entrypoint import detect_entrypoint
from tests.cli_helpers import fixer

STARTS = Path(__file__).resolve().parent.parent / "fixtures" / "startup" / "starts"


def _repository(tmp_path: Path, shape: str) -> tuple[Path, dict]:
    """The fixture copied as a repository of its own (the folders above it are not read)."""
    top = Path(shutil.copytree(STARTS / shape, tmp_path / shape))
    (top / ".git").mkdir()
    expected = json.loads((top / "expected.json").read_text())
    return (top / expected["backend"]).resolve(), expected


@pytest.mark.parametrize("shape", sorted(p.name for p in STARTS.iterdir()))
def test_the_first_start_is_the_written_one(tmp_path: Path, shape: str) -> None:
    backend, expected = _repository(tmp_path, shape)
    points = entrypoints.start_points(backend)
    first = points[0]
    assert (first.app, first.run_from, list(first.pythonpath), first.source) == (
        expected["app"], expected["run_from"], expected["pythonpath"], expected["source"]), points
    assert first.where is not None
    if expected.get("agree"):
        assert entrypoints.disagreements(points) is None


def test_main_block_is_the_same_app_not_a_conflicting_start(tmp_path: Path) -> None:
    backend, _ = _repository(tmp_path, "main-block-same-app")
    points = entrypoints.start_points(backend)
    assert [p.source for p in points] == ["Dockerfile"]  # uvicorn.run("src.main:app") from the top: the same start


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('bash -c "cd app && alembic upgrade head && fastapi run main.py"', ("fastapi", None, "main.py", ("app",), ())),
        ("PYTHONPATH=src uvicorn main:app", ("uvicorn", "main:app", None, (), ("src",))),
        ("export PYTHONPATH=lib; cd api; exec uvicorn web:app", ("uvicorn", "web:app", None, ("api",), ("lib",))),
        ("poetry run python -m uvicorn pkg.asgi:app --port 80", ("uvicorn", "pkg.asgi:app", None, (), ())),
        ("gunicorn -k uvicorn.workers.UvicornWorker -b 0.0.0.0:80 --chdir svc web.app:app",
         ("gunicorn", "web.app:app", None, (), ())),
        ("gunicorn 'main:create_app()'", ("gunicorn", "main:create_app", None, (), ())),
        ("python3 run.py --port 8000", ("python", None, "run.py", (), ())),
        ("uvicorn main:app --host 0.0.0.0  # not: other:app", ("uvicorn", "main:app", None, (), ())),
    ],
)
def test_shell_lines(line: str, expected: tuple) -> None:
    [command] = commands_in(line)
    assert (command.server, command.app, command.path, command.cds, command.pythonpath) == expected


def test_words_quoted_or_escaped_apart_still_count() -> None:
    # A line is split only when it names a word a command acts on; the check reads it as shlex does, quotes
    # and backslashes taken out.
    [command] = commands_in("c'd' api && \\uvi\"corn\" web:app")
    assert (command.server, command.app, command.cds) == ("uvicorn", "web:app", ("api",))
    assert commands_in("pip install -r requirements.txt && alembic upgrade head") == []


def test_what_a_pipe_feeds_and_prose_start_nothing() -> None:
    assert commands_in("echo uvicorn main:app | tee log") == []
    assert commands_in("uvicorn is the server we use") == []


def test_verify_boots_the_models_start(tmp_path: Path) -> None:
    backend, _ = _repository(tmp_path, "procfile-env-prefix")
    entry = detect_entrypoint(backend)
    assert (entry.app, entry.app_dir, entry.source) == ("main:app", "src", "Procfile")
    backend, _ = _repository(tmp_path, "inferred-factory")
    assert detect_entrypoint(backend).source == "inferred: app/main.py builds the app"


def test_fixer_model_prints_each_start_and_where_it_is_written(tmp_path: Path) -> None:
    backend, _ = _repository(tmp_path, "compose-bash-c")
    done = fixer("model", backend)
    starts = json.loads(done.stdout)["starts"]
    assert starts[0] == {"app": "main:app", "run_from": "app", "pythonpath": [], "command": "fastapi run main.py --port 80",
                         "source": "docker-compose.yml (api)", "where": "docker-compose.yml:4"}


def test_uvicorn_run_given_a_variable_holding_the_app_string() -> None:
    import ast

    from fixer.model.entrypoints import uvicorn_runs

    code = ("import uvicorn\nfrom app.main import app\n\ndef main():\n    name = 'src.server:app'\n"
            "    uvicorn.run(app=name)\n\ndef other():\n    uvicorn.run(app)\n")
    assert [(app, name) for _, app, name, _ in uvicorn_runs(ast.parse(code))] == [("src.server:app", None), (None, "app")]
