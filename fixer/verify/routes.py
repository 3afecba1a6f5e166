"""Call every route of a started app once, from its OpenAPI schema, and say which ones answer 5xx and why.

A use-layer defect (an un-awaited ``AsyncSession.commit()``, a sync ``Session`` on an async engine) passes a boot
and fails at the first request. So once the app is healthy, `fixer verify` reads ``/openapi.json`` and calls
each operation once against the throwaway PostgreSQL, with input generated from the operation's own schema by
hypothesis-jsonschema (the first, simplest example; a few more when the app answers 422), in the order a
client would: sign up and log in first where the schema shows a password flow (OAuth2 ``tokenUrl``, or a bearer
scheme with a login route), then creates before reads, updates and deletes of the same path, each ``{id}``
taken from what a create answered. A 5xx (or no answer) is a failure, reported with the server's traceback.

Inputs differ per call and per run: every free string, e-mail and number carries a token of this run and call,
within the schema (so two creates writing one unique column do not collide, and a re-run meets no rows of the last
run). A unique-key violation on a value verify itself sent before (an enum, a field no token fits) is the input's
fault, not the app's: said, not failed.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from fixer.verify.backend import app_urls
from fixer.verify.diagnose import LogError, first_error
from fixer.verify.inputs import decoded, distinct, repeated_key, resolve, scalars

__all__ = ["RouteCall", "RoutesUnavailable", "call_routes"]

METHODS = ("get", "post", "put", "patch", "delete")
REQUEST_TIMEOUT = 30.0
DRAWS = 3  # inputs tried per operation while the app answers 422
_SIGNUP = re.compile(r"(register|sign-?up|/users/?$|/accounts/?$)", re.I)
_LOGIN = re.compile(r"(log-?in|sign-?in|token)", re.I)
_LOGOUT = re.compile(r"(log-?out|sign-?out|revoke)", re.I)
# A 5xx whose exception comes from a client of an outside service (an AI or payment API with a placeholder key, a
# Redis or SMTP server that is not there): the app's own code and its PostgreSQL worked, so it is said, not failed.
_OUTSIDE = re.compile(
    r"^(?:openai|anthropic|groq|cohere|google\.\w+|stripe|botocore|boto3|redis|httpx|httpcore|requests|aiohttp|"
    r"smtplib|aiosmtplib)\.[\w.]*(?:Error|Exception|Timeout)\w*:"
)
_CRED_EMAIL = re.compile(r"e-?mail", re.I)
_CRED_USER = re.compile(r"^(user_?name|login|handle)$", re.I)
_CRED_PASSWORD = re.compile(r"pass(word)?", re.I)


class RoutesUnavailable(RuntimeError):
    """The routes cannot be called: no OpenAPI schema, or no input generator installed."""


@dataclass
class RouteCall:
    method: str  # GET, POST, ...
    path: str  # the schema's path template, e.g. /tasks/{task_id}
    target: str = ""  # what was called, ids filled in
    status: int | None = None  # None: no answer
    error: LogError | None = None  # the server's traceback for a 5xx
    note: str = ""  # e.g. "sign-up", "log-in", "input: draw 2", "not called: ..."
    called: bool = True
    repeated: str = ""  # the unique key verify's own input repeated, e.g. "(kind)=(main)": not the app's fault

    @property
    def outside(self) -> bool:
        """A 5xx raised by a client of an outside service, not by the app's code or its database."""
        return self.error is not None and bool(_OUTSIDE.match(self.error.message))

    @property
    def failed(self) -> bool:
        return self.called and (self.status is None or self.status >= 500) and not self.outside and not self.repeated

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def outcome(self) -> str:
        if not self.called:
            return self.note
        if self.outside:
            return f"{self.status}, an outside service failed: {self.error.message if self.error else ''}"
        if self.repeated:
            return f"{self.status}, a unique key verify's own input repeated: {self.repeated}"
        return (str(self.status) if self.status is not None else "no answer") + (f" ({self.note})" if self.note else "")

    @property
    def last_frame(self) -> str | None:
        """Where the exception was raised: the traceback's last frame, e.g. `.../session.py:4410 in _validate`."""
        frames = re.findall(r'^\s*File "([^"]+)", line (\d+), in (\S+)', self.error.traceback if self.error else "", re.M)
        return f"{frames[-1][0]}:{frames[-1][1]} in {frames[-1][2]}" if frames else None


