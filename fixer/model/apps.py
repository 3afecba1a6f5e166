"""The start of a backend that documents none, inferred from its code: the module that builds the app
(`app = FastAPI()` at module level, or `app = create_app()` of a factory that returns one), started from the
folder that makes its imports resolve. A backend folder that is itself the import package (`from app.x import
y` inside `app/`) is started from its parent.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from fixer.model.sources import Sources

__all__ = ["inferred_app", "module_file"]

_SKIP_PARTS = frozenset({"tests", "test", "alembic", "migrations", "scripts", "docs", "examples"})
_ENTRY_NAMES = ("main", "app", "server", "asgi", "api", "application", "index", "__init__")


def module_file(folders: Sequence[Path], module: str) -> Path | None:
    """The file `module` imports from, looked for in `folders` as sys.path is searched (None: not there)."""
    for folder in folders:
        base = folder.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _called(call: ast.Call) -> str | None:
    """The last name of what a call calls (`FastAPI` for `fastapi.FastAPI(...)`), None for anything else."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _builds_app(call: ast.expr, factories: set[str]) -> bool:
    if not isinstance(call, ast.Call):
        return False
    name = _called(call)
    return name == "FastAPI" or name in factories


def _factories(trees: dict[str, ast.Module]) -> set[str]:
    """Functions that build and return an app (`def create_app(): app = FastAPI(); ...; return app`)."""
    names = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                isinstance(n, ast.Call) and _called(n) == "FastAPI" for n in ast.walk(node)
            ) and any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(node)):
                names.add(node.name)
    return names


def _apps(trees: dict[str, ast.Module]) -> list[tuple[str, str, int]]:
    """(path, attribute, line) of each module that binds an app at module level."""
    factories = _factories(trees)
    found = []
    for rel, tree in trees.items():
        for node in tree.body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if value is None or not _builds_app(value, factories):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names:
                found.append((rel, names[0], node.lineno))
                break
    return found


def _score(root: Path, file: Path, tree: ast.Module) -> int | None:
    """How many of the module's absolute imports of the project resolve from `root` (None: the module cannot be
    imported from there: a folder on the way is no identifier, or a relative import goes above its package)."""
    parts = file.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    score = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.level > len(parts) - (0 if file.name == "__init__.py" else 1):
                return None
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        for name in names:
            if module_file([root], name) is not None or (root / name.split(".")[0]).is_dir():
                score += 1
    return score


def inferred_app(backend: Path, python: Sequence[str], sources: Sources) -> tuple[str, Path, str, int] | None:
    """("MODULE:ATTR", the folder to start from, the module's path, the line that binds the app): the best-named, shallowest module that
    builds the app, from its best root (the backend folder on a tie, then the root nearest to it)."""
    trees: dict[str, ast.Module] = {}
    for rel in python:
        parts = rel.split("/")
        folders = parts[:-1]
        # Documentation and example trees (`docs_src/`, `examples_async/`) build apps to show, not to run.
        if (set(folders) & _SKIP_PARTS or any(f.startswith(("docs", "example", "tutorial")) for f in folders)
                or parts[-1].startswith("test_") or parts[-1] == "conftest.py"):
            continue
        text = sources.text(rel)
        if not text or ("FastAPI" not in text and "create_app" not in text):
            continue
        tree = sources.tree(rel, text)
        if tree is not None:
            trees[rel] = tree
        elif "FastAPI(" in text:
            # A module that does not parse may still be the app's: named so, it is the start (the walk reports it).
            trees[rel] = ast.Module(body=[], type_ignores=[])
    apps = _apps(trees) or [(rel, "app", 1) for rel, tree in trees.items() if not tree.body]
    if not apps:
        return None
    stem = lambda rel: rel.rpartition("/")[2].removesuffix(".py")  # noqa: E731
    rel, attr, line = min(apps, key=lambda a: (stem(a[0]) not in _ENTRY_NAMES, a[0].count("/"),
                                         _ENTRY_NAMES.index(stem(a[0])) if stem(a[0]) in _ENTRY_NAMES else 0, a[0]))
    file = (backend / rel).resolve()
    roots = [file.parent, *[p for p in file.parent.parents if p.is_relative_to(backend.parent)]]
    roots = [r for r in roots if r.is_relative_to(backend) or r == backend.parent]
    scored = [(s, r) for r in roots if (s := _score(r, file, trees[rel])) is not None]
    if not scored:
        return None
    best = max(s for s, _ in scored)
    candidates = [r for s, r in scored if s == best]
    root = backend if backend in candidates else min(candidates, key=lambda r: (not r.is_relative_to(backend),
                                                                                  -len(r.parts)))
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return f"{'.'.join(parts)}:{attr}", root, rel, line
