"""`fixer verify` calls every route of the app once (fixer.verify.routes), against a real PostgreSQL.

fixtures/verify/routes-ok is a correct async app with an OAuth2 password flow; fixtures/verify/request-500 is the
same app with one un-awaited `session.commit()`: it boots, and its first POST /notes answers 500;
fixtures/verify/sync-session opens a sync `Session` on the async engine in GET /notes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import jsonschema
import pytest

from fixer.verify import CACHE_ENV
from fixer.verify.diagnose import LogError, diagnose
from fixer.verify.inputs import distinct, repeated_key
from fixer.verify.routes import RouteCall, _draws, _operations, _Session, _with_unawaited
from tests.test_verify import load_report, run_verify, venv_cache_dir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "verify"

SPEC = {
    "openapi": "3.1.0",
    "paths": {
        "/notes/{note_id}": {"get": {}, "delete": {}, "patch": {}},
        "/notes": {"get": {}, "post": {}},
        "/auth/logout": {"post": {}},
        "/projects/{project_id}/tasks": {"post": {}},
        "/projects": {"post": {}},
        "/projects/{project_id}/tasks/{task_id}": {"delete": {}},
    },
    "components": {
        "schemas": {
            "SignUp": {
                "type": "object",
                "required": ["email", "password"],
                "properties": {
                    "email": {"type": "string", "format": "email"},
                    "password": {"type": "string", "minLength": 8},
                    "due": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                },
            }
        }
    },
}


def test_order_is_creates_then_reads_then_updates_then_deletes_deepest_first() -> None:
    ordered = [(o.method, o.path) for o in sorted(_operations(SPEC), key=lambda o: o.order())]
    assert ordered == [
        ("post", "/notes"), ("post", "/projects"),
        ("post", "/projects/{project_id}/tasks"),
        ("get", "/notes"), ("get", "/notes/{note_id}"),
        ("patch", "/notes/{note_id}"),
        ("post", "/auth/logout"),
        ("delete", "/projects/{project_id}/tasks/{task_id}"), ("delete", "/notes/{note_id}"),
    ]


def test_inputs_are_schema_valid_and_the_first_is_the_simplest() -> None:
    schema = {"$ref": "#/components/schemas/SignUp"}
    values = _draws(schema, SPEC)
    assert len(values) == 3
    rooted = {**schema, "components": SPEC["components"]}
    for value in values:
        jsonschema.Draft202012Validator(rooted).validate(value)
    assert set(values[0]) == {"email", "password"}  # required fields only
    assert values == _draws(schema, SPEC)  # deterministic


def test_an_unawaited_coroutine_is_the_cause_and_the_place() -> None:
    log = (
        "/srv/app/notes.py:24: RuntimeWarning: coroutine 'AsyncSession.commit' was never awaited\n"
        "  session.commit()\n"
        "RuntimeWarning: Enable tracemalloc to get the object allocation traceback\n"
    )
    error = LogError("sqlalchemy.exc.InvalidRequestError: Instance '<Note>' is not persistent within this Session",
                     "Traceback (most recent call last):\n  ...\nsqlalchemy.exc.InvalidRequestError: ...", "app/notes.py:25")
    found = _with_unawaited(error, log, Path("/srv"))
    assert found is not None and found.location == "app/notes.py:24" and found.message == error.message
    assert found.traceback.startswith("/srv/app/notes.py:24: RuntimeWarning: coroutine 'AsyncSession.commit'")
    assert [d.defect for d in diagnose(found)] == ["ENG-MISSING-AWAIT"]
    assert _with_unawaited(error, "no warning here\n", Path("/srv")) is error


@pytest.mark.slow
def test_a_write_route_that_fails_at_its_first_request_fails_verify(tmp_path: Path) -> None:
    run_id = uuid.uuid4().hex
    report = tmp_path / "report.json"
    proc = run_verify([str(FIXTURES / "request-500" / "backend"), "--cache-dir", str(venv_cache_dir()),
                       "--report", str(report)], run_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("FAIL") and "a route failed at its first request" in first
    assert "POST /notes -> HTTP 500: sqlalchemy.exc.InvalidRequestError" in first
    assert "  POST /notes 500: sqlalchemy.exc.InvalidRequestError" in proc.stdout
    assert "at       app/notes.py:24" in proc.stdout  # the un-awaited call, not the line that raised
    assert re.search(r"^    raised   \S+/sqlalchemy/orm/session\.py:\d+ in _validate_persistent$", proc.stdout, re.M)
    assert "ENG-MISSING-AWAIT" in proc.stdout
    assert "RuntimeWarning: coroutine 'AsyncSession.commit' was never awaited" in proc.stdout

    v = load_report(report)["verification"]
    assert (v["passed"], v["status"], v["error_location"]) == (False, "route-failed", "app/notes.py:24")
    failed = [(r["method"], r["path"], r["status"]) for r in v["routes"] if not r["ok"]]
    assert failed == [("POST", "/notes", 500)]
    assert [d["defect"] for d in v["diagnosis"]] == ["ENG-MISSING-AWAIT"]


@pytest.mark.slow
def test_a_correct_app_passes_with_every_route_called(tmp_path: Path) -> None:
    run_id = uuid.uuid4().hex
    report = tmp_path / "report.json"
    proc = run_verify([str(FIXTURES / "routes-ok" / "backend"), "--cache-dir", str(venv_cache_dir()),
                       "--report", str(report)], run_id)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS") and "routes     8 of 8 answered without a server error" in proc.stdout

    v = load_report(report)["verification"]
    calls = [(r["method"], r["path"], r["status"], r["note"]) for r in v["routes"]]
    assert calls == [
        ("POST", "/auth/register", 201, "sign-up"),
        ("POST", "/auth/token", 200, "log-in"),
        ("POST", "/notes", 201, ""),  # signed in: the bearer token was sent
        ("GET", "/health", 200, ""),
        ("GET", "/notes", 200, ""),
        ("GET", "/notes/{note_id}", 200, ""),  # the id the create answered
        ("PATCH", "/notes/{note_id}", 200, ""),
        ("DELETE", "/notes/{note_id}", 204, ""),
    ]


def _apply_until_boots(backend: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, CACHE_ENV: str(venv_cache_dir())}
    env.pop("FIXER_VERIFY_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "fixer", "apply", "--until-boots", ".", *options], cwd=backend,
                          env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_until_boots_goes_on_while_a_route_answers_5xx(tmp_path: Path) -> None:
    """Outside the repository (its [tool.fixer] excludes fixtures/): the un-awaited commit is fixed in round 1 and
    every route then answers; with the rules that fix it left out, the 500 keeps --until-boots from succeeding."""
    fixed = Path(shutil.copytree(FIXTURES / "request-500" / "backend", tmp_path / "fixed"))
    done = _apply_until_boots(fixed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "await session.commit()" in (fixed / "app" / "notes.py").read_text()
    # (a loaded machine can miss the 5 s startup budget in round 1: then round 2 passes, having written nothing)
    assert "fixer: the backend boots after" in done.stderr and "HTTP 500" not in done.stdout
    assert "routes     8 of 8 answered without a server error" in done.stdout

    kept = Path(shutil.copytree(FIXTURES / "request-500" / "backend", tmp_path / "kept"))
    failed = _apply_until_boots(kept, "--ignore", "FX010,FX016")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "POST /notes -> HTTP 500" in failed.stdout
    assert "round 1 had nothing left to fix; the backend still fails `fixer verify`" in failed.stderr


@pytest.mark.parametrize(("status", "message", "called", "failed"), [
    (500, "sqlalchemy.exc.InvalidRequestError: Instance is not persistent within this Session", True, True),
    (500, "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5432)", True, True),  # its database
    (500, "openai.AuthenticationError: Error code: 401 - invalid api key", True, False),  # a placeholder key
    (502, "httpx.ConnectError: [Errno -3] Temporary failure in name resolution", True, False),
    (None, "", True, True),  # no answer
    (None, "", False, False),  # not called: no input fits its schema
    (404, "", True, False),
])
def test_what_counts_as_a_failed_route(status: int | None, message: str, called: bool, failed: bool) -> None:
    error = LogError(message, f"Traceback (most recent call last):\n{message}") if message else None
    assert RouteCall("POST", "/x", status=status, error=error, called=called).failed is failed


@pytest.mark.slow
def test_a_sync_session_on_the_async_engine_fails_at_its_route_and_apply_fixes_it(tmp_path: Path) -> None:
    """fixtures/verify/sync-session: `with Session(async_engine)` in GET /notes; the writes before it work."""
    run_id = uuid.uuid4().hex
    proc = run_verify([str(FIXTURES / "sync-session" / "backend"), "--cache-dir", str(venv_cache_dir())], run_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "GET /notes -> HTTP 500: sqlalchemy.ext.asyncio.exc.AsyncContextNotStarted" in proc.stdout.splitlines()[0]
    assert "cause      ENG-SYNC-SESSION" in proc.stdout and "at       app/notes.py:33" in proc.stdout
    assert re.search(r"^    fix      `fixer apply` \(.*FX011", proc.stdout, re.M)

    backend = Path(shutil.copytree(FIXTURES / "sync-session" / "backend", tmp_path / "backend"))
    done = _apply_until_boots(backend)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "routes     8 of 8 answered without a server error" in done.stdout


@pytest.mark.slow
def test_the_schema_is_read_where_the_app_serves_it(tmp_path: Path) -> None:
    """`FastAPI(docs_url="/api/docs", openapi_url="/api/openapi.json")`: the loaded app says where, nothing is
    guessed; with the schema switched off, verify says so rather than that it found none."""
    backend = Path(shutil.copytree(FIXTURES / "routes-ok" / "backend", tmp_path / "backend"))
    main = backend / "app" / "main.py"
    text = main.read_text()
    main.write_text(text.replace('FastAPI(title="Notes", lifespan=lifespan)',
                                 'FastAPI(title="Notes", lifespan=lifespan, docs_url="/api/docs", '
                                 'openapi_url="/api/openapi.json")'))
    proc = run_verify([str(backend), "--cache-dir", str(venv_cache_dir())], uuid.uuid4().hex)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "routes     8 of 8 answered without a server error" in proc.stdout
    main.write_text(text.replace('FastAPI(title="Notes", lifespan=lifespan)',
                                 'FastAPI(title="Notes", lifespan=lifespan, openapi_url=None)'))
    proc = run_verify([str(backend), "--cache-dir", str(venv_cache_dir())], uuid.uuid4().hex)
    assert "the app serves no OpenAPI schema (openapi_url=None)" in proc.stdout + proc.stderr, proc.stdout


ITEM = {
    "type": "object",
    "required": ["title", "code", "email", "kind", "rank", "owner_id", "due"],
    "properties": {
        "title": {"type": "string", "maxLength": 12},
        "code": {"type": "string", "pattern": "^[a-z]{3,20}$"},
        "email": {"type": "string", "format": "email"},
        "kind": {"enum": ["main"]},
        "rank": {"type": "integer", "minimum": 1, "maximum": 1000000},
        "owner_id": {"type": "integer"},  # a reference: varied, it points nowhere
        "due": {"type": "string", "format": "date"},
        "note": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]},
    },
}


def test_each_call_sends_its_own_schema_valid_input() -> None:
    """Two creates writing one unique column must not send one value; nor may two runs."""
    spec = {"openapi": "3.1.0", "components": {}}
    drawn = _draws(ITEM, spec, 1)[0]
    first, second = _Session(None, spec), _Session(None, spec)  # two runs
    values = [distinct(drawn, ITEM, spec, run.token()) for run in (first, first, second)]
    checker = jsonschema.Draft202012Validator(ITEM, format_checker=jsonschema.FormatChecker())
    for value in values:
        checker.validate(value)
    for field in ("title", "code", "email", "rank"):
        assert len({v[field] for v in values}) == 3, (field, values)
    for field in ("kind", "owner_id", "due"):  # an enum, a reference, a format no token fits
        assert {v[field] for v in values} == {drawn[field]}
    assert all(len(v["title"]) <= 12 for v in values)


@pytest.mark.parametrize(("message", "sent", "repeated"), [
    ('sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key value violates unique '
     'constraint "label_kind_key"\nDETAIL:  Key (kind)=(main) already exists.', {"main"}, "(kind)=(main)"),
    ("asyncpg.exceptions.UniqueViolationError: duplicate key value violates unique constraint \"x\"\n"
     "DETAIL:  Key (owner_id, title)=(1, Abc) already exists.", {"1", "abc"}, "(owner_id, title)=(1, Abc)"),
    # a value the app made up itself (every insert writes "default"): the app's defect
    ('sqlalchemy.exc.IntegrityError: duplicate key\nDETAIL:  Key (name)=(default) already exists.', {"main"}, ""),
    ("sqlalchemy.exc.InvalidRequestError: Instance is not persistent within this Session", {"main"}, ""),
])
def test_a_unique_key_verify_itself_repeated_is_not_a_failure(message: str, sent: set[str], repeated: str) -> None:
    error = LogError(message.splitlines()[0], f"Traceback (most recent call last):\n{message}")
    assert repeated_key(error, sent) == repeated
    call = RouteCall("POST", "/labels", status=500, error=error, repeated=repeated)
    assert call.failed is not bool(repeated)


@pytest.mark.slow
def test_creates_writing_one_unique_column_each_send_their_own_value(tmp_path: Path) -> None:
    """fixtures/verify/unique-inputs: three creates of one table with unique title, slug and rank all answer 201;
    the second label create refuses the one enum value verify sent before: said, not failed."""
    report = tmp_path / "report.json"
    proc = run_verify([str(FIXTURES / "unique-inputs" / "backend"), "--cache-dir", str(venv_cache_dir()),
                       "--report", str(report)], uuid.uuid4().hex)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS") and "routes     5 of 6 answered without a server error" in proc.stdout
    assert re.search(r"^  POST /labels/import 500: sqlalchemy\.exc\.IntegrityError.*"
                     r"\(verify's own input repeated the unique key \(kind\)=\(main\): not counted\)$", proc.stdout, re.M)
    v = load_report(report)["verification"]
    assert [(r["path"], r["status"], r["ok"]) for r in v["routes"]] == [
        ("/drafts", 201, True), ("/labels", 201, True), ("/topics", 201, True), ("/labels/import", 500, True),
        ("/topics/import", 201, True), ("/health", 200, True)]


def test_a_required_query_parameter_is_each_calls_own_too() -> None:
    """`async def imported(title: str, ...)` on a POST: the title is a query parameter, written to a unique column."""
    spec = {"openapi": "3.1.0", "paths": {"/likes": {"post": {"parameters": [
        {"name": "title", "in": "query", "required": True, "schema": {"type": "string", "title": "Title"}}]}}}}
    session = _Session(None, spec)
    op = _operations(spec)[0]
    targets = {session._target(op, {}) for _ in range(3)}
    assert len(targets) == 3 and all(t.startswith("/likes?title=") for t in targets), targets
