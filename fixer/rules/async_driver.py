"""FX001 async-driver-dependency: Install asyncpg and greenlet for the async engine.

## What it does
Checks the dependencies a project declares (`requirements*.txt`, `requirements/*.txt` and the files they
include with `-r`, and pyproject.toml: PEP 621 dependencies and extras, PEP 735 dependency groups, Poetry
tables) against what its code uses. Where the code uses SQLAlchemy's asyncio layer (`create_async_engine`,
`AsyncSession`) but only the synchronous psycopg2 driver is listed, `psycopg2` / `psycopg2-binary` is replaced
in place by `asyncpg>=0.31`; where some code still needs psycopg2 (a sync engine, a psycopg2 import, Celery's
`db+postgresql://`), asyncpg is added beside it. Where SQLAlchemy 2.1 can install and nothing installs greenlet,
`sqlalchemy[asyncio]` is added. Where the documented start's prediction has FX004 point an async engine's URL at
asyncpg, asyncpg is added whatever other async driver is listed (aiosqlite for a SQLite default is no
PostgreSQL driver): the URL fix and its driver come in one change set. Where the install already gives psycopg 3 and not asyncpg, the async engine
uses psycopg (FX004 names it in the URL): no driver is added or replaced. Comments, order, markers, options,
line endings and TOML formatting are kept.

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
from typing import ClassVar

from fixer.model import ProjectModel
from fixer.rules.findings import Category, Finding, Severity
from fixer.discover.requirements import REQUIREMENT_OPTION, PhysicalLine, analyse, logical_lines, option_lines, physical_lines
from fixer.rules.base import TextRule
from fixer.rules.requirement_edit import add_asyncio_extra, add_lines, joined, marker_text, with_head
from fixer.rules.sync_driver_dependency import asyncpg_predicted
from fixer.rules.async_driver_plan import (
    ASYNCPG_REQUIREMENT,
    greenlet_requirement,
    PSYCOPG2,
    RULE_ID,
    action_finding,
    entry_of,
    plan_actions,
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
        entry_of(i, lg.requirement, "\n".join(p.content for p in lines[lg.start : lg.end]), lg.req_text.strip())
        for i, lg in enumerate(with_req)
        if lg.requirement is not None
    ]
    actions = plan_actions(entries, facts, asyncpg_wanted=asyncpg_predicted(facts))
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
            findings.append(action_finding(action, "", requirement, last, facts))
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
            new = with_head(logical.req_text, req, ASYNCPG_REQUIREMENT)
            # psycopg2's own pip options (--config-settings for its build, ...) mean nothing to asyncpg.
            new = new.rstrip() + logical.comment if logical.options else new + rest
            wanted.append(("replace", entry.shown, with_head(logical.req_text, req, ASYNCPG_REQUIREMENT).strip()))
            replaced[entry.index] = new
            findings.append(action_finding(action, entry.old_code, new, line_no, facts))
        elif action.kind == "remove":
            wanted.append(("remove", entry.shown, ""))
            replaced[entry.index] = None
            findings.append(action_finding(action, entry.old_code, "", line_no, facts))
        elif action.kind == "add_extra":
            new = add_asyncio_extra(logical.req_text, req) + rest
            wanted.append(("replace", entry.shown, add_asyncio_extra(logical.req_text, req).strip()))
            replaced[entry.index] = new
            findings.append(action_finding(action, entry.old_code, new, line_no, facts))
        else:  # insert_after
            indent = current[: len(current) - len(current.lstrip())]
            new = indent + ASYNCPG_REQUIREMENT
            if entry.name in PSYCOPG2:
                new += marker_text(logical.req_text, req)
            wanted.append(("add", "", new.strip()))
            inserted.setdefault(entry.index, []).append(new)
            findings.append(action_finding(action, "", new, line_no, facts))

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
            add_lines(out, inserted.get(i, []), eol)
    add_lines(out, appended, eol)

    return joined(out, lines, eol), findings


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
        rule=RULE_ID,
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

    RULE_ID: ClassVar[str] = RULE_ID
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
