"""Install a backend's requirements into a cached virtualenv and run it under uvicorn."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import venv
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fixer.verify.interrupts import starting

__all__ = [
    "BackendProcess", "BackendStartError", "RunningBackend", "VenvError", "app_urls", "ensure_project_venv",
    "ensure_venv", "run_backend",
]

STARTUP_MARKER = "Application startup complete"


class VenvError(RuntimeError):
    """Creating the virtualenv or installing the requirements failed; the message holds pip's output."""


class BackendStartError(RuntimeError):
    """The backend exited or never became healthy; ``log`` holds its output (the traceback)."""

    def __init__(self, message: str, log: str, returncode: int | None = None):
        super().__init__(f"{message}\n--- backend log ---\n{log}")
        self.log = log
        self.returncode = returncode


def _venv_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


Progress = Callable[[str], None]
ADDED_UVICORN = ".fixer-added-uvicorn"  # marker: uvicorn was not in the requirements, fixer added it
# What a project build may leave behind and a copy for `pip install .` does not need.
_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".hg", ".venv", "venv", ".env", "node_modules", "__pycache__", ".cache", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", "build", "dist", "*.egg-info",
)


def _venv_key() -> str:
    return f"\0{sys.implementation.name}-{platform.python_version()}-{sys.platform}-{platform.machine()}"


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PIP_USER="0", PYTHONUNBUFFERED="1")
    return env


def _pip(python: Path, args: list[str], cwd: Path, progress: Progress | None) -> tuple[int, str]:
    """Run ``python -m pip install ARGS``, feeding each output line to ``progress``; return (exit code, output)."""
    with starting():
        proc = subprocess.Popen(
            [str(python), "-m", "pip", "install", *args], cwd=cwd, env=_pip_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if progress is not None:
                progress(line.rstrip("\n"))
        proc.wait()
    finally:
        if proc.poll() is None:  # interrupted: never leave pip running
            proc.kill()
            proc.wait()
    return proc.returncode, "".join(lines)


def _build_cached(
    key: bytes, install: list[str], cwd: Path, cache_dir: str | os.PathLike[str], what: str,
    progress: Progress | None, prepare: Callable[[Path], Path] | None = None,
) -> Path:
    digest = hashlib.sha256(key)
    digest.update(_venv_key().encode())
    tag = f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}"
    cache = Path(cache_dir).resolve()
    final = cache / f"{tag}-{digest.hexdigest()[:20]}"
    if _venv_python(final).exists() and (final / ".fixer-complete").exists():
        if progress is not None:
            progress(f"using the cached virtualenv {final}")
        return _venv_python(final)

    cache.mkdir(parents=True, exist_ok=True)
    building = cache / f".{final.name}.{os.getpid()}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    try:
        if progress is not None:
            progress(f"creating a virtualenv with {sys.executable} (Python {platform.python_version()}) in {final}")
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(building)
        except (OSError, subprocess.CalledProcessError) as exc:
            output = getattr(exc, "output", None) or ""
            raise VenvError(f"creating a virtualenv with {sys.executable} failed: {exc}\n{output}") from exc
        if prepare is not None:
            cwd = prepare(building)
        code, output = _pip(_venv_python(building), install, cwd, progress)
        if code != 0:
            raise VenvError(f"pip install {what} failed (exit {code}):\n{output}")
        probe = subprocess.run([str(_venv_python(building)), "-c", "import uvicorn"], capture_output=True, cwd=building)
        if probe.returncode != 0:  # the harness needs uvicorn even when the app is served some other way
            if progress is not None:
                progress("uvicorn is not in the requirements: installing it into this virtualenv only")
            code, more = _pip(_venv_python(building), ["uvicorn"], building, progress)
            output += more
            if code != 0:
                raise VenvError(f"pip install uvicorn failed (exit {code}):\n{more}")
            (building / ADDED_UVICORN).write_text("uvicorn\n")
        (building / "pip-install.log").write_text(output)
        (building / ".fixer-complete").write_text(what + "\n")
        if final.exists() and not (final / ".fixer-complete").exists():
            shutil.rmtree(final, ignore_errors=True)  # left by an older, interrupted scheme
        try:
            building.rename(final)
        except OSError:
            if not (final / ".fixer-complete").exists():  # another process won the race: use theirs
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return _venv_python(final)


