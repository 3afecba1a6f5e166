"""What a fresh install of the project gives: the distributions its dependency files install, with what those
require in turn (markers evaluated for the project's CPython), and the CPython it runs on. The startup walk
(`fixer.model.importwalk`) judges each import against it.
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer import tables
from fixer.model.conflicts import Conflict, conflicts

__all__ = ["InstallPlan", "Installed", "declared_at", "install_plan", "install_route", "installed", "project_python_version", "unbuildable",
           "unsatisfiable"]


@dataclass(frozen=True)
class Installed:
    versions: dict[str, Version]  # canonical name -> version (None-free: unknown versions are left out)
    names: frozenset[str]  # every distribution that installs, versions known or not
    known: bool  # the project declares its dependencies at all (otherwise nothing can be said to be missing)
    opaque: frozenset[str] = frozenset()  # distributions that install whose requirements the tables do not know
    lock: str | None = None  # the lock file the documented install syncs (`poetry install`, `uv sync`), if it does
    files: tuple[str, ...] = ()  # the dependency files the install reads

    def has(self, dist: str) -> bool:
        return canonicalize_name(dist) in self.names

    def version(self, dist: str) -> Version | None:
        return self.versions.get(canonicalize_name(dist))

    def provides(self, import_name: str) -> bool | None:
        """Whether some distribution that installs provides the top-level import name (None: unknown name)."""
        dists = tables.distributions_of(import_name)
        if not dists:
            # Not in the tables: most distributions are named as they import (slowapi, fastapi-mail).
            return True if canonicalize_name(import_name) in self.names else None
        if any(self.has(d) for d in dists):
            return True
        return None if self.may_bring(import_name) else False

    def may_bring(self, import_name: str) -> tuple[str, ...]:
        """The installed distributions whose requirements fixer does not know that plausibly bring the module."""
        dists = tables.distributions_of(import_name)
        return tuple(sorted(o for o in self.opaque if any(_may_bring(o, d) for d in dists)))


# PostgreSQL's DBAPI drivers: libraries leave the choice to the application (SQLAlchemy lists them as extras).
_DRIVERS = frozenset({"psycopg", "psycopg-binary", "psycopg2", "psycopg2-binary", "asyncpg", "pg8000"})


def _tokens(name: str) -> tuple[str, ...]:
    return tuple(canonicalize_name(name).split("-"))


def _names(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    return any(outer[i:i + len(inner)] == inner for i in range(len(outer) - len(inner) + 1))


def _may_bring(unknown: str, dist: str) -> bool:
    """Whether a distribution whose requirements fixer does not know plausibly installs `dist`: its name names
    `dist`, a recorded distribution that requires `dist` (fastapi-users-db-sqlmodel: sqlmodel, hence
    sqlalchemy), or another distribution the tables know by name only (fastapi-users), which may bring
    anything. A distribution named nowhere (argon2-cffi beside slowapi) stays missing."""
    own = _tokens(unknown)
    if any(_names(own, _tokens(name)) for name in (dist, *tables.required_by(dist))):
        return True
    if canonicalize_name(dist) in _DRIVERS:
        return False  # a database driver is the application's choice: no plugin brings one it does not name
    # a plugin named after a framework the tables know by name only: what that framework brings is unknown too.
    # Another build of the same package (psycopg2-binary beside psycopg2: the same import names) plugs into nothing.
    imports = tables.imports_of(unknown)
    return any(tables.requires_recorded(host := "-".join(own[:j])) is False
               and not (imports and imports == tables.imports_of(host)) for j in range(1, len(own)))


def installed(read_text: Callable[[str], str | None], paths: Iterable[str], python: str,
              route: Iterable[str] | None = None, start_file: str | None = None) -> Installed:
    """The distributions the project's dependency files install, with what those require in turn (markers
    evaluated for CPython `python` on x86_64 Linux, the extras asked for included). `route`: the dependency
    files the install reads (default: `install_route` for the start documented in `start_file`)."""
    from fixer.model import versions as versions_model

    paths = list(paths)
    plan = install_plan(read_text, paths, start_file) if route is None else None
    files = list(route) if route is not None else plan.route(paths)
    found = versions_model.collect(read_text, files, python)
    resolved = versions_model.resolve(found, python)
    env = versions_model.environment(python)
    chosen: dict[str, Version] = {n: Version(v) for n, v in resolved.effective.items()}
    opaque: set[str] = set()
    names: set[str] = set(resolved.declared) | set(chosen) | set(resolved.locked)
    queue = [(n, found.extras.get(n, set())) for n in sorted(names)]
    seen: set[tuple[str, frozenset[str]]] = set()
    asked: dict[str, set[str]] = {}  # the extras each distribution is installed with
    while queue:
        name, extras = queue.pop()
        key = (name, frozenset(extras))
        if key in seen:
            continue
        seen.add(key)
        asked.setdefault(name, set()).update(extras)
        version = chosen.get(name)
        if version is None:
            newest = tables.releases(name)
            version = newest[-1] if newest else None
        requirements = tables.requires(name, version) if version is not None else None
        if requirements is None and not tables.requires_recorded(name):
            opaque.add(name)  # one whose other releases are recorded is no stranger
        if requirements is None:
            # Requirements not recorded: an extra is most often named after the distribution it adds
            # (passlib[bcrypt], python-jose[cryptography]), and a plugin after what it plugs into.
            names.update(canonicalize_name(extra) for extra in extras)
            for host in _named_after(name):
                if host not in names:
                    names.add(host)
                    pick = tables.newest_allowed(host, SpecifierSet())
                    if pick is not None:
                        chosen.setdefault(host, pick)
                    queue.append((host, set()))
        for req in requirements or []:
            if req.marker is not None and not versions_model.holds(req.marker, env, extras):
                continue
            other = canonicalize_name(req.name)
            names.add(other)
            if other not in chosen:
                pick = tables.newest_allowed(other, req.specifier, python=python) or tables.newest_allowed(other, req.specifier)
                if pick is not None:
                    chosen[other] = pick
            queue.append((other, set(req.extras)))
    if "pyproject.toml" in files:
        # `pip install .` ignores the lock's versions, but the lock's graph says what packages the tables do not
        # record depend on (PyYAML under some framework); the recorded ones are the tables' to answer.
        locked = _lock_closure(read_text, paths, asked,
                               lambda name: name in chosen and tables.requires(name, chosen[name]) is not None)
        names |= locked
        if locked:
            opaque.clear()  # the lock's graph says what those bring
    return Installed(chosen, frozenset(names), bool(resolved.files), frozenset(opaque),
                     plan.file if plan is not None and plan.kind == "lock" else None, tuple(found.files))


def _named_after(name: str) -> list[str]:
    """The recorded distributions an unrecorded one is named after, which it is taken to require:
    fastapi-users-db-sqlmodel (sqlmodel, fastapi), fastmcp (mcp), flask-sqlalchemy. Type stubs require nothing."""
    if name.startswith("types-") or name.endswith("-stubs") or tables.releases(name):
        return []
    tokens = name.split("-")
    return [host for host in tables.recorded_distributions() if host != name and (
        host in tokens or "-" not in host and len(host) >= 3 and name.endswith(host) and len(name) - len(host) <= 4)]


def _lock_edges(items) -> list[tuple[str, set[str]]]:
    """A lock file's dependency list (uv: `{name, extra}` tables; poetry: `name = spec` or `"name (spec)"`)."""
    edges = []
    for item in items if isinstance(items, list) else list(items):
        if isinstance(item, dict):
            edges.append((canonicalize_name(item["name"]), set(item.get("extra", []))))
        elif isinstance(item, str) and item.strip():
            edges.append((canonicalize_name(item.split()[0]), set()))
    return edges


