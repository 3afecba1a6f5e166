"""FX001 async-driver-dependency: Install asyncpg and greenlet for the async engine.

## What it does
Checks the dependencies a project declares (`requirements*.txt`, `requirements/*.txt` and the files they
include with `-r`, and pyproject.toml: PEP 621 dependencies and extras, PEP 735 dependency groups, Poetry
tables) against what its code uses. Where the code uses SQLAlchemy's asyncio layer (`create_async_engine`,
`AsyncSession`) but only the synchronous psycopg2 driver is listed, `psycopg2` / `psycopg2-binary` is replaced
in place by `asyncpg>=0.31`; where some code still needs psycopg2 (a sync engine, a psycopg2 import, Celery's
`db+postgresql://`), asyncpg is added beside it. Where SQLAlchemy 2.1 can install and nothing installs greenlet,
`sqlalchemy[asyncio]` is added. Comments, order, markers, options, line endings and TOML formatting are kept.

## Why is this bad?
The async engine needs the asyncpg driver and the greenlet library, and neither comes with the sync setup:

- without asyncpg, startup fails with `ModuleNotFoundError: No module named 'asyncpg'` (DEP-DRIVER);
- SQLAlchemy 2.1 no longer installs greenlet, so `import sqlalchemy.ext.asyncio` fails with `ImportError:
  The SQLAlchemy asyncio module requires that the Python 'greenlet' library is installed` (ENG-GREENLET).

## Example
```text
# requirements.txt
sqlmodel>=0.0.22
psycopg2-binary>=2.9.9
pydantic>=2.9.0
```

## Use instead
```text
# requirements.txt
sqlmodel>=0.0.22
asyncpg>=0.31
pydantic>=2.9.0
sqlalchemy[asyncio]>=2.0
```

## Fix safety
Safe when the project's code uses the async engine and the versions it can install lack the driver or
greenlet. Removing a psycopg2 that asyncpg already covers is unsafe (made with `--unsafe-fixes`): a tool or
script outside the code fixer reads may still import it. A `>=2.0` line is not added beside a cap to
SQLAlchemy 1.4, which brings greenlet itself. Hash-pinned requirement files are not edited: they are reported,
to be regenerated with `pip-compile --generate-hashes`. A project on the async engine that declares no
dependencies at all is reported.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer.model import ProjectModel
from fixer.findings import Category, Finding, Severity
from fixer.requirements import (
    COMMENT,
    REQUIREMENT_OPTION,
    PhysicalLine,
    analyse,
    logical_lines,
    option_lines,
    physical_lines,
)
from fixer.rules.base import TextRule

ASYNCPG_REQUIREMENT = "asyncpg>=0.31"  # first asyncpg with cp313 and cp314 wheels
ASYNCPG_SPEC = ">=0.31"
GREENLET_REQUIREMENT = "sqlalchemy[asyncio]>=2.0"
GREENLET_SPEC = ">=2.0"


def _pinned_below_2(facts: ProjectModel) -> bool:
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

_PSYCOPG2 = frozenset({"psycopg2", "psycopg2-binary"})
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

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")

# ---------------------------------------------------------------------------------------------------
# Deciding what to change: one plan for a list of requirements, whatever file format holds it.


@dataclass(frozen=True)
class _Entry:
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
    entry: _Entry | None  # None only for "append"
    what: Literal["asyncpg", "greenlet"]


def _plan(
    entries: Sequence[_Entry], facts: ProjectModel, context: Sequence[_Entry] = (), siblings: Sequence[_Entry] = ()
) -> list[_Action]:
    """What this list needs.

    `context`: a list always installed with this one (a pyproject's main dependencies). `siblings`: the
    other lists of the same file, as they were; a driver there (psycopg2 becomes asyncpg) means this list
    need not get asyncpg of its own.
    """
    actions: list[_Action] = []
    everything = [*entries, *context]
    asyncpg_markers = {e.marker for e in everything if e.provides_asyncpg()}
    added_asyncpg = False
    psycopg2 = [e for e in entries if e.name in _PSYCOPG2]
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
        drivers = [e for e in siblings if e.name in _PSYCOPG2 or e.provides_async_driver()]
        no_driver = not drivers and not any(e.provides_async_driver() for e in everything)
        # psycopg 3 is async too, but not what a `postgresql+asyncpg://` URL loads.
        asyncpg_named = "asyncpg" in facts.drivers_named() and not any(
            e.provides_asyncpg() for e in (*everything, *siblings)
        )
        if db and (no_driver or asyncpg_named):
            actions.append(_Action("insert_after", db[-1], "asyncpg"))
            added_asyncpg = True

    lists_db = added_asyncpg or any(e.name in _DB_LIBS or e.name in _PSYCOPG2 for e in entries)
    # Before SQLAlchemy 2.1, greenlet comes with SQLAlchemy itself: the extra (and its >=2.0) would only
    # conflict with a project held on 1.4 (VER-SA14-SESSIONMAKER).
    greenlet_missing = facts.versions.may_install("sqlalchemy", ">=2.1") and not _pinned_below_2(facts)
    if lists_db and greenlet_missing and not any(e.provides_greenlet() for e in everything):
        sqlalchemy = [e for e in entries if e.name == "sqlalchemy"]
        if sqlalchemy:
            actions.extend(_Action("add_extra", e, "greenlet") for e in sqlalchemy)
        else:
            actions.append(_Action("append", None, "greenlet"))
    return actions


def _finding(action: _Action, old_code: str, new_code: str, line: int | None, facts: ProjectModel) -> Finding:
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
        elif action.entry is not None and action.entry.name in _PSYCOPG2:
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
        rule=AsyncDriverDependency.RULE_ID,
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


# ---------------------------------------------------------------------------------------------------
# Editing one PEP 508 requirement string in place.


def _head_span(req_text: str, req: Requirement) -> tuple[int, int]:
    """Where `name[extras] specifier` (or `name @ url`) sits in `req_text`, leaving its marker outside."""
    start = len(req_text) - len(req_text.lstrip())
    end = len(req_text.rstrip())
    if req.marker is not None:
        if req.url is None:
            semi = req_text.find(";")
        else:  # a URL may hold a `;`: PEP 508 wants whitespace before the marker's
            found = re.search(r"\s;", req_text)
            semi = found.start() if found else -1
        if semi >= 0:
            end = len(req_text[:semi].rstrip())
    return start, end


def _with_head(req_text: str, req: Requirement, new_head: str) -> str:
    start, end = _head_span(req_text, req)
    return req_text[:start] + new_head + req_text[end:]


def _add_asyncio_extra(req_text: str, req: Requirement) -> str:
    start, end = _head_span(req_text, req)
    head = req_text[start:end]
    name = _NAME.match(head)
    if name is None:  # pragma: no cover - packaging parsed a name, so this matches
        return req_text
    after = name.end()
    rest = head[after:]
    if rest.lstrip().startswith("["):
        open_at = after + (len(rest) - len(rest.lstrip()))
        close_at = head.find("]", open_at)
        inner = head[open_at + 1 : close_at]
        if inner.strip():
            sep = ", " if ", " in inner else ","
            new_inner = inner.rstrip() + sep + "asyncio" + inner[len(inner.rstrip()) :]
        else:
            new_inner = "asyncio"
        head = head[: open_at + 1] + new_inner + head[close_at:]
    else:
        head = head[:after] + "[asyncio]" + head[after:]
    return req_text[:start] + head + req_text[end:]


def _marker_text(req_text: str, req: Requirement) -> str:
    """The marker as written (`; python_version < "3.13"`), or ""."""
    if req.marker is None:
        return ""
    _, end = _head_span(req_text, req)
    return req_text[end:].rstrip()


def _entry(index: int, req: Requirement, old_code: str, label: str) -> _Entry:
    return _Entry(
        index=index,
        name=canonicalize_name(req.name),
        extras=frozenset(canonicalize_name(x) for x in req.extras),
        marker=str(req.marker) if req.marker is not None else None,
        old_code=old_code,
        label=label,
    )


# ---------------------------------------------------------------------------------------------------
# requirements.txt


def _requirements_fix(text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
    lines = physical_lines(text)
    logicals = logical_lines(lines)
    for logical in logicals:
        analyse(logical)
    with_req = [lg for lg in logicals if lg.requirement is not None]
    entries = [
        _entry(i, lg.requirement, "\n".join(p.content for p in lines[lg.start : lg.end]), lg.req_text.strip())
        for i, lg in enumerate(with_req)
        if lg.requirement is not None
    ]
    actions = _plan(entries, facts)
    if not actions:
        return text, []

    eol = next((p.eol for p in lines if p.eol), "\n")
    hash_mode = any("--hash" in lg.options for lg in with_req) or any(
        opt.startswith("--require-hashes") for opt in option_lines(logicals)
    )

    replaced: dict[int, str | None] = {}  # logical index (in with_req) -> new content, None = removed
    inserted: dict[int, list[str]] = {}
    appended: list[str] = []
    findings: list[Finding] = []
    wanted: list[tuple[str, str, str]] = []  # (what, old requirement, new requirement) for hash mode
    for action in actions:
        entry = action.entry
        if entry is None:  # append
            requirement = greenlet_requirement(facts)
            wanted.append(("add", "", requirement))
            appended.append(requirement)
            last = max((i for i, p in enumerate(lines) if p.content.strip()), default=0) + 1
            findings.append(_finding(action, "", requirement, last, facts))
            continue
        logical = with_req[entry.index]
        req = logical.requirement
        assert req is not None
        line_no = logical.start + 1
        # The line as it will be rewritten (a continued line is joined into one): the requirement is its
        # prefix `req_text`, then come per-requirement options and the comment.
        current = logical.text
        rest = current[len(logical.req_text) :]
        if action.kind == "replace":
            new = _with_head(logical.req_text, req, ASYNCPG_REQUIREMENT)
            # psycopg2's own pip options (--config-settings for its build, ...) mean nothing to asyncpg.
            new = new.rstrip() + logical.comment if logical.options else new + rest
            wanted.append(("replace", entry.shown, _with_head(logical.req_text, req, ASYNCPG_REQUIREMENT).strip()))
            replaced[entry.index] = new
            findings.append(_finding(action, entry.old_code, new, line_no, facts))
        elif action.kind == "remove":
            wanted.append(("remove", entry.shown, ""))
            replaced[entry.index] = None
            findings.append(_finding(action, entry.old_code, "", line_no, facts))
        elif action.kind == "add_extra":
            new = _add_asyncio_extra(logical.req_text, req) + rest
            wanted.append(("replace", entry.shown, _add_asyncio_extra(logical.req_text, req).strip()))
            replaced[entry.index] = new
            findings.append(_finding(action, entry.old_code, new, line_no, facts))
        else:  # insert_after
            indent = current[: len(current) - len(current.lstrip())]
            new = indent + ASYNCPG_REQUIREMENT
            if entry.name in _PSYCOPG2:
                new += _marker_text(logical.req_text, req)
            wanted.append(("add", "", new.strip()))
            inserted.setdefault(entry.index, []).append(new)
            findings.append(_finding(action, "", new, line_no, facts))

    if hash_mode:
        return text, [_hash_mode_finding(findings, wanted)]

    out: list[PhysicalLine] = []
    req_index = {id(lg): i for i, lg in enumerate(with_req)}
    for logical in logicals:
        i = req_index.get(id(logical))
        if i is not None and i in replaced:
            new_content = replaced[i]
            if new_content is not None:
                out.append(PhysicalLine(new_content, lines[logical.end - 1].eol))
        else:
            out.extend(PhysicalLine(p.content, p.eol) for p in lines[logical.start : logical.end])
        if i is not None:
            _add_lines(out, inserted.get(i, []), eol)
    _add_lines(out, appended, eol)

    return joined(out, lines, eol), findings


def joined(out: list[PhysicalLine], lines: list[PhysicalLine], eol: str) -> str:
    """The new file's text: every line ended by the file's line ending, the last as the original's was."""
    final_newline = not lines or bool(lines[-1].eol)
    for k, line in enumerate(out):
        if k < len(out) - 1 and not line.eol:
            line.eol = eol
    if out:
        out[-1].eol = (out[-1].eol or eol) if final_newline else ""
    return "".join(p.content + p.eol for p in out)


def _add_lines(out: list[PhysicalLine], new_lines: Sequence[str], eol: str) -> None:
    if new_lines and out and out[-1].content.endswith("\\") and not COMMENT.match(out[-1].content):
        out.append(PhysicalLine("", eol))  # ends the dangling continuation, or pip would join the new line to it
    out.extend(PhysicalLine(new, eol) for new in new_lines)


def _hash_mode_finding(planned: Sequence[Finding], wanted: Sequence[tuple[str, str, str]]) -> Finding:
    """The changes `planned` cannot be made: report them, unfixed, as one Finding."""
    first = min(planned, key=lambda f: f.line or 0)
    defects = tuple(dict.fromkeys(d for f in planned for d in f.defects))
    old = "\n".join(o for _, o, _ in wanted if o)
    new = "\n".join(n for _, _, n in wanted if n)
    needs = " and ".join(
        name
        for name, defect in (("asyncpg", "DEP-DRIVER"), ("sqlalchemy[asyncio]", "ENG-GREENLET"))
        if defect in defects
    )
    steps = []
    for what, o, n in wanted:
        if what == "replace":
            steps.append(f"`{o}` -> `{n}`")
        elif what == "remove":
            steps.append(f"remove `{o}`")
        else:
            steps.append(f"add `{n}`")
    return Finding(
        rule=AsyncDriverDependency.RULE_ID,
        category=Category.DEPENDENCY,
        severity=Severity.CRITICAL,
        problem=f"Hash-pinned requirements need {needs}, which fixer cannot add offline",
        root_cause=(
            f"The code uses SQLAlchemy's asyncio layer, which needs {needs}, but this file is in "
            "pip's hash-checking mode: every requirement must carry the --hash of each distribution file, "
            "and those hashes cannot be computed without downloading the packages."
        ),
        old_code=old,
        new_code=new,
        explanation=(
            "Left unchanged; needed: " + "; ".join(steps) + ". Make the same change in the input file "
            "(e.g. requirements.in) and run `pip-compile --generate-hashes` again, or edit these lines by hand "
            "with `--hash=` values from `pip download --no-deps asyncpg greenlet` followed by `pip hash <file>`. "
            "asyncpg 0.31 is the first release with wheels for Python 3.13 and 3.14; greenlet is what "
            "SQLAlchemy 2.1 no longer installs by itself."
        ),
        fixed=False,
        defects=defects,
        line=first.line,
    )


def _requirement_includes(path: str, text: str) -> list[str]:
    base = posixpath.dirname(path)
    found: list[str] = []
    for option in option_lines(logical_lines(physical_lines(text))):
        match = REQUIREMENT_OPTION.match(option)
        if match is None:
            continue
        target = match.group(1).strip("'\"")
        if "://" in target or "$" in target or target.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", target):
            continue  # URLs, environment variables and absolute paths are not files of this tree
        resolved = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
        if resolved == ".." or resolved.startswith("../") or resolved == "." or resolved == path:
            continue
        if resolved not in found:
            found.append(resolved)
    return found


# ---------------------------------------------------------------------------------------------------


class AsyncDriverDependency(TextRule):
    """Install asyncpg and greenlet for the async engine

    What it fixes: a project whose code uses SQLAlchemy's asyncio layer (create_async_engine, AsyncSession)
    but whose requirements still list only the synchronous psycopg2 driver (DEP-DRIVER), or that relies on
    greenlet arriving with SQLAlchemy, which 2.1 no longer installs (ENG-GREENLET).

    Why: startup fails with `ModuleNotFoundError: No module named 'asyncpg'`, or with `ImportError: The
    SQLAlchemy asyncio module requires that the Python 'greenlet' library is installed`.

    How: in `requirements*.txt`, `requirements/*.txt`, the files they include with `-r`, and pyproject.toml
    (PEP 621 dependencies and extras, PEP 735 groups, Poetry tables), psycopg2 / psycopg2-binary is replaced
    in place by `asyncpg>=0.31` (the first asyncpg with Python 3.13 and 3.14 wheels); when some code still
    needs psycopg2 it is kept and asyncpg is added after it. A `sqlalchemy` requirement gets the `asyncio`
    extra; without one, `sqlalchemy[asyncio]>=2.0` is appended. Markers, comments, options, order and line
    endings are kept. Hash-pinned files are left alone and reported for `pip-compile --generate-hashes`.

    Before:
        sqlmodel>=0.0.22
        psycopg2-binary>=2.9.9
        pydantic>=2.9.0

    After:
        sqlmodel>=0.0.22
        asyncpg>=0.31
        pydantic>=2.9.0
        sqlalchemy[asyncio]>=2.0
    """

    RULE_ID: ClassVar[str] = "FX001"
    RULE_NAME: ClassVar[str] = "async-driver-dependency"
    DEFECTS: ClassVar[tuple[str, ...]] = ("DEP-DRIVER", "ENG-GREENLET")
    CATEGORY: ClassVar[Category] = Category.DEPENDENCY
    SEVERITY: ClassVar[Severity] = Severity.CRITICAL

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        if not (facts.async_db and facts.has_app) or facts.versions.files:
            return []  # a backend on the async engine that declares nothing: not a library's or a snippet's tree
        wanted = f"sqlmodel\nsqlalchemy[asyncio]\n{ASYNCPG_REQUIREMENT}\n"
        return [
            (
                "requirements.txt",
                Finding(
                    rule=self.RULE_ID,
                    category=Category.DEPENDENCY,
                    severity=Severity.CRITICAL,
                    problem="The project declares no dependencies: nothing says that asyncpg and greenlet must be installed.",
                    root_cause=(
                        "No requirements*.txt, pyproject.toml or Pipfile: a fresh install of this backend has no driver for "
                        "its async engine (`ModuleNotFoundError: No module named 'asyncpg'`)."
                    ),
                    old_code="",
                    new_code=wanted,
                    explanation="Write the dependencies the code imports into requirements.txt, these among them.",
                    defects=("DEP-DRIVER",),
                    fixed=False,
                    line=1,
                ),
            )
        ]

    def applies_to(self, path: str) -> bool:
        parts = path.split("/")
        name = parts[-1]
        if name == "pyproject.toml":
            return True
        if not name.endswith(".txt"):
            return False
        return name.startswith("requirements") or (len(parts) >= 2 and parts[-2] == "requirements")

    def related(self, path: str, text: str) -> list[str]:
        if posixpath.basename(path) == "pyproject.toml":
            return []
        return _requirement_includes(path, text)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        if not facts.async_db:
            return text, []
        if posixpath.basename(path) == "pyproject.toml":
            from fixer.rules.async_driver_pyproject import pyproject_fix

            return pyproject_fix(text, facts)
        return _requirements_fix(text, facts)
