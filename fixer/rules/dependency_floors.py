"""FX025 dependency-floors: Raise a pin that has no wheel for the project's Python to the first release that has one.

## What it does
For each compiled dependency whose wheels fixer's tables record (asyncpg, psycopg2-binary, pydantic-core,
greenlet, uvloop, httptools, bcrypt, cryptography, orjson, ...), and each package that pins one of them exactly
(pydantic pins pydantic-core), finds the version that installs and checks that it has a manylinux wheel for
the CPython the project runs on: a Dockerfile's `FROM python:X.Y`, `.python-version`, `runtime.txt`, else the
lowest version `requires-python` accepts (`fixer model` shows them as `python`), else today's: the one fixer
runs on, which a fresh install on this machine uses (the startup prediction lists such a pin as its first
failure, `Failed to build ...`, before any import). A pin without one is raised
to the lowest release at or above it that has wheels for every such Python, allows it by Requires-Python, and
still satisfies what the project's other packages require of it. The versions judged are the ones the
documented start's install gives (its requirements file, not a lock beside it).

It also fixes declarations no release satisfies together (sqlmodel==0.0.8 requires pydantic<2 beside
pydantic==2.5.0: `No solution found when resolving dependencies`, judged from the release tables): the pin that
can move alone to a release agreeing with every other declaration moves to the nearest such release.

## Why is this bad?
pip falls back to the source distribution and compiles it, which fails on a slim image or a new CPython:
asyncpg 0.29.0 on 3.13 `error: too few arguments to function '_PyLong_AsByteArray'`; pydantic-core without a
cp313 wheel needs a Rust toolchain (`error: can't find Rust compiler`); psycopg2-binary before 2.9.10 has no
cp313 wheel and needs `pg_config`. The deploy never reaches the app (catalogue section C, wheels table).

## Example
```text
# Dockerfile: FROM python:3.13-slim
asyncpg==0.29.0
```

## Use instead
```text
asyncpg==0.30.0
```

## Fix safety
Safe for an exact pin (`==`) when a Dockerfile, `.python-version` or `runtime.txt` names the Python, and where
the project says nothing of its Python, when the raise stays within the pin's major version (greenlet 1.0.0 ->
1.1.3; a new major is a person's call). Unsafe when only `requires-python` bounds it and some Python it accepts
has the pin's wheel (the deploy may use that one), or when the entry is a range (`<0.28`): raising
it drops a cap someone chose. A compatible release (`~=0.25.0`) counts as a pin and moves to the raised
release's series (`~=0.27.0`). Reported only when no release satisfies the other packages' requirements.
A conflict's pin move is safe when only one of the two pins can move; unsafe when either could (which one the
code was written for is a person's call); reported when neither can move alone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.conflicts import Conflict, Move
from fixer.rules.async_driver import AsyncDriverDependency
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit

# SQLAlchemy's C extensions are optional: its source distribution installs without a compiler.
_BUILDS_WITHOUT_COMPILER = frozenset({"sqlalchemy"})


@dataclass(frozen=True)
class Raise:
    dist: str
    old: Version
    new: Version
    missing: tuple[str, str]  # (distribution without a wheel, its version): `dist` itself or what it pins
    pythons: tuple[str, ...]


def _no_wheel(dist: str, version: Version, pythons: Iterable[str]) -> tuple[str, str] | None:
    """(distribution, version) among `dist` and the compiled packages it pins exactly that has no wheel for one
    of `pythons` although some release has; None when everything has its wheels."""
    from fixer import tables

    for name, at in [(dist, version), *_exact_pins(dist, version)]:
        if name in _BUILDS_WITHOUT_COMPILER:
            continue
        for python in pythons:
            if tables.has_wheel(name, at, python) is False and _some_release_has(name, python):
                return name, str(at)
    return None


def _exact_pins(dist: str, version: Version) -> list[tuple[str, Version]]:
    from fixer import tables

    out = []
    for req in tables.requires(dist, version) or ():
        if req.marker is not None and "extra" in str(req.marker):
            continue
        pins = [s.version for s in req.specifier if s.operator == "==" and "*" not in s.version]
        if pins:
            out.append((canonicalize_name(req.name), Version(pins[0])))
    return out


def _some_release_has(dist: str, python: str) -> bool:
    from fixer import tables

    return any(tables.has_wheel(dist, v, python) for v in reversed(tables.releases(dist)))


def _caps(dist: str, facts: ProjectModel, path: str = "") -> SpecifierSet:
    """What the project's other packages (at the versions that install) require of `dist`."""
    from fixer import tables

    spec = SpecifierSet()
    for name, version in _installs(facts, path).items():
        if name != dist:
            spec &= tables.cap(name, version, dist) or SpecifierSet()
    return spec


