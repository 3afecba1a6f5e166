"""Where an import leads when the documented start runs it: a module of the project (found on the start's sys.path,
as a file or a package folder), a third-party distribution, or nothing at all (the predicted ModuleNotFoundError).
The import walk (fixer.model.importwalk) asks these of each import it meets."""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from fixer import tables
from fixer.model.failures import ImportFix
from fixer.model.versions import environment, holds


@dataclass
class WalkedModule:
    name: str
    file: Path | None  # None: a namespace package
    package: str  # __package__: the name itself for a package, the parent otherwise ("" at top level)
    search: list[Path] | None  # __path__ for a package
    defined: set[str] = field(default_factory=set)
    open_names: bool = False  # a star import of unknown content, a module __getattr__, globals() writes
    done: bool = False
    settings_classes: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)  # class -> required fields
    url_validators: set[str] = field(default_factory=set)  # settings classes whose validator rejects postgresql://
    # settings class -> (its fields read as JSON, env_file, case_sensitive)
    settings_decoded: dict[str, tuple[tuple, str | None, bool]] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)  # not yet called
    defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)  # every function defined
    imported_defs: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (project module, name)
    third_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (third-party module, name)
    assigned: dict[str, ast.expr] = field(default_factory=dict)  # top-level `name = value`, for a later sys.path edit


