"""Every import of a module the import-root rewrite (FX020) renames, wherever the project writes it.

The import walk (`fixer.model.importwalk`) meets the imports that run when the server starts and records, for each
one that cannot resolve from the start folder, the name the module has from there (`ImportFix`). A rewrite is all
or nothing for a module's identity: the same module imported as `src.core.config` in one file and as
`core.config` in another loads twice, under two names, with two copies of its state (two engines, two SQLModel
metadata registries). So once the start needs a module renamed, every import of that module in the app's files
is renamed with it: in function bodies, class bodies, `import pkg.mod as m`, relative imports. When one of them
cannot be rewritten without changing what the statement binds (`import src.core.config` binds `src`;
`from . import config` names no module to rewrite), none of that module's imports is.

Imports inside a `try:` whose `except ImportError:` imports the module another way are the project's own
fallback between starts: the walk decides those (the branch that runs from this start), never this sweep.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fixer.model.failures import ImportFix

__all__ = ["ImportIdentity"]

# Programs of their own (test runners, migrations, one-off scripts): another process, another sys.path.
_OTHER_PROGRAMS = frozenset({"tests", "test", "alembic", "migrations", "scripts"})


@dataclass(frozen=True)
class _Use:
    """One import of a project module, as written in one file."""

    path: str
    line: int
    old: str  # as written, dots included: the key FX020 rewrites by
    target: Path  # the module's file without `.py`, or its package folder
    name: str | None  # the name it loads the module under from this start; None: it fails
    rewritable: bool  # the statement binds the same names with the module's other name


class ImportIdentity:
    """The import walk's completion of its import fixes: each renamed module renamed everywhere, or nowhere."""

    def complete_import_fixes(self, python_files: Iterable[str]) -> None:
        if not self.import_fixes:
            return
        uses: dict[Path, list[_Use]] = {}
        for rel in python_files:
            if not set(rel.split("/")[:-1]) & _OTHER_PROGRAMS:
                for use in self._uses(rel):
                    uses.setdefault(use.target, []).append(use)
        planned = {(f.path, f.line, f.old): f for f in self.import_fixes}
        dropped: set[tuple[str, int, str]] = set()
        added: list[ImportFix] = []
        for target, group in uses.items():
            name = self._name_for(target)
            if not any(use.name is None for use in group):
                continue  # every import of it works from this start: nothing to rename
            renamed = [use for use in group if use.name != name]
            if name is None or not all(use.rewritable for use in renamed):
                dropped |= {(use.path, use.line, use.old) for use in renamed}
                continue
            added += [ImportFix(use.path, use.line, use.old, name) for use in renamed
                      if (use.path, use.line, use.old) not in planned]
        self.import_fixes = [f for f in self.import_fixes if (f.path, f.line, f.old) not in dropped] + added

    def _uses(self, rel: str) -> Iterator[_Use]:
        file = self.backend / rel
        own = self._name_for(file.parent if file.name == "__init__.py" else file.with_suffix(""))
        if own is None:
            return  # not importable from this start: not part of the app's process
        package = own if file.name == "__init__.py" else own.rpartition(".")[0]
        tree = self.shared_tree(file)
        if tree is None:
            try:
                tree = ast.parse(file.read_bytes())
            except (SyntaxError, ValueError, OSError, RecursionError):
                return
        for node in self._imports(tree.body):
            if isinstance(node, ast.ImportFrom):
                use = self._from_use(rel, file, package, node)
                if use is not None:
                    yield use
                continue
            for alias in node.names:
                target, name = self._absolute(alias.name)
                if target is not None:
                    yield _Use(rel, node.lineno, alias.name, target, name, alias.asname is not None)

    def _imports(self, statements: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
        """Every import statement, at any depth, outside a `try:` that falls back on ImportError."""
        for node in statements:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                if not any(self.catches_import_error(handler) for handler in node.handlers):
                    yield from self._imports(node.body)
                    for handler in node.handlers:
                        yield from self._imports(handler.body)
                yield from self._imports(node.orelse)
                yield from self._imports(node.finalbody)
            else:
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        yield from self._imports(inner)
                for case in getattr(node, "cases", ()):
                    yield from self._imports(case.body)

    def _from_use(self, rel: str, file: Path, package: str, node: ast.ImportFrom) -> _Use | None:
        if not node.level:
            target, name = self._absolute(node.module or "")
            return _Use(rel, node.lineno, node.module or "", target, name, True) if target is not None else None
        folder = file.parent
        for _ in range(node.level - 1):
            folder = folder.parent
        parts = package.split(".") if package else []
        base = ".".join(parts[: len(parts) - (node.level - 1)]) if node.level - 1 < len(parts) else None
        if node.module is None:
            # `from . import x`: the module it would become is `import x` or `from pkg import x`, another statement.
            submodules = [folder / a.name for a in node.names
                          if (folder / f"{a.name}.py").is_file() or (folder / a.name).is_dir()]
            target = submodules[0] if len(submodules) == 1 else folder
            name = None if base is None else base if target == folder else f"{base}.{target.name}"
            return _Use(rel, node.lineno, "." * node.level, target, name, False)
        target = folder.joinpath(*node.module.split("."))
        if not (target.with_suffix(".py").is_file() or target.is_dir()):
            return None
        return _Use(rel, node.lineno, "." * node.level + node.module, target, f"{base}.{node.module}" if base else None, True)

    def _absolute(self, name: str) -> tuple[Path | None, str | None]:
        """(the project module `name` means, the name it loads under from this start: None when it fails); (None,
        None) for a module not of the project."""
        found = self._located(name)
        if found is not None:
            return found, name
        if not name or not self._off_path(name):
            return None, None
        wanted = "/" + name.replace(".", "/")
        candidates = sorted((m for m in self.module_paths if ("/" + m).endswith(wanted)), key=lambda m: m.count("/"))
        return next(((self.backend / m, None) for m in candidates if self._name_for(self.backend / m)), (None, None))

    def _located(self, name: str) -> Path | None:
        """The project file (without `.py`) or package folder `name` imports from this start's sys.path."""
        folders: list[Path] | None = self.sys_path
        path = None
        for part in name.split(".") if name else ():
            found = self._find_in(part, folders or [])
            if found is None:
                return None
            file, folders = found
            path = file.parent if file is not None and file.name == "__init__.py" else \
                file.with_suffix("") if file is not None else folders[0]
        if path is None or not path.is_relative_to(self.backend):
            return None
        return path
