"""Declarations no install can satisfy together: a package whose every release the project allows requires of
another package what the project's own declaration of that package never allows (sqlmodel==0.0.8 requires
pydantic<2.0.0 beside pydantic==2.5.0). pip and uv stop there, `No solution found when resolving dependencies`,
and nothing installs.

Read from the release tables (`fixer.tables`): a release whose requirements they do not record, or a
package they do not know, is never called a conflict. With each conflict, the smallest change that resolves it
when one exists: one of the two pins moved to the nearest release that agrees with everything else declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer import tables

__all__ = ["Conflict", "Move", "conflicts"]

# Past this many releases to check, a range is left unjudged: pip's backtracking reaches further than fixer looks.
_MAX_CHECKED = 200


@dataclass(frozen=True)
class Move:
    """A pin moved: `dist` from `old` to `new`, which agrees with every other declaration."""

    dist: str
    old: str  # the declared specifier
    new: Version
    where: str = ""  # the dependency file that declares it


@dataclass(frozen=True)
class Conflict:
    dist: str  # the package whose requirement no allowed release of `other` meets (sqlmodel)
    declared: str  # what the project allows of it ("==0.0.8")
    version: Version  # its newest allowed release, the one the message names
    other: str  # pydantic
    requires: str  # what `dist` requires of `other` ("<2.0.0,>=1.8.2")
    other_declared: str  # what the project allows of `other` ("==2.5.0")
    where: str  # the dependency file that declares `other`, and its line (("", 0) unknown)
    line: int
    moves: tuple[Move, ...] = ()  # each single pin change that resolves it (either side), nearest release first

    @property
    def message(self) -> str:
        shown = self.declared if self.declared.startswith("==") else f"{self.declared} ({self.version})"
        declared = f"{self.where} declares" if self.where else "the project declares"
        return (f"No solution found when resolving dependencies: {self.dist}{shown} requires "
                f"{self.other}{self.requires}, and {declared} {self.other}{self.other_declared}")


def _exact(spec: SpecifierSet) -> bool:
    return any(s.operator in ("==", "===") and "*" not in s.version for s in spec)


def _allowed(name: str, spec: SpecifierSet, python: str | None) -> list[Version]:
    """The releases `spec` allows, newest first, that run on CPython `python` (all of them when none is
    recorded to); a yanked release only when pinned exactly, as pip picks them."""
    return list(_allowed_once(name, spec, python))


# The search for moves asks the same questions of the same releases many times over: each is answered once a run.
@lru_cache(maxsize=None)
def _allowed_once(name: str, spec: SpecifierSet, python: str | None) -> tuple[Version, ...]:
    found = list(spec.filter(reversed(tables.releases(name, include_yanked=_exact(spec))), prereleases=_exact(spec)))
    if python:
        runs = [v for v in found if Version(python) in (tables.requires_python(name, v) or SpecifierSet())]
        found = runs or found
    return tuple(found)


def _requirements(name: str, version: Version, extras: Iterable[str], env: dict[str, str]) -> list[Requirement] | None:
    met = _requirements_once(name, version, frozenset(extras), tuple(sorted(env.items())))
    return None if met is None else list(met)


@lru_cache(maxsize=None)
def _requirements_once(name: str, version: Version, extras: frozenset[str],
                       env: tuple[tuple[str, str], ...]) -> tuple[Requirement, ...] | None:
    from fixer.model.versions import holds

    reqs = tables.requires(name, version)
    if reqs is None:
        return None
    return tuple(r for r in reqs if r.marker is None or holds(r.marker, dict(env), extras))


def _unmet(req: Requirement, declared: dict[str, SpecifierSet], python: str | None) -> bool:
    """Whether no release of a declared package meets `req` and its declaration (False when unknown)."""
    other = canonicalize_name(req.name)
    if other not in declared or not tables.releases(other):
        return False
    return not _allowed(other, declared[other] & req.specifier, None)


def _first_unmet(name: str, version: Version, declared: dict[str, SpecifierSet], extras: dict[str, set[str]],
                 env: dict[str, str], python: str | None) -> Requirement | None | bool:
    """The requirement of `name` `version` that nothing declared meets; None when all are met; False when its
    requirements are unknown."""
    reqs = _requirements(name, version, extras.get(name, set()), env)
    if reqs is None:
        return False
    return next((r for r in reqs if _unmet(r, declared, python)), None)


def _fits(name: str, version: Version, declared: dict[str, SpecifierSet], extras: dict[str, set[str]],
          env: dict[str, str], python: str | None) -> bool:
    """Whether `name` at `version` agrees with every declaration: its requirements are met, and what each other
    declared package (at any release it allows) may require of it allows it."""
    if _first_unmet(name, version, declared, extras, env, python) is not None:
        return False
    trial = {**declared, name: SpecifierSet(f"=={version}")}
    for other, spec in declared.items():
        if other == name:
            continue
        releases = _allowed(other, spec, python)[:_MAX_CHECKED]
        # a release whose requirements are unknown is no evidence against the move
        if releases and all(_first_unmet(other, v, trial, extras, env, python) for v in releases):
            return False
    return True


def _moves(conflict_dist: str, other: str, declared: dict[str, SpecifierSet], extras: dict[str, set[str]],
           env: dict[str, str], python: str | None, where: Callable[[str], tuple[str, int]]) -> tuple[Move, ...]:
    """The exact pins among the two that can move alone to a release agreeing with everything else: the nearest
    release above the pin first, then the nearest below it."""
    out = []
    for name in (conflict_dist, other):
        spec = declared[name]
        if not _exact(spec):
            continue
        pinned = next(Version(s.version) for s in spec if s.operator in ("==", "==="))
        releases = [v for v in _allowed(name, SpecifierSet(), python) if not v.is_prerelease and v != pinned]
        ordered = sorted((v for v in releases if v > pinned)) + sorted((v for v in releases if v < pinned), reverse=True)
        rest = {n: s for n, s in declared.items() if n != name}
        for candidate in ordered[:_MAX_CHECKED]:
            if _fits(name, candidate, {**rest, name: SpecifierSet(f"=={candidate}")}, extras, env, python):
                out.append(Move(name, str(spec), candidate, where(name)[0]))
                break
    return tuple(out)


def conflicts(declared: dict[str, SpecifierSet], extras: dict[str, set[str]], python: str | None,
              where: Callable[[str], tuple[str, int]] = lambda name: ("", 0)) -> list[Conflict]:
    """The conflicts among `declared` (name -> specifier; `extras`: the extras asked of each) on CPython
    `python` (x86_64 Linux): each package whose every allowed release requires of a declared package what that
    package's declaration never allows. `where(name)`: the file and line that declare a package."""
    from fixer.model.versions import environment

    env = environment(python)
    found = []
    for name, spec in sorted(declared.items()):
        releases = _allowed(name, spec, python)
        if not releases or len(releases) > _MAX_CHECKED:
            continue
        unmet = [_first_unmet(name, v, declared, extras, env, python) for v in releases]
        if not all(isinstance(r, Requirement) for r in unmet):
            continue
        req = unmet[0]
        other = canonicalize_name(req.name)
        file, line = where(other)
        found.append(Conflict(name, str(spec), releases[0], other, str(req.specifier), str(declared[other]),
                              file, line, _moves(name, other, declared, extras, env, python, where)))
    return found