def _lock_closure(read_text: Callable[[str], str | None], paths: list[str], start: dict[str, set[str]],
                  recorded: Callable[[str], bool]) -> set[str]:
    """What the packages in `start` (name -> extras) pull in by uv.lock's or poetry.lock's dependency graph, not
    following the packages `recorded` says the tables know."""
    from fixer.discover.config import read_toml

    graph: dict[str, list[tuple[str, set[str]]]] = {}  # name -> (dependency, its extras)
    extras: dict[tuple[str, str], list[tuple[str, set[str]]]] = {}
    for lock in ("uv.lock", "poetry.lock"):
        text = read_text(lock) if lock in paths else None
        if not text:
            continue
        try:
            packages = read_toml(text).get("package", [])
        except Exception:
            continue
        for package in packages:
            if not isinstance(package, dict) or "name" not in package:
                continue
            name = canonicalize_name(package["name"])
            graph[name] = _lock_edges(package.get("dependencies", []))
            for extra, items in (package.get("optional-dependencies") or package.get("extras") or {}).items():
                extras[(name, canonicalize_name(extra))] = _lock_edges(items)
    out: set[str] = set()
    seen: set[tuple[str, str]] = set()
    queue = [(name, {""} | set(wanted)) for name, wanted in start.items()]
    while queue:
        name, wanted = queue.pop()
        out.add(name)
        if recorded(name):
            continue
        for extra in wanted:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            edges = graph.get(name, []) if extra == "" else extras.get((name, canonicalize_name(extra)), [])
            queue.extend((dep, {""} | dep_extras) for dep, dep_extras in edges)
    return out


