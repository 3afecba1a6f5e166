"""The dependency versions a project really installs: what its files declare, what its lock files pin, and
what the declared packages themselves allow (sqlmodel 0.0.8 caps SQLAlchemy at 1.4.41 without the project
ever naming SQLAlchemy).

Read from `requirements*.txt` (following `-r` and `-c`), `pyproject.toml` (PEP 621 and Poetry), `Pipfile`,
and the lock files `uv.lock`, `poetry.lock`, `pdm.lock`, `Pipfile.lock`. A locked version is the answer;
otherwise the answer is the newest release the declarations allow, as a fresh `pip install` would pick, taken
from the release tables generated from the package index (`fixer.tables`).
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fixer.discover import requirements
from fixer.discover.config import read_toml

_REQUIREMENTS_NAME = re.compile(r"(?:.*[-_.])?requirements?(?:[-_.].*)?\.(?:txt|in)$|constraints?\.txt$")
_REQUIREMENTS_FOLDERS = ("requirements", "reqs")
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")


def is_dependency_file(path: str) -> bool:
    name = posixpath.basename(path)
    # `requirements/base.txt`: a folder of requirements files, one per environment, is as common as the flat names.
    in_requirements_folder = posixpath.basename(posixpath.dirname(path)) in _REQUIREMENTS_FOLDERS
    return (
        bool(_REQUIREMENTS_NAME.fullmatch(name))
        or (in_requirements_folder and name.endswith((".txt", ".in")))
        or name in ("pyproject.toml", "Pipfile", *LOCK_FILES)
    )


@dataclass(frozen=True)
class Versions:
    """Effective versions by canonical distribution name; a name missing is one nothing installs, or unknown."""

    declared: Mapping[str, str] = field(default_factory=dict)  # name -> the specifier set as declared ("" = any)
    locked: Mapping[str, str] = field(default_factory=dict)  # name -> version a lock file pins
    effective: Mapping[str, str] = field(default_factory=dict)  # name -> the version that installs
    why: Mapping[str, str] = field(default_factory=dict)  # name -> how `effective` was decided, for reports
    files: tuple[str, ...] = ()  # the dependency files read
    # What other install routes give (requirements files beside a lock file): name -> version, per route.
    alternatives: tuple[Mapping[str, str], ...] = ()
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> the extras declared with it
    python: str | None = None  # the CPython the markers were evaluated for (None: the one running fixer)

    def version(self, dist: str) -> Version | None:
        value = self.effective.get(canonicalize_name(dist))
        return Version(value) if value else None

    def installable(self, dist: str) -> list[Version]:
        """The version of `dist` each install route gives (the lock's, and beside a lock a fresh install's)."""
        name = canonicalize_name(dist)
        return [Version(route[name]) for route in (self.effective, *self.alternatives) if route.get(name)]

    def supports(self, dist: str, specifier: str) -> bool:
        """Whether every version that installs (by any route) satisfies `specifier`; True when fixer cannot tell
        (no version known): a rule is held back only by what the project shows, never by what fixer does not know."""
        spec = SpecifierSet(specifier)
        return all(spec.contains(version, prereleases=True) for version in self.installable(dist))

    def may_install(self, dist: str, specifier: str) -> bool:
        """Whether some install route gives a version that satisfies `specifier` (True when unknown)."""
        versions = self.installable(dist)
        spec = SpecifierSet(specifier)
        return not versions or any(spec.contains(version, prereleases=True) for version in versions)

    def declares(self, dist: str) -> bool:
        return canonicalize_name(dist) in self.declared

    def judged_against(self, *dists: str) -> str:
        """`SQLAlchemy 1.4.41 (sqlmodel==0.0.8 requires SQLAlchemy<=1.4.41)`: a finding's version evidence."""
        parts = []
        for dist in dists:
            name = canonicalize_name(dist)
            if name in self.effective:
                part = f"{dist} {self.effective[name]} ({self.why.get(name, 'newest release allowed')})"
                others = sorted({route[name] for route in self.alternatives if route.get(name, self.effective[name]) != self.effective[name]})
                if others:
                    part += f", {', '.join(others)} on a fresh install that ignores the lock"
                parts.append(part)
        return "; ".join(parts)


