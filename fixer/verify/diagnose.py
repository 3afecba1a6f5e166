"""Read a backend's log after a failed start: the first traceback, its error, where, and what it means.

The error is matched against the defect catalogue (the exact messages users see), and each defect is mapped to
the fixer rules that fix it (from the rules' own DEFECTS), so a failure ends with what to do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Diagnosis", "LogError", "diagnose", "first_error", "rules_fixing"]

_TRACEBACK = "Traceback (most recent call last):"
_CHAINED = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)
_LOG_LINE = re.compile(r"^(?:INFO|ERROR|WARNING|DEBUG|CRITICAL):\s")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
# uvicorn's one-line errors (no traceback).
_UVICORN_ERRORS = (
    re.compile(r"Error loading ASGI app\..*"),
    re.compile(r"Error: .*"),  # click usage errors, e.g. a bad --app-dir
)


@dataclass(frozen=True)
class LogError:
    message: str  # the exception line, e.g. "ImportError: cannot import name 'AsyncEngine' from 'sqlalchemy' (...)"
    traceback: str  # the first traceback, chained parts included ('' for uvicorn's one-line errors)
    location: str | None = None  # FILE:LINE of the innermost frame inside the backend folder


@dataclass(frozen=True)
class Diagnosis:
    defect: str
    title: str
    fix: str
    rules: tuple[str, ...] = field(default_factory=tuple)


def _exception_line(lines: list[str], start: int) -> tuple[int, str]:
    """From a traceback header at ``start``: (index after the block, the exception line).

    The block takes the frames, the exception line, and what follows it up to a blank line or a log line
    (a multi-line message such as pydantic's ValidationError), so the whole message can be matched.
    """
    i = start + 1
    while i < len(lines) and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
        i += 1
    if i >= len(lines):
        return i, ""
    message = lines[i].rstrip()
    i += 1
    extra = 0
    while i < len(lines) and lines[i].strip() and not _LOG_LINE.match(lines[i]) and extra < 20:
        if _TRACEBACK in lines[i] or lines[i].strip() in _CHAINED:
            break
        i += 1
        extra += 1
    return i, message


def first_error(log: str, backend_dir: str | Path | None = None) -> LogError | None:
    """The first traceback in ``log`` (with its chained exceptions), or uvicorn's one-line error; None if neither."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        at = line.find(_TRACEBACK)
        if at < 0:
            continue
        # A logger may put a prefix before it ("ERROR:    Traceback ..."); group every chained part.
        block_start = index
        end, message = _exception_line(lines, index)
        while True:
            j = end
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and lines[j].strip() in _CHAINED:
                k = j + 1
                while k < len(lines) and not lines[k].strip():
                    k += 1
                if k < len(lines) and _TRACEBACK in lines[k]:
                    end, message = _exception_line(lines, k)
                    continue
            break
        text = "\n".join([lines[block_start][at:], *lines[block_start + 1 : end]])
        return LogError(message=message, traceback=text, location=_location(lines[block_start:end], backend_dir))
    for line in lines:
        for pattern in _UVICORN_ERRORS:
            match = pattern.search(line)
            if match:
                return LogError(message=match.group(0).strip(), traceback="")
    return None


def _location(lines: list[str], backend_dir: str | Path | None) -> str | None:
    if backend_dir is None:
        return None
    root = Path(backend_dir).resolve()
    found: str | None = None
    for line in lines:
        match = _FRAME.match(line)
        if not match:
            continue
        path = Path(match["file"])
        try:
            rel = path.resolve().relative_to(root) if path.is_absolute() else None
        except (ValueError, OSError):
            continue
        if rel is None or any(part in ("site-packages", ".venv", "venv") for part in rel.parts):
            continue
        found = f"{rel.as_posix()}:{match['line']}"
    return found


# (pattern, defect, title, fix). Searched in the error line first, then in the whole traceback; order matters
# where two could match (the specific before the generic).
_CATALOGUE: tuple[tuple[str, str, str, str], ...] = (
    (r"requires that the Python 'greenlet' library|No module named 'greenlet'", "ENG-GREENLET",
     "SQLAlchemy's asyncio extension needs greenlet, which SQLAlchemy >= 2.1 no longer installs",
     "Require `sqlalchemy[asyncio]` in requirements.txt."),
    (r"cannot import name '(?:AsyncEngine|AsyncSession|AsyncConnection|create_async_engine|async_sessionmaker|"
     r"async_scoped_session)' from '(?:sqlalchemy|sqlmodel|sqlalchemy\.orm|sqlalchemy\.engine)[.\w]*'",
     "ENG-IMPORT", "an async SQLAlchemy name imported from a module that does not define it",
     "Import them from `sqlalchemy.ext.asyncio` (AsyncSession from `sqlmodel.ext.asyncio.session`)."),
    (r"No module named 'asyncpg'", "DEP-DRIVER", "the async driver asyncpg is not installed",
     "Require `asyncpg` and `sqlalchemy[asyncio]` (psycopg2 is sync only)."),
    (r"unexpected keyword argument '(?:sslmode|channel_binding)'", "URL-NEON-SSL",
     "asyncpg rejects libpq's sslmode / channel_binding URL parameters",
     "Use `?ssl=require` and drop channel_binding; normalise DATABASE_URL at run time too."),
    (r"The loaded '(?:psycopg2|psycopg2cffi)' is not async|No module named 'psycopg'(?!\w)", "URL-PLAIN",
     "a postgresql:// URL given to create_async_engine selects a sync driver",
     "Use `postgresql+asyncpg://`, and normalise the platform's DATABASE_URL at run time."),
    (r"Can't load plugin: sqlalchemy\.dialects:postgres\b", "URL-POSTGRES",
     "postgres:// is not a SQLAlchemy dialect name", "Use `postgresql+asyncpg://`."),
    (r"The loaded 'pysqlite' is not async", "URL-SQLITE", "sqlite:// with create_async_engine",
     "Use `sqlite+aiosqlite://` and require `aiosqlite`."),
    (r"'_GeneratorContextManager' object does not support the asynchronous context manager protocol",
     "ENG-SYNC-ENGINE", "a sync engine (create_engine) used as an async one",
     "Create the engine with `create_async_engine` from `sqlalchemy.ext.asyncio`."),
    (r"MissingGreenlet|greenlet_spawn has not been called", "ENG-SYNC-ENGINE",
     "sync database I/O on an async driver: a sync engine on postgresql+asyncpg, or an expired attribute loaded lazily",
     "Use `create_async_engine`; give the sessionmaker `expire_on_commit=False` (ENG-EXPIRE); "
     "eager-load relationships (ENG-LAZY)."),
    (r"'AsyncEngine' object has no attribute '_run_ddl_visitor'", "ENG-CREATE-ALL",
     "SQLModel.metadata.create_all(engine) on an AsyncEngine",
     "`async with engine.begin() as conn: await conn.run_sync(SQLModel.metadata.create_all)`."),
    (r"'AsyncSession' object has no attribute 'exec'", "ENG-SA-ASYNCSESSION",
     "SQLAlchemy's AsyncSession has no .exec()", "Use `from sqlmodel.ext.asyncio.session import AsyncSession`."),
    (r"'Session' object does not support the asynchronous context manager protocol|"
     r"autocommit=True is no longer supported|'AsyncEngine' object has no attribute '(?:async_)?sessionmaker'",
     "ENG-SESSIONMAKER", "a sync sessionmaker for an async engine",
     "`async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)`."),
    (r"AsyncContextNotStarted", "ENG-SYNC-SESSION", "a sync Session on an AsyncEngine",
     "`async with AsyncSession(engine, expire_on_commit=False) as session:`."),
    (r"'AsyncSession' object does not support the context manager protocol|"
     r"'_AsyncGeneratorContextManager' object is not an async iterator", "ENG-GET-SESSION",
     "a sync get_session dependency", "`async def get_session(): async with SessionLocal() as s: yield s`."),
    (r"'coroutine' object has no attribute|RuntimeWarning: coroutine '[^']+' was never awaited", "ENG-MISSING-AWAIT",
     "an AsyncSession call not awaited",
     "`(await session.exec(...)).all()`."),
    (r"object NoneType can't be used in 'await' expression", "ENG-AWAIT-ADD", "`await session.add(...)`",
     "`session.add(...)` is not awaited."),
    (r"'await' outside async function", "ENG-SYNC-HANDLER", "await in a def", "Make the function `async def`."),
    (r"attached to a different loop", "ENG-LOOP", "asyncio.run(init_db()) at import time",
     "Call `await init_db()` in the lifespan instead."),
    (r'relation "[^"]+" does not exist', "ENG-MODELS-IMPORT", "tables created before the models were imported",
     "Import the model modules in init_db before create_all."),
    (r"`?BaseSettings`? has been moved to the pydantic-settings package|No module named 'pydantic_settings'",
     "DEP-BASESETTINGS", "pydantic v2 moved BaseSettings",
     "`from pydantic_settings import BaseSettings, SettingsConfigDict` and require `pydantic-settings`."),
    (r"Extra inputs are not permitted", "DEP-SETTINGS-EXTRA", "a .env key the Settings class lacks",
     "Add `extra=\"ignore\"` to the settings' model_config."),
    (r"from_attributes=True to use from_orm", "DEP-PYDANTIC-V1", "pydantic v1 API on pydantic v2",
     "`from_attributes=True`, `.model_validate()`, `@field_validator`."),
    (r"email-validator is not installed", "DEP-EMAIL", "EmailStr without email-validator",
     "Require `email-validator`."),
    (r'Form data requires "python-multipart"', "DEP-MULTIPART", "form parsing without python-multipart",
     "Require `python-multipart`."),
    (r"No module named 'jose'|cannot import name 'JWTError' from 'jwt'", "DEP-JWT-LIB",
     "the code's JWT library is not the installed one", "Require the library the code imports (python-jose or PyJWT)."),
    (r"Subject must be a string", "DEP-JWT-SUB", "PyJWT >= 2.10 wants a str sub", "`{\"sub\": str(user.id)}`."),
    (r"operator does not exist: integer = character varying", "DEP-ASYNCPG-TYPES",
     "asyncpg is strict about parameter types", "Convert the value first, e.g. `int(sub)`."),
    (r"Datetime values must have timezone information", "DEP-DATETIME", "naive datetimes with sqlmodel >= 0.0.45",
     "`default_factory=lambda: datetime.now(timezone.utc)`."),
    (r"password cannot be longer than 72 bytes", "DEP-PASSLIB", "passlib with bcrypt 5",
     "Use `bcrypt` directly or pin `bcrypt==4.0.1`."),
    (r"cannot import name '\w+' from partially initialized module", "APP-CIRCULAR",
     "model modules import each other", "Use TYPE_CHECKING imports and string annotations."),
)
_DB_CONNECT = (
    r"password authentication failed|InvalidPasswordError|InvalidAuthorizationSpecificationError|"
    r"Connection refused|ConnectionRefusedError|could not translate host name|Name or service not known|"
    r"Temporary failure in name resolution|InvalidCatalogNameError|database \"[^\"]+\" does not exist|"
    r"TooManyConnectionsError|ConnectionDoesNotExistError|TimeoutError|timed out"
)
_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")


def rules_fixing(defect: str) -> tuple[str, ...]:
    """The fixer rules whose DEFECTS include ``defect`` (from the registry, so new rules count); report-only
    rules explain a defect, they do not fix it."""
    try:
        from fixer.rules.registry import all_rules
    except Exception:  # noqa: BLE001 - a broken rule module must not hide the diagnosis
        return ()
    return tuple(
        rule.id for rule in all_rules()
        if any(defect in getattr(cls, "DEFECTS", ()) and not getattr(cls, "REPORT_ONLY", False) for cls in rule.classes)
    )


def _local_top_packages(backend_dir: Path) -> set[str]:
    names: set[str] = set()
    for root in (backend_dir, backend_dir / "src"):
        if root.is_dir():
            for child in root.iterdir():
                if child.is_dir() and (child / "__init__.py").exists() or child.suffix == ".py":
                    names.add(child.stem if child.suffix == ".py" else child.name)
    return names


def diagnose(error: LogError, backend_dir: str | Path | None = None, database_from_user: bool = False) -> list[Diagnosis]:
    """Catalogue defects (most specific first) for ``error``; a generic cause when no defect matches."""
    found: list[Diagnosis] = []
    seen: set[str] = set()
    for text in (error.message, error.traceback):
        for pattern, defect, title, fix in _CATALOGUE:
            if defect not in seen and re.search(pattern, text):
                seen.add(defect)
                found.append(Diagnosis(defect, title, fix, rules_fixing(defect)))
    if found:
        return found

    message = error.message
    if "Error loading ASGI app" in message:
        return [Diagnosis("ENTRYPOINT", "uvicorn could not load the app",
                          "Pass the app as `--entrypoint MODULE:ATTR` (and check the module imports).")]
    missing = _MISSING_MODULE.search(message)
    if missing:
        top = missing.group(1).split(".")[0]
        if backend_dir is not None and top in _local_top_packages(Path(backend_dir)):
            return [Diagnosis("APP-UVICORN-PATH", f"the backend's own package {top!r} is imported without its prefix",
                              "Import it relative to the entrypoint's package (e.g. `from src.core...`) "
                              "or run uvicorn with `--app-dir`.")]
        return [Diagnosis("DEP-MISSING", f"{missing.group(1)!r} is imported but not installed",
                          f"Add the package that provides {top!r} to requirements.txt.")]
    if re.search(_DB_CONNECT, error.message + "\n" + error.traceback):
        where = "--database-url" if database_from_user else "DATABASE_URL"
        return [Diagnosis("DB-CONNECT", "the app could not connect to the database",
                          f"Check {where}: host, port, user, password, database name and SSL settings.")]
    return []


def condense_traceback(traceback: str, backend_dir: str | Path) -> str:
    """The traceback with library frames (uvicorn, click, importlib, site-packages) folded into one line per run.

    Kept: every frame in the backend folder and the last frame of each part (where it was raised).
    """
    root = str(Path(backend_dir).resolve())
    lines = traceback.splitlines()
    out: list[str] = []
    frames: list[tuple[bool, list[str]]] = []  # (keep, lines) for the current part

    def flush() -> None:
        skipped = 0
        for n, (keep, frame) in enumerate(frames):
            if keep or n == len(frames) - 1:
                if skipped:
                    out.append(f"  ... {skipped} library frame{'s' if skipped > 1 else ''} ...")
                    skipped = 0
                out.extend(frame)
            else:
                skipped += 1
        frames.clear()

    for line in lines:
        match = _FRAME.match(line)
        if match:
            frames.append((match["file"].startswith(root + "/") and "site-packages" not in match["file"], [line]))
        elif frames and line.startswith((" ", "\t")) and line.strip():
            frames[-1][1].append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)