def _installs(facts: ProjectModel, path: str = "") -> dict[str, Version]:
    """The versions the documented start's install gives, for a file that install reads (its requirements file,
    not a lock beside it: what the startup prediction judges); else what the dependency files give together."""
    install = facts.startup.install
    if install is not None and install.known and path in install.files:
        return dict(install.versions)
    return {name: Version(v) for name, v in facts.versions.effective.items()}


def pythons_of(facts: ProjectModel) -> tuple[str, ...]:
    """The CPython the project's pins are judged against: the one its files name or bound, else today's, the one
    a fresh install on this machine (and the startup prediction) uses."""
    return facts.python.runs_on or (f"{sys.version_info.major}.{sys.version_info.minor}",)


def plan(dist: str, facts: ProjectModel, path: str = "") -> Raise | None | tuple[str, str]:
    """The raise `dist` needs; None when it needs none; (dist, version) without a wheel when no release fits."""
    from fixer import tables

    pythons = pythons_of(facts)
    current = _installs(facts, path).get(dist)
    if not pythons or current is None or not tables.releases(dist):
        return None
    missing = _no_wheel(dist, current, pythons)
    if missing is None:
        return None
    caps = _caps(dist, facts, path)
    for candidate in tables.allowed(dist, SpecifierSet(f">{current}") & caps):
        if candidate.is_prerelease:
            continue
        accepts = [tables.requires_python(dist, candidate) or SpecifierSet() for _ in pythons]
        if not all(Version(p) in spec for p, spec in zip(pythons, accepts)):
            continue
        # A release the wheel tables do not record is no answer for a distribution they do.
        recorded = missing[0] != dist or all(tables.has_wheel(dist, candidate, p) for p in pythons)
        if recorded and _no_wheel(dist, candidate, pythons) is None:
            return Raise(dist, current, candidate, missing, pythons)
    return missing


def _series(declared: SpecifierSet, outcome: Raise) -> str | None:
    """`~=0.27.0` for an entry `~=0.25.0` raised to 0.27.0, at the entry's precision, when the newest release of
    that series (the one pip picks) has its wheels too; None for any other entry."""
    from fixer import tables

    items = list(declared)
    if len(items) != 1 or items[0].operator != "~=":
        return None
    precision = len(Version(items[0].version).release)
    raised = "~=" + ".".join(str(n) for n in (*outcome.new.release, 0, 0, 0)[:precision])
    newest = tables.newest_allowed(outcome.dist, SpecifierSet(raised))
    return raised if newest is not None and _no_wheel(outcome.dist, newest, outcome.pythons) is None else None


def _nowhere(outcome: Raise, facts: ProjectModel) -> bool:
    """Whether the pin builds on no CPython the project's requires-python accepts (asyncpg 0.29.0 beside
    `>=3.13`): whichever the deploy picks, the install fails."""
    from fixer import tables

    what, at = outcome.missing
    minors = facts.python.accepted_minors if str(facts.python.accepted) else ()
    return bool(minors) and all(tables.has_wheel(what, at, python) is False for python in minors)


