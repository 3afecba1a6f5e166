"""FX001's plan for one list of requirements, whatever file holds it: which entry gives way to asyncpg, which
gets the asyncio extra, what is appended, and the finding each change makes. The requirements-file half
(fixer.rules.async_driver) and the pyproject.toml half (fixer.rules.async_driver_pyproject) both follow it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer.model import ProjectModel
from fixer.rules.findings import Category, Finding, Severity

RULE_ID = "FX001"
ASYNCPG_REQUIREMENT = "asyncpg>=0.31"  # first asyncpg with cp313 and cp314 wheels
ASYNCPG_SPEC = ">=0.31"
GREENLET_REQUIREMENT = "sqlalchemy[asyncio]>=2.0"
GREENLET_SPEC = ">=2.0"


def pinned_below_2(facts: ProjectModel) -> bool:
    """A distribution that installs requires SQLAlchemy below 2.0 by its recorded requirements
    (fastapi-users-db-sqlmodel 0.2.0: <1.4.36): SQLAlchemy 1.4 brings greenlet itself, and a `>=2.0` line
    would make the install unresolvable."""
    from fixer import tables

    for name, version in facts.versions.effective.items():
        spec = tables.cap(name, version, "sqlalchemy")
        if spec is not None and tables.allowed("sqlalchemy", spec) and \
                all(v < Version("2.0.0") for v in tables.allowed("sqlalchemy", spec)):
            return True
    return False


def _greenlet_dropped() -> Version | None:
    """The first final SQLAlchemy release after every one whose metadata requires greenlet (2.1.0): from it on,
    greenlet comes only with the asyncio extra."""
    from fixer import tables

    kept = tables.releases_with("sqlalchemy", "greenlet-required")
    return next((v for v in tables.releases("sqlalchemy") if kept and v > kept[-1] and not v.is_prerelease), None)


def greenlet_requirement(facts: ProjectModel) -> str:
    """The line appended for greenlet: no `>=2.0` floor beside a pinned (or capped) distribution whose
    requirements fixer does not know, which may hold SQLAlchemy below it (the extra brings greenlet on 1.4 too);
    the pins fixer knows are judged by `may_install`."""
    def held(dist: str) -> bool:
        try:
            spec = SpecifierSet(facts.versions.declared.get(dist) or "")
        except InvalidSpecifier:
            return True
        return any(s.operator in ("==", "===", "<", "<=", "~=") for s in spec)

    return "sqlalchemy[asyncio]" if any(held(d) for d in facts.installed.opaque) else GREENLET_REQUIREMENT


PSYCOPG2 = frozenset({"psycopg2", "psycopg2-binary"})
_DB_LIBS = frozenset({"sqlalchemy", "sqlmodel"})
# SQLAlchemy extras that pull in greenlet (SQLAlchemy 2.1 metadata), and those that pull in a driver.
_SA_GREENLET_EXTRAS = frozenset({"asyncio", "postgresql-asyncpg", "aiosqlite", "aiomysql", "asyncmy", "aioodbc"})
_SA_ASYNCPG_EXTRAS = frozenset({"postgresql-asyncpg"})
_SA_ASYNC_DRIVER_EXTRAS = frozenset(
    {
        "postgresql-asyncpg",
        "postgresql-psycopg",
        "postgresql-psycopgbinary",
        "aiosqlite",
        "aiomysql",
        "asyncmy",
        "aioodbc",
    }
)
# Async-capable drivers: with one of them listed, a file without psycopg2 does not need asyncpg added.
_ASYNC_DRIVERS = frozenset(
    {"asyncpg", "psycopg", "psycopg-binary", "psycopg-c", "aiosqlite", "aiomysql", "asyncmy", "aioodbc"}
)


@dataclass(frozen=True)
class Entry:
    """One requirement of a dependency list, in the list's own order."""

    index: int
    name: str  # canonical
    extras: frozenset[str]  # canonical
    marker: str | None  # what restricts it (PEP 508 marker, or Poetry's python/markers keys)
    old_code: str  # the entry as written, for the Finding
    label: str = ""  # the bare requirement, for explanations

    @property
    def shown(self) -> str:
        return self.label or self.old_code

    def provides_asyncpg(self) -> bool:
        return self.name == "asyncpg" or (self.name == "sqlalchemy" and bool(self.extras & _SA_ASYNCPG_EXTRAS))

    def provides_async_driver(self) -> bool:
        return self.name in _ASYNC_DRIVERS or (
            self.name == "sqlalchemy" and bool(self.extras & _SA_ASYNC_DRIVER_EXTRAS)
        )

    def provides_greenlet(self) -> bool:
        if self.name == "greenlet":
            return True
        if self.name == "sqlalchemy":
            return bool(self.extras & _SA_GREENLET_EXTRAS)
        return self.name == "sqlmodel" and "asyncio" in self.extras