class ImportResolution:
    """The import walk's resolution of an import: a project module, a third-party distribution, or a failure."""

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

    def project_module(self, name: str, where: tuple[Path, int], guarded: bool = False) -> WalkedModule | str | None:
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
        module = WalkedModule(name, file, name if search is not None else parent_name, search)
        self.modules[name] = module
        if file is not None:
            self.execute(module)
        else:
            module.done = True
        return module

    def unresolved(self, name: str, where: tuple[Path, int], message: str) -> None:
        self.unresolved_at.append(where)
        self.fail(f"mod:{name}", "ModuleNotFoundError", message, where, "unresolved-import")

    def import_name(self, name: str, where: tuple[Path, int], guarded: bool,
                    names: Iterable[str] = ()) -> WalkedModule | str | None:
        """`names`: what a `from name import ...` takes from it."""
        top = name.split(".")[0]
        result = self.project_module(name, where, guarded) if not self._is_third(top) else "third"
        if result != "third":
            return result
        if self._project_folder(top) and not self._installed_instead(name, names):
            # A folder of the project, not on sys.path from this start: `from core.config import x` started
            # as `uvicorn src.main:app` from the backend folder. A name a published distribution installs
            # (`fastapi`, beside a docs folder of that name) is that distribution, missing, not the folder.
            if not guarded:
                self.unresolved(name.split(".")[0], where, f"No module named '{top}'")
            return self._recover(name, where)
        if not guarded:
            self.third_party(name, where)
            self._shadow_doubt(top, where)
        return "third"

    def _installed_instead(self, name: str, names: Iterable[str]) -> bool:
        """Whether `from name import names`, which the project's own folder of that name does not serve from this
        start, is an installed distribution's module instead: one is named after it (openai-chatkit for
        `chatkit`, its import names unknown to the tables), and no module of the project's that ends so defines
        the names taken (`src/chatkit/server.py` without `StreamingResult`)."""
        names = [n for n in names if n != "*"]
        top = canonicalize_name(name.split(".")[0])
        if not names or not any(d.endswith("-" + top) and not tables.imports_of(d) for d in self.have.names):
            return False
        wanted = "/" + name.replace(".", "/")
        for candidate in (m for m in self.module_paths if ("/" + m).endswith(wanted)):
            folder = self.backend / candidate
            file = folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")
            try:
                tree = ast.parse(file.read_bytes()) if file.is_file() else None
            except (OSError, SyntaxError, ValueError):
                return False
            # what the module binds by this same import (`from chatkit.server import X` in src/chatkit/server.py)
            # is the distribution's, not its own
            defined = {n for node in (tree.body if tree else ())
                       if not (isinstance(node, ast.ImportFrom) and node.module == name and not node.level)
                       for n in _bound(node)}
            if all(n in defined or (folder / n).exists() or (folder / f"{n}.py").exists() for n in names):
                return False
        return True

    def _recover(self, name: str, where: tuple[Path, int]) -> WalkedModule | None:
        """Go on as the fixed import would: the tree's module `name` names, by the name it has from here (the
        nearest to the start folder when several modules end so)."""
        wanted = "/" + name.replace(".", "/")
        candidates = sorted((m for m in self.module_paths if ("/" + m).endswith(wanted)), key=lambda m: m.count("/"))
        for candidate in candidates:
            dotted = self._name_for(self.backend / candidate)
            if dotted and dotted not in self.stack:
                result = self.project_module(dotted, where)
                return result if isinstance(result, WalkedModule) else None
        return None

    @functools.cached_property
    def shadows(self) -> dict[str, tuple[Path, str]]:
        """Import name -> (the project's module, the distribution) for each top-level module of the project that
        the start's sys.path finds before site-packages under a name an installed distribution provides (`mcp/`
        beside the distribution mcp): every `import mcp`, an installed package's too, gets the project's."""
        out = {}
        for dist in sorted(self.have.names):
            for name in sorted(tables.imports_of(dist)):
                found = self._find_in(name, self.sys_path)
                if found is not None and found[0] is not None:  # a namespace folder loses to the installed package
                    out[name] = (found[0], dist)
        return out

    def _shadow_doubt(self, top: str, where: tuple[Path, int]) -> None:
        """An installed package imported here that needs a distribution the project's own module shadows may fail
        inside (openai-agents imports mcp, and gets the project's `mcp/`): what it then raises is its own code's."""
        dist = self.dist_of(top)
        if dist is None:
            return
        for name, (file, shadowed) in self.shadows.items():
            if canonicalize_name(dist) == shadowed or name == top:
                continue
            version = self.have.version(dist)
            requires = tables.requires(dist, version) if version is not None else None
            if requires is not None:
                env = environment(self.python or None)
                if not any(canonicalize_name(r.name) == shadowed and (r.marker is None or holds(r.marker, env))
                           for r in requires):
                    continue
                how = f"{dist} {version} requires {shadowed}"
            elif canonicalize_name(dist) in self.have.may_bring(name):
                how = f"{dist} may need it: fixer's tables do not record what it requires"
            elif version is None and canonicalize_name(dist) in tables.required_by(shadowed):
                # Its requirements are recorded but not its releases, so which one installs is unknown.
                how = f"releases of {dist} require {shadowed}"
            else:
                continue
            self.doubt(f"`import {top}` may fail inside {dist}: its `import {name}` gets the project's {self.rel(file)}",
                       where, f"the project's `{name}` comes before site-packages on sys.path and shadows the "
                       f"distribution {shadowed} the install provides; {how}; renaming the project's package ends it")

    def _is_third(self, top: str) -> bool:
        found = self._find_in(top, self.sys_path)
        # A folder without __init__.py is only a namespace portion: an installed package of that name wins
        # (alembic's own `alembic/` migrations folder beside alembic.ini, and `from alembic import context`).
        return found is None or (found[0] is None and self.have.known and self.have.provides(top) is True)

    def _recover_relative(self, module: WalkedModule, node: ast.ImportFrom, where: tuple[Path, int],
                          guarded: bool = False) -> None:
        """Go on as if the relative import had worked: import what it names by the file it names. A guarded
        one (a `try:` whose `except ImportError:` imports the module another way) is no fix: the fallback runs."""
        folder = module.file.parent if module.file else self.run_dir
        for _ in range(node.level - 1):
            folder = folder.parent
        parts = (node.module or "").split(".") if node.module else []
        target = folder.joinpath(*parts)
        name = self._name_for(target)
        if name:
            if node.module and not guarded:
                self.import_fixes.append(ImportFix(self.rel(module.file), node.lineno, "." * node.level + node.module, name))
            imported = self.project_module(name, where)
            if isinstance(imported, WalkedModule):
                for alias in node.names:
                    if alias.name != "*":
                        self.name_from(imported, alias.name, where, True)
        for alias in node.names:
            module.defined.add(alias.asname or alias.name)

    def project_import_fails(self, module: WalkedModule, statements: list[ast.stmt]) -> bool:
        """Whether a block of plain imports (a `try:` body) raises ImportError from this start because of the
        project's own modules: a relative import in a module without a package (or with too many dots), or a
        folder of the project that is not on sys.path. Its `except ImportError:` then runs at every start."""
        if not statements:
            return False
        failing = False
        for node in statements:
            if isinstance(node, ast.ImportFrom) and node.level:
                failing |= not module.package or node.level > len(module.package.split("."))
            elif isinstance(node, (ast.ImportFrom, ast.Import)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                failing |= any(self._off_path(name) for name in names)
            elif not isinstance(node, ast.Pass):
                return False  # other code may raise ImportError too, or not: not known here
        return failing

    def _off_path(self, name: str) -> bool:
        """`name` is a folder of the project that is not importable from this start."""
        top = name.split(".")[0]
        return self._find_in(top, self.sys_path) is None and self._project_folder(top)

    def _project_folder(self, top: str) -> bool:
        """`top` names a folder of the project, not a distribution (`fastapi`, beside a docs folder of that name,
        is the distribution, missing)."""
        return (top in self.project_names and top not in sys.stdlib_module_names and not self.have.provides(top)
                and tables.distribution_of(top) is None)

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


def _bound(node: ast.stmt) -> list[str]:
    """The names a top-level statement binds (definitions, assignments, imports)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