@dataclass
class _Client:
    port: int
    read_log: Callable[[], str]
    backend_dir: Path | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, method: str, target: str, body: bytes | None = None, content_type: str | None = None
             ) -> tuple[int | None, str, LogError | None]:
        """One request; for a 5xx or no answer, the first traceback the server logged meanwhile."""
        before = len(self.read_log())
        headers = {"User-Agent": "fixer-verify", "Accept": "application/json", **self.headers}
        if content_type:
            headers["Content-Type"] = content_type
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            status, text = response.status, response.read(1_000_000).decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            status, text = None, f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        error = None
        if status is None or status >= 500:
            error = self._logged_error(before)
        return status, text, error

    def _logged_error(self, since: int) -> LogError | None:
        deadline = time.monotonic() + 3.0  # the traceback reaches the log just after the answer
        while True:
            text = self.read_log()[since:]
            error = first_error(text, self.backend_dir)
            if (error is not None and error.traceback) or time.monotonic() > deadline:
                return _with_unawaited(error, text, self.backend_dir)
            time.sleep(0.1)


_UNAWAITED = re.compile(r"^(?P<file>\S.*?):(?P<line>\d+): RuntimeWarning: coroutine '[^']+' was never awaited$", re.M)


def _with_unawaited(error: LogError | None, text: str, backend_dir: Path | None) -> LogError | None:
    """An un-awaited coroutine raises nothing where it is called: a later line fails instead (a refresh of a row
    never written). Python's RuntimeWarning names the call: it goes first, and its place is the error's."""
    warning = _UNAWAITED.search(text)
    if warning is None or error is None:
        return error
    source = text[warning.end():].lstrip("\n").split("\n", 1)[0]
    location = error.location
    if backend_dir is not None:
        try:
            location = f"{Path(warning['file']).resolve().relative_to(Path(backend_dir).resolve()).as_posix()}:{warning['line']}"
        except ValueError:
            pass
    return LogError(message=error.message, traceback=f"{warning.group(0)}\n{source}\n{error.traceback}", location=location)


# ---------------------------------------------------------------- the schema


def _draws(schema: dict, spec: dict, count: int = DRAWS) -> list:
    """The first COUNT examples hypothesis-jsonschema generates for SCHEMA (deterministic: the first is the simplest)."""
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis.errors import NonInteractiveExampleWarning
        from hypothesis_jsonschema import from_schema
    except ImportError as exc:  # the `verify` extra brings it
        raise RoutesUnavailable(f"calling the routes needs hypothesis-jsonschema: pip install 'fixer[verify]' ({exc})") from None
    rooted = dict(schema)
    rooted["components"] = spec.get("components", {})  # its $refs point into the OpenAPI document
    out: list = []

    @settings(max_examples=count, phases=[Phase.generate], database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(from_schema(rooted))
    def collect(value: object) -> None:
        out.append(value)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        collect()
    return out


@dataclass
class _Operation:
    method: str
    path: str
    op: dict

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)

    def order(self) -> tuple:
        """Creates, nested creates, reads, updates, other actions, log-outs, deletes (deepest first)."""
        depth = self.path.count("/")
        if self.method == "delete":
            return (6, -depth, self.path)
        if _LOGOUT.search(self.path):
            return (5, depth, self.path)
        if self.method == "post":
            return (0 if not self.params else 1, depth, self.path)
        if self.method == "get":
            return (2, depth, self.path)
        return (3, depth, self.path)


def _operations(spec: dict) -> list[_Operation]:
    ops = []
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            if isinstance(item.get(method), dict):
                ops.append(_Operation(method, path, item[method]))
    return ops


def _body_schema(op: dict, spec: dict) -> tuple[str | None, dict]:
    content = resolve(op.get("requestBody"), spec).get("content") or {}
    for kind in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data"):
        if kind in content:
            return kind, resolve(content[kind].get("schema", {}), spec) or {}
    return None, {}


def _every_field(schema: dict) -> dict:
    """The body with each of its fields, as a client fills a form: the simplest example of the schema itself is
    the empty object for an update whose fields are all optional, which tests the app's corner, not its use."""
    if not isinstance(schema.get("properties"), dict):
        return schema
    props = {name: _not_null(sub) for name, sub in schema["properties"].items()}
    return {**schema, "properties": props, "required": sorted(set(schema.get("required", [])) | set(props))}


