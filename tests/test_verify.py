"""`fixer verify`: boots backends for real (a real PostgreSQL, real virtualenvs, real uvicorn), no mocks.

Every end-to-end run tags the processes it starts with FIXER_VERIFY_RUN=<id>; afterwards /proc must hold no
live (non-zombie) process with that tag: nothing is left running on success, failure, timeout or a signal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import tomlkit
from click.testing import CliRunner

from fixer.output.report import DefectMatch, ProbeResult, Verification, build_report, report_json, report_schema
from fixer.verify.backend import ensure_venv
from fixer.verify.diagnose import LogError, condense_traceback, diagnose, first_error
from fixer.verify.entrypoint import EntrypointError, detect_entrypoint
from fixer.verify.run import CACHE_ENV, PLATFORM_QUERY, RUN_ID_ENV

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = REPO_ROOT / "fixtures" / "seed"
VERIFY = [sys.executable, "-c", "from fixer.verify.command import verify_command; verify_command()"]


def venv_cache_dir() -> Path:
    """Shared with tests/test_e2e_seed.py: $FIXER_TEST_CACHE or <repo>/.cache/venvs."""
    return Path(os.environ.get("FIXER_TEST_CACHE") or REPO_ROOT / ".cache" / "venvs")


def copy_seed(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEED / name / "backend", tmp_path / name / "backend"))


# --- processes -------------------------------------------------------------------------------------------------

def tagged_processes(run_id: str) -> list[str]:
    """Live processes whose environment has FIXER_VERIFY_RUN=run_id (zombies are not running: skipped)."""
    tag = f"{RUN_ID_ENV}={run_id}".encode()
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            if state in ("Z", "X"):
                continue
            if tag not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        found.append(f"{entry.name}: {cmdline}")
    return found


def assert_nothing_left(run_id: str) -> None:
    deadline = time.monotonic() + 5  # the kernel may take a moment to tear a killed process down
    while (left := tagged_processes(run_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left running: {left}"


def run_verify(args: list[str], run_id: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, RUN_ID_ENV: run_id}
    env.pop("FIXER_VERIFY_DATABASE_URL", None)
    proc = subprocess.run(
        [*VERIFY, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert_nothing_left(run_id)
    return proc


def load_report(path: Path) -> dict:
    data = json.loads(path.read_text())
    jsonschema.Draft7Validator(report_schema()).validate(data)
    return data


# --- entrypoint detection ----------------------------------------------------------------------------------------

def make_app(root: Path, module: str) -> None:
    *packages, name = module.split(".")
    folder = root
    for package in packages:
        folder = folder / package
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").touch()
    (folder / f"{name}.py").write_text("app = object()\n")


@pytest.mark.parametrize(
    ("files", "modules", "expected", "source"),
    [
        ({"Procfile": "web: uvicorn --host 0.0.0.0 --port ${PORT:-8000} app.api:app\n"}, ["app.api"], "app.api:app", "Procfile"),
        ({"Dockerfile": 'FROM python:3.12\nCMD ["uvicorn", "service.main:application", "--host", "0.0.0.0"]\n'},
         ["service.main"], "service.main:application", "Dockerfile"),
        ({"README.md": "Run it:\n\n    pip install uvicorn[standard]\n    uvicorn server:api --reload\n"}, ["server"], "server:api", "README.md"),
        ({"Procfile": "web: gunicorn -k uvicorn.workers.UvicornWorker -b 0.0.0.0:80 web.app:app\n"}, ["web.app"], "web.app:app", "Procfile"),
        ({"run.py": 'import uvicorn\nif __name__ == "__main__":\n    uvicorn.run("core.asgi:app", port=8000)\n'},
         ["core.asgi"], "core.asgi:app", "uvicorn.run() in run.py"),
        ({}, ["app.main", "main"], "app.main:app", "default"),
        ({}, ["main"], "main:app", "default"),
        # A command whose module does not exist here (an old README) does not win over what exists.
        ({"README.md": "uvicorn gone.main:app\n", "Procfile": "web: uvicorn src.main:app\n"}, ["src.main"], "src.main:app", "Procfile"),
    ],
)
def test_detect_entrypoint(tmp_path: Path, files: dict[str, str], modules: list[str], expected: str, source: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for module in modules:
        make_app(tmp_path, module)
    entry = detect_entrypoint(tmp_path)
    assert (entry.app, entry.source) == (expected, source)


def test_detect_entrypoint_src_layout_parent_readme_and_override(tmp_path: Path) -> None:
    backend = tmp_path / "backend"
    (backend / "src" / "shop").mkdir(parents=True)
    (backend / "src" / "shop" / "__init__.py").touch()
    (backend / "src" / "shop" / "main.py").write_text("def create_app(): ...\n")
    (tmp_path / "README.md").write_text("```\ncd backend && uvicorn --app-dir src shop.main:create_app --factory\n```\n")
    entry = detect_entrypoint(backend)
    assert (entry.app, entry.app_dir, entry.factory, entry.source) == ("shop.main:create_app", "src", True, "../README.md")
    assert detect_entrypoint(backend, "shop.main:other").app == "shop.main:other"
    with pytest.raises(EntrypointError, match="MODULE:ATTR"):
        detect_entrypoint(backend, "shop/main.py")


def test_detect_entrypoint_none(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("uvicorn elsewhere:app\n")
    with pytest.raises(EntrypointError, match="--entrypoint"):
        detect_entrypoint(tmp_path)


def test_seed_entrypoint() -> None:
    assert detect_entrypoint(SEED / "broken" / "backend").app == "src.main:app"


# --- diagnosis: the defect catalogue's exact messages -----------------------------------------------------------

@pytest.mark.parametrize(
    ("message", "defect", "rule"),
    [
        ("ImportError: The SQLAlchemy asyncio module requires that the Python 'greenlet' library is installed.  In order "
         "to ensure this dependency is available, use the 'sqlalchemy[asyncio]' install target:  'pip install "
         "sqlalchemy[asyncio]'", "ENG-GREENLET", "FX001"),
        ("ImportError: cannot import name 'AsyncEngine' from 'sqlalchemy' (/v/sqlalchemy/__init__.py)", "ENG-IMPORT", "FX002"),
        ("ImportError: cannot import name 'async_sessionmaker' from 'sqlalchemy.orm' (/v/x.py)", "ENG-IMPORT", "FX002"),
        ("ModuleNotFoundError: No module named 'asyncpg'", "DEP-DRIVER", "FX001"),
        ("TypeError: connect() got an unexpected keyword argument 'sslmode'", "URL-NEON-SSL", "FX004"),
        ("TypeError: connect() got an unexpected keyword argument 'channel_binding'", "URL-NEON-SSL", "FX004"),
        ("sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver to be used. The loaded "
         "'psycopg2' is not async.", "URL-PLAIN", "FX004"),
        ("ModuleNotFoundError: No module named 'psycopg'", "URL-PLAIN", "FX004"),
        ("sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_() here.",
         "ENG-SYNC-ENGINE", "FX002"),
        ("TypeError: '_GeneratorContextManager' object does not support the asynchronous context manager protocol",
         "ENG-SYNC-ENGINE", "FX002"),
        ("TypeError: 'Session' object does not support the asynchronous context manager protocol", "ENG-SESSIONMAKER", "FX003"),
        ("AttributeError: 'AsyncEngine' object has no attribute 'sessionmaker'", "ENG-SESSIONMAKER", "FX003"),
        ("pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the pydantic-settings package.",
         "DEP-BASESETTINGS", "FX021"),
    ],
)
def test_diagnose_maps_catalogue_errors(message: str, defect: str, rule: str) -> None:
    found = diagnose(LogError(message=message, traceback=f"Traceback (most recent call last):\n{message}"))
    assert found, message
    assert found[0].defect == defect
    assert rule in found[0].rules


def test_diagnose_generic_causes(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").touch()
    local = diagnose(LogError("ModuleNotFoundError: No module named 'core'", ""), tmp_path)
    assert [d.defect for d in local] == ["APP-UVICORN-PATH"]
    missing = diagnose(LogError("ModuleNotFoundError: No module named 'stripe'", ""), tmp_path)
    assert [d.defect for d in missing] == ["DEP-MISSING"]
    refused = diagnose(LogError("asyncpg.exceptions.InvalidPasswordError: password authentication failed for user "
                                '"app"', ""), tmp_path, database_from_user=True)
    assert refused[0].defect == "DB-CONNECT" and "--database-url" in refused[0].fix


def test_first_error_takes_the_first_traceback_with_its_chain(tmp_path: Path) -> None:
    log = (
        "INFO:     Started server process [1]\n"
        "ERROR:    Traceback (most recent call last):\n"
        '  File "/x/greenlet_shim.py", line 74, in _initialize\n'
        "    from greenlet import getcurrent\n"
        "ModuleNotFoundError: No module named 'greenlet'\n"
        "\n"
        "The above exception was the direct cause of the following exception:\n"
        "\n"
        "Traceback (most recent call last):\n"
        f'  File "{tmp_path}/src/core/database.py", line 4, in <module>\n'
        "    from sqlalchemy.ext.asyncio import AsyncEngine\n"
        '  File "/venv/site-packages/sqlalchemy/util/concurrency.py", line 83, in _initialize\n'
        "    raise ImportError(_ERROR_MESSAGE) from e\n"
        "ImportError: The SQLAlchemy asyncio module requires that the Python 'greenlet' library is installed.\n"
        "INFO:     later\n"
        "Traceback (most recent call last):\n"
        "ValueError: a second, later error\n"
    )
    error = first_error(log, tmp_path)
    assert error is not None
    assert error.message.startswith("ImportError: The SQLAlchemy asyncio module requires")
    assert error.location == "src/core/database.py:4"
    assert "No module named 'greenlet'" in error.traceback and "second, later" not in error.traceback
    assert error.traceback.startswith("Traceback")
    short = condense_traceback(error.traceback, tmp_path)
    assert "src/core/database.py" in short and "concurrency.py" in short  # the raising frame stays
    assert first_error("ERROR:    Error loading ASGI app. Could not import module \"nope\".\n").message.startswith(
        "Error loading ASGI app"
    )
    assert first_error("INFO: all good\n") is None


# --- the report section ------------------------------------------------------------------------------------------

def verification(**change) -> Verification:
    data = dict(
        passed=False, status="startup-failed", entrypoint="src.main:app", entrypoint_source="default", app_dir=None,
        python="/v/bin/python", python_version="3.11.7", environment="virtualenv", database="database-url",
        database_version=None, database_url="postgresql://app:hunter2pass@db.example/app", max_startup_seconds=5.0,
        probes=[ProbeResult(path="/health", status=None, seconds=0.0, ok=False)],
        error="ImportError: cannot import name 'AsyncEngine' from 'sqlalchemy'",
        traceback="Traceback ...\nsqlalchemy.exc.ArgumentError: postgresql://app:hunter2pass@db.example/app",
        diagnosis=[DefectMatch(defect="ENG-IMPORT", title="t", fix="Import them from sqlalchemy.ext.asyncio.",
                               rules=["FX002"])],
        duration_seconds=1.0,
    )
    data.update(change)
    return Verification(**data)


def test_report_verification_section_is_optional_valid_and_redacted() -> None:
    plain = json.loads(report_json(build_report([], files_scanned=0, duration=0.0)))
    assert "verification" not in plain
    text = report_json(build_report([], files_scanned=0, duration=0.1, verification=verification()))
    assert "hunter2pass" not in text and "app:***@db.example" in text
    data = json.loads(text)
    jsonschema.Draft7Validator(report_schema()).validate(data)
    assert list(data) == ["summary", "issues", "recommendations", "verification"]
    first = data["recommendations"][0]["description"]
    assert first.startswith("`fixer verify` failed (startup-failed)") and "fixer apply" in first and "FX002" in first
    assert not any(r["description"].startswith("Run `fixer verify`") for r in data["recommendations"])
    passed = build_report([], 0, 0.1, verification=verification(passed=True, status="passed", error=None,
                                                                  traceback=None, diagnosis=[]))
    assert passed.recommendations == []


# --- end to end ----------------------------------------------------------------------------------------------------

def test_broken_seed_fails_and_names_the_real_first_error(tmp_path: Path) -> None:
    backend = copy_seed("broken", tmp_path)
    run_id = uuid.uuid4().hex
    report = tmp_path / "report.json"
    proc = run_verify([str(backend), "--cache-dir", str(venv_cache_dir()), "--report", str(report)], run_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("FAIL") and "did not start" in first
    assert "ImportError: cannot import name 'AsyncEngine' from 'sqlalchemy'" in first
    assert "at         src/core/database.py:4" in proc.stdout
    assert "ENG-IMPORT" in proc.stdout and f"`fixer apply {backend}` fixes it (FX002)" in proc.stdout
    assert "from sqlalchemy import AsyncEngine" in proc.stdout  # the traceback's backend frames
    assert "embedded PostgreSQL" in proc.stdout  # which database ran
    assert "npg_Xk7pQ2vLm9Rt" not in proc.stdout + proc.stderr  # the .env's password never printed

    v = load_report(report)["verification"]
    assert (v["passed"], v["status"], v["entrypoint"]) == (False, "startup-failed", "src.main:app")
    assert v["database"] in ("pgserver wheel", "PATH binaries") and v["environment"] == "virtualenv"
    assert v["error_location"] == "src/core/database.py:4"
    assert v["traceback"].startswith("Traceback (most recent call last):")
    assert v["traceback"].rstrip().endswith(v["error"])
    assert [(d["defect"], d["rules"]) for d in v["diagnosis"]] == [("ENG-IMPORT", ["FX002"])]
    assert v["database_url"].startswith("postgresql://fixer:***@127.0.0.1:") and PLATFORM_QUERY in v["database_url"]
    assert v["time_to_healthy_seconds"] is None and v["probes"] == []


def test_apply_with_verify_then_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`fixer apply --verify`, through the real command line group."""
    from fixer.cli.commands import main as group

    backend = copy_seed("broken", tmp_path)
    run_id = uuid.uuid4().hex
    monkeypatch.setenv(RUN_ID_ENV, run_id)
    monkeypatch.setenv(CACHE_ENV, str(venv_cache_dir()))  # the default cache dir, shared with the other tests
    report = tmp_path / "report.json"
    started = time.monotonic()
    result = CliRunner().invoke(group, ["apply", str(backend), "--verify", "--report", str(report), "--root-relative"])
    elapsed = time.monotonic() - started
    assert_nothing_left(run_id)
    assert result.exit_code == 0, result.output
    assert "fixed src/core/database.py" in result.output
    verdict = next(line for line in result.output.splitlines() if line.startswith(("PASS", "FAIL")))
    assert verdict.startswith("PASS") and "started and answered in" in verdict
    assert re.search(r"^  GET /health +200 \(\d+ ms\)$", result.output, re.M), result.output

    data = load_report(report)
    assert data["summary"]["total_issues_found"] >= 8
    assert all(i["fixed"] or i["fix_safety"] == "unsafe" for i in data["issues"])
    v = data["verification"]
    assert (v["passed"], v["status"]) == (True, "passed")
    assert 0 < v["startup_seconds"] <= v["time_to_healthy_seconds"] < v["max_startup_seconds"] == 5.0
    assert v["probes"] == [{"path": "/health", "status": 200, "seconds": v["probes"][0]["seconds"], "ok": True}]
    assert v["error"] is None and v["traceback"] is None and v["diagnosis"] == [] and v["warnings"] == []
    assert not any(r["description"].startswith("Run `fixer verify`") for r in data["recommendations"])
    print(f"apply --verify: {elapsed:.1f}s, time to healthy {v['time_to_healthy_seconds']:.2f}s")


