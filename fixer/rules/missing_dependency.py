"""FX023 missing-dependency: Declare what the app's code imports or loads but no dependency installs.

## What it does
Adds to the project's main dependency file (the shallowest `requirements.txt`, else `pyproject.toml`: PEP 621
or Poetry) each distribution that a module the server imports (role live) needs and that nothing installs:
neither a declaration, a lock file, nor the recorded requirements (extras included) of what is declared:

- `email-validator` for pydantic's `EmailStr` / `NameEmail` used where pydantic builds a schema: a model
  field (an annotated attribute of a class with bases) or a route's parameter or `response_model`; importing
  them alone works (DEP-EMAIL);
- `python-multipart` for FastAPI's `Form`, `File`, `UploadFile`, `OAuth2PasswordRequestForm` (DEP-MULTIPART);
- the JWT library the code really imports: `jose` is python-jose, `jwt` is PyJWT (DEP-JWT-LIB);
- `aiosqlite` for an engine on a `sqlite+aiosqlite://` URL (URL-SQLITE);
- `itsdangerous` for starlette's `SessionMiddleware`, whose module imports it as it loads;
- any other third-party import whose distribution fixer's import-name table knows;
- what the documented start runs besides the server: `alembic upgrade head` before it needs `alembic` itself,
  and imports env.py and every revision file (a revision's `from pgvector.sqlalchemy import Vector`).

The version floor is the one the package asking for it records for its own extra (pydantic's `email` extra:
`email-validator>=2.0.0`), else none. asyncpg, psycopg2, greenlet and SQLAlchemy are FX001's business,
pydantic-settings FX021's.

## Why is this bad?
The server stops at startup: `ModuleNotFoundError: No module named 'jose'`; `ImportError: email-validator is
not installed, run pip install 'pydantic[email]'` when a model with an `EmailStr` field is built; `RuntimeError:
Form data requires "python-multipart" to be installed.` when a route with a form is declared.

## Example
```python
# app/schemas.py (requirements.txt: fastapi, pydantic>=2)
from pydantic import BaseModel, EmailStr

class UserCreate(BaseModel):
    email: EmailStr
```

## Use instead
```text
fastapi
pydantic>=2
email-validator>=2.0.0
```

## Fix safety
Safe when a live module imports the name at its top level (the import runs whenever the server starts) and the
failure is one the catalogue records (the features above, `jose`/`jwt`). Unsafe when every such import is
indented (inside a function, `try: ... except ImportError`, `if TYPE_CHECKING:`) or every email field is in a
model built inside a function, and for any other import when some declared distribution's requirements are not
in fixer's tables (it may install the module already). A requirements file that lacks what another dependency
file (a pyproject.toml, a lock) of its folder declares gets the addition safely when the project documents
installing it alone (`pip install -r requirements.txt` in a Dockerfile, README, shell script or Procfile), else
unsafely: fixer cannot tell which file the deploy installs from. An empty requirements file beside a pyproject.toml
is no install of its own (pip installs nothing from it, and every install passes it over) and stays empty unless the
project documents installing it. The plain imports a file lacks that share
safety and severity are one finding; where another dependency file declares the distribution itself (not only a
lock), its line is copied, safely: the project asks for it already, and whatever file the deploy reads then
gives it (an `import argon2` whose argon2-cffi only pyproject.toml lists); so is a catalogue feature's
distribution that the other file's declarations bring (`fastapi[standard]` brings email-validator). A project with no main dependency file
gets nothing here. In every case the addition to the main dependency file is safe where the prediction of the
documented start fails on that import (the finding cites the failure). Beside a distribution whose requirements
fixer does not know, the prediction says a module is missing only where that distribution plausibly does not
bring it: its name names neither the module's distribution, nor a recorded one that requires it (a
`...-sqlmodel` plugin brings sqlmodel and SQLAlchemy), nor a framework fixer knows by name only; the line then
gets no floor, so that a pin of the unknown one still resolves. A distribution the migration step needs is added
where the prediction fails on its import; where the documented install syncs a lock (`poetry install`, `uv sync`)
the line would not reach it, and the finding says to run `poetry add`/`uv add` instead (unsafe).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import ClassVar

from packaging.utils import canonicalize_name

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.evidence import cite, missing_module, predicted
from fixer.model.needs import FEATURES, Installed, Need, installed
from fixer.model.startup import Failure
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit, is_main_file, target_file

# Other rules add these, each with its own reasoning (FX001 the drivers, FX021 pydantic-settings).
_OTHER_RULES = frozenset(
    {"asyncpg", "psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary", "greenlet", "sqlalchemy", "pydantic-settings"}
)
_DRIVERS = _OTHER_RULES - {"pydantic-settings"}
# Where an added requirement goes: after the package whose feature needs it.
_AFTER = {dist: key.partition(".")[0] for key, (dist, _) in FEATURES.items()} | {"aiosqlite": "sqlalchemy"}
_ERRORS = {
    "DEP-EMAIL": "`ImportError: email-validator is not installed, run `pip install 'pydantic[email]'`` when the "
    "first model with an email field is built",
    "DEP-MULTIPART": '`RuntimeError: Form data requires "python-multipart" to be installed.` when the first route '
    "with a form parameter is declared",
    "URL-SQLITE": "`ModuleNotFoundError: No module named 'aiosqlite'` when the engine is created",
}


def floor(dist: str, facts: ProjectModel) -> str:
    """The specifier an installed package records for `dist` in one of its extras (pydantic[email] ->
    `>=2.0.0`), so that adding `dist` asks for what that extra would; "" when none does."""
    from fixer import tables

    for name, version in sorted(facts.versions.effective.items()):
        for req in tables.requires(name, version) or ():
            if canonicalize_name(req.name) == dist and str(req.specifier):
                return str(req.specifier)
    return ""


def missing(facts: ProjectModel, installed: Installed | None = None, others: frozenset[str] = _OTHER_RULES) -> dict[str, list[Need]]:
    """Distributions the live code needs that nothing installs (or `installed` does not), with the needs that
    show it; `others` are left to other rules."""
    from fixer import tables

    installed = installed or facts.installed
    out: dict[str, list[Need]] = {}
    for need in facts.needs:
        if need.dist in others or installed.has(need.dist):
            continue
        if any(installed.has(d) for d in tables.distributions_of(need.module)):
            continue  # another distribution of the same import name (psycopg2 / psycopg2-binary)
        out.setdefault(need.dist, []).append(need)
    return {dist: sorted(needs, key=lambda n: n.guarded) for dist, needs in out.items()}


def _installs_alone(path: str, text: str, facts: ProjectModel) -> Installed | None:
    """What `pip install -r path` gives on its own; None when that is not a route of its own (a pyproject.toml,
    a file that includes others, or the project's only dependency file)."""
    from fixer.model.versions import Versions

    others = [f for f in facts.versions.files if f != path and posixpath.dirname(f) == posixpath.dirname(path)]
    if path.endswith("pyproject.toml") or not others or re.search(r"^\s*(-r|-c|--requirement|--constraint)\b", text, re.M):
        return None
    names = declared_in(path, text)
    if not names and path not in facts.documented_installs:
        # An empty requirements file installs nothing and no install reads it (pip, `fixer verify` and the
        # prediction pass it over for the pyproject): writing into it would make it the route, losing the rest.
        return None
    effective = facts.versions.effective
    alone = Versions(
        declared={name: "" for name in names},
        effective={name: effective[name] for name in names if name in effective},
        extras=_extras_in(path, text),  # this file's own: pyproject's `fastapi[standard]` is not this file's
    )
    return installed(alone)


def _extras_in(path: str, text: str) -> dict[str, tuple[str, ...]]:
    """The extras each requirement of this requirements file asks for (`uvicorn[standard]`)."""
    from fixer.discover.requirements import analyse, logical_lines, physical_lines

    logicals = logical_lines(physical_lines(text))
    for logical in logicals:
        analyse(logical)
    return {canonicalize_name(lg.requirement.name): tuple(sorted(lg.requirement.extras))
            for lg in logicals if lg.requirement is not None and lg.requirement.extras}


def _declarations_install(facts: ProjectModel, dist: str) -> bool:
    """Whether what the project's dependency files declare (not what a lock holds) installs `dist`."""
    from fixer.model.versions import Versions

    declared = facts.versions.declared
    effective = facts.versions.effective
    alone = Versions(
        declared=dict(declared),
        effective={name: effective[name] for name in declared if name in effective},
        extras={name: facts.versions.extras[name] for name in declared if name in facts.versions.extras},
    )
    return installed(alone).has(dist)


def _unreached(make, dist: str, lock: str):
    """The finding of an addition the documented install does not read: it syncs `lock`, which only the project's
    own tool rewrites (a pyproject.toml edited beside an old poetry.lock makes `poetry install` refuse to run)."""
    import dataclasses

    tool = "uv" if lock.endswith("uv.lock") else "poetry"

    def unreached(old: str, new: str, line: int | None, fixed: bool) -> Finding:
        return dataclasses.replace(
            make(old, new, line, fixed), safe=False,
            explanation=f"The documented install syncs {lock}, which this file does not change: run `{tool} add "
                        f"{dist}` (it writes the dependency and the lock).")
    return unreached


def _merged(findings: list[Finding]) -> list[Finding]:
    """One finding for the plain imports (no catalogue feature) of one file that share a fate (written or
    not, safe or not, as severe): an empty requirements file lacking fastapi, pydantic and sqlmodel is one
    problem."""
    import dataclasses

    groups: dict[tuple[bool, bool, Severity], list[Finding]] = {}
    out: list[Finding] = []
    for finding in findings:
        if finding.defects:
            out.append(finding)
        else:
            groups.setdefault((finding.safe, finding.fixed, finding.severity), []).append(finding)
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue

        def joined(values: Sequence[str], sep: str = " ") -> str:
            return sep.join(dict.fromkeys(v for v in values if v))

        out.append(dataclasses.replace(
            group[0],
            problem=joined([f.problem for f in group], "; "),
            root_cause=joined([f.root_cause for f in group]),
            new_code=joined([f.new_code for f in group], "\n"),
            explanation=joined([f.explanation for f in group]),
            line=min((f.line for f in group if f.line is not None), default=None),
            evidence=joined([f.evidence for f in group], "; "),
        ))
    return out


class MissingDependency(TextRule):
    """Declare what the app's code imports or loads but no dependency installs."""

    RULE_ID: ClassVar[str] = "FX023"
    RULE_NAME: ClassVar[str] = "missing-dependency"
    DEFECTS: ClassVar[tuple[str, ...]] = ("DEP-EMAIL", "DEP-MULTIPART", "DEP-JWT-LIB", "URL-SQLITE")

    def applies_to(self, path: str) -> bool:
        return is_main_file(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        if not facts.has_app:
            return text, []
        changes = []
        reports = []
        for dist, needs in sorted(missing(facts).items()):
            needs = [n for n in needs if target_file(facts.versions.files, n.path) == path]
            if not needs:
                continue
            if dist in facts.runtime_supplied:
                reports.append(self._supplied(dist, needs, facts))
                continue
            feature = next((n.defect for n in needs if n.defect), "")
            # The prediction's failure is evidence even beside a distribution whose requirements fixer does not
            # know: if that one did bring `dist`, the added line would change nothing the install gives.
            failure = predicted(facts, self.RULE_ID, match=missing_module(needs[0].module, dist))
            safe = failure is not None or (any(not n.guarded for n in needs) and (bool(feature) or not facts.installed.opaque))
            lock = facts.startup.install.lock
            make = self._finding(dist, needs, feature, facts, safe and lock is None, failure=failure)
            if lock is not None:
                make, safe = _unreached(make, dist, lock), False
            # No floor beside an unknown distribution: one that pins `dist` itself must still resolve.
            spec = "" if facts.installed.opaque and failure is not None else floor(dist, facts)
            changes.append(Change("add", dist, spec, make, _AFTER.get(dist), write=safe or facts.unsafe_fixes))
        changes += self._predicted_elsewhere(path, facts, {c.name for c in changes} | set(facts.runtime_supplied))
        changes += self._missing_here(path, text, facts, {c.name for c in changes} | set(facts.runtime_supplied))
        new, findings = edit(path, text, changes)
        return new, _merged(findings) + reports

    def _supplied(self, dist: str, needs: Sequence[Need], facts: ProjectModel) -> Finding:
        """The report for what only the deploy runtime supplies: adding it would put a second, pinned copy in
        the runtime's package, a change where today's deploy works; a start elsewhere needs it installed."""
        failure = predicted(facts, self.RULE_ID, match=missing_module(needs[0].module, dist))
        runtime = facts.runtime_supplied[dist]
        return Finding(
            rule=self.RULE_ID,
            category=Category.DEPENDENCY,
            severity=Severity.MEDIUM,
            problem=f"{needs[0].path} imports {needs[0].module}, which only the deploy runtime supplies: {dist} from {runtime}",
            root_cause=f"No dependency file installs {dist}; {runtime.partition(' (')[0]} provides it, so the deploy there "
            f"starts, and a start anywhere else fails with `ModuleNotFoundError: No module named '{needs[0].module}'`.",
            old_code="",
            new_code="",
            explanation=f"Not added: a {dist} line would change the {runtime.partition(' (')[0]} deploy, which works today. "
            f"To start it elsewhere, install {dist} there (`pip install {dist}`) or list it in a development requirements file.",
            fixed=False,
            line=None,
            evidence="; ".join(n.shown for n in needs[:3]) + (f"; {cite(facts, failure)}" if failure is not None else ""),
        )

    def _predicted_elsewhere(self, path: str, facts: ProjectModel, done: set[str]) -> list[Change]:
        """What the documented start fails on outside the server's own modules (the `alembic upgrade head` it runs
        first executes alembic itself, env.py and every revision file): the prediction names the import, and
        the distribution that provides it is added, safely, as the start fails there without it."""
        from fixer import tables

        prediction = facts.startup.primary
        changes: list[Change] = []
        for failure in prediction.failures if prediction is not None else ():
            match = re.fullmatch(r"No module named '(\w+)'", failure.message)
            if failure.fixed_by != self.RULE_ID or match is None:
                continue
            dist = tables.distribution_of(match.group(1))
            dist = canonicalize_name(dist) if dist else None
            if dist is None or dist in done or dist in _OTHER_RULES or facts.installed.has(dist) \
                    or target_file(facts.versions.files, failure.path) != path:
                continue
            done.add(dist)
            need = Need(dist, match.group(1), failure.path, False)
            lock = facts.startup.install.lock
            make = self._finding(dist, [need], "", facts, lock is None, failure=failure)
            if lock is not None:
                make = _unreached(make, dist, lock)
            spec = facts.versions.declared.get(dist) or floor(dist, facts)  # what another file of the project asks
            changes.append(Change("add", dist, spec, make, None, write=lock is None or facts.unsafe_fixes))
        return changes

    def _missing_here(self, path: str, text: str, facts: ProjectModel, done: set[str]) -> list[Change]:
        """What another file (pyproject.toml, a lock) installs but this requirements file, installed on its own
        (`pip install -r requirements.txt` in a Dockerfile), does not: safe when the project documents that
        install (fixer.model.installs), else unsafe, as fixer cannot tell which file the deploy installs from."""
        own = _installs_alone(path, text, facts)
        if own is None:
            return []
        changes = []
        for dist, needs in sorted(missing(facts, own, _DRIVERS).items()):
            needs = [n for n in needs if target_file(facts.versions.files, n.path) == path]
            if dist in done or not needs or not any(not n.guarded for n in needs):
                continue
            if dist == "pydantic-settings" and not facts.versions.supports("pydantic", ">=2"):
                continue  # pydantic 1 has BaseSettings itself, and pydantic-settings needs pydantic 2 (FX021 judges)
            documented = facts.documented_installs.get(path, "")
            feature = next((n.defect for n in needs if n.defect), "")
            # The line another file of the project declares, copied: whatever file the deploy installs from, it
            # then gets what the project itself asks for, and an install from this file alone gets further.
            declared = facts.versions.declared.get(dist)
            # A catalogue feature (pydantic's EmailStr) whose distribution the other file's own declarations
            # bring (fastapi[standard] brings email-validator): the project asks for it there too.
            asked = bool(feature) and _declarations_install(facts, dist)
            safe = bool(documented) or declared is not None or asked
            make = self._finding(dist, needs, feature, facts, safe, elsewhere=True, documented=documented)
            spec = declared or floor(dist, facts)
            changes.append(Change("add", dist, spec, make, _AFTER.get(dist), write=safe or facts.unsafe_fixes))
        return changes

    def _finding(
        self, dist: str, needs: Sequence[Need], feature: str, facts: ProjectModel, safe: bool,
        elsewhere: bool = False, documented: str = "", failure: Failure | None = None,
    ):
        def make(old: str, new: str, line: int | None, fixed: bool) -> Finding:
            shown = "; ".join(n.shown for n in needs[:3]) + (f"; and {len(needs) - 3} more" if len(needs) > 3 else "")
            unguarded = [n for n in needs if not n.guarded]
            if feature:
                error = _ERRORS.get(feature, f"`ModuleNotFoundError: No module named '{needs[0].module}'`")
                problem = f"{dist} is not installed, but {needs[0].path} uses {needs[0].module}, which needs it"
            else:
                error = f"`ModuleNotFoundError: No module named '{needs[0].module}'` when the module is imported"
                problem = f"{needs[0].path} imports {needs[0].module}, which no dependency installs ({dist})"
            if elsewhere:
                # The files are named once, in the evidence: a merged finding would repeat them per import.
                problem = f"{needs[0].path} imports {needs[0].module}, which other dependency files install but this file does not ({dist})"
                why = (
                    f"{documented} installs this file alone (`pip install -r`): that install fails. Added `{new.strip()}`."
                    if documented
                    else f"An install from this file alone (`pip install -r`) fails; added `{new.strip()}`, as another dependency file of the project declares it."
                    if safe
                    else "An install from this file alone (`pip install -r`, as a Dockerfile may do) fails; fixer cannot tell which file the deploy installs from."
                )
            elif not unguarded:
                why = "Every import of it is indented (in a function, a try block or a TYPE_CHECKING block): the server may start without it."
            elif not safe:
                why = (
                    f"fixer does not know what {', '.join(facts.installed.opaque)} install: one of them may bring {dist} already."
                )
            else:
                why = f"Added `{new.strip()}`."
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL if unguarded else Severity.MEDIUM,
                problem=problem,
                root_cause=f"{'This file installs no' if elsewhere else 'Nothing the project declares installs'} {dist}: the server fails with {error}.",
                old_code=old,
                new_code=new,
                explanation=why,
                fixed=fixed,
                defects=(feature,) if feature else (),
                line=line,
                safe=safe,
                evidence=f"{shown}; declared in {', '.join(facts.versions.files) or 'no file'}"
                + (f"; {documented} documents `pip install -r` of this file" if documented else "")
                + (f"; {cite(facts, failure)}" if failure is not None else ""),
            )

        return make