def _not_null(schema: object) -> object:
    """A field's schema without its null branch, where something else is left: a client that fills a field gives
    it a value (an explicit null in an update means "clear it", which a NOT NULL column refuses)."""
    if not isinstance(schema, dict):
        return schema
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            kept = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            if kept and len(kept) < len(options):
                rest = {k: v for k, v in schema.items() if k not in (key, "default")}
                return {**rest, key: kept} if len(kept) > 1 else {**rest, **kept[0]}
    if isinstance(schema.get("type"), list) and "null" in schema["type"] and len(schema["type"]) > 1:
        return {**schema, "type": [t for t in schema["type"] if t != "null"]}
    return schema


def _token_url(spec: dict) -> str | None:
    for scheme in ((spec.get("components") or {}).get("securitySchemes") or {}).values():
        scheme = resolve(scheme, spec)
        flow = (scheme.get("flows") or {}).get("password") if scheme.get("type") == "oauth2" else None
        if flow and flow.get("tokenUrl"):
            return "/" + flow["tokenUrl"].lstrip("/") if not flow["tokenUrl"].startswith("http") else flow["tokenUrl"]
    return None


def _has_bearer(spec: dict) -> bool:
    schemes = ((spec.get("components") or {}).get("securitySchemes") or {}).values()
    return any(resolve(s, spec).get("type") in ("oauth2", "http") for s in schemes)


# ---------------------------------------------------------------- the calls