ActionKind = Literal["replace", "remove", "insert_after", "add_extra", "append"]


@dataclass(frozen=True)
class _Action:
    kind: ActionKind
    entry: Entry | None  # None only for "append"
    what: Literal["asyncpg", "greenlet"]


def plan_actions(
    entries: Sequence[Entry], facts: ProjectModel, context: Sequence[Entry] = (), siblings: Sequence[Entry] = (),
    asyncpg_wanted: bool = False,
) -> list[_Action]:
    """What this list needs.

    `asyncpg_wanted`: the prediction has FX004 point an async engine at asyncpg
    (`fixer.rules.sync_driver_dependency.asyncpg_predicted`), whatever other async driver the list holds.

    `context`: a list always installed with this one (a pyproject's main dependencies). `siblings`: the
    other lists of the same file, as they were; a driver there (psycopg2 becomes asyncpg) means this list
    need not get asyncpg of its own.
    """
    actions: list[_Action] = []
    everything = [*entries, *context]
    asyncpg_markers = {e.marker for e in everything if e.provides_asyncpg()}
    added_asyncpg = False
    # Where the install gives psycopg 3 and not asyncpg, FX004 points the URLs at psycopg: nothing gives way.
    psycopg_drives = facts.async_driver() == "psycopg"
    psycopg2 = [] if psycopg_drives else [e for e in entries if e.name in PSYCOPG2]
    for entry in psycopg2:
        covered = None in asyncpg_markers or entry.marker in asyncpg_markers
        if not covered:
            asyncpg_markers.add(entry.marker)
            added_asyncpg = True
        if facts.sync_driver_users:
            if not covered:
                actions.append(_Action("insert_after", entry, "asyncpg"))
        elif not covered:
            actions.append(_Action("replace", entry, "asyncpg"))
        elif facts.unsafe_fixes:
            # asyncpg is there already: psycopg2 unused costs nothing at run time, and something the model
            # cannot see (a Celery result backend, a test container) may still load it.
            actions.append(_Action("remove", entry, "asyncpg"))
    if not psycopg2:
        db = [e for e in entries if e.name in _DB_LIBS]
        drivers = [e for e in siblings if e.name in PSYCOPG2 or e.provides_async_driver()]
        no_driver = not drivers and not any(e.provides_async_driver() for e in everything) and not psycopg_drives
        # psycopg 3 is async too, but not what a `postgresql+asyncpg://` URL loads.
        asyncpg_named = ("asyncpg" in facts.drivers_named() or asyncpg_wanted) and not any(
            e.provides_asyncpg() for e in (*everything, *siblings)
        )
        if db and (no_driver or asyncpg_named):
            actions.append(_Action("insert_after", db[-1], "asyncpg"))
            added_asyncpg = True

    lists_db = added_asyncpg or any(e.name in _DB_LIBS or e.name in PSYCOPG2 for e in entries)
    # Before SQLAlchemy 2.1, greenlet comes with SQLAlchemy itself: the extra (and its >=2.0) would only
    # conflict with a project held on 1.4 (VER-SA14-SESSIONMAKER).
    # The documented start's install decides first: a requirements.txt of bare names gives 2.1 even where a
    # pyproject beside it holds sqlmodel (and so SQLAlchemy) below it.
    # An install that syncs a lock gives the lock's SQLAlchemy alone: a fresh install ignoring the lock is not it.
    install = facts.startup.install
    installed = install.version("sqlalchemy") if install is not None else None
    dropped = _greenlet_dropped()
    if dropped is None:
        greenlet_missing = False
    elif install is not None and install.lock is not None and installed is not None:
        greenlet_missing = not pinned_below_2(facts) and installed >= dropped and not install.has("greenlet")
    else:
        greenlet_missing = not pinned_below_2(facts) and (
            facts.versions.may_install("sqlalchemy", f">={dropped}")
            or installed is not None and installed >= dropped and not install.has("greenlet"))
    if lists_db and greenlet_missing and not any(e.provides_greenlet() for e in everything):
        sqlalchemy = [e for e in entries if e.name == "sqlalchemy"]
        if sqlalchemy:
            actions.extend(_Action("add_extra", e, "greenlet") for e in sqlalchemy)
        else:
            actions.append(_Action("append", None, "greenlet"))
    return actions