class DependencyFloors(TextRule):
    """Raise a pin that has no wheel for the project's Python to the first release that has one."""

    RULE_ID: ClassVar[str] = "FX025"
    RULE_NAME: ClassVar[str] = "dependency-floors"
    DEFECTS: ClassVar[tuple[str, ...]] = ()

    def applies_to(self, path: str) -> bool:
        return AsyncDriverDependency().applies_to(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        changes: list[Change] = []
        findings: list[Finding] = []
        for dist in sorted(declared_in(path, text)):
            outcome = plan(dist, facts, path)
            if outcome is None:
                continue
            declared = facts.versions.declared.get(dist, "")
            series = _series(SpecifierSet(declared), outcome) if not isinstance(outcome, tuple) else None
            # A compatible-release entry (`~=0.25.0`) pins a series as `==` pins a release: it moves to the next.
            pinned = series is not None or any(s.operator in ("==", "===") for s in SpecifierSet(declared))
            if isinstance(outcome, tuple):
                findings.append(self._unfixable(dist, outcome, facts))
                continue
            # Where the project names no Python, the fresh install runs on today's: an exact pin that cannot build
            # there is raised within its major version (greenlet 1.0.0 -> 1.1.3); a new major is the person's call.
            unstated = not facts.python.sources and outcome.new.major == outcome.old.major
            safe = pinned and (bool(facts.python.named) or unstated or _nowhere(outcome, facts))
            specifier = series or (f"=={outcome.new}" if pinned else f">={outcome.new}")
            changes.append(Change("set", dist, specifier, self._finding(outcome, facts, safe), write=safe or facts.unsafe_fixes))
        for conflict in facts.startup.conflicts:
            # Either pin may be the one to move: with one way out it is mechanical; with both, a person's call.
            moves = [m for m in conflict.moves if m.where == path]
            if not conflict.moves and conflict.where == path:
                findings.append(self._unresolvable(conflict))
            elif moves and moves[0] is conflict.moves[0]:
                safe = len(conflict.moves) == 1
                move = moves[0]
                changes.append(Change("set", move.dist, f"=={move.new}", self._move_finding(conflict, move, safe),
                                      write=safe or facts.unsafe_fixes))
        new, made = edit(path, text, changes)
        return new, made + findings

    def _move_finding(self, conflict: Conflict, move: Move, safe: bool):
        def make(old: str, new: str, line: int | None, fixed: bool) -> Finding:
            others = [m for m in conflict.moves if m is not move]
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL,
                problem=f"{conflict.dist}{conflict.declared} requires {conflict.other}{conflict.requires}, which "
                        f"{conflict.other}{conflict.other_declared} never satisfies: nothing installs",
                root_cause=(
                    f"pip and uv stop before installing anything (`No solution found when resolving dependencies`): "
                    f"every release of {conflict.dist} the project allows requires {conflict.other}"
                    f"{conflict.requires}."
                ),
                old_code=old,
                new_code=new,
                explanation=(
                    f"Moved {move.dist} to {move.new}, the nearest release that agrees with every other declaration "
                    "of the project."
                    + ("" if safe else f" Unsafe: {others[0].dist} {others[0].new} would resolve it too; which one "
                       "the code was written for is a person's call.")
                ),
                fixed=fixed,
                line=line,
                safe=safe,
                evidence=conflict.message,
            )

        return make

    def _unresolvable(self, conflict: Conflict) -> Finding:
        return Finding(
            rule=self.RULE_ID,
            category=Category.DEPENDENCY,
            severity=Severity.HIGH,
            problem=f"{conflict.dist}{conflict.declared} requires {conflict.other}{conflict.requires}, which "
                    f"{conflict.other}{conflict.other_declared} never satisfies: nothing installs",
            root_cause="pip and uv stop before installing anything: `No solution found when resolving dependencies`.",
            old_code="",
            new_code="",
            explanation=(f"Neither {conflict.dist} nor {conflict.other} can move alone to a release that agrees with "
                         "every other declaration: the declarations around them have to move together."),
            fixed=False,
            line=conflict.line or None,
            evidence=conflict.message,
        )

    def _finding(self, plan: Raise, facts: ProjectModel, safe: bool):
        pinned = any(s.operator in ("==", "===", "~=") for s in SpecifierSet(facts.versions.declared.get(plan.dist, "")))

        def make(old: str, new: str, line: int | None, fixed: bool) -> Finding:
            what, at = plan.missing
            through = "" if what == plan.dist else f" ({plan.dist} {plan.old} pins {what}=={at})"
            pythons = ", ".join(plan.pythons)
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL,
                problem=f"{what} {at} has no wheel for Python {pythons}{through}: pip compiles it, and the build fails",
                root_cause=(
                    f"No manylinux wheel of {what} {at} exists for CPython {pythons}, so pip builds the source "
                    "distribution, which needs a compiler and headers a slim image lacks (asyncpg 0.29.0 on 3.13: "
                    "`error: too few arguments to function '_PyLong_AsByteArray'`)."
                ),
                old_code=old,
                new_code=new,
                explanation=(
                    f"Raised to {plan.dist} {plan.new}, the first release with wheels for Python {pythons} that the "
                    "project's other packages allow."
                    + ("" if safe else " Unsafe: " + (
                        "the entry was a range; raising it drops its cap." if not pinned
                        else "a new major version." if plan.new.major != plan.old.major
                        else "only requires-python names the Python, and some Python it accepts has the wheel."))
                ),
                fixed=fixed,
                line=line,
                safe=safe,
                evidence=f"{self._python(facts)}; {facts.versions.judged_against(plan.dist)}",
            )

        return make

    @staticmethod
    def _python(facts: ProjectModel) -> str:
        return facts.python.evidence() or f"the project names no Python: judged on today's, {pythons_of(facts)[0]}"

    def _unfixable(self, dist: str, missing: tuple[str, str], facts: ProjectModel) -> Finding:
        return Finding(
            rule=self.RULE_ID,
            category=Category.DEPENDENCY,
            severity=Severity.HIGH,
            problem=f"{missing[0]} {missing[1]} has no wheel for Python {', '.join(pythons_of(facts))}",
            root_cause="pip compiles the source distribution, which needs a compiler and headers a slim image lacks.",
            old_code="",
            new_code="",
            explanation=f"No release of {dist} has the wheels and satisfies what the project's other packages require of it: move those packages, or the Python, first.",
            fixed=False,
            evidence=f"{self._python(facts)}; {facts.versions.judged_against(dist)}",
        )
