"""Install a backend's requirements into a cached virtualenv and run it under uvicorn."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import venv
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BackendStartError", "RunningBackend", "VenvError", "ensure_venv", "run_backend"]

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


def ensure_venv(requirements_file: str | os.PathLike[str], cache_dir: str | os.PathLike[str]) -> Path:
    """Return the python of a virtualenv with ``requirements_file`` installed, built once per content.

    The cache key is the sha256 of the requirements file's bytes plus the Python version and platform,
    so any edit to the file gives a fresh environment. Built in a temporary directory and renamed
    into place, so an interrupted build is never reused.
    """
    requirements = Path(requirements_file).resolve()
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    digest.update(f"\0{sys.implementation.name}-{platform.python_version()}-{sys.platform}-{platform.machine()}".encode())
    tag = f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}"
    cache = Path(cache_dir).resolve()
    final = cache / f"{tag}-{digest.hexdigest()[:20]}"
    if _venv_python(final).exists() and (final / ".fixer-complete").exists():
        return _venv_python(final)

    cache.mkdir(parents=True, exist_ok=True)
    building = cache / f".{final.name}.{os.getpid()}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    try:
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(building)
        except (OSError, subprocess.CalledProcessError) as exc:
            output = getattr(exc, "output", None) or ""
            raise VenvError(f"creating a virtualenv with {sys.executable} failed: {exc}\n{output}") from exc
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV")}
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        proc = subprocess.run(
            [str(_venv_python(building)), "-m", "pip", "install", "--no-input", "-r", str(requirements)],
            cwd=requirements.parent, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if proc.returncode != 0:
            raise VenvError(f"pip install -r {requirements} failed (exit {proc.returncode}):\n{proc.stdout}")
        (building / "pip-install.log").write_text(proc.stdout)
        (building / ".fixer-complete").write_text(str(requirements) + "\n")
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


@dataclass
class RunningBackend:
    port: int
    base_url: str  # http://127.0.0.1:PORT
    startup_seconds: float  # from process start until GET /health answered 200
    _lines: list[str] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def log(self) -> str:
        """The process's combined stdout and stderr so far."""
        with self._lock:
            return "".join(self._lines)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _kill_group(proc: subprocess.Popen[str], grace: float = 10.0) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:  # children may outlive the leader
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


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
    """Run ``python -m uvicorn ENTRYPOINT`` in ``backend_dir`` until the block ends.

    Yields once the log says "Application startup complete" and GET ``health_path`` answers 200.
    ``env`` is laid over the current environment (or replaces it when ``inherit_env`` is false).
    Raises BackendStartError, with the log, if the process exits early or is not healthy in time.
    The whole process group is killed on exit.
    """
    port = port or _free_port()
    child_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")} if inherit_env else {}
    child_env.update(env or {})
    child_env["PYTHONUNBUFFERED"] = "1"
    command = [str(python), "-m", "uvicorn", entrypoint, "--host", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=backend_dir, env=child_env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
        start_new_session=True,  # own process group, so every child dies with it
    )
    backend = RunningBackend(port=port, base_url=f"http://127.0.0.1:{port}", startup_seconds=0.0)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with backend._lock:
                backend._lines.append(line)

    reader = threading.Thread(target=pump, name=f"uvicorn-log-{port}", daemon=True)
    reader.start()
    try:
        deadline = started + timeout
        while True:
            if proc.poll() is not None:
                reader.join(timeout=5)
                raise BackendStartError(
                    f"backend exited with code {proc.returncode} before becoming healthy: {' '.join(command)}",
                    backend.log, proc.returncode,
                )
            if STARTUP_MARKER in backend.log and _healthy(backend.base_url + health_path):
                backend.startup_seconds = time.monotonic() - started
                break
            if time.monotonic() > deadline:
                raise BackendStartError(
                    f"backend not healthy after {timeout:.0f}s (no {STARTUP_MARKER!r} or GET {health_path} != 200)",
                    backend.log,
                )
            time.sleep(0.1)
        yield backend
    finally:
        _kill_group(proc)
        reader.join(timeout=5)
