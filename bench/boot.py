"""The real-world bench's boot: one backend under uvicorn against the run's PostgreSQL, as a platform starts it.

``boot()`` runs the documented start (``uvicorn ENTRYPOINT`` from ``run_from``, on a free loopback port) with
every database URL the backend reads set to the platform form,
``postgresql://USER:PASS@127.0.0.1:PORT/DB?sslmode=require&channel_binding=require``, against a PostgreSQL that
really speaks TLS and SCRAM (``throwaway_postgres(tls=True)``): nothing is rewritten for the app's sake. It
waits for the lifespan ("Application startup complete"), GETs ``/docs`` (else ``/health``), then one route that
touches the database, chosen from the app's OpenAPI schema: a GET list route with no required parameter that
answers something other than 401/403, else a sign-up POST with a schema-valid body. Settings the start reports
missing get dummy values and the start is tried again, as the import check did.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from appenv import first_error
from fixer.verify.backend import STARTUP_MARKER, BackendProcess, app_urls
from fixer.verify.diagnose import first_error as log_error

PLATFORM_QUERY = "sslmode=require&channel_binding=require"
STARTUP_TIMEOUT = 120.0  # a first start compiles every module of a fresh virtualenv
MAX_RETRIES = 8
_NOT_ROUTES = re.compile(
    r"(^/$|/(docs|redoc|openapi[^/]*|health[^/]*|ping|metrics|version|status|ready|readiness|live|liveness|"
    r"favicon[^/]*)/?$)", re.I)
_HEALTH = re.compile(r"/(health[^/]*|ping|status|ready|live)/?$", re.I)
_SIGNUP = re.compile(r"(register|sign-?up|signup|users/?$|accounts/?$)", re.I)


@dataclass
class Boot:
    boots: bool = False  # "Application startup complete" and /docs (or /health) answered 200
    startup_error: str = ""  # the exception line the start died with ('' when it started)
    docs: str = ""  # e.g. "GET /docs 200"
    db_route: str = ""  # e.g. "GET /api/tasks 200"
    db_status: int | None = None
    request_error: str = ""  # the first traceback's exception line after startup (a request's 500)
    request_error_at: str = ""  # its innermost frame in the backend
    tried: list = field(default_factory=list)
    migrations: str = ""  # "alembic upgrade head: ok" (or its error) where the project documents it
    routes: str = ""  # with --routes: "N of M routes answer no 5xx"
    route_errors: list = field(default_factory=list)  # with --routes: "METHOD PATH STATUS: exception (at FILE:LINE)"
    dummies: list = field(default_factory=list)
    seconds: float = 0.0

    def first_error(self) -> str:
        return self.startup_error or self.request_error

    def cell(self) -> str:
        """One table cell: the first error (or ok), then the database route's answer."""
        if not self.boots:
            return self.startup_error or f"started, no 200 ({self.docs})"
        head = "ok" if not self.migrations or self.migrations.endswith(": ok") else f"ok ({self.migrations})"
        route = self.db_route or "no db route (" + ", ".join(self.tried[-3:]) + ")"
        tail = f"; {self.request_error}" if self.request_error else ""
        routes = f"; {self.routes}" + (f" ({self.route_errors[0]})" if self.route_errors else "") if self.routes else ""
        return f"{head}, {route}{tail}{routes}"

    def as_dict(self) -> dict:
        return asdict(self)


def platform_url(server_url: str) -> str:
    return server_url + ("&" if "?" in server_url else "?") + PLATFORM_QUERY


CA_BUNDLE: Path | None = None  # set by the run: SSL_CERT_FILE for every app
ALL_ROUTES = False  # set by --routes: after the database route, every route once (fixer.verify.routes)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30.0) -> tuple[int | None, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": "fixer-bench", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(200_000).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


def _resolve(schema: dict, spec: dict, depth: int = 0) -> dict:
    while isinstance(schema, dict) and "$ref" in schema and depth < 20:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {})
        schema, depth = node, depth + 1
    return schema if isinstance(schema, dict) else {}


def sample(schema: dict, spec: dict, name: str = "", depth: int = 0) -> object:
    """A small value the schema accepts (enough for one sign-up; `fixer verify` generates with hypothesis)."""
    schema = _resolve(schema, spec)
    if depth > 6:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, spec).get("type") != "null"] or schema[key]
            return sample(options[0], spec, name, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: sample(v, spec, k, depth + 1) for k, v in props.items()}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(max(1, schema.get("minimum", 1)))
    if kind == "boolean":
        return False
    fmt = schema.get("format", "")
    lname = name.lower()
    if fmt == "email" or "email" in lname:
        text = f"bench{uuid.uuid4().hex[:8]}@example.com"
    elif fmt == "date-time":
        text = "2026-01-01T00:00:00Z"
    elif fmt == "date":
        text = "2026-01-01"
    elif fmt == "uuid":
        text = str(uuid.uuid4())
    elif fmt in ("uri", "url"):
        text = "https://example.com"
    elif "password" in lname:
        text = "Bench-Passw0rd!"
    else:
        text = f"bench{uuid.uuid4().hex[:6]}"
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 10_000))
    return (text + "x" * max(0, low - len(text)))[:high]


