"""The distributions the app's own code needs installed: what its live modules import, and what the features
they use load on demand (pydantic's `EmailStr` loads email-validator, FastAPI's forms load python-multipart,
a `sqlite+aiosqlite://` engine loads aiosqlite).

Read from the import lines the module graph already holds (no parse): an import written at the top level of a
module runs when the module loads; one written indented (in a function, under `try:` or `if TYPE_CHECKING:`)
may never run, so it is a need that is `guarded`. Only modules the server imports (role live) count: a test's
or a script's imports are not the server's.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from fixer.model.modules import ModuleGraph, Role

# Names whose use loads a distribution the package itself does not require (its optional extra): the import
# that names them, and the distribution, with the catalogue ID of the failure.
FEATURES: Mapping[str, tuple[str, str]] = {
    "pydantic.EmailStr": ("email-validator", "DEP-EMAIL"),
    "pydantic.NameEmail": ("email-validator", "DEP-EMAIL"),
    "pydantic.networks.EmailStr": ("email-validator", "DEP-EMAIL"),
    "pydantic.BaseSettings": ("pydantic-settings", "DEP-BASESETTINGS"),  # on pydantic 2 (FX021 judges)
    "pydantic.env_settings.BaseSettings": ("pydantic-settings", "DEP-BASESETTINGS"),
    "fastapi.Form": ("python-multipart", "DEP-MULTIPART"),
    "fastapi.File": ("python-multipart", "DEP-MULTIPART"),
    "fastapi.UploadFile": ("python-multipart", "DEP-MULTIPART"),
    "fastapi.security.OAuth2PasswordRequestForm": ("python-multipart", "DEP-MULTIPART"),
    "fastapi.security.OAuth2PasswordRequestFormStrict": ("python-multipart", "DEP-MULTIPART"),
}
# Imports whose absence the defect catalogue records as a failure of its own.
IMPORT_DEFECTS: Mapping[str, str] = {"jose": "DEP-JWT-LIB", "jwt": "DEP-JWT-LIB"}
# Other distributions that provide what a feature loads (the `multipart` distribution is the module FastAPI
# fell back to before python-multipart 0.0.13 took the name `python_multipart`).
ALSO_PROVIDED_BY: Mapping[str, tuple[str, ...]] = {"python-multipart": ("multipart",)}
# Features that load their distribution only when pydantic builds a schema holding them (a model field, a
# route parameter or response model), not when imported: `from pydantic import EmailStr` alone works.
_SCHEMA_FEATURES = frozenset({"EmailStr", "NameEmail"})
_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_route", "websocket", "options", "head"})


@dataclass(frozen=True)
class Need:
    dist: str  # canonical distribution name
    module: str  # the import (or the feature's name) that needs it
    path: str  # the live module that imports it
    guarded: bool  # only imported indented: the module loads without it
    defect: str = ""  # catalogue ID when a feature, not an import, needs it

    @property
    def shown(self) -> str:
        return f"{self.path} imports {self.module}" + (" (indented: may never run)" if self.guarded else "")


def collect(
    graph: ModuleGraph,
    roles: Mapping[str, Role],
    sqlite_async: Iterable[str] = (),
    read_text: Callable[[str], str | None] | None = None,
) -> tuple[Need, ...]:
    """Every need of the live modules, one per (distribution, module, path); `sqlite_async` are the live
    modules that build a `sqlite+aiosqlite://` engine; `read_text` reads a module's source, to tell whether an
    imported `EmailStr` is used where a schema is built (without it, an import counts as a use)."""
    from fixer import tables

    found: dict[tuple[str, str, str], Need] = {}

    def add(need: Need) -> None:
        key = (need.dist, need.module, need.path)
        old = found.get(key)
        if old is None or (old.guarded and not need.guarded):
            found[key] = need

    stdlib = frozenset(sys.stdlib_module_names) | {"__future__"}
    for path, module in sorted(graph.modules.items()):
        if roles.get(path, Role.LIVE) is not Role.LIVE:
            continue
        for dotted in module.imports:
            guarded = dotted in module.indented
            feature = FEATURES.get(dotted)
            if feature is not None:
                name = dotted.rpartition(".")[2]
                used = _schema_use(read_text(path), name) if read_text and name in _SCHEMA_FEATURES else "top"
                if used is not None:
                    add(Need(feature[0], name, path, guarded or used == "nested", feature[1]))
            # a package's module that loads a distribution its package requires only through an extra
            # (starlette's SessionMiddleware signs its cookie with itsdangerous): importing it fails without it
            for dist, name in tables.loaded_at_import(dotted):
                add(Need(dist, name, path, guarded))
            top = dotted.partition(".")[0]
            if top in stdlib or graph.resolve(top) or dotted != top and graph.resolve(dotted):
                continue
            dist = tables.distribution_of(top)
            if dist is not None:
                add(Need(canonicalize_name(dist), top, path, guarded, IMPORT_DEFECTS.get(top, "")))
    for path in sqlite_async:
        if roles.get(path, Role.LIVE) is Role.LIVE:
            add(Need("aiosqlite", "sqlite+aiosqlite://", path, False, "URL-SQLITE"))
    return tuple(found.values())


def predicted(needs: tuple[Need, ...], failures: Iterable) -> tuple[Need, ...]:
    """`needs` with each third-party import the startup prediction fails on (`fixer.model.startup.Failure`s of
    the family missing-dependency) that the import lines alone passed over: the module graph resolves a name by
    any suffix of a project path, so `import jwt` beside a project file `utils/jwt.py` looked first-party, while
    the walk, which follows the start's sys.path, finds no `jwt` there and fails on it."""
    from fixer import tables

    have = {(n.module, n.path) for n in needs}
    extra = []
    for failure in failures:
        if failure.family != "missing-dependency":
            continue
        module = failure.message.partition("'")[2].partition("'")[0].partition(".")[0]
        dist = tables.distribution_of(module) if module else None
        if dist is not None and (module, failure.path) not in have:
            have.add((module, failure.path))
            extra.append(Need(canonicalize_name(dist), module, failure.path, False, IMPORT_DEFECTS.get(module, "")))
    return needs + tuple(extra)