@dataclass(frozen=True)
class InstallPlan:
    """How the documented start installs the project: `kind` is "lock" (a Dockerfile's or README's `uv sync`,
    `poetry install`: the lock's versions), "requirements" (`pip install -r FILE`), "pyproject" (`pip install .`,
    which ignores lock files) or "none"; `file` the requirements file or lock; `why` says where that is written."""

    kind: str
    file: str | None
    why: str

    def route(self, paths: list[str]) -> list[str]:
        """The dependency files this install reads."""
        from fixer.model.versions import LOCK_FILES

        if self.kind == "lock":
            return paths
        if self.kind == "requirements":
            return [self.file] if self.file else []
        return [p for p in paths if posixpath.basename(p) not in LOCK_FILES and "/" not in p]


_SYNC = re.compile(r"\b(?:uv\s+sync|poetry\s+(?:install|export)|pdm\s+(?:install|sync)|pipenv\s+(?:install|sync))\b")
_PIP_R = re.compile(r"\b(?:pip3?|uv\s+pip)\s+install\b[^\n]*?\s(?:-r|--requirement)[\s=]+([^\s;&|]+)")
_PIP_DOT = re.compile(r"\b(?:pip3?|uv\s+pip)\s+install\b[^\n]*?\s(?:-e\s+)?\.(?:\[[^\]]*\])?(?:\s|$)")
_SERVES = re.compile(r"\b(?:uvicorn|gunicorn|hypercorn|fastapi)\b")