# ---------------------------------------------------------------------------------------------------
# Reading the files.


def poetry_specifier(value: object) -> str:
    """Poetry's constraint syntax (`^1.4`, `~1.4.2`, `1.4.*`, `>=1,<2`, `1.4.3`) as a PEP 440 specifier set."""
    if isinstance(value, dict):
        value = value.get("version", "*")
    if not isinstance(value, str):
        return ""
    out = []
    for part in value.replace(" ", "").split(","):
        if part in ("", "*"):
            continue
        if part[0] in "^~" and part[:2] != "~=":
            base = part[1:]
            numbers = [int(n) for n in re.findall(r"\d+", base)[:3]] or [0]
            if part[0] == "^":
                first = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
                upper = numbers[: first + 1]
            else:
                upper = numbers[:2] if len(numbers) > 1 else numbers[:1]
            upper[-1] += 1
            out += [f">={base}", "<" + ".".join(map(str, upper))]
        elif part[0].isdigit():
            out.append(f"=={part}")
        else:
            out.append(part)
    return ",".join(out)


def environment(python: str | None) -> dict[str, str]:
    """PEP 508 marker variables of a fresh install on CPython `python` ("3.13"; None: the one running fixer) on
    x86_64 Linux, where the backend is deployed: a requirement marked `python_version >= "3.13"` (what
    `poetry export` writes on every line) installs there whatever Python fixer itself runs on."""
    if python is None:
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {"python_version": python, "python_full_version": python + ".0", "platform_machine": "x86_64",
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def holds(marker: Marker, env: Mapping[str, str], extras: Iterable[str] = ()) -> bool:
    """Whether a requirement with `marker` installs in `env`, asked with `extras`; an unknown variable counts
    the requirement, as most installs will."""
    return _holds(marker, tuple(env.items()), frozenset(extras))


# The release tables repeat a few markers over thousands of requirements: each is evaluated once a run.
@lru_cache(maxsize=4096)
def _holds(marker: Marker, env: tuple[tuple[str, str], ...], extras: frozenset[str]) -> bool:
    try:
        return any(marker.evaluate({**dict(env), "extra": extra}) for extra in ({""} | extras))
    except Exception:
        return True


@dataclass
class _Collected:
    declared: dict[str, SpecifierSet] = field(default_factory=dict)
    extras: dict[str, set[str]] = field(default_factory=dict)
    locked: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    python: str | None = None  # the CPython the markers are evaluated for

    @property
    def env(self) -> dict[str, str]:
        return environment(self.python)

    def declare(self, name: str, specifier: str, extras: Iterable[str] = ()) -> None:
        key = canonicalize_name(name)
        try:
            spec = SpecifierSet(specifier)
        except InvalidSpecifier:
            spec = SpecifierSet()
        self.declared[key] = self.declared.get(key, SpecifierSet()) & spec
        self.extras.setdefault(key, set()).update(canonicalize_name(e) for e in extras)

    def requirement(self, text: str) -> None:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            return
        if req.marker is not None and not holds(req.marker, self.env):
            return
        self.declare(req.name, str(req.specifier), req.extras)


def collect(read: Callable[[str], str | None], paths: Iterable[str], python: str | None = None) -> _Collected:
    """Every dependency file among `paths` (relative, POSIX), read with `read` (None: unreadable); markers
    evaluated for CPython `python` (`environment`)."""
    found = _Collected(python=python)
    queue = sorted(p for p in paths if is_dependency_file(p))
    seen: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        text = read(path)
        if text is None:
            continue
        found.files.append(path)
        name = posixpath.basename(path)
        try:
            if name == "pyproject.toml":
                _pyproject(read_toml(text), found)
            elif name == "Pipfile":
                for key, value in read_toml(text).get("packages", {}).items():
                    found.declare(key, poetry_specifier(value) if value != "*" else "")
            elif name == "Pipfile.lock":
                for key, value in json.loads(text).get("default", {}).items():
                    if isinstance(value, dict) and str(value.get("version", "")).startswith("=="):
                        found.locked[canonicalize_name(key)] = value["version"][2:]
            elif name in LOCK_FILES:
                packages = [p for p in read_toml(text).get("package", []) if isinstance(p, dict) and "name" in p]
                synced = _uv_synced(packages, read(posixpath.join(posixpath.dirname(path), "pyproject.toml"))) \
                    if name == "uv.lock" else None
                for package in packages:
                    if "version" in package and (synced is None or canonicalize_name(package["name"]) in synced):
                        found.locked[canonicalize_name(package["name"])] = str(package["version"])
            else:
                for kind, value in requirements.entries(text):
                    if kind == "req":
                        found.requirement(value)
                    else:
                        queue.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), value)))
        except Exception:  # a file that does not parse declares nothing; the rules that edit it say so
            continue
    return found