def ensure_venv(
    requirements_file: str | os.PathLike[str], cache_dir: str | os.PathLike[str], *, progress: Progress | None = None
) -> Path:
    """Return the python of a virtualenv with ``requirements_file`` installed, built once per content.

    The cache key is the sha256 of the requirements file's bytes plus the Python version and platform,
    so any edit to the file gives a fresh environment. Built in a temporary directory and renamed
    into place, so an interrupted or failed build is never reused. pip's output goes line by line to
    ``progress``; a failure raises VenvError with all of it. uvicorn is added when the file lacks it.
    """
    requirements = Path(requirements_file).resolve()
    return _build_cached(
        requirements.read_bytes(), ["-r", str(requirements)], requirements.parent, cache_dir,
        f"-r {requirements}", progress,
    )


PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")


def ensure_project_venv(
    project_dir: str | os.PathLike[str], cache_dir: str | os.PathLike[str], *, progress: Progress | None = None
) -> Path:
    """Like ensure_venv for a pyproject project: ``pip install .`` of a copy of ``project_dir``.

    The key is the bytes of pyproject.toml, setup.cfg and setup.py: the environment holds the project's
    dependencies, while the backend's code itself is run from ``project_dir`` (uvicorn's cwd / --app-dir come
    first on sys.path). The copy keeps a build from writing egg-info or build/ into the user's folder.
    """
    project = Path(project_dir).resolve()
    key = b"pip install .\0" + b"\0".join(
        name.encode() + b"=" + (project / name).read_bytes() for name in PROJECT_FILES if (project / name).is_file()
    )

    def prepare(building: Path) -> Path:
        copy = building / "fixer-project-copy"
        shutil.copytree(project, copy, ignore=_COPY_IGNORE, symlinks=True)
        return copy

    def cleanup_copy(python: Path) -> Path:
        shutil.rmtree(python.parent.parent / "fixer-project-copy", ignore_errors=True)
        return python

    return cleanup_copy(_build_cached(key, ["."], project, cache_dir, f". (from {project})", progress, prepare))


@dataclass
class RunningBackend:
    port: int
    base_url: str  # http://127.0.0.1:PORT
    startup_seconds: float  # from process start until GET /health answered 200
    _process: BackendProcess | None = field(default=None, repr=False)

    @property
    def log(self) -> str:
        """The process's combined stdout and stderr so far."""
        return self._process.log if self._process is not None else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 10.0) -> tuple[int | None, str]:
    """GET http://127.0.0.1:PORT/PATH directly (no proxy, no redirects): (status or None, body or error)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "fixer-verify", "Accept": "*/*"})
        response = conn.getresponse()
        return response.status, response.read(4096).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


def _healthy(port: int, path: str) -> bool:
    return http_get(port, path, timeout=2)[0] == 200


# uvicorn's own CLI, after asking faulthandler to dump every thread's stack on SIGUSR1: a startup that hangs
# can then say where. `python -c` puts the working directory first on sys.path, as `python -m uvicorn` does.
# The app uvicorn loads prints where it serves its schema and docs (`FastAPI(docs_url="/api/docs")`, or None
# when switched off): the probes ask the app rather than guess `/docs`.
APP_URLS_MARKER = "fixer-app-urls: "
UVICORN_BOOTSTRAP = """\
import faulthandler, json, runpy, signal, sys
if hasattr(signal, "SIGUSR1"):
    faulthandler.register(signal.SIGUSR1, all_threads=True)
import uvicorn.config
_load = uvicorn.config.import_from_string
def _loaded(target):
    app = _load(target)
    if hasattr(app, "openapi_url") and hasattr(app, "docs_url"):
        urls = {"openapi_url": app.openapi_url, "docs_url": app.docs_url}
        print(%r + json.dumps(urls, default=str), flush=True)
    return app