def _schema_use(source: str | None, name: str) -> str | None:
    """Where the module puts `name` (EmailStr) in a schema pydantic builds: "top" when one is built as the
    module loads (an annotated attribute of a class with bases, a model field; a parameter or the
    `response_model` of a route), "nested" when only inside a function, None when nowhere (or unreadable source
    counts as "top": a doubt keeps the need)."""
    if source is None:
        return "top"
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return "top"
    aliases = {name} | {
        alias.asname for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        for alias in node.names if alias.name == name and alias.asname
    }

    def names(node: ast.AST | None) -> bool:
        return node is not None and any(
            isinstance(n, ast.Name) and n.id in aliases or isinstance(n, ast.Attribute) and n.attr == name
            for n in ast.walk(node)
        )

    def routed(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        for d in func.decorator_list:
            if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in _ROUTE_METHODS:
                params = func.args.posonlyargs + func.args.args + func.args.kwonlyargs
                if any(names(a.annotation) for a in params) or any(names(k.value) for k in d.keywords if k.arg == "response_model"):
                    return True
        return False

    found: str | None = None

    def visit(body: list[ast.stmt], nested: bool) -> None:
        nonlocal found
        for node in body:
            if found == "top":
                return
            if isinstance(node, ast.ClassDef):
                model = any(not (isinstance(b, ast.Name) and b.id == "object") for b in node.bases)
                if model and any(isinstance(s, ast.AnnAssign) and names(s.annotation) for s in node.body):
                    found = "nested" if nested else "top"
                visit(node.body, nested)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if routed(node):
                    found = "nested" if nested else "top"
                visit(node.body, True)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        visit([n for n in inner if isinstance(n, ast.stmt)] + [
                            s for h in inner if isinstance(h, ast.ExceptHandler) for s in h.body
                        ], nested)

    visit(tree.body, False)
    return found


@dataclass(frozen=True)
class Installed:
    """What installs, as far as the tables know: the distributions the project declares or locks and, through
    their recorded Requires-Dist (extras included), what those pull in."""

    dists: frozenset[str] = frozenset()
    opaque: tuple[str, ...] = ()  # installed distributions whose requirements fixer does not know

    def has(self, dist: str) -> bool:
        name = canonicalize_name(dist)
        return name in self.dists or any(name in self.dists for name in ALSO_PROVIDED_BY.get(name, ()))


def installed(versions) -> Installed:
    """The closure of what `versions` (a `fixer.model.versions.Versions`) installs, on every route."""
    from packaging.version import InvalidVersion, Version

    from fixer import tables
    from fixer.model.versions import environment, holds

    env = environment(versions.python)
    direct = {canonicalize_name(name) for name in (*versions.declared, *versions.locked)}
    todo = [(name, route[name]) for route in (versions.effective, *versions.alternatives) for name in route]
    todo += [(name, None) for name in direct]
    seen: set[str] = set()
    opaque: set[str] = set()
    while todo:
        name, version = todo.pop()
        if name in seen and version is None:
            continue
        seen.add(name)
        if version is None:
            known = tables.releases(name)
            version = str(known[-1]) if known else None
        try:
            reqs = tables.requires(name, Version(version)) if version else None
        except InvalidVersion:
            reqs = None
        if reqs is None:
            if name in direct:
                opaque.add(name)
            continue
        extras = versions.extras.get(name, ())
        for req in reqs:
            if req.marker is not None and not holds(req.marker, env, extras):
                continue
            other = canonicalize_name(req.name)
            if other not in seen:
                todo.append((other, None))
    return Installed(frozenset(seen), tuple(sorted(opaque)))