def _uv_synced(packages: list[dict], pyproject: str | None) -> set[str] | None:
    """The packages of a uv.lock that `uv sync` installs (None: not known, every package counts): the project's
    own dependencies and its default groups' (`dev` unless `tool.uv.default-groups` names others), with the
    extras asked for. A group uv does not sync by default (`testing = ["psycopg2-binary"]`) does not install."""
    try:
        groups = read_toml(pyproject).get("tool", {}).get("uv", {}).get("default-groups", ["dev"]) if pyproject else ["dev"]
    except Exception:
        return None
    graph = {canonicalize_name(p["name"]): p for p in packages}
    roots = [p for p in packages if isinstance(p.get("source"), dict) and {"virtual", "editable"} & set(p["source"])]
    if not roots or not isinstance(groups, (list, str)):
        return None
    queue: list[tuple[str, str]] = []  # (name, extra: "" for its plain dependencies)
    for root in roots:
        queue.append((canonicalize_name(root["name"]), ""))
        for group, items in (root.get("dev-dependencies") or {}).items():
            if groups == "all" or group in groups:
                queue += [(canonicalize_name(i["name"]), "") for i in items if isinstance(i, dict) and "name" in i]
    seen: set[tuple[str, str]] = set()
    while queue:
        name, extra = queue.pop()
        if (name, extra) in seen or name not in graph:
            continue
        seen.add((name, extra))
        package = graph[name]
        items = package.get("dependencies", []) if not extra else (package.get("optional-dependencies") or {}).get(extra, [])
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and "name" in item:
                dep = canonicalize_name(item["name"])
                queue += [(dep, ""), *((dep, canonicalize_name(e)) for e in item.get("extra", []))]
    return {name for name, _ in seen}


def _pyproject(doc: dict, found: _Collected) -> None:
    for text in doc.get("project", {}).get("dependencies", []) or []:
        if isinstance(text, str):
            found.requirement(text)
    poetry = doc.get("tool", {}).get("poetry", {})
    for key, value in (poetry.get("dependencies") or {}).items():
        if canonicalize_name(key) != "python":
            extras = value.get("extras", []) if isinstance(value, dict) else []
            found.declare(key, poetry_specifier(value), extras)


# ---------------------------------------------------------------------------------------------------
# Deciding what installs.


def resolve(found: _Collected, python: str | None = None) -> Versions:
    """The versions each install route gives: the lock file's, and beside a lock what the declared ranges give a
    fresh install (`pip install .` or `pip install -r requirements.txt` in a Dockerfile ignore the lock). With
    `python` ("3.10"), only releases whose Requires-Python allows it (what pip on that CPython picks)."""
    effective, why = _route(found, found.locked, python)
    routes = [effective]
    if found.locked:
        routes.append(_route(found, {}, python)[0])
    return Versions(
        declared={k: str(v) for k, v in found.declared.items()},
        locked=dict(found.locked),
        effective=effective,
        why=why,
        files=tuple(found.files),
        alternatives=tuple(routes[1:]),
        extras={k: tuple(sorted(v)) for k, v in found.extras.items() if v},
        python=found.python,
    )


