"""The evidence a fix is judged by: the predicted start of the backend.

A fix is safe when the prediction of the documented start (the versions a fresh install gives, the platform
URL for every URL read from the environment) fails without it and gets further with it. The startup walk
(`fixer.model.startup`) names, for each failure it predicts, the rule that fixes it; a rule asks here whether
the prediction holds a failure it fixes, and cites that failure beside its fix.

The second half of the definition, "gets further with it", is checked by the runner's rounds
(`fixer.apply.rounds`): the fixed tree is predicted again, and a round that leaves the same first failure stops.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fixer import tables

if TYPE_CHECKING:
    from fixer.model import ProjectModel
    from fixer.model.database import EngineSite
    from fixer.model.startup import Failure

__all__ = ["PLATFORM_URL", "cite", "missing_module", "async_engine_error", "platform_sets", "platform_url_at", "platform_url_read", "predicted"]

# What Neon, Render, Railway, Heroku and Vercel put in DATABASE_URL: every URL an engine reads from the
# environment must work in this form.
PLATFORM_URL = "postgresql://user:pass@host/db?sslmode=require&channel_binding=require"
# The variables those platforms set (a settings field of that name reads it, in any case). A project's own
# SYNC_DATABASE_URL or ASYNC_DATABASE_URL is its own choice.
_PLATFORM_VARIABLES = frozenset({"DATABASE_URL", "POSTGRES_URL"})
# What a project names its database URL otherwise (DB_URL, PG_DATABASE_URL): a deploy pastes the connection
# string Neon or Render shows into it. A name that picks a flavour (SYNC_DATABASE_URL, ASYNCPG_DSN, TEST_DB_URL,
# SQLITE_URL) is the project's own choice of value.
_DATABASE_URL_NAME = re.compile(r"(?:^|_)(?:DATABASE|DB|POSTGRES|POSTGRESQL|PG|NEON)_?(?:URL|URI|DSN)$")
_OWN_FLAVOUR = frozenset({"SYNC", "ASYNC", "ASYNCPG", "PSYCOPG", "PSYCOPG2", "AIOSQLITE", "SQLITE", "TEST",
                          "TESTING", "TESTS", "MIGRATION", "MIGRATIONS", "ALEMBIC", "LOCAL", "DEV"})


def platform_sets(names: Iterable[str]) -> bool:
    """Whether a URL read under `names` (environment variables, settings fields) is one a platform sets."""
    return any(name.rsplit(".", 1)[-1].upper() in _PLATFORM_VARIABLES for name in names)


def platform_url_read(names: Iterable[str]) -> bool:
    """Whether a variable or settings field read under `names` holds the platform's connection string on a
    deploy: the platform's own variables, and a database URL under the project's own name (the prediction's
    environment; the rules judge a fix by that prediction, and by `platform_sets` where it says nothing)."""
    for name in names:
        upper = name.rsplit(".", 1)[-1].upper()
        if _DATABASE_URL_NAME.search(upper) and not _OWN_FLAVOUR & set(upper.split("_")):
            return True
    return False


# The parts of the connection string platforms also set one by one (Railway's PGHOST..., Vercel's POSTGRES_HOST...,
# and the postgres image's POSTGRES_DB and POSTGRES_PORT that a project assembles its URL from).
_PIECE_NAME = re.compile(r"(?:POSTGRES|POSTGRESQL|PG)_?(HOST|PORT|USER|PASSWORD|DB|DATABASE)")


def platform_piece(name: str, url: str = PLATFORM_URL) -> str | None:
    """What a variable holding one part of the platform's connection string (`POSTGRES_PASSWORD`, `PGHOST`) holds
    on a deploy; None for any other name."""
    match = _PIECE_NAME.fullmatch(name.rsplit(".", 1)[-1].upper())
    if match is None:
        return None
    parts = urlsplit(url)
    return {"HOST": parts.hostname, "PORT": str(parts.port or 5432), "USER": parts.username,
            "PASSWORD": parts.password, "DB": parts.path.lstrip("/"), "DATABASE": parts.path.lstrip("/")}[match[1]]


def predicted(model: ProjectModel, rule: str, path: str | None = None,
              match: Callable[[Failure], bool] | None = None) -> Failure | None:
    """The first failure of the documented start's prediction that `rule` fixes (at `path` when given, and
    for which `match` holds when given); None when the prediction shows none: the fix then has no failure
    behind it."""
    prediction = model.startup.primary
    if prediction is None:
        return None
    for failure in prediction.failures:
        if failure.fixed_by != rule:
            continue
        if path is not None and failure.path != path:
            continue
        if match is not None and not match(failure):
            continue
        return failure
    return None


def cite(model: ProjectModel, failure: Failure) -> str:
    """The prediction, as the evidence printed beside a fix."""
    prediction = model.startup.primary
    start = prediction.start.describe() if prediction is not None else "the documented start"
    order = ""
    if prediction is not None and failure in prediction.failures:
        order = f" ({prediction.failures.index(failure) + 1} of {len(prediction.failures)})"
    return f"predicted when started as {start}{order}: {failure} at {failure.path}:{failure.line}"


def missing_module(module: str, dist: str) -> Callable[[Failure], bool]:
    """A `match` for the failure that installing `dist` removes: importing `module` (its top-level name), or
    the feature check naming the distribution (email-validator, python-multipart)."""
    top = module.split(".")[0]
    return lambda failure: failure.message == f"No module named '{top}'" or failure.family in dist


def platform_url_at(model: ProjectModel, engine: EngineSite) -> str:
    """The platform URL as it reaches `engine`, after the project's own `.replace(...)` rewrites and query
    cuts in the engine's module (its URL helpers are judged by the rules that read them)."""
    from fixer.model.database import QUERY_CUT

    url = PLATFORM_URL
    if "str.replace" in engine.url.through:
        for rewrite in model.flow.rewrites:
            if rewrite.path == engine.path:
                url = url.replace(rewrite.old, rewrite.new)
    if QUERY_CUT in engine.url.through:
        url = url.split("?")[0]
    return url