def test_database_url_with_own_python(tmp_path: Path, database_url: str) -> None:
    """--database-url against a separately started server, and --python with the user's interpreter."""
    backend = copy_seed("fixed", tmp_path)
    python = ensure_venv(backend / "requirements.txt", venv_cache_dir())
    url = database_url + ("&" if "?" in database_url else "?") + PLATFORM_QUERY
    password = urlsplit(database_url).password or ""
    run_id = uuid.uuid4().hex
    report = tmp_path / "report.json"
    proc = run_verify(
        [str(backend), "--database-url", url, "--python", str(python), "--probe", "/health", "--probe", "/docs",
         "--report", str(report)],
        run_id,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS")
    assert "your database postgresql://" in proc.stdout and "(--database-url)" in proc.stdout
    assert password and password not in proc.stdout + proc.stderr + report.read_text()
    v = load_report(report)["verification"]
    assert (v["database"], v["environment"], v["python"]) == ("database-url", "interpreter", str(python))
    assert [(p["path"], p["status"]) for p in v["probes"]] == [("/health", 200), ("/docs", 200)]


@pytest.mark.slow
def test_greenlet_error_maps_to_the_dependency_rule(tmp_path: Path) -> None:
    """Fixed code with the old requirements: SQLAlchemy 2.1 without greenlet -> ENG-GREENLET, fixed by FX001."""
    backend = copy_seed("fixed", tmp_path)
    shutil.copy(SEED / "broken" / "backend" / "requirements.txt", backend / "requirements.txt")
    run_id = uuid.uuid4().hex
    proc = run_verify([str(backend), "--cache-dir", str(venv_cache_dir())], run_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "'greenlet' library is installed" in proc.stdout.splitlines()[0]
    assert "ENG-GREENLET" in proc.stdout and "(FX001)" in proc.stdout


@pytest.mark.slow
def test_requirements_that_do_not_install_fail_with_pips_message(tmp_path: Path) -> None:
    backend = copy_seed("fixed", tmp_path)
    # --no-index: pip fails for real without asking any index.
    (backend / "requirements.txt").write_text("--no-index\nfastapi>=0.115.0\n")
    cache = tmp_path / "venvs"
    run_id = uuid.uuid4().hex
    proc = run_verify([str(backend), "--cache-dir", str(cache), "--report", str(tmp_path / "r.json")], run_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("FAIL") and "could not be installed" in first
    assert "No matching distribution found for fastapi>=0.115.0" in first
    assert "pip said:" in proc.stdout
    assert "embedded PostgreSQL" not in proc.stdout + proc.stderr  # no database was started for nothing
    v = load_report(tmp_path / "r.json")["verification"]
    assert v["status"] == "install-failed" and "No matching distribution" in v["error"]
    assert not [p for p in cache.iterdir() if (p / ".fixer-complete").exists()]  # a failed build is not cached


def hanging_backend(tmp_path: Path) -> Path:
    backend = copy_seed("fixed", tmp_path)
    database = backend / "src" / "core" / "database.py"
    database.write_text(database.read_text() + "\nimport time\ntime.sleep(3600)  # connecting to a host that never answers\n")
    return backend


@pytest.mark.slow
def test_a_server_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    """What is measured is the kill: how long the hung server lived, from when it shows up until it is gone,
    not the whole run (building the venv, starting PostgreSQL), whose time a loaded machine stretches."""
    backend = hanging_backend(tmp_path)
    line = len((backend / "src" / "core" / "database.py").read_text().splitlines())
    run_id = uuid.uuid4().hex
    report = tmp_path / "report.json"
    env = {**os.environ, RUN_ID_ENV: run_id}
    env.pop("FIXER_VERIFY_DATABASE_URL", None)
    proc = subprocess.Popen(
        [*VERIFY, str(backend), "--cache-dir", str(venv_cache_dir()), "--timeout", "3", "--report", str(report)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    appeared = gone = None
    try:
        while proc.poll() is None and gone is None:
            server = any("uvicorn" in p for p in tagged_processes(run_id))
            now = time.monotonic()
            if server and appeared is None:
                appeared = now
            elif not server and appeared is not None:
                gone = now
            time.sleep(0.05)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert_nothing_left(run_id)
    assert proc.returncode == 1, out + err
    first = out.splitlines()[0]
    assert first.startswith("FAIL") and "hung at startup" in first and "within 3s" in first
    assert f"src/core/database.py:{line}" in first  # where it hung, from faulthandler
    v = load_report(report)["verification"]
    assert v["status"] == "startup-timeout" and v["error_location"] == f"src/core/database.py:{line}"
    assert appeared is not None and gone is not None, "the server was never seen running, or never stopped"
    # Killed, not waited for (it sleeps an hour): the 3 s timeout, the stack dump and the 2 s stop grace,
    # with room for a loaded machine's scheduling.
    assert gone - appeared < 3 + 30, gone - appeared


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_the_server_and_the_database(tmp_path: Path, signum: int) -> None:
    backend = hanging_backend(tmp_path)
    run_id = uuid.uuid4().hex
    env = {**os.environ, RUN_ID_ENV: run_id}
    proc = subprocess.Popen(
        [*VERIFY, str(backend), "--cache-dir", str(venv_cache_dir()), "--timeout", "120"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        seen: list[str] = []
        while time.monotonic() < deadline:  # both the server and the database are up (and tagged)
            seen = tagged_processes(run_id)
            if any("uvicorn" in p for p in seen) and any("postgres" in p for p in seen):
                break
            assert proc.poll() is None, proc.communicate()
            # Polled fast, the signal often lands while verify is still starting the server: the window in
            # which an interrupt could leave a process that no cleanup knew about.
            time.sleep(0.02)
        else:
            raise AssertionError(f"never saw uvicorn and postgres running: {seen}")
        data_dirs = {arg for p in seen for arg in p.split() if arg.endswith("/data") and "fixer-pg-" in arg}
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # the test failed: do not leak what the run started either
            proc.kill()
            proc.communicate()
            for line in tagged_processes(run_id):
                try:
                    os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
                except OSError:
                    pass
    assert proc.returncode == 130, out + err
    assert "interrupted" in err
    assert_nothing_left(run_id)
    assert data_dirs and not any(Path(d).exists() for d in data_dirs)  # the throwaway cluster is deleted


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("fastapi\n")
    run_id = uuid.uuid4().hex
    proc = run_verify([str(tmp_path)], run_id)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "--entrypoint" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_verify([str(tmp_path), "--entrypoint", "main.py"], run_id)
    assert proc.returncode == 2 and "MODULE:ATTR" in proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_verify([str(empty)], run_id)
    assert proc.returncode == 2 and "no requirements.txt or pyproject.toml" in proc.stderr


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "todo-backend"
version = "0.1.0"
requires-python = ">=3.10"
# no uvicorn: fixer verify adds it to its own virtualenv, and says so
dependencies = [
    "fastapi>=0.115.0", "sqlmodel>=0.0.22", "asyncpg>=0.31", "pydantic>=2.9.0", "pydantic-settings>=2.5.0",
    "pyjwt>=2.9.0", "bcrypt>=4.2.0", "email-validator>=2.2.0", "sqlalchemy[asyncio]>=2.0",
]

[tool.setuptools]
packages = []
"""


@pytest.mark.slow
def test_pyproject_backend_without_uvicorn(tmp_path: Path) -> None:
    """`pip install .` (of a copy: nothing is written into the user's folder), uvicorn added with a warning."""
    backend = copy_seed("fixed", tmp_path)
    (backend / "requirements.txt").unlink()
    (backend / "pyproject.toml").write_text(PYPROJECT)
    before = tree(backend)
    run_id = uuid.uuid4().hex
    proc = run_verify([str(tmp_path / "fixed"), "--cache-dir", str(venv_cache_dir())], run_id, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS  ")
    assert "uvicorn is not in the requirements" in proc.stdout
    assert "a virtualenv from pip install ." in proc.stderr
    assert tree(backend) == before  # no egg-info, build/ or __pycache__ left in the backend


def test_path_binaries_when_the_pgserver_wheel_is_missing(tmp_path: Path) -> None:
    """Run fixer on an interpreter without pgserver: initdb/pg_ctl from PATH (Debian's postgresql) are used."""
    from fixer.verify import postgres

    if not [kind for kind, _ in postgres._candidates() if kind == postgres.KIND_PATH]:
        pytest.skip("no PostgreSQL binaries on PATH or in /usr/lib/postgresql on this machine")
    backend = copy_seed("fixed", tmp_path)
    # The backend's dependencies and fixer's own, not pgserver: fixer runs there as it would from a plain install.
    requirements = tmp_path / "requirements-no-pgserver.txt"
    own = tomlkit.parse((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements.write_text((backend / "requirements.txt").read_text() + "".join(f"{d}\n" for d in own))
    python = ensure_venv(requirements, venv_cache_dir())
    assert subprocess.run([str(python), "-c", "import pgserver"], capture_output=True).returncode != 0
    run_id = uuid.uuid4().hex
    env = {**os.environ, RUN_ID_ENV: run_id, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [str(python), "-c", VERIFY[2], str(backend), "--cache-dir", str(venv_cache_dir()), "--report", str(tmp_path / "r.json")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert_nothing_left(run_id)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(PATH binaries: " in proc.stdout
    assert load_report(tmp_path / "r.json")["verification"]["database"] == "PATH binaries"


def test_no_postgresql_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With neither the wheel nor binaries (hidden here), exit 2 with one line naming what to install."""
    from fixer.verify import postgres
    from fixer.verify.command import verify_command

    monkeypatch.setattr(postgres, "_candidates", lambda tls=False: [])
    backend = copy_seed("fixed", tmp_path)
    result = CliRunner().invoke(verify_command, [str(backend), "--cache-dir", str(venv_cache_dir())])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("fixer verify: error: No usable PostgreSQL server binaries found.")
    assert "pip install 'fixer[verify]'" in last and "apt-get install postgresql" in last and "--database-url" in last
    assert "FIXER_TEST_DATABASE_URL" in last and "CPython 3.9 to 3.12" in last  # where the wheel exists


def test_too_slow_and_unreachable_database(tmp_path: Path, database_url: str) -> None:
    backend = copy_seed("fixed", tmp_path)
    python = ensure_venv(backend / "requirements.txt", venv_cache_dir())
    run_id = uuid.uuid4().hex
    slow = run_verify([str(backend), "--database-url", database_url, "--python", str(python), "--max-startup", "0.01"], run_id)
    assert slow.returncode == 1, slow.stdout + slow.stderr
    assert slow.stdout.startswith("FAIL") and "started too slowly" in slow.stdout and "0.01s startup budget" in slow.stdout

    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = f"postgresql://app:Sup3rSecretPw@127.0.0.1:{port}/app?sslmode=disable"
    down = run_verify([str(backend), "--database-url", closed, "--python", str(python)], run_id)
    assert down.returncode == 1, down.stdout + down.stderr
    assert "Connect call failed" in down.stdout.splitlines()[0]
    assert "DB-CONNECT" in down.stdout and "Check --database-url" in down.stdout
    assert "Sup3rSecretPw" not in down.stdout + down.stderr


def test_warns_when_the_app_never_touched_the_throwaway_database(tmp_path: Path) -> None:
    """No table is made at startup: the boot passes, the warning says why, and the first request that needs the
    table fails verify (the routes are called once each)."""
    backend = copy_seed("fixed", tmp_path)
    main = backend / "src" / "main.py"
    main.write_text(main.read_text().replace("    await init_db()\n", "    pass  # no database work at startup\n"))
    run_id = uuid.uuid4().hex
    proc = run_verify([str(backend), "--cache-dir", str(venv_cache_dir())], run_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "warning    the app never connected to the throwaway PostgreSQL" in proc.stdout
    assert 'POST /auth/signup -> HTTP 500: sqlalchemy.exc.ProgrammingError' in proc.stdout.splitlines()[0]
    assert 'relation "users" does not exist' in proc.stdout


def test_a_note_rule_is_never_named_as_the_fix_of_a_5xx() -> None:
    """FX041 lists what the analysis cannot decide (defects ENG-MISSING-AWAIT, ENG-SYNC-SESSION): a failed
    route's diagnosis names only the rules that edit the code."""
    from fixer.verify.diagnose import rules_fixing

    assert rules_fixing("ENG-MISSING-AWAIT") == ("FX010", "FX016")
    assert "FX041" not in rules_fixing("ENG-SYNC-SESSION")