def action_finding(action: _Action, old_code: str, new_code: str, line: int | None, facts: ProjectModel) -> Finding:
    name = action.entry.shown if action.entry is not None else ""
    if action.what == "asyncpg":
        if action.kind in ("replace", "remove"):
            problem = "psycopg2 is a synchronous driver: the async engine needs asyncpg"
            explanation = (
                f"The code uses SQLAlchemy's asyncio layer, so `postgresql+asyncpg://` needs asyncpg installed. "
                f"Nothing in the code still imports psycopg2 or builds a synchronous engine, so `{name}` "
                + (
                    f"was replaced in place by `{ASYNCPG_REQUIREMENT}`"
                    if action.kind == "replace"
                    else "was removed (asyncpg is already required)"
                )
                + ". asyncpg 0.31 is the first release with wheels for Python 3.13 and 3.14; "
                "older pins build from source and fail."
            )
        elif action.entry is not None and action.entry.name in PSYCOPG2:
            problem = "asyncpg is missing next to psycopg2: the async engine needs it"
            explanation = (
                f"The code uses SQLAlchemy's asyncio layer, which needs asyncpg; `{name}` is kept because "
                f"{', '.join(facts.sync_driver_users)} still "
                f"{'needs' if len(facts.sync_driver_users) == 1 else 'need'} psycopg2 (psycopg2 imports or a "
                f"synchronous engine). Added `{ASYNCPG_REQUIREMENT}` right after it: 0.31 is the first asyncpg "
                "with wheels for Python 3.13 and 3.14."
            )
        elif "asyncpg" in facts.drivers_named():
            problem = "The project's URLs name asyncpg (postgresql+asyncpg://), which no dependency installs"
            explanation = (
                f"The async engine loads the driver its URL names; added `{ASYNCPG_REQUIREMENT}` after `{name}`: "
                "0.31 is the first asyncpg with wheels for Python 3.13 and 3.14."
            )
        else:
            problem = "No async PostgreSQL driver is listed for the async engine"
            explanation = (
                f"The code uses SQLAlchemy's asyncio layer but this list has no async driver (asyncpg, psycopg 3); "
                f"added `{ASYNCPG_REQUIREMENT}` after `{name}`: 0.31 is the first asyncpg with wheels "
                "for Python 3.13 and 3.14."
            )
        root_cause = (
            "SQLAlchemy's asyncio engine only works with an async DBAPI driver; psycopg2 is synchronous, and "
            "without asyncpg installed a `postgresql+asyncpg://` engine fails at startup with "
            "`ModuleNotFoundError: No module named 'asyncpg'`."
        )
        defects: tuple[str, ...] = ("DEP-DRIVER",)
    else:
        problem = "greenlet is not guaranteed: `import sqlalchemy.ext.asyncio` fails"
        root_cause = (
            "SQLAlchemy 2.1 no longer installs greenlet by default, and its asyncio module refuses to import "
            "without it: `ImportError: The SQLAlchemy asyncio module requires that the Python 'greenlet' "
            "library is installed.`"
        )
        if action.kind == "add_extra":
            explanation = (
                f"Added the `asyncio` extra to `{name}` (its version constraint is kept); the extra installs "
                "greenlet, which the async engine needs."
            )
        else:
            explanation = (
                f"Added `{greenlet_requirement(facts)}`: the `asyncio` extra installs greenlet, which the async engine "
                "needs and SQLAlchemy 2.1 no longer pulls in by itself."
            )
        defects = ("ENG-GREENLET",)
    evidence = facts.versions.judged_against("sqlalchemy") if action.what == "greenlet" else ""
    return Finding(
        rule=RULE_ID,
        category=Category.DEPENDENCY,
        severity=Severity.CRITICAL,
        problem=problem,
        root_cause=root_cause,
        old_code=old_code,
        new_code=new_code,
        explanation=explanation,
        defects=defects,
        line=line,
        evidence=evidence,
        safe=action.kind != "remove",
    )


def entry_of(index: int, req: Requirement, old_code: str, label: str) -> Entry:
    return Entry(
        index=index,
        name=canonicalize_name(req.name),
        extras=frozenset(canonicalize_name(x) for x in req.extras),
        marker=str(req.marker) if req.marker is not None else None,
        old_code=old_code,
        label=label,
    )
