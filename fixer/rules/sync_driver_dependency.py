"""FX005 sync-driver-url (the dependency half): Install the DBAPI a sync engine's URL loads.

## What it does
Adds to the project's main dependency file the driver the documented start's prediction shows a sync engine
failing to import: `psycopg[binary]` where SQLAlchemy 2.1 reads a plain `postgresql://` as psycopg (3),
`psycopg2-binary` where the URL (or the SQLAlchemy version) names psycopg2. It is the fix where naming psycopg2
in the URL is not: the project installs no psycopg2, or the failing engine's URL is out of reach of a code
edit (alembic's `engine_from_config(config.get_section(...))` in env.py, run by `alembic upgrade head` before
the server).

## Why is this bad?
A sync `create_engine` imports its DBAPI at once: the start stops with `ModuleNotFoundError: No module named
'psycopg'` (ENG-SYNC-DEFAULT-DRIVER); an `alembic upgrade head && uvicorn ...` start stops before the server,
and the tables are never created.

## Example
```text
# requirements.txt (alembic's env.py turns DATABASE_URL into a sync postgresql:// URL)
sqlalchemy[asyncio]>=2.1
asyncpg>=0.31
alembic
```

## Use instead
```text
sqlalchemy[asyncio]>=2.1
asyncpg>=0.31
alembic
psycopg[binary]
```

## Fix safety
Safe: made only where the prediction of the documented start (the versions a fresh install gives, the platform
URL) fails on that import at a sync engine; the added distribution is what the loaded dialect imports, so the
start gets further, and nothing changes for a project whose engines already load an installed driver. An async
engine is never given a sync driver here (FX001 and FX004 judge those).
"""

from __future__ import annotations

from typing import ClassVar

from fixer import tables
from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.evidence import cite
from fixer.model.startup import Failure
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, edit, is_main_file, target_file

RULE_ID = "FX005"
# The distribution (with extras) that installs each DBAPI module with a wheel, no compiler or libpq needed.
_DISTRIBUTIONS = {"psycopg": ("psycopg", ("binary",)), "psycopg2": ("psycopg2-binary", ())}
_MISSING = "No module named '"


def url_fix_fits(model: ProjectModel) -> bool:
    """SQLAlchemy 2.1 installs, with psycopg2 and without psycopg 3: `+psycopg2` in the URL would do."""
    versions = model.versions
    documented = model.startup.install.version("sqlalchemy") if model.startup.install is not None else None
    if documented is not None and tables.message("sqlalchemy", documented, "postgresql-default-driver") == "psycopg2":
        # the documented start's install (a Dockerfile's `uv sync` of the lock) gives 2.0: the URL works there
        return False
    return (
        versions.version("sqlalchemy") is not None
        and versions.may_install("sqlalchemy", ">=2.1")
        and (versions.declares("psycopg2-binary") or versions.declares("psycopg2"))
        and not (versions.declares("psycopg") or versions.declares("psycopg-binary") or versions.declares("psycopg-c"))
    )


def failing_drivers(model: ProjectModel) -> list[Failure]:
    """The prediction's failures of a sync engine importing a DBAPI that does not install, first first; and of
    an async engine loading psycopg (3), which is async too, where some failing engine is out of reach of a code
    edit: the one line then fixes every engine, where FX004's helper could reach only some."""
    prediction = model.startup.primary
    if prediction is None:
        return []
    failures = [f for f in prediction.failures if f.message.startswith(_MISSING)
                and f.message[len(_MISSING):-1] in _DISTRIBUTIONS]
    sync = [f for f in failures if f.family == "sync-driver"]
    psycopg_async = [f for f in failures if f.family == "async-driver-url" and f.message == f"{_MISSING}psycopg'"]
    if psycopg_async and _out_of_reach(model, psycopg_async):
        return [f for f in failures if f in sync or f in psycopg_async]
    return sync


def _out_of_reach(model: ProjectModel, failures: list[Failure]) -> bool:
    """Whether some failing engine takes its URL inside a mapping (`engine_from_config`), or where the model
    names no engine site."""
    sites = {(e.path, e.line): e for e in model.flow.engines}
    return any(sites.get((f.path, f.line)) is None
               or sites[(f.path, f.line)].factory not in ("create_engine", "create_async_engine") for f in failures)


