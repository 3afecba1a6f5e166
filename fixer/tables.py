"""Facts about third-party packages, read from tables generated from the real packages.

The tables live in ``fixer/data/*.json`` and are regenerated with ``python tools/gen_tables.py`` (see
tools/README.md). Rules ask these functions; none hard-codes which module exports what, or which release caps
which. Every function takes distribution names in any spelling (``SQLAlchemy``, ``pydantic_settings``) and
versions as ``str`` or :class:`packaging.version.Version`.

- ``exports(dist, version, module)``: the names ``from module import NAME`` succeeds for;
- ``exported(dist, versions, module, name)`` / ``export_check(...)``: the same over every release a
  specifier allows;
- ``moved(dist, version, module, name)``: the error a name that moved away raises (pydantic 2's BaseSettings);
- ``import_error(dist, version, module)``, ``last_importing(dist, module, before)``: a module a release removed,
  and the last recorded release that has it (``mcp.server.fastmcp``, gone in mcp 2);
- ``requires(dist, version)``, ``cap(dist, version, other)``: Requires-Dist and what it allows of ``other``;
- ``releases(dist)``, ``newest_allowed(dist, spec)``, ``requires_python(dist, version)``;
- ``distribution_of(import_name)``: which distribution provides an import name;
- ``has_wheel(dist, version, python)``: whether a manylinux x86_64 wheel exists for that CPython;
- ``keywords(dist, version, module, name)``, ``first_accepting(...)``: the keyword parameters of a function the
  app calls as it loads (sqlmodel's ``Field``), and the first release that accepts one;
- ``message(dist, version, key)``, ``releases_with(dist, key)``: a text in a package's source (the message
  pydantic's ``EmailStr`` raises without email-validator), and the releases whose source holds it;
- ``loaded_at_import(module)``: the distributions a package's module imports as it loads that the package
  requires only through an extra (starlette's SessionMiddleware and itsdangerous).

Nothing is loaded until asked, each file once. What no table can give (run-time behaviour), and so stays in the
code, is listed in tools/README.md ("What stays hard-coded, and why").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from fixer.sourcetexts import (
    async_session_methods,
    loaded_at_import,
    message,
    releases_with,
    sync_session_methods,
)
from fixer.tablefiles import VersionLike
from fixer.tablefiles import as_version as _version
from fixer.tablefiles import dist_key as _dist
from fixer.tablefiles import indices as _indices
from fixer.tablefiles import load as _load

__all__ = [
    "ExportCheck",
    "VersionLike",
    "allowed",
    "async_session_methods",
    "cap",
    "distribution_of",
    "distributions_of",
    "export_check",
    "exported",
    "exports",
    "first_accepting",
    "has_wheel",
    "import_error",
    "imports_of",
    "keywords",
    "last_importing",
    "loaded_at_import",
    "may_export",
    "message",
    "moved",
    "newest_allowed",
    "recorded_versions",
    "releases",
    "releases_with",
    "requires",
    "required_by",
    "requires_python",
    "requires_recorded",
    "sync_session_methods",
    "uploaded",
    "wheel_pythons",
]

Versions = SpecifierSet | Version | str  # a str is a version ("2.0.1") or a specifier (">=2,<3")


# --------------------------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _export_entry(dist: str) -> tuple[tuple[Version, ...], dict] | None:
    entry = _load("exports.json")["dists"].get(dist)
    if entry is None:
        return None
    return tuple(Version(v) for v in entry["versions"]), entry["modules"]


def recorded_versions(dist: str) -> list[Version]:
    """The versions of ``dist`` whose exports were recorded (oldest first); [] if none."""
    entry = _export_entry(_dist(dist))
    return list(entry[0]) if entry else []


def _recorded_index(dist: str, version: VersionLike) -> int | None:
    """Index of the newest recorded version at or below ``version``."""
    entry = _export_entry(dist)
    if entry is None:
        return None
    v = _version(version)
    best = None
    for i, rv in enumerate(entry[0]):
        if rv <= v:
            best = i
    return best


def _between(dist: str, version: VersionLike, i: int) -> int | None:
    """The index of the recorded version after ``i`` when ``version`` lies strictly between the two: what
    changed between those releases is not known for ``version`` (2.0.38 between 2.0.0 and 2.0.58)."""
    recorded = _export_entry(dist)[0]  # type: ignore[index]
    return i + 1 if i + 1 < len(recorded) and recorded[i] != _version(version) else None


@lru_cache(maxsize=None)
def _module_names(dist: str, module: str, index: int) -> frozenset[str]:
    _, modules = _export_entry(dist)  # type: ignore[misc]
    rec = modules[module]
    if index not in _indices(rec["present"]):
        return frozenset()
    names: set[str] = set()
    for ranges, group in rec["names"].items():
        if index in _indices(ranges):
            names.update(group)
    return frozenset(names)


def exports(dist: str, version: VersionLike, module: str) -> frozenset[str] | None:
    """Names ``from module import NAME`` succeeds for in ``dist`` ``version``.

    Read from the newest recorded version at or below ``version``. An empty set when the module does not
    import in that version (see :func:`import_error`); None when ``module`` is not recorded for ``dist`` or
    ``version`` is older than every recorded one.
    """
    d = _dist(dist)
    entry = _export_entry(d)
    if entry is None or module not in entry[1]:
        return None
    i = _recorded_index(d, version)
    return None if i is None else _module_names(d, module, i)


def may_export(dist: str, version: VersionLike, module: str, name: str) -> bool | None:
    """Whether ``from module import name`` may succeed in ``dist`` ``version``: False only when the recorded
    versions on both sides of ``version`` lack it (a release between two records may have added it); None
    when nothing is recorded."""
    d = _dist(dist)
    names = exports(d, version, module)
    if names is None:
        return None
    if name in names:
        return True
    after = _between(d, version, _recorded_index(d, version))  # type: ignore[arg-type]
    return after is not None and name in _module_names(d, module, after)


def import_error(dist: str, version: VersionLike, module: str) -> str | None:
    """The error ``import module`` raised in the recorded version at or below ``version``, when the next
    recorded one raises it too (None if it imported or nothing is known)."""
    d = _dist(dist)
    entry = _export_entry(d)
    i = _recorded_index(d, version)
    if entry is None or module not in entry[1] or i is None:
        return None
    after = _between(d, version, i)
    for ranges, msg in entry[1][module].get("errors", {}).items():
        if i in _indices(ranges) and (after is None or after in _indices(ranges)):
            return msg  # both records around ``version`` fail the same way
    return None


def last_importing(dist: str, module: str, before: VersionLike) -> Version | None:
    """The newest recorded version of ``dist`` older than ``before`` in which ``import module`` works: the last
    release of the series that still had it (mcp 1.x for ``mcp.server.fastmcp``); None if none is recorded."""
    d = _dist(dist)
    entry = _export_entry(d)
    if entry is None or module not in entry[1]:
        return None
    for i in reversed(range(len(entry[0]))):
        if entry[0][i] < _version(before) and i in _indices(entry[1][module]["present"]):
            return entry[0][i]
    return None


def last_exporting(dist: str, module: str, name: str, before: VersionLike) -> Version | None:
    """The newest recorded version of ``dist`` older than ``before`` whose ``module`` exports ``name``: the last
    release of the series that still had it (mcp 1.x for ``from mcp.server import FastMCP``); None if none is
    recorded."""
    d = _dist(dist)
    entry = _export_entry(d)
    if entry is None or module not in entry[1]:
        return None
    for i in reversed(range(len(entry[0]))):
        if entry[0][i] < _version(before) and name in _module_names(d, module, i):
            return entry[0][i]
    return None


def moved(dist: str, version: VersionLike, module: str, name: str) -> str | None:
    """The message of the error that ``from module import name`` raises because the name moved (pydantic 2:
    "PydanticImportError: `BaseSettings` has been moved to the `pydantic-settings` package. ..."), else None."""
    d = _dist(dist)
    entry = _export_entry(d)
    i = _recorded_index(d, version)
    if entry is None or module not in entry[1] or i is None:
        return None
    rec = entry[1][module].get("moved", {}).get(name)
    after = _between(d, version, i)
    if rec and i in _indices(rec[0]) and (after is None or after in _indices(rec[0])):
        return rec[1]
    return None


@dataclass(frozen=True)
class ExportCheck:
    """Whether ``module`` exports ``name`` across the releases a specifier allows.

    ``value`` is True when every allowed release exports it, False when none does, None otherwise; ``reason``
    says which: "all", "none", "mixed" (some do, some don't: ``exporting`` / ``not_exporting``), "unknown"
    (releases older than any record or a module not recorded: ``unknown``) or "no-release" (the specifier
    allows no known release).
    """

    value: bool | None
    reason: Literal["all", "none", "mixed", "unknown", "no-release"]
    exporting: tuple[Version, ...] = ()
    not_exporting: tuple[Version, ...] = ()
    unknown: tuple[Version, ...] = ()


def _candidate_versions(dist: str, versions: Versions) -> list[Version]:
    if isinstance(versions, Version):
        return [versions]
    if isinstance(versions, str):
        try:
            return [Version(versions)]
        except InvalidVersion:
            versions = SpecifierSet(versions)
    return allowed(dist, versions)


def export_check(dist: str, versions: Versions, module: str, name: str) -> ExportCheck:
    """Does ``from module import name`` work on every version of ``dist`` that ``versions`` allows?"""
    d = _dist(dist)
    cands = _candidate_versions(d, versions)
    if not cands:
        return ExportCheck(None, "no-release")
    yes: list[Version] = []
    no: list[Version] = []
    unknown: list[Version] = []
    for v in cands:
        names = exports(d, v, module)
        (unknown if names is None else yes if name in names else no).append(v)
    if unknown:
        return ExportCheck(None, "unknown", tuple(yes), tuple(no), tuple(unknown))
    if yes and no:
        return ExportCheck(None, "mixed", tuple(yes), tuple(no))
    return ExportCheck(bool(yes), "all" if yes else "none", tuple(yes), tuple(no))


def exported(dist: str, versions: Versions, module: str, name: str) -> bool | None:
    """True if every release of ``dist`` that ``versions`` allows exports ``name`` from ``module``, False if
    none does, None when it differs between them or is unknown (:func:`export_check` says which)."""
    return export_check(dist, versions, module, name).value


# --------------------------------------------------------------------------------------------------------------
# Requirements (caps)
# --------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _requirement(text: str) -> Requirement | None:
    """One recorded requirement, parsed once a run: the releases of a package repeat the same lines, and
    parsing them again for each release was most of a seed run's time in the conflict check."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


@lru_cache(maxsize=None)
def _requires(dist: str, version: Version) -> tuple[Requirement, ...] | None:
    entry = _load("requires.json")["dists"].get(dist)
    if entry is None:
        return None
    i = entry["versions"].get(str(version))
    if i is None:
        return None
    parsed = (_requirement(entry["reqs"][j]) for j in entry["sets"][i])
    return tuple(req for req in parsed if req is not None)


def _keyword_entry(dist: str, module: str, name: str) -> dict | None:
    entry = _load("keywords.json")["dists"].get(_dist(dist))
    if entry is None or module not in entry["modules"]:
        return None
    return entry["functions"].get(name)


def keywords(dist: str, version: VersionLike, module: str, name: str) -> frozenset[str] | None:
    """The keyword arguments `from module import name; name(...)` accepts in that release ("**": any); None when
    not recorded (another function, or a release before the table's floor)."""
    entry = _keyword_entry(dist, module, name)
    i = entry["versions"].get(str(_version(version))) if entry is not None else None
    if i is None:
        return None
    return frozenset(entry["keywords"][j] for j in entry["sets"][i])


def first_accepting(dist: str, module: str, name: str, keyword: str, after: VersionLike) -> Version | None:
    """The first recorded release after `after` whose `name` accepts `keyword`."""
    entry = _keyword_entry(dist, module, name)
    if entry is None:
        return None
    for v in sorted(map(Version, entry["versions"])):
        accepted = keywords(dist, v, module, name) or frozenset()
        if v > _version(after) and (keyword in accepted or "**" in accepted):
            return v
    return None


def requires(dist: str, version: VersionLike) -> list[Requirement] | None:
    """Requires-Dist of ``dist`` ``version`` (markers and extras included), None if that release is not
    recorded."""
    reqs = _requires(_dist(dist), _version(version))
    return None if reqs is None else list(reqs)


@lru_cache(maxsize=None)
def required_by(dist: str) -> tuple[str, ...]:
    """The recorded distributions some release of which requires ``dist`` unconditionally (extras aside):
    sqlalchemy is sqlmodel's, pydantic fastapi's. What libraries build on, an unknown one may bring too."""
    d = _dist(dist)
    out = set()
    for name, text in _lines_naming().get(d, ()):
        req = _requirement(text)
        if req is not None and _dist(req.name) == d and (req.marker is None or "extra" not in str(req.marker)):
            out.add(name)
    return tuple(sorted(out))


# A requirement line starts with the name it requires, and no character of a name can follow it.
_LEADING_NAME = re.compile(r"\s*([A-Za-z0-9._-]+)")


@lru_cache(maxsize=None)
def _lines_naming() -> dict[str, list[tuple[str, str]]]:
    """Each recorded requirement line (with the distribution recording it) by the name it starts with: only
    the lines naming an asked distribution are parsed."""
    found: dict[str, list[tuple[str, str]]] = {}
    for name, entry in _load("requires.json")["dists"].items():
        for text in entry["reqs"]:
            leading = _LEADING_NAME.match(text)
            if leading:
                found.setdefault(_dist(leading.group(1)), []).append((name, text))
    return found


def cap(dist: str, version: VersionLike, other: str) -> SpecifierSet | None:
    """What ``dist`` ``version`` allows of ``other`` by its unconditional requirements (extras aside), e.g.
    ``cap("sqlmodel", "0.0.8", "sqlalchemy")`` -> ``<=1.4.41,>=1.4.17``. None when it does not require
    ``other`` or the release is not recorded."""
    reqs = requires(dist, version)
    if reqs is None:
        return None
    o = _dist(other)
    spec: SpecifierSet | None = None
    for r in reqs:
        if _dist(r.name) != o or (r.marker is not None and "extra" in str(r.marker)):
            continue
        spec = r.specifier if spec is None else spec & r.specifier
    return spec


# --------------------------------------------------------------------------------------------------------------
# Releases
# --------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _releases(dist: str) -> tuple[tuple[Version, str, str, bool], ...] | None:
    entry = _load("releases.json")["dists"].get(dist)
    if entry is None:
        return None
    rps = entry["requires_python"]
    return tuple((Version(v), day, rps[rp], bool(y)) for v, day, rp, y in entry["releases"])


def recorded_distributions() -> tuple[str, ...]:
    """The distributions whose releases the tables record."""
    return tuple(sorted(_load("releases.json")["dists"]))


def releases(dist: str, *, by_upload: bool = False, include_yanked: bool = False) -> list[Version]:
    """Every recorded release of ``dist`` (pre-releases included), in version order or in upload order; []
    when the distribution is not recorded."""
    return list(_sorted_releases(_dist(dist), by_upload, include_yanked))


@lru_cache(maxsize=None)
def _sorted_releases(dist: str, by_upload: bool, include_yanked: bool) -> tuple[Version, ...]:
    # Every project model asks this many times over: sort once.
    out = [v for v, _, _, yanked in _releases(dist) or () if include_yanked or not yanked]
    return tuple(out if by_upload else sorted(out))


@lru_cache(maxsize=None)
def _release_index(dist: str) -> dict[Version, tuple[str, str]]:
    # A project model asks Requires-Python of every release of a distribution it resolves: a scan of the
    # releases per question made that quadratic. The first record of an equal version wins, as the scan did.
    out: dict[Version, tuple[str, str]] = {}
    for rv, day, rp, _ in _releases(dist) or ():
        out.setdefault(rv, (day, rp))
    return out


def uploaded(dist: str, version: VersionLike) -> str | None:
    """The day (YYYY-MM-DD) ``dist`` ``version`` was first uploaded."""
    found = _release_index(_dist(dist)).get(_version(version))
    return (found[0] or None) if found else None


def requires_python(dist: str, version: VersionLike) -> SpecifierSet | None:
    """Requires-Python of ``dist`` ``version`` (an empty SpecifierSet when it declares none), None if the
    release is not recorded."""
    found = _release_index(_dist(dist)).get(_version(version))
    return _specifier(found[1]) if found else None


@lru_cache(maxsize=None)
def _specifier(text: str) -> SpecifierSet:
    # Few distinct Requires-Python texts serve thousands of releases; callers only read the set.
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return SpecifierSet()


def allowed(dist: str, spec: SpecifierSet | str, *, python: str | None = None,
            prereleases: bool | None = None) -> list[Version]:
    """The recorded, not yanked releases of ``dist`` that ``spec`` allows (and whose Requires-Python allows
    ``python``, e.g. "3.12"), oldest first."""
    s = spec if isinstance(spec, SpecifierSet) else SpecifierSet(spec)
    d = _dist(dist)
    out = list(s.filter(releases(d), prereleases=prereleases))
    if python is not None:
        py = Version(python)
        if len(py.release) == 2:
            # "3.8" runs as the series' newest patch release (the image's python:3.8 is 3.8.20): Requires-Python
            # ">=3.8.1" (uvloop 0.22) allows it
            py = Version(f"{python}.99")
        out = [v for v in out if py in (requires_python(d, v) or SpecifierSet())]
    return sorted(out)


def newest_allowed(dist: str, spec: SpecifierSet | str, *, python: str | None = None) -> Version | None:
    """The newest release of ``dist`` that ``spec`` allows (what pip picks with nothing else in the way)."""
    cands = allowed(dist, spec, python=python)
    return cands[-1] if cands else None


# --------------------------------------------------------------------------------------------------------------
# Import names -> distributions
# --------------------------------------------------------------------------------------------------------------


def distributions_of(import_name: str) -> tuple[str, ...]:
    """Every recorded distribution that provides the top-level import name (``psycopg2`` ->
    ``("psycopg2-binary", "psycopg2")``), the usual one first. A dotted name is looked up by its first part."""
    top = import_name.split(".", 1)[0]
    return tuple(_load("modules.json")["modules"].get(top, ()))


@lru_cache(maxsize=None)
def imports_of(dist: str) -> frozenset[str]:
    """The top-level import names the tables say ``dist`` provides (``psycopg2-binary`` -> ``psycopg2``)."""
    d = _dist(dist)
    return frozenset(m for m, dists in _load("modules.json")["modules"].items() if d in {_dist(x) for x in dists})


@lru_cache(maxsize=None)
def _named() -> frozenset[str]:
    return frozenset(_dist(d) for dists in _load("modules.json")["modules"].values() for d in dists) \
        | frozenset(_load("releases.json")["dists"])


def requires_recorded(dist: str) -> bool | None:
    """Whether the tables record what ``dist`` requires: True; False for a distribution they know by name
    only (fastapi-users: what it brings is unknown); None for one they do not know at all."""
    d = _dist(dist)
    if d in _load("requires.json")["dists"]:
        return True
    return False if d in _named() else None


def distribution_of(import_name: str) -> str | None:
    """The distribution that usually provides ``import_name`` (``jose`` -> ``python-jose``), None if unknown."""
    dists = distributions_of(import_name)
    return dists[0] if dists else None


# --------------------------------------------------------------------------------------------------------------
# Wheels
# --------------------------------------------------------------------------------------------------------------


def wheel_pythons(dist: str, version: VersionLike) -> tuple[str, ...] | None:
    """The CPython versions ("3.8" ... "3.14") with a manylinux x86_64 wheel of ``dist`` ``version`` (None if
    not recorded)."""
    table = _load("wheels.json")["dists"].get(_dist(dist))
    if table is None:
        return None
    v = _version(version)
    for key, value in table.items():
        if Version(key) == v:
            return tuple(p for p in value.split() if p != "sdist")
    return None


def has_wheel(dist: str, version: VersionLike, python: str) -> bool | None:
    """Whether ``dist`` ``version`` has a manylinux x86_64 wheel for CPython ``python`` ("3.13"), so pip needs
    no compiler; None when the release or the Python version is not recorded."""
    pys = wheel_pythons(dist, version)
    if pys is None:
        return None
    if python not in _load("wheels.json")["pythons"]:
        return None
    return python in pys