def _route(found: _Collected, locked: Mapping[str, str], python: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    from fixer import tables

    chosen: dict[str, Version] = {}
    why: dict[str, str] = {}
    for name, spec in found.declared.items():
        if name in locked:
            continue
        version = _newest_compatible(name, spec, found, tables, python)
        if version is not None:
            chosen[name] = version
    # What the chosen versions require of others caps those others (sqlmodel 0.0.8 -> SQLAlchemy<=1.4.41).
    caps: dict[str, SpecifierSet] = {}
    cap_reasons: dict[str, list[str]] = {}
    for name, version in list(chosen.items()) + [(n, _version(v)) for n, v in locked.items()]:
        if version is None:
            continue
        for req in _requires(tables, name, version, found.extras.get(name, set()), found.env):
            other = canonicalize_name(req.name)
            caps[other] = caps.get(other, SpecifierSet()) & req.specifier
            if str(req.specifier):
                cap_reasons.setdefault(other, []).append(f"{name} {version} requires {req.name}{req.specifier}")
    effective: dict[str, str] = {}
    for name in sorted(set(found.declared) | set(caps) | set(locked)):
        if name in locked:
            effective[name] = locked[name]
            why[name] = "locked"
            continue
        spec = found.declared.get(name, SpecifierSet()) & caps.get(name, SpecifierSet())
        version = tables.newest_allowed(name, spec, python=python) or (
            tables.newest_allowed(name, spec) if python else None)
        if version is None:
            pinned = _exact_pin(spec)
            if pinned is None:
                continue
            version = pinned
        effective[name] = str(version)
        reasons = ([f"declared {name}{found.declared[name]}"] if str(found.declared.get(name, "")) else [])
        reasons += cap_reasons.get(name, [])
        why[name] = "; ".join(reasons) if reasons else "newest release"
    return effective, why


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _exact_pin(spec: SpecifierSet) -> Version | None:
    for item in spec:
        if item.operator in ("==", "===") and "*" not in item.version:
            return _version(item.version)
    return None


def _requires(tables, name: str, version: Version, extras: set[str], env: Mapping[str, str]) -> list[Requirement]:
    return [req for req in tables.requires(name, version) or [] if req.marker is None or holds(req.marker, env, extras)]


def _newest_compatible(name: str, spec: SpecifierSet, found: _Collected, tables,
                       python: str | None = None) -> Version | None:
    """The newest release `spec` allows whose own requirements agree with what the project declares of those
    packages: pip backtracks to it when the newest one conflicts (an unpinned sqlmodel beside SQLAlchemy 1.4)."""
    allowed = list(spec.filter(reversed(tables.releases(name))))
    if python:
        runs = [v for v in allowed if Version(python) in (tables.requires_python(name, v) or SpecifierSet())]
        allowed = runs or allowed  # none recorded for that CPython: the tables' newest stands
    for version in allowed[:80]:
        if all(_agrees(req, found, tables) for req in _requires(tables, name, version, found.extras.get(name, set()), found.env)):
            return version
    return allowed[0] if allowed else _exact_pin(spec)


def _agrees(req: Requirement, found: _Collected, tables) -> bool:
    other = canonicalize_name(req.name)
    declared = found.declared.get(other)
    if other in found.locked:
        version = _version(found.locked[other])
        return version is None or req.specifier.contains(version, prereleases=True)
    if declared is None:
        return True
    # pip installs a yanked release only when pinned to it exactly (SQLAlchemy==1.4.34).
    releases = tables.releases(other, include_yanked=_exact_pin(declared) is not None)
    if not releases:
        return True
    both = declared & req.specifier
    return any(both.contains(v) for v in releases)
