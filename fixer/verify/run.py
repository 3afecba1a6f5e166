"""`fixer verify` without the command line: boot a backend against a real PostgreSQL and say whether it works.

run_verification(path) installs the backend's requirements in a cached virtualenv (or uses --python), starts
a throwaway PostgreSQL on 127.0.0.1 (or uses --database-url), runs `uvicorn ENTRYPOINT` with
DATABASE_URL=postgresql://... as hosting platforms give it, waits for "Application startup complete", probes
/health, calls each route of the OpenAPI schema once (throwaway database only), and stops everything, whatever
happens (failure, timeout, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from fixer.verify import CACHE_ENV, DEFAULT_MAX_STARTUP, DEFAULT_TIMEOUT
from fixer.verify.backend import (
    ADDED_UVICORN,
    PROJECT_FILES,
    STARTUP_MARKER,
    BackendProcess,
    VenvError,
    ensure_project_venv,
    ensure_venv,
    http_get,
)
from fixer.verify.diagnose import Diagnosis, diagnose, first_error
from fixer.verify.entrypoint import Entrypoint, EntrypointError, detect_entrypoint
from fixer.verify.interrupts import signals_as_interrupt

if TYPE_CHECKING:  # pydantic is imported only when a report is made
    from fixer.output.report import Verification

__all__ = [
    "CACHE_ENV",
    "DEFAULT_MAX_STARTUP",
    "DEFAULT_TIMEOUT",
    "RUN_ID_ENV",
    "VerificationResult",
    "VerifyUsageError",
    "default_cache_dir",
    "find_backend_dir",
    "run_verification",
]

RUN_ID_ENV = "FIXER_VERIFY_RUN"  # set on every process a run starts (uvicorn, postgres), to find them by
# Hosting platforms (Neon, Render, Heroku, ...) inject a plain libpq URL, often with libpq-only options.
PLATFORM_QUERY = "sslmode=prefer&channel_binding=prefer"
_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", ".cache", ".tox", "build", "dist"}
_STOP_GRACE_HEALTHY = 10.0  # a healthy server gets this long for its lifespan shutdown
_STOP_GRACE_FAILED = 2.0

Progress = Callable[[str], None]


class VerifyUsageError(ValueError):
    """The verification cannot be set up as asked (no backend, no entrypoint, a bad --python): exit 2."""


@dataclass
class VerificationResult:
    verification: Verification  # set by the run (None only while it runs)
    backend_dir: Path
    log: str = ""  # the backend's whole output, redacted
    command: str | None = None  # the uvicorn command line that ran
    database_display: str = ""  # e.g. "embedded PostgreSQL 16.2 (pgserver wheel)"
    pip_output: str = ""  # pip's output when the install failed, redacted
    diagnosis: list[Diagnosis] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.verification.passed)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def default_cache_dir() -> Path:
    """$FIXER_CACHE_DIR, else $XDG_CACHE_HOME/fixer/venvs, else ~/.cache/fixer/venvs."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fixer" / "venvs"


def _has_project(folder: Path) -> bool:
    return (folder / "requirements.txt").is_file() or any((folder / name).is_file() for name in PROJECT_FILES)


