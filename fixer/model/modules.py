"""The project's Python modules, their import graph, and what each one is: served by the app, a test, a
migration, a script, library source, or dead code.

Only import lines are read here, with a regex over the bytes every file was already read as: the graph
needs no parse. A module is *live* when an import chain from an app module (one that builds `FastAPI(...)`,
or the entrypoint the project documents) reaches it. Resolution over-approximates on purpose: a module that
might be imported counts as imported, so a doubt never costs a fix; only a module nothing names is dead.
"""

from __future__ import annotations

import copy
import enum
import posixpath
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass


class Role(str, enum.Enum):
    LIVE = "live"  # imported when the server starts (or no app was found: every module may be)
    TEST = "test"
    MIGRATION = "migration"
    SCRIPT = "script"  # run by hand (`if __name__ == "__main__"`, scripts/), not by the server
    LIBRARY = "library"  # the source of a package fixer's rules are about (vendored SQLAlchemy, sqlmodel)
    DEAD = "dead"  # nothing imports it


# Packages whose own source defines the APIs the rules rewrite uses of: their modules are never a backend.
LIBRARY_PACKAGES = frozenset({"sqlalchemy", "sqlmodel"})
# Folders holding other projects' packages copied into the tree (`vendor/fastapi/`, pip's `_vendor/`, a committed
# `site-packages/`): whatever they define, the backend is the code that imports them, so they are read as
# library source (never parsed, never fixed) like the packages above.
VENDOR_FOLDERS = frozenset({"vendor", "_vendor", "vendored", "site-packages"})
_TEST_DIRS = frozenset({"tests", "test", "testing"})
_MIGRATION_DIRS = frozenset({"alembic", "migrations", "migration"})
_SCRIPT_DIRS = frozenset({"scripts", "script", "bin", "tools"})

_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(?P<from>\.*(?:[\w.]|[\x80-\xff])*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#;]*)"
    rb"|import[ \t]+(?P<modules>[^\n#;]+))",
    re.MULTILINE,
)
# Identifiers are any Python accepts (PEP 3131): in UTF-8 bytes, a non-ASCII letter is bytes from 0x80 up.
_NAME = re.compile(rb"[ \t]*((?:\w|[\x80-\xff])+)")
_INDENT = frozenset(b" \t")
_MAIN_GUARD = re.compile(rb"""^if\s+__name__\s*==\s*["']__main__["']""", re.MULTILINE)
_APP = re.compile(rb"^\s*(?:\w|[\x80-\xff])+\s*(?::[^=\n]+)?=\s*(?:fastapi\.)?FastAPI\(", re.MULTILINE)


@dataclass(frozen=True)
class ModuleInfo:
    path: str  # relative to the root, POSIX
    name: str  # dotted, from the root ("src.core.config"; a package is its __init__'s folder)
    imports: tuple[str, ...]  # absolute dotted names this module may import, relative imports resolved
    app: bool  # builds a FastAPI application at module level
    main_guard: bool
    # Those of `imports` only written indented: inside a function, `try:` or `if TYPE_CHECKING:`, so a failure
    # to import them need not stop the module from loading.
    indented: frozenset[str] = frozenset()
    async_defs: frozenset[str] = frozenset()  # module-level `async def` names
    sync_defs: frozenset[str] = frozenset()  # module-level plain `def` names
    db_use: bool = False  # names a session, create_all, execute or a relationship (the use layer reads it)


def _identifier(text: bytes) -> str:
    """Source bytes of names as Python reads them: UTF-8, NFKC-normalised (PEP 3131), as module_name's are."""
    if text.isascii():  # nearly every import line: ASCII is its own NFKC form
        return text.decode("ascii")
    return unicodedata.normalize("NFKC", text.decode("utf-8", "replace"))


def module_name(path: str) -> str:
    name = unicodedata.normalize("NFKC", path[: -len(".py")].replace("/", "."))
    return name.removesuffix(".__init__") if name != "__init__" else ""