class _Session:
    def __init__(self, client: _Client, spec: dict) -> None:
        self.client = client
        self.spec = spec
        self.ids: dict[str, object] = {}  # a collection path (or a field name) -> an id a create answered
        tag = uuid.uuid4().hex[:8]
        self.credentials = {"email": f"verify-{tag}@example.com", "username": f"verify{tag}", "password": f"Verify-{tag}-Pw1!"}
        self.login_name = self.credentials["email"]  # what the log-in's username field takes: what sign-up named
        self.run = "".join("abcdefghijklmnop"[int(c, 16)] for c in uuid.uuid4().hex[:6])  # letters fit more patterns
        self.draws = 0
        self.sent: set[str] = set()  # every scalar an earlier call sent, as PostgreSQL prints it in a key

    def token(self) -> str:
        """This run's and this draw's own: letters only, the draw's count last (a cut to maxLength keeps it)."""
        self.draws += 1
        count, letters = self.draws, ""
        while count:
            count, digit = divmod(count, 26)
            letters = "abcdefghijklmnopqrstuvwxyz"[digit] + letters
        return self.run + letters

    # -- inputs

    def _with_credentials(self, value: object, schema: dict, login: bool) -> object:
        """The same e-mail, user name and password in the sign-up and the log-in, whatever was generated."""
        if not isinstance(value, dict):
            return value
        props = schema.get("properties") or {}
        out = dict(value)
        for name in props:
            if _CRED_EMAIL.search(name):
                out[name] = self.credentials["email"]
            elif _CRED_PASSWORD.search(name):  # a confirmation field gets the same password
                out[name] = self.credentials["password"]
            elif _CRED_USER.match(name):
                out[name] = self.login_name if login else self.credentials["username"]
        if not login and any(_CRED_USER.match(name) for name in props):
            self.login_name = self.credentials["username"]
        return out

    def _path_value(self, op: _Operation, name: str) -> object:
        prefix = op.path.split("{" + name + "}", 1)[0].rstrip("/")
        for key in (prefix, prefix + "/", name):
            if key in self.ids:
                return self.ids[key]
        param = next((resolve(p, self.spec) for p in op.op.get("parameters", [])
                      if resolve(p, self.spec).get("name") == name), {})
        schema = dict(resolve(param.get("schema", {}), self.spec))
        if schema.get("type", "string") == "string" and "format" not in schema:
            schema["minLength"] = max(1, int(schema.get("minLength", 0)))
            schema.setdefault("pattern", "^[A-Za-z0-9_-]+$")
        value = _draws(schema, self.spec, 1)
        return value[0] if value else 1

    def _target(self, op: _Operation, filled: dict[str, object]) -> str:
        path = op.path
        for name in op.params:
            filled[name] = self._path_value(op, name)
            path = path.replace("{" + name + "}", quote(str(filled[name]), safe=""))
        query = {}
        for raw in op.op.get("parameters", []):
            param = resolve(raw, self.spec)
            if param.get("in") == "query" and param.get("required"):
                schema = resolve(param.get("schema", {}), self.spec)
                value = [distinct(v, schema, self.spec, self.token()) for v in _draws(schema, self.spec, 1)]
                if value:
                    query[param["name"]] = value[0] if not isinstance(value[0], (dict, list)) else json.dumps(value[0])
        return path + ("?" + urlencode(query, doseq=True) if query else "")

    def _bodies(self, op: _Operation, credentials: str, filled: dict[str, object]) -> tuple[str | None, list[bytes | None]]:
        kind, schema = _body_schema(op.op, self.spec)
        if credentials == "token-url" and kind is None:  # OAuth2's password flow: a form, whatever the schema says
            kind, schema = "application/x-www-form-urlencoded", {"properties": {"username": {}, "password": {}}}
            values: list = [{}]
        elif kind is None:
            return None, [None]
        else:
            values = _draws(_every_field(schema), self.spec, 1) + _draws(schema, self.spec, DRAWS - 1)
            values = [distinct(v, schema, self.spec, self.token()) for v in values]
        if credentials:
            values = [self._with_credentials(v, schema, credentials != "sign-up") for v in values]
        if filled:
            values = [_same_ids(v, schema, filled) for v in values]
        if kind == "application/json":
            return kind, [json.dumps(v).encode() for v in values]
        flat = [{k: (v if not isinstance(v, (dict, list)) else json.dumps(v)) for k, v in (val or {}).items()}
                for val in values if isinstance(val, dict)]
        if kind == "multipart/form-data":
            boundary = "fixer-verify-" + uuid.uuid4().hex
            return f"multipart/form-data; boundary={boundary}", [_multipart(v, boundary) for v in flat] or [None]
        return kind, [urlencode(v).encode() for v in flat] or [None]

    # -- calls

    def call(self, op: _Operation, credentials: str = "", note: str = "") -> tuple[RouteCall, object]:
        """One call (more while it answers 422); ``credentials``: "sign-up", "log-in", "token-url" or ""."""
        filled: dict[str, object] = {}
        try:
            target = self._target(op, filled)
            kind, bodies = self._bodies(op, credentials, filled)
        except RoutesUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a schema the generator cannot satisfy: said, never a crash
            return RouteCall(op.method.upper(), op.path, note=f"not called: no input fits its schema ({type(exc).__name__})",
                             called=False), None
        result = RouteCall(op.method.upper(), op.path, target, note=note)
        payload: object = None
        sent = scalars(filled) | scalars(dict(parse_qsl(target.partition("?")[2])))
        for index, body in enumerate(bodies):
            status, text, error = self.client.send(result.method, target, body, kind)
            result.status, result.error = status, error
            result.repeated = repeated_key(error, self.sent) if status is not None and status >= 500 else ""
            sent.update(scalars(decoded(body, kind)))
            if index:
                result.note = ", ".join(filter(None, [note, f"input: draw {index + 1}"]))
            if status != 422:
                break
        self.sent |= sent
        try:
            payload = json.loads(text) if result.status and result.status < 300 else None
        except ValueError:
            payload = None
        if result.status is not None and result.status < 300 and op.method == "post":
            self._remember(op, payload)
        return result, payload

    def _remember(self, op: _Operation, payload: object) -> None:
        if isinstance(payload, dict):
            for key in ("data", "item", "result"):
                if isinstance(payload.get(key), dict) and "id" not in payload:
                    payload = payload[key]
        if not isinstance(payload, dict):
            return
        for key, value in payload.items():
            if isinstance(value, (str, int)) and (key == "id" or key.endswith("_id") or key.endswith("Id")):
                self.ids.setdefault(key, value)
        ident = payload.get("id", next((v for k, v in payload.items() if k.endswith("_id")), None))
        if isinstance(ident, (str, int)):
            self.ids[op.path.rstrip("/")] = ident

    def log_in(self, ops: list[_Operation], done: dict[tuple[str, str], RouteCall]) -> None:
        """Sign up then log in, where the schema shows a password flow; keep the bearer token."""
        token_url = _token_url(self.spec)
        if token_url is None and not _has_bearer(self.spec):
            return
        signup = next((o for o in ops if o.method == "post" and _SIGNUP.search(o.path) and not o.params
                       and not o.op.get("security")), None)
        token = None
        if signup is not None:
            call, payload = self.call(signup, credentials="sign-up", note="sign-up")
            done[(signup.method, signup.path)] = call
            if isinstance(payload, dict) and "id" in payload:
                self.ids.setdefault("user_id", payload["id"])
            token = _find_token(payload)  # some sign-ups answer with the token itself
        login = next((o for o in ops if o.method == "post" and token_url and o.path.rstrip("/") == token_url.rstrip("/")), None)
        kind = "token-url" if login is not None else "log-in"
        login = login or next((o for o in ops if o.method == "post" and _LOGIN.search(o.path) and o is not signup
                               and not o.params), None)
        if login is not None:
            call, payload = self.call(login, credentials=kind, note="log-in")
            done[(login.method, login.path)] = call
            token = _find_token(payload) or token
        if token:
            self.client.headers["Authorization"] = f"Bearer {token}"