uvicorn.config.import_from_string = _loaded
sys.argv[0] = "uvicorn"
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
""" % APP_URLS_MARKER


def app_urls(log: str) -> dict[str, str | None]:
    """`openapi_url` and `docs_url` of the app the server loaded, from its log ({}: not a FastAPI app, or not
    loaded)."""
    for line in log.splitlines():
        if line.startswith(APP_URLS_MARKER):
            try:
                urls = json.loads(line[len(APP_URLS_MARKER):])
            except ValueError:
                return {}
            return urls if isinstance(urls, dict) else {}
    return {}
STACK_DUMP_MARKERS = ("most recent call first):",)


class BackendProcess:
    """``uvicorn ENTRYPOINT`` on 127.0.0.1 in its own session (process group), its output collected.

    ``stop()`` ends the whole group: SIGTERM (uvicorn then runs the lifespan shutdown), SIGKILL after ``grace``.
    """

    def __init__(
        self,
        backend_dir: str | os.PathLike[str],
        python: str | os.PathLike[str],
        env: Mapping[str, str] | None = None,
        *,
        entrypoint: str = "src.main:app",
        app_dir: str | None = None,
        factory: bool = False,
        port: int | None = None,
        inherit_env: bool = True,
    ):
        self.port = port or _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        child_env = (
            {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")} if inherit_env else {}
        )
        child_env.update(env or {})
        child_env["PYTHONUNBUFFERED"] = "1"
        self.command = [
            str(python), "-c", UVICORN_BOOTSTRAP, entrypoint,
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "info",
        ]
        if app_dir:
            self.command += ["--app-dir", app_dir]
        if factory:
            self.command.append("--factory")
        self.display_command = f"uvicorn {' '.join(self.command[3:])}"
        self._cwd = backend_dir
        self._env = child_env
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[str] | None = None
        self.started_at = 0.0
        self.marker_at: float | None = None  # monotonic time the startup marker was read
        self._reader: threading.Thread | None = None

    def start(self) -> BackendProcess:
        self.started_at = time.monotonic()
        with starting():  # stop() then finds the process and its log reader, whenever an interrupt comes
            self.proc = subprocess.Popen(
                self.command, cwd=self._cwd, env=self._env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                start_new_session=True,  # own process group: Ctrl-C in the terminal does not reach it, we stop it
            )
            self._reader = threading.Thread(target=self._pump, name=f"uvicorn-log-{self.port}", daemon=True)
            self._reader.start()
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._lines.append(line)
                if self.marker_at is None and STARTUP_MARKER in line:
                    self.marker_at = time.monotonic()

    @property
    def log(self) -> str:
        with self._lock:
            return "".join(self._lines)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def poll(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def drain(self, timeout: float = 5.0) -> None:
        """Wait for the log reader to reach the end of the output (after the process exited)."""
        if self._reader is not None:
            self._reader.join(timeout=timeout)

    def dump_stacks(self, wait: float = 2.0) -> str:
        """Ask the (hung) server where it is: faulthandler's dump of every thread, or ''."""
        if self.proc is None or self.proc.poll() is not None or not hasattr(signal, "SIGUSR1"):
            return ""
        before = len(self._lines)
        try:
            os.kill(self.proc.pid, signal.SIGUSR1)
        except OSError:
            return ""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            time.sleep(0.1)
            with self._lock:
                new = "".join(self._lines[before:])
            if any(marker in new for marker in STACK_DUMP_MARKERS):
                time.sleep(0.3)  # let the rest of the dump arrive
                break
        with self._lock:
            return "".join(self._lines[before:])

    def stop(self, grace: float = 10.0) -> bool:
        """Stop the whole process group; True when the server exited by itself within ``grace`` after SIGTERM."""
        if self.proc is None:
            return True
        clean = _kill_group(self.proc, grace)
        self.drain()
        return clean


def _kill_group(proc: subprocess.Popen[str], grace: float = 10.0) -> bool:
    clean = True
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            clean = False
    try:  # children may outlive the leader
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    return clean


@contextmanager
def run_backend(
    backend_dir: str | os.PathLike[str],
    python: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    *,
    entrypoint: str = "src.main:app",
    port: int | None = None,
    timeout: float = 60.0,
    health_path: str = "/health",
    inherit_env: bool = True,
) -> Iterator[RunningBackend]:
    """Run ``uvicorn ENTRYPOINT`` (with ``python``) in ``backend_dir`` until the block ends.

    Yields once the log says "Application startup complete" and GET ``health_path`` answers 200.
    ``env`` is laid over the current environment (or replaces it when ``inherit_env`` is false).
    Raises BackendStartError, with the log, if the process exits early or is not healthy in time.
    The whole process group is killed on exit.
    """
    process = BackendProcess(backend_dir, python, env, entrypoint=entrypoint, port=port, inherit_env=inherit_env)
    backend = RunningBackend(port=process.port, base_url=process.base_url, startup_seconds=0.0, _process=process)
    try:
        process.start()
        deadline = process.started_at + timeout
        while True:
            if process.poll() is not None:
                process.drain()
                raise BackendStartError(
                    f"backend exited with code {process.poll()} before becoming healthy: {process.display_command}",
                    process.log, process.poll(),
                )
            if process.marker_at is not None and _healthy(process.port, health_path):
                backend.startup_seconds = time.monotonic() - process.started_at
                break
            if time.monotonic() > deadline:
                raise BackendStartError(
                    f"backend not healthy after {timeout:.0f}s (no {STARTUP_MARKER!r} or GET {health_path} != 200)",
                    process.log,
                )
            time.sleep(0.1)
        yield backend
    finally:
        process.stop()