def async_engine_error(model: ProjectModel, url: str) -> str | None:
    """What an async engine given `url` raises on the versions that install (None: it takes the URL). A
    plain `postgresql://` is psycopg (3) on SQLAlchemy 2.1, which is async and speaks libpq's parameters;
    asyncpg takes its query string as keyword arguments and has no `sslmode` or `channel_binding`."""
    from fixer import tables

    scheme, _, rest = url.partition("://")
    if not scheme.startswith("postgres"):
        return None
    driver = scheme.partition("+")[2]
    sqlalchemy = model.versions.version("sqlalchemy")
    if not driver:
        if sqlalchemy is None:
            return None
        driver = tables.message("sqlalchemy", sqlalchemy, "postgresql-default-driver")  # psycopg from 2.1
    if driver in ("psycopg", "psycopg_async"):
        installs = any(model.installed.has(d) for d in ("psycopg", "psycopg-binary", "psycopg-c"))
        return None if installs or not model.installed.dists else "ModuleNotFoundError: No module named 'psycopg'"
    if driver == "psycopg2":
        # The dialect imports its driver before SQLAlchemy's async check looks at it.
        if model.installed.dists and not any(model.installed.has(d) for d in tables.distributions_of("psycopg2")):
            return "ModuleNotFoundError: No module named 'psycopg2'"
        return ("sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver to be used. "
                "The loaded 'psycopg2' is not async.")
    if driver == "asyncpg":
        query = rest.partition("?")[2]
        bad = [p.partition("=")[0] for p in query.split("&") if p.partition("=")[0] in ("sslmode", "channel_binding")]
        if bad:
            return f"TypeError: connect() got an unexpected keyword argument '{bad[0]}'"
    return None
