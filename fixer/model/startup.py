"""What happens when the server starts: the project's modules imported in the order Python imports them, from
each documented start (entrypoint + start folder), and the exceptions that import would raise, in order.

Nothing is run. Each module's top-level statements are walked in order with the standard library's `ast`
(function bodies are not executed at import; class bodies are; `if TYPE_CHECKING:` and
`if __name__ == "__main__":` are not), and each import is resolved as Python resolves it:

- against the folders on `sys.path` at that moment: the start folder, `PYTHONPATH`, `--app-dir`, and
  `sys.path.insert/append` calls executed before it (a package's `__init__` runs before its modules; a
  relative import needs the package its module was imported as part of);
- against what installs (`fixer.model.versions` and the Requires-Dist tables, markers evaluated for the
  project's Python): a third-party module whose distribution does not install raises ModuleNotFoundError;
- against what third-party modules export in the versions that install (`fixer.tables.exports`/`moved`).

A failure is recorded with the type and message Python prints, and the walk goes on as if it had been fixed,
so the list is the order in which a person would meet them: fix the first, start again, meet the second.
Settings that must come from the environment (a pydantic settings class instantiated at import with fields
without defaults) are named as requirements, not failures.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import posixpath
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer import tables
from fixer.model.database import DatabaseFlow
from fixer.model.entrypoints import StartPoint

__all__ = ["Failure", "Installed", "Prediction", "Startup", "analyse", "installed", "predict"]

# The rules that fix each family (the issue assigns FX020-FX025; FX001/FX004/FX005 are the driver/URL rules).
FIXED_BY = {
    "unresolved-import": "FX020",
    "relative-import": "FX020",
    "moved-name": "FX021",
    "async-import": "FX002",
    "missing-dependency": "FX023",
    "email-validator": "FX023",
    "multipart": "FX023",
    "greenlet": "FX001",
    "async-driver-url": "FX004",
    "sync-driver": "FX005",
    "async-driver": "FX001",
}
_GREENLET_ERROR = (
    "The SQLAlchemy asyncio module requires that the Python 'greenlet' library is installed.  In order to ensure "
    "this dependency is available, use the 'sqlalchemy[asyncio]' install target:  'pip install sqlalchemy[asyncio]'"
)
_MULTIPART_ERROR = 'Form data requires "python-multipart" to be installed.'  # first line, as logs show it
_EMAIL_ERROR = "email-validator is not installed, run `pip install 'pydantic[email]'`"
_FORM_NAMES = frozenset({"Form", "File", "UploadFile", "OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict"})
_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_route", "websocket", "options", "head"})
_ASYNC_MODULES = ("sqlalchemy.ext.asyncio", "sqlmodel.ext.asyncio")
# The variables hosting platforms (Heroku, Render, Railway, Neon, Vercel) set to a plain postgresql:// URL.
_PLATFORM_NAMES = re.compile(r"(?i)(?<![A-Za-z0-9])(?:DATABASE_URL|POSTGRES_URL)(?![A-Za-z0-9_])")


@dataclass(frozen=True)
class Failure:
    exception: str  # as Python prints it: ModuleNotFoundError, ImportError, pydantic.errors.PydanticImportError
    message: str  # the first line of the message, without the path in parentheses Python adds
    path: str  # the file whose statement raises, relative to the backend (POSIX)
    line: int
    family: str  # unresolved-import, missing-dependency, circular-import, ... (see FIXED_BY)
    chain: tuple[str, ...] = ()  # the import chain from the entry module to `path`
    detail: str = ""  # what it means, for the report
    cycle: tuple[str, ...] = ()  # circular imports: the modules in the cycle

    @property
    def fixed_by(self) -> str | None:
        return FIXED_BY.get(self.family)

    def __str__(self) -> str:
        return f"{self.exception}: {self.message}"


@dataclass(frozen=True)
class ImportFix:
    """An import that cannot resolve from the start folder, and the name the module it means has from there."""

    path: str
    line: int
    old: str  # the module as written, dots included: "core.config", ".routes"
    new: str  # "src.core.config", "routes"


@dataclass(frozen=True)
class Prediction:
    start: StartPoint
    failures: tuple[Failure, ...]
    required_env: tuple[str, ...] = ()  # settings fields without default read at import: set them
    order: tuple[str, ...] = ()  # project modules in the order the start imports them (paths)
    sys_path_edits: tuple[tuple[str, int, str, bool], ...] = ()  # (file, line, folder, exists)
    import_fixes: tuple[ImportFix, ...] = ()  # `from X import` lines to rewrite for this start (FX020)
    # Project modules imported inside the functions that create the tables (before create_all runs).
    late_order: tuple[str, ...] = ()
    # Modules the project's newer Python parses but this interpreter cannot (path, line, message): not walked.
    unchecked: tuple[tuple[str, int, str], ...] = ()


# ---------------------------------------------------------------------------------------------------------
# What installs.


@dataclass(frozen=True)
class Installed:
    versions: dict[str, Version]  # canonical name -> version (None-free: unknown versions are left out)
    names: frozenset[str]  # every distribution that installs, versions known or not
    known: bool  # the project declares its dependencies at all (otherwise nothing can be said to be missing)

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
        return any(self.has(d) for d in dists)


def installed(read_text: Callable[[str], str | None], paths: Iterable[str], python: str,
              route: Iterable[str] | None = None) -> Installed:
    """The distributions the project's dependency files install, with what those require in turn (markers
    evaluated for CPython `python` on x86_64 Linux, the extras asked for included). `route`: the dependency
    files the install reads (default: `install_route`)."""
    from fixer.model import versions as versions_model

    paths = list(paths)
    files = list(route) if route is not None else install_route(read_text, paths)
    found = versions_model.collect(read_text, files)
    resolved = versions_model.resolve(found)
    env = {"python_version": python, "python_full_version": python + ".0", "platform_machine": "x86_64",
           "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
           "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    chosen: dict[str, Version] = {n: Version(v) for n, v in resolved.effective.items()}
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
        if requirements is None:
            # Requirements not recorded: an extra is most often named after the distribution it adds
            # (passlib[bcrypt], python-jose[cryptography]).
            names.update(canonicalize_name(extra) for extra in extras)
        for req in requirements or []:
            if req.marker is not None and not _holds(req.marker, env, extras):
                continue
            other = canonicalize_name(req.name)
            names.add(other)
            if other not in chosen:
                pick = tables.newest_allowed(other, req.specifier)
                if pick is not None:
                    chosen[other] = pick
            queue.append((other, set(req.extras)))
    if "pyproject.toml" in files:
        # `pip install .` ignores the lock's versions, but the lock's graph says what packages the tables do not
        # record depend on (PyYAML under some framework); the recorded ones are the tables' to answer.
        names |= _lock_closure(read_text, paths, asked,
                               lambda name: name in chosen and tables.requires(name, chosen[name]) is not None)
    return Installed(chosen, frozenset(names), bool(resolved.files))


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
    from fixer.config import read_toml

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


def install_route(read_text: Callable[[str], str | None], paths: list[str]) -> list[str]:
    """The dependency files an install reads, as `fixer verify` (and most deploys) install: a non-empty
    `requirements.txt` (with what it includes), else `pip install .` of the pyproject, which ignores lock files;
    a lock file only when the Dockerfile syncs it (`uv sync`, `poetry install`, `pdm install`, `pipenv`)."""
    from fixer.model.versions import LOCK_FILES

    dockerfile = read_text("Dockerfile") if "Dockerfile" in paths else None
    if dockerfile is not None and any(w in dockerfile for w in ("uv sync", "poetry install", "pdm install", "pipenv")):
        return paths
    requirements = read_text("requirements.txt") if "requirements.txt" in paths else None
    if requirements and any(line.strip() and not line.lstrip().startswith("#") for line in requirements.splitlines()):
        return ["requirements.txt"]
    return [p for p in paths if posixpath.basename(p) not in LOCK_FILES and "/" not in p]


def _holds(marker: Marker, env: dict, extras: set[str]) -> bool:
    try:
        return any(marker.evaluate({**env, "extra": extra}) for extra in ({""} | set(extras)))
    except Exception:
        return True


# ---------------------------------------------------------------------------------------------------------
# The walk.


@dataclass
class _Module:
    name: str
    file: Path | None  # None: a namespace package
    package: str  # __package__: the name itself for a package, the parent otherwise ("" at top level)
    search: list[Path] | None  # __path__ for a package
    defined: set[str] = field(default_factory=set)
    open_names: bool = False  # a star import of unknown content, a module __getattr__, globals() writes
    done: bool = False
    settings_classes: dict[str, list[str]] = field(default_factory=dict)  # class -> required fields
    url_validators: set[str] = field(default_factory=set)  # settings classes whose validator rejects postgresql://
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)  # not yet called


class _Walk:
    def __init__(self, backend: Path, start: StartPoint, have: Installed, paths: Iterable[str],
                 flow: DatabaseFlow, database_url: str | None = None, python: str = "") -> None:
        self.backend = backend
        self.python = python  # the project's CPython ("3.12"); "" when unknown
        self.database_url = database_url  # what the environment sets DATABASE_URL to (None: what the project ships)
        # Each module of the tree as a path without `.py` (a package as its folder): what an import may mean.
        self.module_paths = sorted({p[:-3].removesuffix("/__init__") for p in paths if p.endswith(".py")})
        self.flow = flow
        self.start = start
        self.have = have
        self.project_names = project_python(paths)  # every dotted name (and suffix) the tree's modules could have
        run_dir = (backend / start.run_from).resolve()
        self.run_dir = run_dir
        self.sys_path: list[Path] = [run_dir] + [(backend / p).resolve() for p in start.pythonpath]
        if start.installed:
            self.sys_path += [backend, backend / "src"]
        self.modules: dict[str, _Module] = {}
        self.stack: list[str] = []
        self.failures: list[Failure] = []
        self.failed_keys: set[str] = set()
        self.required_env: list[str] = []
        self.order: list[str] = []
        self.sys_path_edits: list[tuple[str, int, str, bool]] = []
        self.third_party_failed: set[str] = set()
        self.import_fixes: list[ImportFix] = []
        self.unresolved_at: list[tuple[Path, int]] = []  # every import that did not resolve from the start folder
        self.unchecked: list[tuple[str, int, str]] = []

    # -- recording

    def rel(self, path: Path | None) -> str:
        if path is None:
            return ""
        return Path(os.path.relpath(path, self.backend)).as_posix()

    def fail(self, key: str, exception: str, message: str, where: tuple[Path, int], family: str,
             detail: str = "", cycle: tuple[str, ...] = ()) -> None:
        if key in self.failed_keys:
            return
        self.failed_keys.add(key)
        self.failures.append(Failure(exception, message, self.rel(where[0]), where[1], family,
                                     tuple(self.stack), detail, cycle))

    # -- finding project modules

    def _find_in(self, name: str, folders: Iterable[Path]) -> tuple[Path | None, list[Path] | None] | None:
        """(file, __path__) of module `name`'s last part in `folders` as PathFinder finds it; None: not found."""
        last = name.rpartition(".")[2]
        portions: list[Path] = []
        for folder in folders:
            candidate = folder / last
            if (candidate / "__init__.py").is_file():
                return candidate / "__init__.py", [candidate]
            if (folder / f"{last}.py").is_file():
                return folder / f"{last}.py", None
            if candidate.is_dir():
                portions.append(candidate)
        if portions:
            return None, portions
        return None

    def project_module(self, name: str, where: tuple[Path, int], guarded: bool = False) -> _Module | str | None:
        """Import `name` (every parent first). The module, "third" for one not in the project, None when the
        import fails (recorded unless `guarded`)."""
        if name in self.modules:
            return self.modules[name]
        parent_name, _, _ = name.rpartition(".")
        if parent_name:
            parent = self.project_module(parent_name, where, guarded)
            if parent is None or parent == "third":
                return parent
            found = self._find_in(name, parent.search) if parent.search is not None else None
            if found is None:
                if not guarded:
                    message = f"No module named '{name}'" + (
                        f"; '{parent_name}' is not a package" if parent.search is None else "")
                    self.fail(f"mod:{name}", "ModuleNotFoundError", message, where, "missing-module",
                              f"the project has no module `{name}`")
                return None
        else:
            found = self._find_in(name, self.sys_path)
            if found is None:
                return "third"
        file, search = found
        module = _Module(name, file, name if search is not None else parent_name, search)
        self.modules[name] = module
        if file is not None:
            self.execute(module)
        else:
            module.done = True
        return module

    def unresolved(self, name: str, where: tuple[Path, int], message: str) -> None:
        self.unresolved_at.append(where)
        self.fail(f"mod:{name}", "ModuleNotFoundError", message, where, "unresolved-import")

    # -- importing

    def import_name(self, name: str, where: tuple[Path, int], guarded: bool) -> _Module | str | None:
        top = name.split(".")[0]
        result = self.project_module(name, where, guarded) if not self._is_third(top) else "third"
        if result != "third":
            return result
        if top in self.project_names and top not in sys.stdlib_module_names and not self.have.provides(top):
            # A folder of the project, not on sys.path from this start: `from core.config import x` started
            # as `uvicorn src.main:app` from the backend folder.
            if not guarded:
                self.unresolved(name.split(".")[0], where, f"No module named '{top}'")
            return self._recover(name, where)
        if not guarded:
            self.third_party(name, where)
        return "third"

    def _recover(self, name: str, where: tuple[Path, int]) -> _Module | None:
        """Go on as the fixed import would: the tree's module `name` names, by the name it has from here (the
        nearest to the start folder when several modules end so)."""
        wanted = "/" + name.replace(".", "/")
        candidates = sorted((m for m in self.module_paths if ("/" + m).endswith(wanted)), key=lambda m: m.count("/"))
        for candidate in candidates:
            dotted = self._name_for(self.backend / candidate)
            if dotted and dotted not in self.stack:
                result = self.project_module(dotted, where)
                return result if isinstance(result, _Module) else None
        return None

    def _is_third(self, top: str) -> bool:
        return self._find_in(top, self.sys_path) is None

    def third_party(self, name: str, where: tuple[Path, int]) -> None:
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__" or not self.have.known:
            return
        provided = self.have.provides(top)
        if provided is False:
            dist = tables.distribution_of(top)
            self.third_party_failed.add(top)
            self.fail(f"dist:{top}", "ModuleNotFoundError", f"No module named '{top}'", where, "missing-dependency",
                      f"`{top}` comes from the distribution {dist}, which the project's dependency files do not install")
            return
        if provided and any(name == m or name.startswith(m + ".") for m in _ASYNC_MODULES):
            self.greenlet(where)

    def greenlet(self, where: tuple[Path, int]) -> None:
        version = self.have.version("sqlalchemy")
        if version is not None and version >= Version("2.1.0b1") and not self.have.has("greenlet"):
            self.fail("dist:greenlet", "ImportError", _GREENLET_ERROR, where, "greenlet",
                      f"SQLAlchemy {version} no longer installs greenlet, and sqlalchemy.ext.asyncio imports it")

    def from_third(self, module: str, names: list[str], where: tuple[Path, int]) -> None:
        top = module.split(".")[0]
        if top in self.third_party_failed or not self.have.known:
            return
        dist = tables.distribution_of(top)
        version = self.have.version(dist) if dist else None
        if dist is None or version is None:
            return
        exported = tables.exports(dist, version, module)
        if not exported:
            return
        for name in names:
            if name in exported or name.startswith("_"):  # the tables record public names only
                continue
            moved = tables.moved(dist, version, module, name)
            if moved:
                kind, _, message = moved.partition(": ")
                message = _moved_message(message.splitlines()[0], version)
                self.fail(f"name:{module}:{name}", f"pydantic.errors.{kind}" if dist == "pydantic" else kind,
                          message, where, "moved-name", f"{dist} {version} installs")
            elif not self._may_be_submodule(dist, version, f"{module}.{name}"):
                family = "async-import" if dist in ("sqlalchemy", "sqlmodel") else "missing-name"
                self.fail(f"name:{module}:{name}", "ImportError", f"cannot import name '{name}' from '{module}'",
                          where, family, f"{dist} {version} installs; it has no `{module}.{name}`")

    @staticmethod
    def _may_be_submodule(dist: str, version: Version, module: str) -> bool:
        """`from pkg import sub` imports a submodule the exports table need not list (classes are CamelCase)."""
        name = module.rpartition(".")[2]
        if not name.islower():
            return False
        names = tables.exports(dist, version, module)
        return names is None or bool(names)

    # -- executing a module

    def execute(self, module: _Module) -> None:
        assert module.file is not None
        self.stack.append(module.name)
        self.order.append(self.rel(module.file))
        try:
            source = module.file.read_bytes()
            tree = ast.parse(source, filename=str(module.file))
        except SyntaxError as error:
            if self._newer_grammar(source):
                self.unchecked.append((self.rel(module.file), error.lineno or 1, error.msg))
                module.open_names = True
                module.done = True
                self.stack.pop()
                return
            self.fail(f"syntax:{module.file}", "SyntaxError", error.msg, (module.file, error.lineno or 1), "syntax")
            module.open_names = True
            module.done = True
            self.stack.pop()
            return
        except (OSError, ValueError, RecursionError, MemoryError):
            module.open_names = True
            module.done = True
            self.stack.pop()
            return
        self.body(module, tree.body, guarded=False)
        module.done = True
        self.stack.pop()

    def _newer_grammar(self, source: bytes) -> bool:
        """The project runs on a newer CPython than fixer and the file is valid there (PEP 695 `class C[T]:`
        on 3.12): this interpreter's SyntaxError predicts nothing."""
        try:
            newer = tuple(map(int, self.python.split("."))) > sys.version_info[:2]
        except ValueError:
            return False
        if not newer:
            return False
        import libcst

        for version in (self.python, "3.12"):  # LibCST's grammar may stop before the project's Python
            try:
                libcst.parse_module(source, config=libcst.PartialParserConfig(python_version=version))
                return True
            except libcst.ParserSyntaxError:
                return False
            except ValueError:
                continue
        return False

    def late_imports(self) -> None:
        """Import what the functions creating the tables import in their bodies before `create_all` runs
        (`def create_db_and_tables(): from app.models import User; SQLModel.metadata.create_all(engine)`), and
        what the functions they call and their callers import before the call."""
        functions: list[tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        for module in list(self.modules.values()):
            if module.file is None:
                continue
            try:
                tree = ast.parse(module.file.read_bytes())
            except (SyntaxError, OSError, ValueError, RecursionError, MemoryError):
                continue
            functions += [(module, n) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        limits: dict[int, int] = {}  # id(function) -> imports above this line count
        for module, function in functions:
            line = _first_call_line(function, {"create_all"})
            if line is not None:
                limits[id(function)] = line
        changed = True
        while changed:
            changed = False
            named = {f.name for m, f in functions if id(f) in limits}
            for module, function in functions:
                line = _first_call_line(function, named)
                if line is not None and limits.get(id(function), 0) < line:
                    limits[id(function)] = line  # a caller: what it imports before the call counts
                    changed = True
            for module, function in functions:
                if id(function) in limits:
                    continue
                callers = [f for m, f in functions if id(f) in limits and _first_call_line(f, {function.name})]
                for caller in callers:
                    if _first_call_line(caller, {function.name}) < limits[id(caller)]:
                        limits[id(function)] = (function.end_lineno or function.lineno) + 1  # called first: all of it
                        changed = True
                        break
        for module, function in functions:
            limit = limits.get(id(function))
            if limit is None:
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno < limit:
                    self.statement(module, node, guarded=True)

    def body(self, module: _Module, statements: list[ast.stmt], guarded: bool) -> None:
        for node in statements:
            self.statement(module, node, guarded)

    def statement(self, module: _Module, node: ast.stmt, guarded: bool) -> None:
        where = (module.file, node.lineno)
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.import_name(alias.name, where, guarded)
                module.defined.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            self.import_from(module, node, where, guarded)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            module.defined.add(node.name)
            if isinstance(node, ast.FunctionDef):
                module.functions[node.name] = node
            if node.name == "__getattr__":
                module.open_names = True
            self.route(module, node, where, guarded)
        elif isinstance(node, ast.ClassDef):
            module.defined.add(node.name)
            self.class_def(module, node, where, guarded)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        module.defined.add(name.id)
            if node.value is not None:
                self.expression(module, node.value, where, guarded)
        elif isinstance(node, ast.Expr):
            self.expression(module, node.value, where, guarded)
        elif isinstance(node, ast.If):
            test = ast.unparse(node.test)
            if "TYPE_CHECKING" in test:
                self.body(module, node.orelse, guarded)
                return
            if "__name__" in test and "__main__" in test:
                return
            if "sqlite" in test.lower():
                # The platform's URL is PostgreSQL: the branch that is not about SQLite runs.
                negated = test.lstrip().startswith("not ")
                self.body(module, node.body, guarded if negated else True)
                self.body(module, node.orelse, True if negated else guarded)
                return
            self.body(module, node.body, True if node.orelse else guarded)
            self.body(module, node.orelse, True)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.body(module, node.body, True if node.handlers else guarded)
            for handler in node.handlers:
                self.body(module, handler.body, True)
            self.body(module, node.orelse, guarded)
            self.body(module, node.finalbody, guarded)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            for target in ast.walk(node.target) if isinstance(node, (ast.For, ast.AsyncFor)) else ():
                if isinstance(target, ast.Name):
                    module.defined.add(target.id)
            self.body(module, node.body, guarded)
            self.body(module, getattr(node, "orelse", []), True)
        elif isinstance(node, ast.Global):
            module.open_names = True

    def import_from(self, module: _Module, node: ast.ImportFrom, where: tuple[Path, int], guarded: bool) -> None:
        names = [a.name for a in node.names]
        if node.level:
            if not module.package:
                if not guarded:
                    self.fail(f"rel:{module.file}", "ImportError", "attempted relative import with no known parent package",
                              where, "relative-import",
                              f"{self.rel(module.file)} is imported as the top-level module `{module.name}`, so it has no package")
                self._recover_relative(module, node, where)
                return
            parts = module.package.split(".")
            if node.level - 1 >= len(parts):
                if not guarded:
                    self.fail(f"rel:{module.file}", "ImportError", "attempted relative import beyond top-level package",
                              where, "relative-import",
                              f"`{module.name}` is inside the top-level package `{parts[0]}`: {node.level} dots go above it")
                self._recover_relative(module, node, where)
                return
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = node.module or ""
        seen = len(self.unresolved_at)
        imported = self.import_name(target, where, guarded)
        if where in self.unresolved_at[seen:] and isinstance(imported, _Module) and not node.level and node.module:
            self.import_fixes.append(ImportFix(self.rel(module.file), node.lineno, node.module, imported.name))
        if isinstance(imported, _Module) and "*" not in names:
            # Before the names are bound here: a package importing its own submodules (`from app.routes import
            # login` in app/routes/__init__.py) would otherwise find them bound already.
            for name in names:
                self.name_from(imported, name, where, guarded)
        for alias in node.names:
            if alias.name != "*":
                module.defined.add(alias.asname or alias.name)
        if imported == "third":
            if not guarded:
                self.from_third(target, [n for n in names if n != "*"], where)
            if "*" in names:
                module.open_names = True
        elif isinstance(imported, _Module) and "*" in names:
            module.defined |= {n for n in imported.defined if not n.startswith("_")}
            module.open_names |= imported.open_names
        elif imported is None and "*" in names:
            module.open_names = True

    def _recover_relative(self, module: _Module, node: ast.ImportFrom, where: tuple[Path, int]) -> None:
        """Go on as if the relative import had worked: import what it names by the file it names."""
        folder = module.file.parent if module.file else self.run_dir
        for _ in range(node.level - 1):
            folder = folder.parent
        parts = (node.module or "").split(".") if node.module else []
        target = folder.joinpath(*parts)
        name = self._name_for(target)
        if name:
            if node.module:
                self.import_fixes.append(ImportFix(self.rel(module.file), node.lineno, "." * node.level + node.module, name))
            imported = self.project_module(name, where)
            if isinstance(imported, _Module):
                for alias in node.names:
                    if alias.name != "*":
                        self.name_from(imported, alias.name, where, True)
        for alias in node.names:
            module.defined.add(alias.asname or alias.name)

    def _name_for(self, target: Path) -> str | None:
        """The dotted name a file or folder imports as from this start's sys.path, if any."""
        for folder in self.sys_path:
            try:
                rel = target.relative_to(folder)
            except ValueError:
                continue
            if rel.parts and (target.with_suffix(".py").is_file() or target.is_dir()):
                return ".".join(rel.parts)
        return None

    def name_from(self, imported: _Module, name: str, where: tuple[Path, int], guarded: bool) -> None:
        if name in imported.defined:
            return
        if imported.search is not None:
            sub = self._find_in(f"{imported.name}.{name}", imported.search)
            if sub is not None:
                self.project_module(f"{imported.name}.{name}", where)
                imported.defined.add(name)
                return
        if imported.open_names or guarded or imported.file is None:
            return
        path = imported.file
        if not imported.done:
            cycle = tuple(self.stack[self.stack.index(imported.name):]) if imported.name in self.stack else ()
            self.fail(f"name:{imported.name}:{name}", "ImportError",
                      f"cannot import name '{name}' from partially initialized module '{imported.name}' "
                      f"(most likely due to a circular import)", where, "circular-import",
                      f"{' -> '.join(cycle + (imported.name,))}: `{name}` is defined in {self.rel(path)} after the "
                      f"import that starts the cycle", cycle)
        else:
            self.fail(f"name:{imported.name}:{name}", "ImportError", f"cannot import name '{name}' from '{imported.name}'",
                      where, "missing-name", f"{self.rel(path)} defines no `{name}`")
        imported.defined.add(name)

    # -- what module-level code does besides imports

    def class_def(self, module: _Module, node: ast.ClassDef, where: tuple[Path, int], guarded: bool) -> None:
        bases = {ast.unparse(b).rpartition(".")[2] for b in node.bases}
        fields: list[str] = []
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                annotation = ast.unparse(item.annotation)
                if "EmailStr" in annotation and not guarded:
                    self.email(where_of(module, item))
                if item.value is None and not item.target.id.startswith("_"):
                    if "ClassVar" not in annotation:
                        fields.append(item.target.id)
            elif isinstance(item, (ast.Import, ast.ImportFrom)):
                self.statement(module, item, guarded)
        known = set(module.settings_classes)
        if bases & ({"BaseSettings"} | known):
            inherited = [f for b in bases & known for f in module.settings_classes[b]]
            module.settings_classes[node.name] = inherited + fields
            if _rejects_plain_url(node):
                module.url_validators.add(node.name)

    def email(self, where: tuple[Path, int]) -> None:
        if self.have.known and self.have.provides("email_validator") is False:
            self.fail("dist:email_validator", "ImportError", _EMAIL_ERROR, where, "email-validator",
                      "a pydantic model has an EmailStr field: pydantic needs the email-validator distribution")

    def route(self, module: _Module, node: ast.FunctionDef | ast.AsyncFunctionDef, where, guarded: bool) -> None:
        """FastAPI checks python-multipart when a route with form parameters is declared (at import)."""
        if guarded or not self.have.known:
            return
        routed = any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in _ROUTE_METHODS
                     for d in node.decorator_list)
        if not routed:
            return
        arguments = node.args.args + node.args.kwonlyargs
        text = " ".join(ast.unparse(a.annotation) for a in arguments if a.annotation)
        text += " " + " ".join(ast.unparse(d) for d in node.args.defaults + [d for d in node.args.kw_defaults if d])
        words = set(text.replace("[", " ").replace("]", " ").replace("(", " ").replace(",", " ").replace(".", " ").split())
        if words & _FORM_NAMES and self.have.provides("multipart") is False and self.have.provides("python_multipart") is not True:
            self.fail("dist:multipart", "RuntimeError", _MULTIPART_ERROR, where, "multipart",
                      "a route takes form data (Form, File, UploadFile, OAuth2PasswordRequestForm): FastAPI needs "
                      "python-multipart when the route is declared")

    def expression(self, module: _Module, value: ast.expr, where: tuple[Path, int], guarded: bool) -> None:
        for node in ast.walk(value):
            if isinstance(node, ast.Lambda):
                return
            if not isinstance(node, ast.Call):
                continue
            func = ast.unparse(node.func)
            if func in module.functions:
                # `app = create_app()`: the factory runs at import, and the imports in it with it (once).
                called = module.functions.pop(func)
                local = _Module(module.name, module.file, module.package, module.search)
                local.functions = module.functions
                self.body(local, called.body, guarded)
                continue
            if func.endswith(("sys.path.insert", "sys.path.append")) and node.args:
                self.path_edit(module, node, where, func.endswith("insert"))
            elif func in module.settings_classes and not node.args and not node.keywords:
                for name in module.settings_classes[func]:
                    if name not in self.required_env:
                        self.required_env.append(name)
                if func in module.url_validators and not guarded:
                    self.settings_rejects_url(func, where)
            elif func.rpartition(".")[2] in ("create_engine", "create_async_engine") and not guarded:
                self.engine(node, func.endswith("create_async_engine"), where)
            elif func.rpartition(".")[2] == "StaticFiles" and not guarded:
                self.static_files(node, where)
            elif func == "globals":
                module.open_names = True

    def settings_rejects_url(self, name: str, where: tuple[Path, int]) -> None:
        pydantic = self.have.version("pydantic")
        if pydantic is None:
            return
        kind = "pydantic_core._pydantic_core.ValidationError" if pydantic.major >= 2 else \
            "pydantic.error_wrappers.ValidationError"
        self.fail(f"validator:{name}", kind, f"1 validation error for {name}", where, "settings-url",
                  "a validator of the settings class rejects the plain postgresql:// URL hosting platforms give")

    def path_edit(self, module: _Module, call: ast.Call, where: tuple[Path, int], insert: bool) -> None:
        folder = _path_value(call.args[-1], module.file, self.run_dir)
        if folder is None:
            return
        exists = folder.is_dir()
        self.sys_path_edits.append((self.rel(module.file), where[1], self.rel(folder), exists))
        if folder not in self.sys_path:
            if insert:
                self.sys_path.insert(0, folder)
            else:
                self.sys_path.append(folder)

    def engine(self, call: ast.Call, asynchronous: bool, where: tuple[Path, int]) -> None:
        """create_engine loads the DBAPI module its URL names at once. The platform gives `postgresql://`."""
        url = _literal_url(call)
        if url is None:
            if not call.args:
                return
            path = self.rel(where[0])
            site = next((e for e in self.flow.engines if e.path == path and e.line == where[1]), None)
            names = site.url.names if site is not None else (ast.unparse(call.args[0]),)
            if not any(_PLATFORM_NAMES.search(name) for name in names):
                return  # not the variable hosting platforms set: what it holds is the project's own choice
            if site is not None and any(step in self.flow.url_helpers for step in site.url.through):
                return  # the project's own helper makes the URL what the engine needs, or not: not known here
            url = self.database_url
            if url is None:
                # What the project ships under that name (.env.example, compose) is the URL it expects; a plain
                # postgresql:// only when it ships none, as platforms give (FX004 holds the same view).
                shipped = [u.scheme for u in self.flow.shipped if u.key.upper() in {n.upper() for n in names}]
                url = (shipped[0] if shipped and len(set(shipped)) == 1 else "postgresql") + "://"
            for rewrite in self.flow.rewrites:
                if rewrite.path == path:
                    url = url.replace(rewrite.old, rewrite.new)
        scheme = url.split("://", 1)[0]
        if not scheme.startswith("postgres") or not self.have.known:
            return
        driver = scheme.partition("+")[2]
        sqlalchemy = self.have.version("sqlalchemy")
        if sqlalchemy is None:
            return
        if not driver:
            driver = "psycopg" if sqlalchemy >= Version("2.1.0b1") else "psycopg2"
        module = {"psycopg2": "psycopg2", "psycopg": "psycopg", "asyncpg": "asyncpg", "psycopg_async": "psycopg"}.get(driver)
        if module is None:
            return
        if module == "asyncpg":
            family = "async-driver"
        else:
            family = "async-driver-url" if asynchronous else "sync-driver"
        if self.have.provides(module) is False:
            self.fail(f"dist:{module}", "ModuleNotFoundError", f"No module named '{module}'", where, family,
                      f"the engine's URL ({scheme}://) loads {module}, which does not install")
        elif asynchronous and module == "psycopg2":
            self.fail("async:psycopg2", "sqlalchemy.exc.InvalidRequestError",
                      "The asyncio extension requires an async driver to be used. The loaded 'psycopg2' is not async.",
                      where, "async-driver-url", "create_async_engine got a postgresql:// URL")

    def static_files(self, call: ast.Call, where: tuple[Path, int]) -> None:
        directory = next((k.value for k in call.keywords if k.arg == "directory"), call.args[0] if call.args else None)
        check = next((k.value for k in call.keywords if k.arg == "check_dir"), None)
        if not isinstance(directory, ast.Constant) or not isinstance(directory.value, str):
            return
        if isinstance(check, ast.Constant) and check.value is False:
            return
        if not (self.run_dir / directory.value).is_dir():
            self.fail(f"dir:{directory.value}", "RuntimeError", f"Directory '{directory.value}' does not exist", where,
                      "static-dir", f"StaticFiles checks its directory relative to the start folder ({self.start.run_from or '.'}/)")


def _moved_message(message: str, version: Version) -> str:
    """The table's message (recorded once, from pydantic 2.0) as `version` prints it: pydantic puts its own
    major.minor in the docs URL, and from 2.14 the docs live under pydantic.dev/docs/validation/. (The tables
    keep one message per name: tools/gen_tables.py should record it per version.)"""
    short = f"{version.major}.{version.minor}"
    docs = "https://pydantic.dev/docs/validation/" if version >= Version("2.14") else "https://docs.pydantic.dev/"
    return message.replace("https://docs.pydantic.dev/2.0/", f"{docs}{short}/")


def _first_call_line(function: ast.AST, names: set[str]) -> int | None:
    """The line of the first call in `function` of a function or method named in `names` (also as a
    `run_sync(SQLModel.metadata.create_all)` argument), None when there is none."""
    lines = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            for part in (node.func, *node.args):
                name = part.attr if isinstance(part, ast.Attribute) else part.id if isinstance(part, ast.Name) else None
                if name in names:
                    lines.append(node.lineno)
    return min(lines, default=None)


def where_of(module: _Module, node: ast.AST) -> tuple[Path, int]:
    return module.file, getattr(node, "lineno", 1)


def _rejects_plain_url(node: ast.ClassDef) -> bool:
    """A field validator of a URL field that raises unless the URL names an async driver (`+asyncpg`)."""
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decorators = " ".join(ast.unparse(d) for d in item.decorator_list)
        if "validator" not in decorators or not any(w in decorators.lower() for w in ("url", "dsn", "uri")):
            continue
        body = ast.unparse(item)
        returns_rewritten = any(isinstance(n, ast.Call) and ast.unparse(n.func).endswith("replace") for n in ast.walk(item))
        if "raise" in body and "+asyncpg" in body and not returns_rewritten:
            return True
    return False


def _literal_url(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value if "://" in call.args[0].value else None
    return None


def _path_value(node: ast.expr, file: Path | None, cwd: Path) -> Path | None:
    """The folder a sys.path edit adds, for the usual spellings: a literal, `os.path.dirname(__file__)`,
    `os.path.join(..., "..")`, `Path(__file__).parent.parent`, `.resolve().parents[1]`, `str(...)`, `abspath`."""
    def value(n: ast.AST) -> Path | str | None:
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            return n.value
        if isinstance(n, ast.Name) and n.id == "__file__" and file is not None:
            return file
        if isinstance(n, ast.Attribute):
            inner = value(n.value)
            if isinstance(inner, str):
                inner = Path(inner)
            if isinstance(inner, Path) and n.attr == "parent":
                return inner.parent
            return None
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Attribute) and n.value.attr == "parents":
            inner = value(n.value.value)
            index = n.slice.value if isinstance(n.slice, ast.Constant) else None
            if isinstance(inner, Path) and isinstance(index, int):
                return inner.parents[index] if index < len(inner.parents) else None
            return None
        if isinstance(n, ast.Call):
            func = ast.unparse(n.func)
            args = [value(a) for a in n.args]
            if func.endswith(("dirname",)) and args and args[0] is not None:
                return Path(args[0]).parent
            if func.endswith(("abspath", "realpath", "normpath")) and args and args[0] is not None:
                return Path(os.path.normpath(cwd / args[0]))
            if func.endswith("resolve") and isinstance(n.func, ast.Attribute):
                inner = value(n.func.value)
                return Path(os.path.normpath(cwd / inner)) if inner is not None else None
            if func.endswith("join") and args and all(a is not None for a in args):
                return Path(*[str(a) for a in args])
            if func in ("str", "Path", "pathlib.Path", "os.fspath") and args and args[0] is not None:
                return Path(args[0]) if func != "str" else args[0]
        return None

    result = value(node)
    if result is None:
        return None
    return Path(os.path.normpath(cwd / result))


# ---------------------------------------------------------------------------------------------------------


def project_python(paths: Iterable[str]) -> set[str]:
    """Every dotted name (and each dotted suffix) the tree's modules could be imported as."""
    names: set[str] = set()
    for path in paths:
        if not path.endswith(".py"):
            continue
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        for start in range(len(parts)):
            for end in range(start + 1, len(parts) + 1):
                names.add(".".join(parts[start:end]))
    return names


def predict(backend: str | os.PathLike[str], start: StartPoint, have: Installed, paths: Iterable[str],
            flow: DatabaseFlow | None = None, database_url: str | None = None, python: str = "") -> Prediction:
    """The start `start` of the backend, walked: the project modules it imports, in order, and the failures.
    `flow` (the model's engines, URL rewrites, shipped URLs) says what URL reaches each engine; `database_url`
    is the one the environment sets DATABASE_URL to, when known (a platform's, a test's)."""
    root = Path(backend).resolve()
    walk = _Walk(root, start, have, list(paths), flow or DatabaseFlow(), database_url, python)
    entry = walk.run_dir / "__fixer_start__.py"
    result = walk.import_name(start.module, (entry, 1), guarded=False)
    if result == "third" and not walk.have.provides(start.module.split(".")[0]):
        # Nothing of the tree, nothing installed: uvicorn says `Could not import module "main"`.
        walk.fail(f"mod:{start.module}", "ModuleNotFoundError", f"No module named '{start.module.split('.')[0]}'",
                  (entry, 1), "start-command")
    if isinstance(result, _Module) and result.file is not None and start.attr not in result.defined \
            and not result.open_names:
        walk.fail(f"attr:{start.app}", "AttributeError", f"module '{start.module}' has no attribute '{start.attr}'",
                  (result.file, 1), "missing-app", f"uvicorn: Attribute \"{start.attr}\" not found in module \"{start.module}\".")
    failures = tuple(_entry_relative(f, walk) for f in walk.failures)
    prediction = Prediction(start, failures, tuple(walk.required_env), tuple(walk.order),
                            tuple(walk.sys_path_edits), tuple(walk.import_fixes), unchecked=tuple(walk.unchecked))
    before = len(walk.order)
    walk.late_imports()  # only for which tables exist: a failure there is not part of the start
    return dataclasses.replace(prediction, late_order=tuple(walk.order[before:]))


def _entry_relative(failure: Failure, walk: _Walk) -> Failure:
    """A failure of the start itself (the entry module not found) is about the command, not a file."""
    if failure.path.endswith("__fixer_start__.py"):
        return Failure(failure.exception, failure.message, walk.start.where[0] if walk.start.where else "",
                       walk.start.where[1] if walk.start.where else 1, "start-command", failure.chain,
                       f"{walk.start.describe()}: the module is not on sys.path from that folder", failure.cycle)
    return failure


def project_python_version(read_text: Callable[[str], str | None], paths: Iterable[str]) -> str:
    """The CPython the project runs on: `.python-version`, `runtime.txt`, Dockerfile `FROM python:X`,
    `requires-python` (its lowest allowed), else the one running fixer."""
    paths = list(paths)
    for name, pattern in ((".python-version", r"^(3\.\d+)"), ("runtime.txt", r"python-(3\.\d+)"),
                          ("Dockerfile", r"FROM\s+(?:\S+/)?python:(3\.\d+)")):
        if name in paths:
            match = re.search(pattern, read_text(name) or "", re.M)
            if match:
                return match.group(1)
    if "pyproject.toml" in paths:
        match = re.search(r"requires-python\s*=\s*[\"']([^\"']+)", read_text("pyproject.toml") or "")
        if match:
            spec = SpecifierSet(match.group(1).replace(" ", ""))
            for minor in range(9, 15):
                if f"3.{minor}" in spec or f"3.{minor}.0" in spec:
                    return f"3.{minor}"
    return f"{sys.version_info.major}.{sys.version_info.minor}"


# ---------------------------------------------------------------------------------------------------------
# The whole startup audit of a backend.


@dataclass(frozen=True)
class Unused:
    """A router never included, or a table model never imported before create_all."""

    path: str
    line: int
    name: str
    why: str


@dataclass(frozen=True)
class Startup:
    predictions: tuple[Prediction, ...] = ()  # the first is the start fixer checks first (a deploy file's)
    disagreement: str | None = None  # the documented starts differ (app, folder or PYTHONPATH)
    # The starts whose predicted first results differ (FX036), a `uvicorn.run()` block only when it matters.
    differing: tuple[Prediction, ...] = ()
    python: str = ""  # the CPython judged against
    routers_unincluded: tuple[Unused, ...] = ()
    tables_unimported: tuple[Unused, ...] = ()
    # The start command to change instead of the imports, when that is the smaller change (FX020 reports it).
    start_fix: StartPoint | None = None
    imports_kept: int = 0  # the import lines that start command makes right without an edit

    @property
    def primary(self) -> Prediction | None:
        return self.predictions[0] if self.predictions else None


_ROUTER = re.compile(r"^(\w+)\s*(?::[^=\n]+)?=\s*(?:fastapi\.)?APIRouter\(", re.M)
_TABLE = re.compile(r"^class\s+(\w+)\s*\([^)]*\btable\s*=\s*True", re.M)
_SKIP_PARTS = frozenset({"tests", "test", "alembic", "migrations", "scripts"})


def analyse(backend: str | os.PathLike[str], paths: Iterable[str], read_text: Callable[[str], str | None],
            flow: DatabaseFlow | None = None, entrypoint: str | None = None, run_from: str | None = None,
            database_url: str | None = None) -> Startup:
    """Every documented start of the backend walked (or the one --entrypoint/--run-from name), with the
    project-wide checks that need the import order: routers never included, tables never imported."""
    from fixer.model.entrypoints import disagreements, start_points

    root = Path(backend).resolve()
    paths = list(paths)
    points = start_points(root, entrypoint, run_from, python=[p for p in paths if p.endswith(".py")])
    if not points:
        return Startup()
    python = project_python_version(read_text, paths)
    have = installed(read_text, paths, python)
    predictions = tuple(predict(root, point, have, paths, flow, database_url, python) for point in points[:4])
    primary = predictions[0]
    alternative = _smaller_start(root, primary, have, paths, flow, database_url, python) \
        or _documented_fit(primary, predictions[1:])
    kept = len(primary.import_fixes)
    start_fix = alternative.start if alternative is not None else None
    if alternative is not None:
        # The imports are right for another start: FX020 leaves them and names that start. Once it is changed,
        # what comes next is what that start meets.
        first = next(f for f in primary.failures if f.family in ("relative-import", "unresolved-import"))
        primary = dataclasses.replace(primary, import_fixes=(), failures=(first, *alternative.failures))
        predictions = (primary, *predictions[1:])
    imported = set(primary.order)
    texts = {p: read_text(p) or "" for p in imported}
    return Startup(
        predictions=predictions,
        disagreement=disagreements(list(points)),
        differing=_differing(predictions),
        python=python,
        routers_unincluded=tuple(_routers(paths, read_text, imported, texts)),
        tables_unimported=tuple(_tables(paths, read_text, primary)),
        start_fix=start_fix,
        imports_kept=kept if start_fix is not None else 0,
    )


def first_result(prediction: Prediction) -> str:
    return str(prediction.failures[0]) if prediction.failures else "imports cleanly"


def _differing(predictions: tuple[Prediction, ...]) -> tuple[Prediction, ...]:
    """The starts whose first results differ; () when every start meets the same first result. A
    `uvicorn.run()` under `if __name__ == "__main__":` counts only when nothing else documents a start or
    when its first result is not the documented start's."""
    documented = [p for p in predictions if not p.start.source.startswith("uvicorn.run()")]
    considered = documented + [
        p for p in predictions
        if p not in documented and (not documented or first_result(p) != first_result(documented[0]))
    ]
    if len({first_result(p) for p in considered}) < 2:
        return ()
    return tuple(considered)


def _documented_fit(primary: Prediction, others: tuple[Prediction, ...]) -> Prediction | None:
    """Another documented start (a `uvicorn.run()` block, a second README command) the imports are written for:
    following it changes one command line instead of many import lines."""
    if len(primary.import_fixes) < 2:
        return None
    for other in others:
        if len(other.import_fixes) + 1 < len(primary.import_fixes) and not any(
            f.family in ("start-command", "missing-app", "unresolved-import", "relative-import") for f in other.failures
        ):
            return other
    return None


def _smaller_start(root: Path, primary: Prediction, have: Installed, paths: list[str],
                   flow: DatabaseFlow | None, database_url: str | None, python: str = "") -> Prediction | None:
    """The start from the entry module's top package (`uvicorn src.main:app` from the folder above `src/`, for
    an app started as `main:app` from inside it) when it makes more import lines right than the one command line
    it changes; None when rewriting the imports is the smaller change."""
    start = primary.start
    if len(primary.import_fixes) < 2:
        return None
    folder = (root / start.run_from).resolve()
    parts = start.module.split(".")
    entry = folder.joinpath(*parts)
    if not (entry.with_suffix(".py").is_file() or (entry / "__init__.py").is_file()):
        return None
    while (folder / "__init__.py").is_file():  # the packages the entry module is part of
        parts.insert(0, folder.name)
        folder = folder.parent
    if folder == (root / start.run_from).resolve():
        return None
    try:
        run_from = folder.relative_to(root).as_posix()
    except ValueError:
        return None
    app = ".".join(parts) + ":" + start.attr
    command = start.command.replace(start.app, app, 1) if start.app in start.command else app
    other = StartPoint(app, "" if run_from == "." else run_from, start.pythonpath, start.source, command,
                       where=start.where)
    alternative = predict(root, other, have, paths, flow, database_url, python)
    if len(alternative.import_fixes) + 1 < len(primary.import_fixes) and not any(
        f.family == "start-command" for f in alternative.failures
    ):
        return alternative
    return None


def _candidate(path: str) -> bool:
    parts = path.split("/")
    return path.endswith(".py") and not (_SKIP_PARTS & set(parts[:-1])) and not parts[-1].startswith("test_")


def _routers(paths: list[str], read_text, imported: set[str], texts: dict[str, str]) -> Iterable[Unused]:
    every = "\n".join(texts.values())
    calls = re.findall(r"include_router\(\s*([\w.]+)", every)
    for path in paths:
        if not _candidate(path):
            continue
        text = read_text(path) if path not in texts else texts[path]
        if not text or "APIRouter(" not in text:
            continue
        for match in _ROUTER.finditer(text):
            name = match.group(1)
            line = text.count("\n", 0, match.start()) + 1
            if path not in imported:
                yield Unused(path, line, name, "the app never imports this module, so its routes never exist")
            elif not any(c == name or c.endswith("." + name) or re.search(rf"\b{name}\s+as\s+{c}\b", every)
                         for c in calls) and f"{name}.include_router(" not in text:
                yield Unused(path, line, name, "no include_router() call of the imported modules names it")


def _tables(paths: list[str], read_text, primary: Prediction) -> Iterable[Unused]:
    imported = set(primary.order) | set(primary.late_order)
    texts = {p: read_text(p) or "" for p in imported}
    if not any("create_all" in t for t in texts.values()):
        return
    tops = {_top(p, primary.start.run_from) for p in imported}
    defined = {table for p in imported for _, _, table in _table_classes(texts[p])}
    for path in paths:
        if not _candidate(path) or path in imported:
            continue
        top = _top(path, primary.start.run_from)
        if top not in tops and "/" in top:
            continue  # another program's package (an MCP server, a worker): not the app's tables
        text = read_text(path)
        if not text or "table" not in text or "create_all" in text or "__main__" in text:
            continue  # a script that creates its own tables is not the app's business
        for line, name, table in _table_classes(text):
            if table in defined:
                continue  # importing it would raise "Table '...' is already defined for this MetaData instance"
            yield Unused(path, line, name,
                         "the app never imports this module before create_all(), so the table is never created")


def _top(path: str, run_from: str) -> str:
    """The top-level package (with a trailing /) or module a path belongs to, seen from the start folder."""
    prefix = run_from.strip("/").removeprefix(".").strip("/")
    rel = path[len(prefix) + 1:] if prefix and path.startswith(prefix + "/") else path
    first, slash, _ = rel.partition("/")
    return first + slash


def _table_classes(text: str) -> Iterable[tuple[int, str, str]]:
    """(line, class, table name) of each `class X(SQLModel, table=True)` in a module's text."""
    if "table" not in text or not _TABLE.search(text):
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        for match in _TABLE.finditer(text):
            yield text.count("\n", 0, match.start()) + 1, match.group(1), match.group(1).lower()
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef) or not any(
            k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords
        ):
            continue
        table = node.name.lower()
        for statement in node.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else (
                [statement.target] if isinstance(statement, ast.AnnAssign) else [])
            value = getattr(statement, "value", None)
            if any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in targets) \
                    and isinstance(value, ast.Constant) and isinstance(value.value, str):
                table = value.value
        yield node.lineno, node.name, table


