"""What a backend's start gets (the environment) and what it died with (the first error), for the import check
and the boot alike."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fixer.discover.files import discover  # noqa: E402
from fixer.model.settingsenv import TEMPLATES, DeclaredType, declared_types  # noqa: E402

PLATFORM_URL = "postgresql://user:pass@127.0.0.1:5432/db?sslmode=require&channel_binding=require"
# Dummy values for settings the backends commonly require; DATABASE_URL-like keys get the platform URL.
DUMMY_ENV = {
    "SECRET_KEY": "x" * 48,
    "JWT_SECRET": "x" * 48,
    "JWT_SECRET_KEY": "x" * 48,
    "BETTER_AUTH_SECRET": "x" * 48,
    "AUTH_SECRET": "x" * 48,
    "OPENAI_API_KEY": "sk-dummy",
    "GEMINI_API_KEY": "dummy",
    "GOOGLE_API_KEY": "dummy",
    "ANTHROPIC_API_KEY": "dummy",
    "COHERE_API_KEY": "dummy",
    "GROQ_API_KEY": "dummy",
    "OPENROUTER_API_KEY": "dummy",
}

DB_URL_KEY = re.compile(r"(DATABASE|DB|POSTGRES|PG|NEON|SQLALCHEMY).*(URL|URI|DSN)$", re.I)
# A value that is a database URL (`CONN=postgresql+asyncpg://...` in an example file), whatever its key.
DB_URL_VALUE = re.compile(r"^(postgres(ql)?|sqlite|mysql|mariadb|cockroachdb)(\+\w+)?://", re.I)
# What the environment is read with in code: `os.getenv("X")`, `os.environ.get("X", "default")`, `os.environ["X"]`.
ENV_READ = re.compile(r"""(?:getenv|environ\.get|environ\.setdefault)\(\s*["'](\w+)["']\s*(\)|,\s*(?:["']([^"']*)["'])?)"""
                      r"""|environ\[\s*["'](\w+)["']\s*\]""")
# The names a database URL is read under in code (DATABASE_URL, NEON_DATABASE_URL, DB_URL, POSTGRES_URI, PG_DSN,
# SQLALCHEMY_DATABASE_URI); not NEON_API_URL, nor DATABASE_URL_SYNC.
DB_URL_NAME = re.compile(r"(?:^|_)(?:DATABASE|DB|POSTGRES|POSTGRESQL|PG)_?(?:URL|URI|DSN)$", re.I)
# Words that make a database URL's name the project's own flavour of it (ASYNC_DATABASE_URI, TEST_DB_URL,
# SYNC_CELERY_DATABASE_URI): a driver, a mode, a tool or an environment, which the project assembles itself.
FLAVOURS = frozenset({"ASYNC", "SYNC", "ASYNCPG", "PSYCOPG", "PSYCOPG2", "AIOSQLITE", "SQLITE", "TEST", "TESTS",
                      "TESTING", "CELERY", "BEAT", "MIGRATION", "MIGRATIONS", "ALEMBIC", "LOCAL", "DEV"})
# A value of each declared kind, for a variable the start needs and nothing sets (as a deploy sets one).
KIND_VALUE = {"bool": "false", "int": "10", "float": "1.0", "dict": "{}", "url": "http://localhost",
              "database-url": PLATFORM_URL, "email": "admin@example.com"}
BOOLEANS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}  # pydantic's


# The pieces platforms inject beside the URL (Railway, Render, Heroku add-ons; the full-stack template reads them).
DB_PIECES = ("POSTGRES_SERVER", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")


def database_env(keys, url: str) -> dict[str, str]:
    """The platform URL for every database-URL-like key, and the server's pieces for POSTGRES_USER & co. (always
    the common ones, and any other the keys name)."""
    parts = urlsplit(url)
    pieces = {
        "HOST": parts.hostname or "", "SERVER": parts.hostname or "", "PORT": str(parts.port or 5432),
        "USER": parts.username or "", "PASSWORD": parts.password or "", "DB": parts.path.lstrip("/"),
        "NAME": parts.path.lstrip("/"), "DATABASE": parts.path.lstrip("/"),
    }
    env = {"DATABASE_URL": url}
    for key in [*DB_PIECES, *keys]:
        if DB_URL_KEY.search(key):
            env[key] = url
            continue
        m = re.fullmatch(r"(?:POSTGRES|POSTGRESQL|PG|DB|DATABASE)_?(HOST(?:NAME)?|SERVER|PORT|USER|PASSWORD|DB|NAME|DATABASE)",
                         key, re.I)
        if m:
            piece = m.group(1).upper()
            env[key] = pieces["HOST" if piece == "HOSTNAME" else piece]
    return env


def python_sources(backend: Path) -> list[tuple[str, str]]:
    return [(p, (backend / p).read_text(encoding="utf-8", errors="replace"))
            for p in discover(backend, []) if p.endswith(".py")]


def declared(backend: Path) -> dict[str, DeclaredType]:
    """The type each variable the backend reads is declared with (fixer's reading of the settings classes and of
    the casts around environment reads), by variable and by field name (pydantic's errors name the field),
    upper-cased: pydantic's settings read the environment case-insensitively by default."""
    types: dict[str, DeclaredType] = {}
    for found in declared_types(python_sources(backend)):
        types.setdefault(found.variable.upper(), found)
        types.setdefault(found.name.upper(), found)
    return types


def database_url_names(backend: Path, types: dict[str, DeclaredType]) -> list[str]:
    """The variables a deploy gives the platform's database URL, judged by the bench alone: every key of the
    example file whose value is a database URL (the file the deploy fills; a key named like one already gets it,
    `database_env`), and every variable read in code or as a settings field that is named like a database URL
    (DB_URL_NAME) or typed as one (`PostgresDsn`). One whose name picks a flavour (ASYNC_DATABASE_URI = "" and a
    validator that assembles it from POSTGRES_USER & co.) is the project's own, which the deploy leaves alone,
    unless the start cannot do without it: no default, or a default that is itself a database URL
    (`os.getenv("SYNC_DB_URL", "sqlite:///app.db")`, which the deploy replaces). As written and upper-cased."""
    examples = env_from_examples(backend)
    names = [k for k, v in examples.items() if DB_URL_VALUE.match(v)]
    reads = [(m.group(1) or m.group(4), m.group(2) == ")" or m.group(4) is not None, m.group(3))
             for _, text in python_sources(backend) for m in ENV_READ.finditer(text)]
    reads += [(t.variable, t.required, t.default) for t in types.values()]
    for name, required, default in reads:
        found = types.get(name.upper())
        if not (DB_URL_NAME.search(name) or (found is not None and found.kind == "database-url")):
            continue
        if not FLAVOURS & set(name.upper().split("_")) or required or DB_URL_VALUE.match(default or ""):
            names.append(name)
    return list(dict.fromkeys(v for n in names for v in (n, n.upper())))


def env_from_examples(backend: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in TEMPLATES:
        f = backend / name
        if not f.is_file():
            continue
        for line in f.read_text(errors="replace").splitlines():
            m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
            if m and m.group(1) not in env:
                val = m.group(2).strip()
                if val[:1] in ("'", '"'):
                    val = val[1:].split(val[0], 1)[0]
                else:
                    val = re.split(r"\s+#", val, 1)[0].strip()  # an inline comment, as python-dotenv reads it
                env[m.group(1)] = val or "dummy"
    return env


def fits(value: str, kind: str, item: str = "", choices: tuple[str, ...] = ()) -> bool:
    """Whether pydantic takes `value` from the environment for a field of this kind."""
    if kind in ("list", "dict"):
        try:
            data = json.loads(value)
        except ValueError:
            return False
        if kind == "dict" or not isinstance(data, list):
            return isinstance(data, dict if kind == "dict" else list)
        return all(fits(e if isinstance(e, str) else json.dumps(e), item or "text") for e in data)
    checks = {
        "bool": lambda v: v.lower() in BOOLEANS, "int": lambda v: re.fullmatch(r"[+-]?\d+", v) is not None,
        "float": lambda v: re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", v) is not None,
        "url": lambda v: "://" in v, "database-url": lambda v: "://" in v, "email": lambda v: "@" in v,
        "choice": lambda v: not choices or v in choices,
    }
    return checks.get(kind, lambda v: True)(value)


def of_kind(kind: str, item: str = "", choices: tuple[str, ...] = (), name: str = "") -> str:
    """A value of the declared kind; a list's members are of its member kind (a list of text: origins or hosts
    where the name says so, else none: `APP_MODULES` is no list of URLs)."""
    if kind == "list" and item in ("", "text"):
        return '["http://localhost"]' if re.search(r"ORIGIN|HOST|URL", name.upper()) else "[]"
    if kind == "list":
        member = of_kind(item)
        return json.dumps([json.loads(member) if item in ("bool", "int", "float") else member])
    if kind == "choice" and choices:
        return choices[0]
    return KIND_VALUE.get(kind, "dummy-" + "x" * 32)


def dummy_value(name: str, types: dict[str, DeclaredType] | None = None) -> str:
    """A value for a setting nothing sets: the name's usual kind of value, unless the variable is declared with a
    type that value does not pass (`TEST_MODE: bool`, `CLIENT_ORIGIN: list`), then one of the declared kind."""
    guess = _by_name(name)
    found = (types or {}).get(name.upper())
    if found is None or fits(guess, found.kind, found.item, found.choices):
        return guess
    return of_kind(found.kind, found.item, found.choices, name)


def _by_name(name: str) -> str:
    n = name.upper()
    if re.search(r"(DATABASE|DB|POSTGRES|NEON).*(URL|URI|DSN)$", n):
        return PLATFORM_URL
    if "REDIS" in n and re.search(r"(URL|URI|DSN)$", n):
        return "redis://127.0.0.1:6379/0"  # nothing listens: a refused connection, as where no Redis is provisioned
    if "PORT" in n:
        return "5432"
    if re.search(r"(^USE_|^ENABLE|^VALIDATE_|_TLS$|_SSL|STARTTLS|^DEBUG$|_ENABLED$|^IS_)", n):
        return "false"
    if re.search(r"(MINUTES|HOURS|DAYS|SECONDS|SIZE|COUNT|LIMIT|EXPIRE|TIMEOUT|WORKERS|CONCURRENCY)", n):
        return "60"
    if re.search(r"(ORIGINS|HOSTS|_LIST)$", n):
        return '["http://localhost"]'
    if "EMAIL" in n or n.endswith("_FROM") or n.endswith("SUPERUSER"):
        return "admin@example.com"
    if re.search(r"_?(HOST|HOSTNAME|SERVER)$", n):  # a host name, not a URL (REDIS_HOST, SMTP_SERVER)
        return "127.0.0.1"
    if re.search(r"(URL|URI|ORIGIN|HOST)", n):
        return "http://localhost"
    return "dummy-" + "x" * 32


def missing_settings(stderr: str) -> list[str]:
    """Names a settings class reports missing (pydantic 1 and 2), or a KeyError on an UPPER_CASE name."""
    names = re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\n\s+[Ff]ield required", stderr, re.M)
    names += re.findall(r"^KeyError: '([A-Z][A-Z0-9_]+)'", stderr, re.M)
    names += re.findall(r"^([A-Z][A-Z0-9_]+)(?:\.[^\n]*)?\n\s+Input should be", stderr, re.M)
    return list(dict.fromkeys(names))


def app_env(backend: Path, url: str, types: dict[str, DeclaredType] | None = None) -> dict[str, str]:
    """The environment a start gets: ours, the backend's .env.example keys (a placeholder replaced by a value of
    the variable's declared type), common secrets, and ``url`` for every database URL (and libpq pieces) the
    backend names."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    examples = env_from_examples(backend)
    for k, v in examples.items():
        v = re.sub(r"\$\{(\w+)\}", lambda m: examples.get(m.group(1), os.environ.get(m.group(1), "")), v)
        # A placeholder where a URL goes (`REDIS_URL=your-redis-url`) is for the person to replace, as a deploy
        # does: the start gets a value of its kind, which fixer's prediction assumes set (required settings).
        placeholder = v == "dummy" or (re.search(r"(URL|URI|DSN)$", k.upper()) is not None and "://" not in v)
        env.setdefault(k, dummy_value(k, types) if placeholder else v)
    for k, v in DUMMY_ENV.items():
        env.setdefault(k, v)
    env.update(database_env(list(examples), url))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env



def first_error(stderr: str) -> str:
    """The exception line of the last traceback (what uvicorn would die with), else the last line."""
    if "Traceback (most recent call last):" in stderr:
        tail = stderr.rsplit("Traceback (most recent call last):", 1)[1]
        lines = [l.rstrip() for l in tail.splitlines() if l.strip() and not l[:1].isspace()]
        exc = [l for l in lines if re.match(r"^[A-Za-z_][\w.]*: ", l)] or [
            l for l in lines if re.match(r"^[\w.]*(Error|Exception|Exit|Interrupt)$", l)]
        if exc or lines:
            line = (exc or lines)[-1]
            if "validation error" in line:  # pydantic: name the first field and its message
                after = tail.split(line, 1)[1].splitlines()[1:3]
                line += " (" + ": ".join(a.strip() for a in after if a.strip())[:160] + ")"
            return line[:300]
    lines = [l.rstrip() for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if re.search(r"\b(ERROR|CRITICAL|FATAL)\b", l)]
    if errors:  # an app that logs its error and calls sys.exit(1)
        return errors[-1][:300]
    for l in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Warning|Interrupt|Greenlet|NotFound)\b.*", l):
            return l[:300]
    return (lines[-1] if lines else "")[:300]