def line_needed(model: ProjectModel) -> bool:
    """Whether the dependency line, not a `+psycopg2` in the URL, is the fix: the URL fix does not apply to this
    project (`url_fix_fits`), or some failing engine takes its URL
    inside a mapping a code edit does not reach (`engine_from_config`)."""
    failures = failing_drivers(model)
    if not failures:
        return False
    if not url_fix_fits(model) or any(f.message != f"{_MISSING}psycopg'" or f.family != "sync-driver"
                                      for f in failures):
        return True
    return _out_of_reach(model, failures)


def installs_psycopg(model: ProjectModel, path: str) -> bool:
    """Whether this rule adds psycopg for the async engine at `path`: FX004 then leaves its URL as it is."""
    return line_needed(model) and any(f.path == path and f.family == "async-driver-url" for f in failing_drivers(model))


def asyncpg_predicted(facts: ProjectModel) -> bool:
    """Whether the documented start's prediction has an async engine reach PostgreSQL on a driver that FX004
    points at asyncpg (or loads asyncpg already): the URL fix brings no driver of its own, so the line must come
    with it, whatever other async driver (aiosqlite for a SQLite default) the list holds."""
    prediction = facts.startup.primary
    if prediction is None or facts.async_driver() != "asyncpg":
        return False
    return any(
        (f.family == "async-driver-url" and not installs_psycopg(facts, f.path))
        or (f.family == "async-driver" and f.message == "No module named 'asyncpg'")
        for f in prediction.failures
    )


class SyncDriverDependency(TextRule):
    """Install the DBAPI a sync engine's URL loads

    **What it does.** Adds `psycopg[binary]` (or `psycopg2-binary`) to the main dependency file where the
    prediction of the documented start shows a sync engine (the app's, or alembic's env.py run before it)
    failing with `ModuleNotFoundError: No module named 'psycopg'` (or `'psycopg2'`).

    **Why.** SQLAlchemy 2.1 loads psycopg 3 for `postgresql://`; a project that installs only asyncpg (its
    alembic env.py strips `+asyncpg`) or only psycopg2 cannot create that engine (ENG-SYNC-DEFAULT-DRIVER).

    **Example**::

        sqlalchemy[asyncio]>=2.1
        asyncpg>=0.31

    **Use instead**::

        sqlalchemy[asyncio]>=2.1
        asyncpg>=0.31
        psycopg[binary]

    **Fix safety.** Safe: made only on the prediction's failure, which it removes.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = "sync-driver-url"
    DEFECTS: ClassVar[tuple[str, ...]] = ("ENG-SYNC-DEFAULT-DRIVER",)

    def applies_to(self, path: str) -> bool:
        return is_main_file(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        if not facts.has_app or not line_needed(facts):
            return text, []
        changes = []
        # What the documented install gives decides: a pyproject beside the requirements.txt a Dockerfile installs
        # may list the driver the start never gets.
        installed = facts.startup.install or facts.installed
        for failure in failing_drivers(facts):
            module = failure.message[len(_MISSING):-1]
            dist, extras = _DISTRIBUTIONS[module]
            if installed.has(dist) or any(c.name == dist for c in changes):
                continue
            if target_file(facts.versions.files, failure.path) != path:
                continue
            changes.append(Change("add", dist, "", self._finding(facts, failure, module), "sqlalchemy", extras))
        return edit(path, text, changes)

    def _finding(self, facts: ProjectModel, failure: Failure, module: str):
        def make(old: str, new: str, line: int | None, fixed: bool) -> Finding:
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL,
                problem=f"The {'async' if failure.family == 'async-driver-url' else 'sync'} engine at "
                        f"{failure.path}:{failure.line} loads {module}, which nothing installs.",
                root_cause=(
                    f"Its URL loads the {module} DBAPI on the SQLAlchemy a fresh install gives; the start stops "
                    f"with `{failure}`."
                ),
                old_code=old,
                new_code=new,
                explanation=f"Added `{new.strip()}`: the driver that URL loads, as a wheel.",
                fixed=fixed,
                defects=self.DEFECTS,
                line=line,
                evidence=cite(facts, failure),
            )

        return make