def _same_ids(value: object, schema: dict, filled: dict[str, object]) -> object:
    """A body's id fields say what the path says (PUT /items/7 with {"id": 7}): a client does not move a row."""
    props = schema.get("properties") or {}
    if not isinstance(value, dict) or not filled:
        return value
    out = dict(value)
    last = list(filled.values())[-1]
    for name in props:
        if name in filled or name == "id":
            given = filled.get(name, last)
            if (props[name] or {}).get("type") == "integer" and str(given).isdigit():
                given = int(str(given))
            out[name] = given
    return out


def _find_token(payload: object, depth: int = 0) -> str | None:
    if not isinstance(payload, dict) or depth > 3:
        return None
    for key in ("access_token", "accessToken", "token", "jwt", "id_token"):
        if isinstance(payload.get(key), str) and payload[key]:
            return payload[key]
    for value in payload.values():
        found = _find_token(value, depth + 1)
        if found:
            return found
    return None


def _multipart(fields: dict, boundary: str) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def fetch_schema(client: _Client) -> dict:
    # Where the app says it serves its schema (`FastAPI(openapi_url="/api/openapi.json")`); None: switched off.
    urls = app_urls(client.read_log())
    if "openapi_url" in urls and not urls["openapi_url"]:
        raise RoutesUnavailable("the app serves no OpenAPI schema (openapi_url=None)")
    status, text, _ = client.send("GET", urls.get("openapi_url") or "/openapi.json")
    if status != 200:
        _, page, _ = client.send("GET", "/docs")
        found = re.search(r"""url:\s*['"]([^'"]+\.json)['"]""", page)
        if found:
            status, text, _ = client.send("GET", found.group(1))
    if status != 200:
        raise RoutesUnavailable(f"no OpenAPI schema (GET /openapi.json -> {status})")
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise RoutesUnavailable(f"the OpenAPI schema is not JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise RoutesUnavailable("the OpenAPI schema is not an object")
    return spec


def call_routes(port: int, read_log: Callable[[], str], backend_dir: Path | None = None,
                progress: Callable[[str], None] | None = None) -> list[RouteCall]:
    """Call each operation of the app on 127.0.0.1:PORT once (see the module's doc); ``read_log`` returns the
    server's whole output so far (its tracebacks' frames are placed in ``backend_dir``). Raises RoutesUnavailable
    when there is no schema or no generator."""
    client = _Client(port, read_log, backend_dir)
    spec = fetch_schema(client)
    ops = sorted(_operations(spec), key=_Operation.order)
    session = _Session(client, spec)
    done: dict[tuple[str, str], RouteCall] = {}
    session.log_in(ops, done)
    results = list(done.values())
    for call in results:
        if progress is not None:
            progress(f"{call.label} -> {call.outcome}")
    for op in ops:
        if (op.method, op.path) in done:
            continue
        call, _ = session.call(op)
        done[(op.method, op.path)] = call
        results.append(call)
        if progress is not None:
            progress(f"{call.label} -> {call.outcome}")
    return results