_VERIFY_URL = "postgresql://"  # `fixer verify` gives the app the plain form hosting platforms inject


def predicted_first_error(backend: str | os.PathLike[str], entrypoint: str | None = None,
                          app_dir: str | None = None) -> str:
    """The first failure the static walk predicts for starting `entrypoint` (MODULE:ATTR) from the backend folder
    with `app_dir` first on sys.path (as `fixer verify` starts it), or "none" when it imports cleanly."""
    from fixer.discover import discover, read
    from fixer.model import database

    root = Path(backend).resolve()
    paths = list(discover(root, []))

    def read_text(rel: str) -> str | None:
        try:
            return read(os.fspath(root / rel)).decode("utf-8-sig")
        except Exception:
            return None

    flow = database.read_python((p, read(os.fspath(root / p))) for p in paths if p.endswith(".py"))
    found = analyse(root, paths, read_text, flow, entrypoint, None, _VERIFY_URL)
    prediction = found.primary
    if prediction is None:
        return "none"
    if app_dir:
        start = StartPoint(prediction.start.app, app_dir, (), prediction.start.source, prediction.start.command)
        prediction = predict(root, start, installed(read_text, paths, found.python), paths, flow, _VERIFY_URL,
                             found.python)
    return str(prediction.failures[0]) if prediction.failures else "none"