def find_backend_dir(path: str | os.PathLike[str], need_requirements: bool = True) -> Path:
    """PATH itself when it holds requirements.txt / pyproject.toml, else the one folder below it that does."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise VerifyUsageError(f"{path} is not a folder")
    if _has_project(root):
        return root
    found: list[Path] = []
    for dirpath, dirnames, _ in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")) if depth < 3 else []
        if dirpath != str(root) and _has_project(Path(dirpath)):
            found.append(Path(dirpath))
            dirnames[:] = []
    if len(found) == 1:
        return found[0]
    if not need_requirements:
        return root
    if not found:
        raise VerifyUsageError(
            f"no requirements.txt or pyproject.toml in {path} (or below it): pass the backend folder, "
            "or --python PATH to run it with your own interpreter"
        )
    listed = ", ".join(str(p.relative_to(root)) for p in found[:5])
    raise VerifyUsageError(f"several backends under {path} ({listed}): pass the one to verify")


class _Secrets:
    """Masks a database URL's password wherever it shows up (the URL form via redact, and the bare value)."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def add_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            # The query's password (and the SSL key's passphrase) is as secret as the user info's.
            passwords = [parts.password] + [v for k, v in parse_qsl(parts.query) if k.lower() in ("password", "sslpassword")]
        except ValueError:
            passwords = []
        for password in filter(None, passwords):
            for value in {password, unquote(password)}:
                if len(value) >= 4 and value not in self.values:
                    self.values.append(value)

    def __call__(self, text: str) -> str:
        from fixer.model.urls import redact

        text = redact(text)
        for value in self.values:
            text = text.replace(value, "***")
        return text


def _python_info(python: str) -> tuple[str | None, str | None, str]:
    """(python version, uvicorn version or None, error) for an interpreter."""
    code = (
        "import sys\nprint(sys.version.split()[0])\n"
        "try:\n import uvicorn\n print(uvicorn.__version__)\nexcept Exception:\n print('')\n"
    )
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, None, str(exc)
    if proc.returncode != 0:
        return None, None, (proc.stderr or proc.stdout).strip()
    out = proc.stdout.splitlines() + ["", ""]
    return out[0] or None, out[1] or None, ""


def _with_query(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def _pip_errors(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.startswith(("ERROR:", "error:"))]
    return " ".join(lines) if lines else (output.strip().splitlines() or ["pip failed"])[-1]


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def run_verification(
    path: str | os.PathLike[str],
    *,
    database_url: str | None = None,
    python: str | os.PathLike[str] | None = None,
    entrypoint: str | None = None,
    probes: Sequence[str] = ("/health",),
    timeout: float = DEFAULT_TIMEOUT,
    max_startup: float = DEFAULT_MAX_STARTUP,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    pip_progress: Progress | None = None,
    run_id: str | None = None,
    call_routes: bool = True,
) -> VerificationResult:
    """Boot the backend at ``path`` for real and return what happened (see the module doc).

    ``progress`` gets one line per step, ``pip_progress`` each line pip prints. Once healthy, with the throwaway
    PostgreSQL and ``call_routes``, each route of the app's OpenAPI schema is called once (fixer.verify.routes): a
    5xx fails the verification. Raises VerifyUsageError when it cannot be set up as asked, PostgresNotAvailable
    when no database can be started (the message says what to install), KeyboardInterrupt on Ctrl-C / SIGTERM: in
    every case after stopping whatever it had started.
    """
    with signals_as_interrupt():
        return _Run(
            database_url=database_url, python=python, entrypoint=entrypoint, probes=probes, timeout=timeout,
            max_startup=max_startup, cache_dir=cache_dir, progress=progress, pip_progress=pip_progress,
            run_id=run_id, call_routes=call_routes,
        ).run(path)


class _Run:
    def __init__(self, *, database_url, python, entrypoint, probes, timeout, max_startup, cache_dir, progress,
                 pip_progress, run_id, call_routes=True) -> None:
        self.database_url = database_url or None
        self.python = python
        self.entrypoint = entrypoint
        self.probes = [p if p.startswith("/") else "/" + p for p in (probes or ["/health"])]
        self.timeout = timeout
        self.max_startup = max_startup
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.say = progress or (lambda message: None)
        self.pip_progress = pip_progress
        self.run_id = run_id or os.environ.get(RUN_ID_ENV) or uuid.uuid4().hex
        self.secrets = _Secrets()
        self.started = time.monotonic()
        self.fields: dict[str, object] = {
            "max_startup_seconds": max_startup,
            "database": "database-url" if self.database_url else "pgserver wheel",
            "database_version": None,
            "database_url": "",
            "python": None,
            "python_version": None,
            "environment": "interpreter" if python is not None else "virtualenv",
        }
        self.warnings: list[str] = []
        self.result: VerificationResult | None = None
        self.call_routes = call_routes

    def finish(self, status: str, **more: object) -> VerificationResult:
        from fixer.output.report import Verification

        assert self.result is not None
        data = {**self.fields, **more}
        for key in ("error", "traceback", "database_url", "error_location"):
            if isinstance(data.get(key), str):
                data[key] = self.secrets(data[key])  # type: ignore[arg-type]
        data["warnings"] = [self.secrets(w) for w in self.warnings]
        data["diagnosis"] = [
            {"defect": d.defect, "title": d.title, "fix": d.fix, "rules": list(d.rules)}
            for d in self.result.diagnosis
        ]
        self.result.verification = Verification(
            passed=status == "passed", status=status, duration_seconds=round(time.monotonic() - self.started, 3),
            **data,
        )
        return self.result

    def run(self, path: str | os.PathLike[str]) -> VerificationResult:
        backend = find_backend_dir(path, need_requirements=self.python is None)
        try:
            entry = detect_entrypoint(backend, self.entrypoint)
        except EntrypointError as error:
            raise VerifyUsageError(str(error)) from None
        self.result = VerificationResult(verification=None, backend_dir=backend)  # type: ignore[arg-type]
        self.fields.update(entrypoint=entry.app, entrypoint_source=entry.source, app_dir=entry.app_dir)
        where = entry.app + (f" (--app-dir {entry.app_dir})" if entry.app_dir else "")
        self.say(f"backend: {backend}; app {where}, from {entry.source}")

        failed = self.prepare_python(backend)
        if failed is not None:
            return failed

        if self.database_url:
            self.secrets.add_url(self.database_url)
            self.fields["database_url"] = self.secrets(self.database_url)
            self.result.database_display = f"your database {self.secrets(self.database_url)} (--database-url)"
            self.say(f"database: {self.result.database_display}")
            return self.serve(entry, self.database_url)

        from fixer.verify.postgres import throwaway_postgres

        self.say("database: starting a throwaway PostgreSQL on 127.0.0.1 ...")
        with throwaway_postgres(env={RUN_ID_ENV: self.run_id}) as server:
            self.secrets.add_url(server.url)
            app_url = _with_query(server.url, PLATFORM_QUERY)
            version = server.version.replace("postgres (PostgreSQL)", "PostgreSQL")
            self.fields.update(database=server.kind, database_version=version, database_url=self.secrets(app_url))
            self.result.database_display = f"embedded {version} ({server.kind}: {server.bin_dir})"
            self.say(f"database: {self.result.database_display}, listening on 127.0.0.1")
            try:
                return self.serve(entry, app_url, server)
            finally:
                self.say("database: stopping and deleting the throwaway PostgreSQL")

    def prepare_python(self, backend: Path) -> VerificationResult | None:
        """Set self.fields' python; a VerificationResult when the environment cannot be made."""
        if self.python is not None:
            # Absolute (the server runs in the backend folder), but not resolved: a venv's python is a symlink.
            interpreter = os.path.abspath(Path(self.python).expanduser())
            if not Path(interpreter).exists():
                raise VerifyUsageError(f"--python {self.python}: no such file")
            version, uvicorn_version, problem = _python_info(interpreter)
            if version is None:
                raise VerifyUsageError(f"--python {self.python} does not run: {problem}")
            self.fields.update(python=interpreter, python_version=version)
            if uvicorn_version is None:
                return self.finish(
                    "install-failed",
                    error=f"uvicorn is not installed for {interpreter}: run `{interpreter} -m pip install uvicorn`",
                )
            self.say(f"python: {interpreter} (Python {version}, uvicorn {uvicorn_version})")
            return None

        requirements = backend / "requirements.txt"
        what = "requirements.txt" if requirements.is_file() else "pip install ."
        self.say(f"environment: a virtualenv from {what}, cached by its hash under {self.cache_dir}")
        try:
            if requirements.is_file():
                venv_python = ensure_venv(requirements, self.cache_dir, progress=self.pip_progress)
            else:
                venv_python = ensure_project_venv(backend, self.cache_dir, progress=self.pip_progress)
        except VenvError as error:
            output = self.secrets(str(error))
            assert self.result is not None
            self.result.pip_output = output
            return self.finish("install-failed", error=_pip_errors(output), traceback=_tail(output))
        version, _, _ = _python_info(str(venv_python))
        self.fields.update(python=str(venv_python), python_version=version)
        if (venv_python.parent.parent / ADDED_UVICORN).exists():
            self.warnings.append(
                "uvicorn is not in the requirements: fixer added it to its own virtualenv only; "
                "add it to requirements.txt if the app is served with uvicorn"
            )
        self.say(f"python: {venv_python} (Python {version})")
        return None

    def serve(self, entry: Entrypoint, app_url: str, server=None) -> VerificationResult:
        result = self.result
        assert result is not None
        env = {"DATABASE_URL": app_url, "PYTHONDONTWRITEBYTECODE": "1", RUN_ID_ENV: self.run_id}
        process = BackendProcess(
            result.backend_dir, str(self.fields["python"]), env,
            entrypoint=entry.app, app_dir=entry.app_dir, factory=entry.factory,
        )
        result.command = process.display_command
        self.say(f"server: {process.display_command} (timeout {self.timeout:g}s)")
        probes: list = []
        calls: list = []
        healthy_at: float | None = None
        status = "passed"
        hang_dump = ""
        body = ""
        try:
            process.start()
            deadline = process.started_at + self.timeout
            while process.marker_at is None and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.marker_at is None:
                if process.poll() is not None:
                    status = "startup-failed"
                else:
                    status = "startup-timeout"
                    hang_dump = process.dump_stacks()
            else:
                self.say(f"server: {STARTUP_MARKER} after {process.marker_at - process.started_at:.2f}s")
                for index, path in enumerate(self.probes):
                    code, text, seconds = self.probe(process, path, deadline if index == 0 else None)
                    ok = code is not None and 200 <= code < 400
                    if index == 0 and ok:
                        healthy_at = time.monotonic()
                    probes.append(_probe_result(path, code, seconds, ok))
                    self.say(f"probe: GET {path} -> {code if code is not None else 'no answer'}")
                    if not ok and status == "passed":
                        status = "startup-failed" if process.poll() is not None else "probe-failed"
                        body = text
                if status == "passed" and server is not None:
                    self.check_database_used(server)
                if status == "passed":
                    calls = self.exercise(process, server is not None)
                    if any(call.failed for call in calls):
                        status = "route-failed"
        finally:
            # A healthy server gets time for its lifespan shutdown (engine.dispose()); a failed or hung one not.
            clean = process.stop(_STOP_GRACE_HEALTHY if healthy_at is not None else _STOP_GRACE_FAILED)
            self.say("server: stopped")

        log = self.secrets(process.log)
        result.log = log
        more: dict[str, object] = {
            "startup_seconds": round(process.marker_at - process.started_at, 3) if process.marker_at else None,
            "time_to_healthy_seconds": round(healthy_at - process.started_at, 3) if healthy_at else None,
            "probes": probes,
            "routes": [self.route_result(call, result.backend_dir) for call in calls],
        }
        error = first_error(log, result.backend_dir)
        if status == "passed":
            to_healthy = more["time_to_healthy_seconds"]
            if isinstance(to_healthy, float) and to_healthy > self.max_startup:
                status = "too-slow"
                more["error"] = f"healthy after {to_healthy:.2f}s, over the {self.max_startup:g}s startup budget"
            if error is not None:
                self.warnings.append(f"the log has a traceback: {error.message}")
            if not clean:
                self.warnings.append(
                    f"the server did not stop within {_STOP_GRACE_HEALTHY:g}s of SIGTERM (lifespan shutdown): killed"
                )
            return self.finish(status, **more)

        if status == "startup-timeout":
            dump = self.secrets(hang_dump)
            more["error"] = (
                f"no {STARTUP_MARKER!r} within {self.timeout:g}s: the server hung at startup and was killed"
            )
            where = _hang_location(dump, result.backend_dir)
            if where:
                more["error_location"] = where
                more["error"] += f" (waiting at {where})"
            more["traceback"] = (error.traceback if error else "") or dump.strip() or _tail(log) or None
        elif status == "probe-failed":
            bad = next(p for p in probes if not p.ok)
            more["error"] = f"GET {bad.path} -> " + (f"HTTP {bad.status}" if bad.status is not None else "no answer")
            if body.strip():
                more["error"] += f": {self.secrets(body.strip())[:200]}"
            if bad.status == 404 and bad.path == "/health":
                more["error"] += " (no /health route? name the app's health route with --probe PATH)"
            more["traceback"] = error.traceback if error else None
        elif status == "route-failed":
            bad = next(call for call in calls if call.failed)
            error = bad.error
            answer = f"HTTP {bad.status}" if bad.status is not None else "no answer"
            count = sum(call.failed for call in calls)
            more["error"] = f"{bad.label} -> {answer}" + (f": {error.message}" if error else "") + (
                f" (and {count - 1} more route(s) failed)" if count > 1 else "")
            more.update(traceback=error.traceback if error else None, error_location=error.location if error else None)
        elif error is not None:
            more.update(error=error.message, traceback=error.traceback or _tail(log), error_location=error.location)
        else:
            more.update(
                error=f"the server exited with code {process.poll()} before {STARTUP_MARKER!r}",
                traceback=_tail(log) or None,
            )
        if error is not None:
            result.diagnosis = diagnose(error, result.backend_dir, database_from_user=self.database_url is not None)
        return self.finish(status, **more)

    def exercise(self, process: BackendProcess, throwaway: bool) -> list:
        """Each route of the app's OpenAPI schema, called once (fixer.verify.routes); [] when not asked or when
        the database is the user's own (the calls write)."""
        if not self.call_routes:
            return []
        if not throwaway:
            self.warnings.append("the routes were not called: they would write into your --database-url")
            return []
        from fixer.verify.routes import RoutesUnavailable, call_routes

        assert self.result is not None
        self.say("routes: calling each route of the OpenAPI schema once")
        try:
            calls = call_routes(process.port, lambda: process.log, self.result.backend_dir,
                                progress=lambda line: self.say(f"route: {line}"))
        except RoutesUnavailable as error:
            self.warnings.append(f"the routes were not called: {error}")
            return []
        if not calls:
            self.warnings.append("the OpenAPI schema lists no route to call")
        return calls

    def route_result(self, call, backend_dir: Path):
        from fixer.output.report import RouteResult

        rules: list[str] = []
        if call.error is not None:
            for match in diagnose(call.error, backend_dir, database_from_user=self.database_url is not None):
                rules.extend(rule for rule in match.rules if rule not in rules)
        note = ", ".join(filter(None, [call.note, "an outside service failed: not counted" if call.outside else "",
                                       f"verify's own input repeated the unique key {call.repeated}: not counted"
                                       if call.repeated and not call.outside else ""]))
        return RouteResult(
            method=call.method, path=call.path, status=call.status, ok=not call.failed, note=note,
            error=self.secrets(call.error.message) if call.error is not None else None,
            error_location=call.error.location if call.error is not None else None, rules=rules,
            last_frame=self.secrets(call.last_frame) if call.last_frame else None,
        )

    def check_database_used(self, server) -> None:
        """Warn when the app never touched the throwaway database: then its DATABASE_URL came from elsewhere."""
        from fixer.verify.postgres import PostgresNotAvailable

        try:
            connections, tables = server.app_activity()
        except (PostgresNotAvailable, ValueError):
            return
        if connections == 0 and tables == 0:
            self.warnings.append(
                "the app never connected to the throwaway PostgreSQL (no connection, no table): either it does not "
                "use the database before a request, or it does not take DATABASE_URL from the environment "
                "(a .env loaded with override=True or a hard-coded URL would point it at another database)"
            )

    @staticmethod
    def probe(process: BackendProcess, path: str, deadline: float | None) -> tuple[int | None, str, float]:
        """GET path; until ``deadline``, retry while nothing answers (uvicorn binds just after the marker)."""
        while True:
            t0 = time.monotonic()
            code, text = http_get(process.port, path)
            if code is not None or deadline is None or process.poll() is not None or time.monotonic() >= deadline:
                return code, text, round(time.monotonic() - t0, 3)
            time.sleep(0.05)


def _probe_result(path: str, code: int | None, seconds: float, ok: bool):
    from fixer.output.report import ProbeResult

    return ProbeResult(path=path, status=code, seconds=seconds, ok=ok)


def _hang_location(dump: str, backend_dir: Path) -> str | None:
    """The innermost backend frame in a faulthandler dump (frames are listed most recent call first)."""
    root = str(backend_dir.resolve())
    for line in dump.splitlines():
        line = line.strip()
        if line.startswith('File "') and '", line ' in line:
            file = line[6 : line.index('", line ')]
            number = line.split('", line ', 1)[1].split()[0]
            if file.startswith(root + os.sep) and "site-packages" not in file:
                return f"{os.path.relpath(file, root)}:{number}"
    return None