def read_module(path: str, source: bytes) -> ModuleInfo:
    name = module_name(path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    imports: list[str] = []
    nested: list[str] = []
    for match in _import_lines(source):
        names = _imported(match, package)
        imports += names
        if source[match.start()] in _INDENT:
            nested += names
    async_defs, sync_defs = _defs(source, b"async def "), _defs(source, b"def ")
    return ModuleInfo(
        path=path,
        name=name,
        imports=tuple(imports),
        # Plain byte searches first: this runs on every Python file of the tree.
        app=b"FastAPI(" in source and bool(_APP.search(source)),
        main_guard=b"__main__" in source and bool(_MAIN_GUARD.search(source)),
        indented=frozenset(nested).difference(_top_level(imports, nested)) if nested else frozenset(),
        async_defs=async_defs,
        sync_defs=sync_defs,
        db_use=any(word in source for word in (b"ession", b"create_all", b"execute(", b"elationship(")),
    )


def _import_lines(source: bytes) -> Iterator[re.Match[bytes]]:
    """`_IMPORT.finditer(source)`, tried only at the starts of lines holding the word `import` (a match always
    holds it on its first line). Anchored at every line start of every file, the regex cost more than all the
    rest of reading a tree of library source."""
    end = 0
    at = source.find(b"import")
    while at >= 0:
        start = source.rfind(b"\n", 0, at) + 1
        if start >= end:
            match = _IMPORT.match(source, start)
            if match is not None:
                yield match
                end = match.end()
        newline = source.find(b"\n", at)
        if newline < 0:
            return
        at = source.find(b"import", max(newline, end))
    return


def _top_level(imports: list[str], nested: list[str]) -> set[str]:
    """The names some top-level import line imports: every import less one occurrence per indented line."""
    left = dict.fromkeys(imports, 0)
    for name in imports:
        left[name] += 1
    for name in nested:
        left[name] -= 1
    return {name for name, count in left.items() if count > 0}


def _defs(source: bytes, keyword: bytes) -> frozenset[str]:
    """Names of the functions a line starting with `keyword` defines (module level: no indentation). Plain
    `bytes.find` over the file: a regex anchored at every line start costs a third of this module's reading."""
    names = []
    at = 0 if source.startswith(keyword) else source.find(b"\n" + keyword)
    while at >= 0:
        start = at + len(keyword) + (source[at : at + 1] == b"\n")
        found = _NAME.match(source, start)
        if found:
            names.append(_identifier(found[1]))
        at = source.find(b"\n" + keyword, start)
    return frozenset(names)


def _imported(match: re.Match[bytes], package: str) -> list[str]:
    """The dotted names one import statement may import, relative ones resolved against `package`."""
    if match["modules"] is not None:
        parts = _identifier(match["modules"]).split(",")
        return [dotted for part in parts if (dotted := part.split(" as ")[0].strip())]
    base = _identifier(match["from"])
    dots = len(base) - len(base.lstrip("."))
    if dots:
        parent = package.split(".") if package else []
        parent = parent[: len(parent) - (dots - 1)] if dots > 1 else parent
        base = ".".join([*parent, base[dots:]] if base[dots:] else parent)
    if not base:
        return []
    names = [base]
    for part in _identifier(match["names"]).strip("() \t\r\n").split(","):
        word = part.split(" as ")[0].strip()
        if word and word != "*" and word.isidentifier():
            names.append(f"{base}.{word}")  # may be a submodule: `from app.api import users`
    return names


class ModuleGraph:
    """Every Python module of the tree, resolvable by any dotted name Python could import it as."""

    def __init__(self, modules: Iterable[ModuleInfo], entry_modules: Iterable[str] = (), root_name: str = "") -> None:
        self.modules = {m.path: m for m in modules}
        # Python imports `src/core/config.py` as `src.core.config` from the root, or as `core.config` when
        # `src` is on sys.path (uvicorn --app-dir, a Dockerfile WORKDIR): index every suffix.
        self._by_name: dict[str, set[str]] = {}
        for module in self.modules.values():
            parts = module.name.split(".") if module.name else []
            for start in range(len(parts)):
                self._by_name.setdefault(".".join(parts[start:]), set()).add(module.path)
        self.entry_modules = tuple(entry_modules)
        self.root_name = root_name
        # A start run from the root's parent (`uvicorn app.main:app` beside the root folder `app/`) imports
        # every module under the root folder's name too: `app.db.session` is `db/session.py`.
        outer_names = self._outer_names()
        # A root that is a package (it holds an `__init__.py`) is importable under its folder's name from its
        # parent: pytest puts the first folder above a test without an `__init__.py` on sys.path, so the tests of
        # `shop/` import `shop.core.db` while the app starts as `uvicorn main:app` inside it.
        if root_name.isidentifier() and "__init__.py" in self.modules:
            outer_names.add(root_name)
        for outer in sorted(outer_names):
            for module in list(self.modules.values()):
                if module.name:
                    self._by_name.setdefault(f"{outer}.{module.name}", set()).add(module.path)
        self._heads: dict[str, set[str]] | None = None  # an import's first name -> the modules with such imports
        self._prefixes: dict[str, frozenset[str]] = {}  # by path, for the modules `importers` looked at
        self._resolved: dict[str, frozenset[str]] = {}
        self._names: dict[frozenset[str], frozenset[str]] = {}  # by `importers`' paths: the names that may run one
        self._importers: dict[frozenset[str], frozenset[str]] = {}
        self._live: set[str] | None = None
        self._roles: dict[str, Role] | None = None

    def _changed(self, modules: list[ModuleInfo], entry_modules: tuple[str, ...], root_name: str) -> list[ModuleInfo] | None:
        """The modules that differ from this graph's when nothing but their import lines and definitions does (the
        same paths, names and apps in the same order, the same starts: every name resolves as it does here); else
        None. A later round's unchanged files give the very same ModuleInfo objects."""
        if entry_modules != self.entry_modules or root_name != self.root_name or len(modules) != len(self.modules):
            return None
        changed = []
        for new, old in zip(modules, self.modules.values()):
            if new is old:
                continue
            if (new.path, new.name, new.app) != (old.path, old.name, old.app):
                return None
            if new != old:
                changed.append(new)
        return changed

    def _with(self, changed: list[ModuleInfo]) -> ModuleGraph:
        """This graph with `changed` in place of the modules at their paths (`_changed`): the names' index and
        resolutions are shared; the reachable modules are extended, not walked again, when the changed modules
        only gained imports."""
        graph = copy.copy(self)
        graph.modules = {**self.modules, **{m.path: m for m in changed}}
        graph._heads = None
        graph._prefixes = {path: found for path, found in self._prefixes.items()
                           if graph.modules[path] is self.modules[path]}
        graph._importers = {}
        graph._live = graph._roles = None
        if self._live is not None and all(set(self.modules[m.path].imports) <= set(m.imports) for m in changed):
            graph._live = graph._extended(self._live, [
                dotted for m in changed if m.path in self._live
                for dotted in set(m.imports) - set(self.modules[m.path].imports)])
        return graph

    def _extended(self, live: set[str], imports: list[str]) -> set[str]:
        """`live`, closed under imports, and what `imports` (new imports of modules in it) reach."""
        return self._walk(set(live), [path for dotted in imports for path in self.resolve(dotted)])

    def _outer_names(self) -> set[str]:
        out = set()
        for entry in self.entry_modules:
            head, _, rest = entry.partition(".")
            if rest and head not in self._by_name and rest in self._by_name and any(
                m.name == rest and m.app for m in self.modules.values()
            ):
                out.add(head)
        return out

    def resolve(self, dotted: str) -> frozenset[str]:
        """The files `import dotted` runs: the module and each package on the way."""
        found = self._resolved.get(dotted)
        if found is None:  # the same names are imported all over a tree (`typing`, `fastapi`): each resolved once
            parts = dotted.split(".")
            found = self._resolved[dotted] = frozenset().union(
                *(self._by_name.get(".".join(parts[:end]), ()) for end in range(1, len(parts) + 1))
            )
        return found

    def importers(self, paths: set[str]) -> set[str]:
        """The modules with an import that `resolve` says may run one of `paths`."""
        key = frozenset(paths)
        found = self._importers.get(key)
        if found is None:
            found = self._importers[key] = frozenset(self._importers_of(key))
        return set(found)

    def _importers_of(self, paths: frozenset[str]) -> set[str]:
        names = self._names.get(paths)
        if names is None:
            names = self._names[paths] = frozenset(
                name for name, found in self._by_name.items() if not found.isdisjoint(paths))
        if not names:
            return set()
        if self._heads is None:  # asked round after round by the use layer: a module can only match by its heads
            self._heads = {}
            for module in self.modules.values():
                for dotted in module.imports:
                    self._heads.setdefault(dotted.partition(".")[0], set()).add(module.path)
        found = set()
        for path in set().union(*(self._heads.get(name.partition(".")[0], ()) for name in names)):
            prefixes = self._prefixes.get(path)
            if prefixes is None:
                prefixes = self._prefixes[path] = _prefixes(self.modules[path])
            if not names.isdisjoint(prefixes):
                found.add(path)
        return found

    def roots(self) -> list[str]:
        roots = {m.path for m in self.modules.values() if m.app}
        for entry in self.entry_modules:
            roots |= self.resolve(entry)
        return sorted(roots)

    def reachable(self, roots: Iterable[str]) -> set[str]:
        return self._walk(set(), list(roots))

    def _walk(self, seen: set[str], stack: list[str]) -> set[str]:
        """`seen` with every module the paths on `stack` reach by their imports."""
        while stack:
            path = stack.pop()
            if path in seen or path not in self.modules:
                continue
            seen.add(path)
            for dotted in self.modules[path].imports:
                stack.extend(self.resolve(dotted) - seen)
        return seen

    def roles(self) -> Mapping[str, Role]:
        """Each module's role; the same mapping every time it is asked (read it, never change it)."""
        if self._roles is None:
            if self._live is None:
                roots = self.roots()
                self._live = self.reachable(roots) if roots else set(self.modules)
            self._roles = {path: _role(module, path in self._live) for path, module in self.modules.items()}
        return self._roles


def _prefixes(module: ModuleInfo) -> frozenset[str]:
    """Every dotted prefix of the module's imports (`a`, `a.b`, `a.b.c` of `a.b.c`)."""
    return frozenset(".".join(parts[:end]) for parts in (d.split(".") for d in module.imports)
                     for end in range(1, len(parts) + 1))


# The last graph built within `remembering_graphs` (fixer.apply.rounds: a later round's tree differs from round 1's
# only in the files a round fixed, whose import lines alone may have changed), in a list while remembering.
_graphs: list[ModuleGraph] | None = None


@contextmanager
def remembering_graphs() -> Iterator[None]:
    """Within it, `graph_of` gives the graph built before when the modules and starts are the same, and builds on
    it when only some modules' import lines or definitions changed."""
    global _graphs
    outer, _graphs = _graphs, [] if _graphs is None else _graphs
    try:
        yield
    finally:
        _graphs = outer


def graph_of(modules: Iterable[ModuleInfo], entry_modules: Iterable[str] = (), root_name: str = "") -> ModuleGraph:
    """`ModuleGraph(modules, entry_modules, root_name)`, or what it would be, from the last one within
    `remembering_graphs`."""
    modules, entry_modules = list(modules), tuple(entry_modules)
    if _graphs is None:
        return ModuleGraph(modules, entry_modules, root_name)
    last = _graphs[-1] if _graphs else None
    changed = last._changed(modules, entry_modules, root_name) if last is not None else None
    if last is not None and changed == []:
        return last
    graph = last._with(changed) if last is not None and changed else ModuleGraph(modules, entry_modules, root_name)
    _graphs[:] = [graph]
    return graph


def _role(module: ModuleInfo, live: bool) -> Role:
    parts = module.path.split("/")
    folders, filename = parts[:-1], parts[-1]
    if inside_library(module.path):
        return Role.LIBRARY
    if (
        any(part in _TEST_DIRS for part in folders)
        or filename.startswith("test_")
        or filename.endswith("_test.py")
        or filename == "conftest.py"
    ):
        return Role.TEST
    if any(part in _MIGRATION_DIRS for part in folders):
        return Role.MIGRATION
    if live:
        return Role.LIVE
    if module.main_guard or any(part in _SCRIPT_DIRS for part in folders):
        return Role.SCRIPT
    return Role.DEAD


def inside_library(path: str) -> bool:
    """`vendor/sqlalchemy/ext/asyncio/engine.py`, `vendor/fastapi/routing.py`: a library package under some folder
    of the tree, or any module of a vendor folder."""
    folders = posixpath.dirname(path).split("/")
    return any(folder in LIBRARY_PACKAGES or folder in VENDOR_FOLDERS for folder in folders)


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