def _required_params(op: dict, spec: dict) -> bool:
    return any(_resolve(p, spec).get("required") and _resolve(p, spec).get("in") != "path"
               for p in op.get("parameters", []))


def _candidates(spec: dict) -> tuple[list[str], list[tuple[str, dict]]]:
    gets, signups = [], []
    for path, ops in (spec.get("paths") or {}).items():
        if _NOT_ROUTES.search(path) or "{" in path:
            continue
        get = ops.get("get")
        if get and not _required_params(get, spec):
            gets.append(path)
        post = ops.get("post")
        if post and _SIGNUP.search(path) and not _required_params(post, spec):
            signups.append((path, post))
    gets.sort(key=lambda p: (p.count("/"), len(p)))
    signups.sort(key=lambda s: not re.search(r"register|sign-?up", s[0], re.I))  # before a bare /users
    return gets, signups


def probe_database_route(port: int, spec: dict, result: Boot) -> None:
    gets, signups = _candidates(spec)
    for path in gets[:6]:
        status, _ = request(port, "GET", path)
        result.tried.append(f"GET {path} {status}")
        if status not in (401, 403, 404, 405, 422):
            result.db_route, result.db_status = f"GET {path} {status}", status
            return
    for path, op in signups[:2]:
        content = (op.get("requestBody") or {}).get("content") or {}
        if "application/json" not in content:
            continue
        body = sample(content["application/json"].get("schema", {}), spec)
        status, _ = request(port, "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        result.tried.append(f"POST {path} {status}")
        if status not in (404, 405):
            result.db_route, result.db_status = f"POST {path} {status}", status
            return


_ALEMBIC_UPGRADE = re.compile(r"""\balembic["']?(?:\s*,\s*["']|\s+)upgrade["']?(?:\s*,\s*["']|\s+)head\b""")
_DOCS = ("Dockerfile", "*.Dockerfile", "Procfile", "*.sh", "docker-compose*.yml", "compose*.yml", "docker-compose*.yaml", "README*")


_CD_THEN_UPGRADE = re.compile(r"\bcd\s+([\w./-]+)\s*&&[^\n\"']*?\balembic\s+upgrade\s+head\b")


def documented_migration(backend: Path, repo: Path) -> Path | None:
    """The folder of the alembic.ini whose `alembic upgrade head` the project's start documents (a prestart
    script, a Dockerfile or compose command, in the exec form too, a README; in the backend's docker/ folder too:
    `docker/app.sh`, `docker/backend.Dockerfile`), run before the server as the deploy runs it; a
    command that goes into a subfolder first (`cd app && alembic upgrade head`) runs it there."""
    ini = next((d for d in (backend, *backend.parents) if (d / "alembic.ini").is_file() and repo in (d, *d.parents)), None)
    for folder in {backend, ini or backend, repo, backend / "scripts", backend / "docker"}:
        for pattern in _DOCS:
            for doc in folder.glob(pattern) if folder.is_dir() else ():
                try:
                    text = doc.read_text(errors="replace")
                except OSError:
                    continue
                for sub in _CD_THEN_UPGRADE.findall(text):
                    inside = (doc.parent / sub).resolve()
                    if (inside / "alembic.ini").is_file() and repo.resolve() in (inside, *inside.parents):
                        return inside
                if ini is not None and _ALEMBIC_UPGRADE.search(text):
                    return ini
    return None


def migrate(python: Path, folder: Path, env: dict[str, str], logs: list[str]) -> str:
    import subprocess

    cmd = [str(python), "-m", "alembic", "upgrade", "head"]
    try:
        p = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "alembic upgrade head: timed out"
    logs.append(f"$ alembic upgrade head  (cwd {folder})\n{p.stdout}\n{p.stderr}\n")
    if p.returncode == 0:
        return "alembic upgrade head: ok"
    return "alembic upgrade head: " + (first_error(p.stderr) or f"exit {p.returncode}")


def boot(python: Path, run_from: Path, entrypoint: str, env: dict[str, str], missing_settings, dummy_value,
         log: Path | None = None, migrations: Path | None = None) -> Boot:
    """Start the app, probe it, stop it. ``missing_settings(text)`` names settings a failed start lacked;
    ``migrations``: the folder to run `alembic upgrade head` in first."""
    result = Boot()
    started = time.monotonic()
    logs: list[str] = []
    env = dict(env)
    if CA_BUNDLE is not None:
        env["SSL_CERT_FILE"] = str(CA_BUNDLE)
    # The settings a start lacks get dummies, and the documented `alembic upgrade head` before it as well: fixer
    # predicts both with them set (required settings are requirements of the deploy, not its defects).
    for _ in range(MAX_RETRIES if migrations is not None else 0):
        seen = len(logs)
        result.migrations = migrate(python, migrations, env, logs)
        new = [n for n in missing_settings("".join(logs[seen:])) if env.get(n) != dummy_value(n)]
        if result.migrations.endswith(": ok") or not new:
            break
        for name in new:
            env[name] = dummy_value(name)
            result.dummies.append(name)
    for _ in range(MAX_RETRIES):
        if migrations is not None:  # again after a retry: the settings the start lacked are the migration's too
            result.migrations = migrate(python, migrations, env, logs)
        process = BackendProcess(run_from, python, env, entrypoint=entrypoint, inherit_env=False)
        startup_log = ""
        try:
            process.start()
            deadline = process.started_at + STARTUP_TIMEOUT
            while process.marker_at is None and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if process.marker_at is None:
                if process.poll() is None:
                    result.startup_error = f"no {STARTUP_MARKER!r} within {STARTUP_TIMEOUT:g} s"
                    logs.append(process.dump_stacks())
                else:
                    process.drain()
            else:
                startup_log = process.log
                _probe(process.port, result, process.log)
                if ALL_ROUTES and result.boots:
                    _all_routes(process, run_from, result)
        finally:
            process.stop(5.0)
        text = process.log
        logs.append(f"$ {process.display_command}  (cwd {run_from})\n{text}\n")
        if process.marker_at is not None:
            after = text[len(startup_log):] if text.startswith(startup_log) else text
            error = log_error(after, run_from)
            if error is not None:
                result.request_error = error.message[:300]
                result.request_error_at = error.location or ""
            break
        if not result.startup_error:
            error = log_error(text, run_from)
            result.startup_error = _last_exception(text) or (error.message if error else f"exit {process.poll()}")
        new = [n for n in missing_settings(text) if env.get(n) != dummy_value(n)]
        if not new:
            break
        for name in new:
            env[name] = dummy_value(name)
            result.dummies.append(name)
        result.startup_error = ""
    result.seconds = round(time.monotonic() - started, 1)
    if log is not None:
        log.write_text("".join(logs))
    return result


_LOG_LINE = re.compile(r"^(INFO|WARNING|ERROR|DEBUG|CRITICAL):\s+(?!Traceback)")


def _last_exception(text: str) -> str:
    """The line the import check recorded (the last traceback's exception), for the prediction's comparison;
    uvicorn's own log lines ("ERROR:    Application startup failed. Exiting.") are not exceptions."""
    if "Traceback (most recent call last):" not in text:
        return ""
    return first_error("\n".join(line for line in text.splitlines() if not _LOG_LINE.match(line)))


def trust_bundle(ca_file: Path, dest: Path) -> Path:
    """The system's CAs plus the throwaway server's: the app verifies the server's certificate as it verifies a
    platform's, against a public CA (asyncpg's ssl=True, an ssl.create_default_context())."""
    import ssl

    system = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    parts = [Path(system).read_text()] if Path(system).is_file() else []
    dest.write_text("".join(parts) + "\n" + ca_file.read_text())
    return dest


def _all_routes(process: BackendProcess, run_from: Path, result: Boot) -> None:
    from fixer.verify.routes import RoutesUnavailable, call_routes

    try:
        calls = call_routes(process.port, lambda: process.log, run_from)
    except RoutesUnavailable as exc:
        result.routes = f"routes not called: {exc}"
        return
    failed = [c for c in calls if c.failed]
    result.routes = f"{len(calls) - len(failed)} of {len(calls)} routes answer no 5xx"
    for c in failed:
        where = f" (at {c.error.location})" if c.error is not None and c.error.location else ""
        result.route_errors.append(f"{c.label} {c.status}: {c.error.message if c.error else 'no traceback'}{where}"[:300])


def _probe(port: int, result: Boot, log: str = "") -> None:
    # Where the app says it serves them (`FastAPI(docs_url="/api/docs", openapi_url=...)`): not always /docs.
    urls = app_urls(log)
    docs = urls.get("docs_url") or "/docs"
    deadline = time.monotonic() + 15
    status = None
    while status is None and time.monotonic() < deadline:  # uvicorn binds just after the marker
        status, _ = request(port, "GET", docs, timeout=10)
        if status is None:
            time.sleep(0.1)
    result.docs = f"GET {docs} {status}"
    code, text = request(port, "GET", urls.get("openapi_url") or "/openapi.json")
    if code != 200:  # a prefixed schema (FastAPI(openapi_url="/api/v1/openapi.json")): the docs page names it
        _, page = request(port, "GET", "/docs")
        named = re.search(r"""url:\s*['"]([^'"]+\.json)['"]""", page)
        if named:
            code, text = request(port, "GET", named.group(1))
    try:
        spec = json.loads(text) if code == 200 else {}
    except ValueError:
        spec = {}
    if status != 200:  # docs switched off (production settings): the app's own health route says it answers
        healths = ["/health"] + [p for p in (spec.get("paths") or {}) if _HEALTH.search(p) and "get" in spec["paths"][p]]
        for path in dict.fromkeys(healths):
            status, _ = request(port, "GET", path, timeout=10)
            result.docs += f", GET {path} {status}"
            if status == 200:
                break
    result.boots = status == 200
    if not spec:
        result.tried.append(f"GET /openapi.json {code}")
        return
    probe_database_route(port, spec, result)