def _written_install(text: str, paths: list[str], context: str | None,
                     read_text: Callable[[str], str | None]) -> InstallPlan | None:
    """The first install command a Dockerfile or README writes: a lock sync (or `poetry export` of the lock), `pip
    install -r FILE` of a file the tree has, or `pip install .`. `context`: a Dockerfile's build context, which
    the file it names is relative to (`../requirements.txt` for a Dockerfile above the backend); None for a
    document, whose paths are taken by their name."""
    found = []
    match = _SYNC.search(text)
    if match:
        lock = next((f for f in ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock") if f in paths), None)
        if lock:
            found.append((match.start(), InstallPlan("lock", lock, f"`{match.group(0)}` installs {lock}'s versions")))
    for match in _PIP_R.finditer(text):
        named = match.group(1).strip("\"'")
        target = posixpath.basename(named)
        if context is not None and not named.startswith(("/", "$")):
            beside = posixpath.normpath(posixpath.join(context, named))
            if beside in paths or beside.startswith("../") and read_text(beside) is not None:
                target = beside
        if target in paths or target.startswith("../"):
            found.append((match.start(), InstallPlan("requirements", target, f"`pip install -r {match.group(1)}`")))
            break
    match = _PIP_DOT.search(text)
    if match and "pyproject.toml" in paths:
        found.append((match.start(), InstallPlan("pyproject", "pyproject.toml", "`pip install .` ignores lock files")))
    return min(found, key=lambda pair: pair[0])[1] if found else None


def _built_by(read_text: Callable[[str], str | None], compose: str) -> list[tuple[str, str]]:
    """The Dockerfiles a compose file's services build, with their build contexts (relative to the backend)."""
    from fixer.discover.compose import NotYaml, load

    try:
        document = load(read_text(compose) or "")
    except NotYaml:
        return []
    services = document.get("services") if isinstance(document, dict) else None
    here = posixpath.dirname(compose)
    out = []
    # The service that runs the server first: a worker's image (celery on another Python) is not the start's.
    ordered = sorted((services.values() if isinstance(services, dict) else ()),
                     key=lambda service: not _SERVES.search(str(service.get("command") or "") + " "
                                                            + str(service.get("entrypoint") or ""))
                     if isinstance(service, dict) else True)
    for service in ordered:
        build = service.get("build") if isinstance(service, dict) else None
        context = build.get("context", ".") if isinstance(build, dict) else build
        dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        if isinstance(context, str) and isinstance(dockerfile, str) and not context.startswith("/") and "://" not in context and not context.startswith("git@"):
            context = posixpath.normpath(posixpath.join(here, context))
            out.append((posixpath.normpath(posixpath.join(context, dockerfile)), context))
    return out


def _install_files(read_text: Callable[[str], str | None], paths: list[str],
                   start_file: str | None) -> list[tuple[str, str | None]]:
    """The files that may write the documented start's install, first first, each with its build context when it
    is a Dockerfile: the start's own file (a compose file's: the Dockerfiles its services build), then the
    backend's Dockerfile."""
    candidates: list[tuple[str, str | None]] = []
    if start_file and posixpath.basename(start_file).startswith(("docker-compose", "compose")):
        candidates += _built_by(read_text, start_file)
        candidates.append((posixpath.join(posixpath.dirname(start_file), "Dockerfile"), posixpath.dirname(start_file)))
    if start_file:
        docker = "dockerfile" in posixpath.basename(start_file).lower()
        candidates.append((start_file, posixpath.dirname(start_file) if docker else None))
    candidates.append(("Dockerfile", ""))
    if "Dockerfile" not in paths and _copies_backend(read_text, paths, _outside(read_text, "../Dockerfile")):
        candidates.append(("../Dockerfile", ".."))
    seen: set[str] = set()
    return [(f, c) for f, c in candidates if f and (f in paths or f.startswith("../")) and not (f in seen or seen.add(f))]


def _outside(read_text: Callable[[str], str | None], path: str) -> str:
    """A file above the backend, which may not exist (a reader of the tree alone may raise for it)."""
    try:
        return read_text(path) or ""
    except OSError:
        return ""


_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(.+)$", re.M | re.I)


def _copies_backend(read_text: Callable[[str], str | None], paths: list[str], dockerfile: str) -> bool:
    """Whether a Dockerfile in the folder above the backend builds it: one of its COPY sources (read against
    that folder, its build context) is a dependency file of the backend (`COPY app/pyproject.toml /code/`
    beside `app/`), the same text."""
    from fixer.model.versions import is_dependency_file

    for match in _COPY.finditer(dockerfile):
        for source in [w for w in match.group(1).split() if not w.startswith("--")][:-1]:
            parts = posixpath.normpath(source.rstrip("*")).split("/")
            if len(parts) >= 2 and parts[0] not in ("..", ".", ""):
                inside = "/".join(parts[1:])
                if inside in paths and is_dependency_file(inside) and read_text(inside) == _outside(read_text, "../" + "/".join(parts)):
                    return True
    return False


def install_plan(read_text: Callable[[str], str | None], paths: list[str], start_file: str | None = None) -> InstallPlan:
    """The install the documented start uses: the one written in the file that documents the start
    (`start_file`: its Dockerfile, the Dockerfile its compose service builds, README), else the Dockerfile's,
    else a non-empty `requirements.txt` (with what it includes), else `pip install .` of the pyproject (which
    ignores locks)."""
    for candidate, context in _install_files(read_text, paths, start_file):
        text = read_text(candidate)
        plan = _written_install(text, paths, context, read_text) if text else None
        if plan is not None:
            return InstallPlan(plan.kind, plan.file, f"{plan.why} ({candidate})")
    requirements = read_text("requirements.txt") if "requirements.txt" in paths else None
    if requirements and any(line.strip() and not line.lstrip().startswith("#") for line in requirements.splitlines()):
        return InstallPlan("requirements", "requirements.txt", "requirements.txt, as pip installs it")
    documented = _documented_requirements(read_text, paths)
    if documented is not None:
        return documented
    if "pyproject.toml" in paths:
        return InstallPlan("pyproject", "pyproject.toml", "`pip install .`, which ignores lock files")
    return InstallPlan("none", None, "no dependency file")


_NOT_THE_APPS = re.compile(r"(?:^|[-_./])(?:test|tests|dev|lint|docs?|ci)(?:[-_.]|$)", re.I)
_MAIN_IN_FOLDER = ("base", "main", "common", "prod", "production", "requirements")


def _documented_requirements(read_text: Callable[[str], str | None], paths: list[str]) -> InstallPlan | None:
    """The app's requirements file where the backend has no requirements.txt: one a README or script documents
    installing (`pip install -r requirements/requirements.txt`), else the main file of a requirements folder
    (`requirements/base.txt` beside `requirements/test.txt`); a test or dev list is never the app's."""
    from fixer.model.installs import documented

    for file, document in sorted(documented(read_text, paths).items()):
        if not _NOT_THE_APPS.search(posixpath.basename(file)) and "/" not in posixpath.dirname(file):
            return InstallPlan("requirements", file, f"`pip install -r {file}` ({document})")
    for name in _MAIN_IN_FOLDER:
        for folder in ("requirements", "reqs"):
            if f"{folder}/{name}.txt" in paths:
                return InstallPlan("requirements", f"{folder}/{name}.txt", f"{folder}/{name}.txt, the main file of {folder}/")
    return None


def install_route(read_text: Callable[[str], str | None], paths: list[str], start_file: str | None = None) -> list[str]:
    """The dependency files the documented start's install reads (`install_plan`)."""
    return install_plan(read_text, paths, start_file).route(paths)


# SQLAlchemy's C extensions are optional: its source distribution installs without a compiler.
_BUILDS_WITHOUT_COMPILER = frozenset({"sqlalchemy"})


def unbuildable(have: Installed, python: str, read_text: Callable[[str], str | None],
                paths: list[str], start_file: str | None = None) -> list[tuple[str, Version, str, int]]:
    """The compiled distributions a fresh install picks at a version without a wheel for CPython `python`
    although other releases have one (pip then builds the source, which a slim image cannot): (distribution,
    version, the dependency file that declares it, its line; ("", 0) when only a requirement pulls it in)."""
    out = []
    for name, version in sorted(have.versions.items()):
        if name in _BUILDS_WITHOUT_COMPILER or tables.has_wheel(name, version, python) is not False:
            continue
        if not any(tables.has_wheel(name, v, python) for v in tables.releases(name)):
            continue
        out.append((name, version, *_declared_at(read_text, install_route(read_text, paths, start_file), name)))
    return out


_ENTRY = re.compile(r"\s*[\"']?([A-Za-z0-9_.-]+)")


def declared_at(read_text: Callable[[str], str | None], paths: list[str], start_file: str | None,
                name: str) -> tuple[str, int]:
    """The dependency file of the documented start's install, and its line, that declares `name` (("", 0) when
    only a requirement pulls it in)."""
    return _declared_at(read_text, install_route(read_text, paths, start_file), canonicalize_name(name))


def _declared_at(read_text: Callable[[str], str | None], files: Iterable[str], name: str) -> tuple[str, int]:
    """The first dependency file among `files`, and its line, whose entry names distribution `name`."""
    for file in files:
        for number, text in enumerate((read_text(file) or "").splitlines(), 1):
            match = _ENTRY.match(text)
            if match and canonicalize_name(match.group(1)) == name:
                return file, number
    return "", 0


def unsatisfiable(read_text: Callable[[str], str | None], paths: list[str], python: str,
                  start_file: str | None = None) -> list[Conflict]:
    """The declarations of the documented start's install that no release satisfies together
    (`fixer.model.conflicts`); none for an install from a lock, which a resolver wrote."""
    from fixer.model import versions as versions_model

    files = install_route(read_text, paths, start_file)
    found = versions_model.collect(read_text, files, python)
    if found.locked:
        return []
    return conflicts(found.declared, found.extras, python, lambda name: _declared_at(read_text, found.files, name))


def project_python_version(read_text: Callable[[str], str | None], paths: Iterable[str],
                           start_file: str | None = None) -> str:
    """The CPython the project runs on: `.python-version`, `runtime.txt`, the image of the Dockerfile the
    documented start builds (`start_file`; a compose service's `build:`), else of the backend's Dockerfile
    (`FROM python:X`, `FROM ghcr.io/astral-sh/uv:pythonX-bookworm-slim`, `tiangolo/uvicorn-gunicorn-fastapi:pythonX`),
    the lowest that `requires-python` or Poetry's `python = "^3.10"` allows, else the one running fixer."""
    from fixer.model import python as python_model

    paths = list(paths)
    image = re.compile(r"FROM\s+\S*\bpython[:-]?(3\.\d+)")
    for name, pattern in ((".python-version", re.compile(r"^(3\.\d+)", re.M)),
                          ("runtime.txt", re.compile(r"python-(3\.\d+)"))):
        if name in paths:
            match = pattern.search(read_text(name) or "")
            if match:
                return match.group(1)
    for dockerfile, _ in _install_files(read_text, paths, start_file):
        if "dockerfile" in posixpath.basename(dockerfile).lower():
            stages = image.findall(read_text(dockerfile) or "")
            if stages:
                return stages[-1]  # the last stage is the one that runs
    if "pyproject.toml" in paths:
        accepted = python_model.collect(read_text, ["pyproject.toml"]).accepted
        if str(accepted):
            for minor in range(9, 15):
                if f"3.{minor}" in accepted or f"3.{minor}.0" in accepted:
                    return f"3.{minor}"
    return f"{sys.version_info.major}.{sys.version_info.minor}"
