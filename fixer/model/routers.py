"""Which APIRouter objects the app includes, decided by value: `include_router(x)` is followed to the router
object `x` holds (a module's `router`, through imports, re-exports, a loop over a list another module defines, a
comprehension, `.append`), so two modules' routers both named `router` are two routers. Only the modules the
start imports are read, from the trees the import walk parsed (`Sources`, pinned by the caller).
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterable

from fixer.model.sources import Sources

__all__ = ["Included", "included_routers"]

Router = tuple[str, str]  # (module path, the module-level name an APIRouter(...) is assigned to)
_DEPTH = 12


class Included:
    """What the app includes: routers by value, and the names written where the value could not be followed
    (`include_router(make_router())`): a router of that name counts as included, so nothing correct is reported."""

    def __init__(self) -> None:
        self.routers: set[Router] = set()
        self.unfollowed: set[str] = set()

    def includes(self, path: str, name: str) -> bool:
        return (path, name) in self.routers or name in self.unfollowed


class _Module:
    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.bindings: dict[str, list[tuple[str, ast.AST]]] = {}  # name -> ("value" | "element", node)
        self.imports: dict[str, tuple[str, int, str | None]] = {}  # local -> (module, level, name or None)
        self.routers: set[str] = set()  # module-level `x = APIRouter(...)`
        self.returns: dict[str, list[ast.AST]] = {}  # a module-level function -> what it returns
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.returns[node.name] = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call) \
                    and _last(node.value.func) == "APIRouter":
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                self.routers.update(t.id for t in targets if isinstance(t, ast.Name))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(target, ast.Name):
                        self.bind(target.id, "also" if isinstance(node, ast.AugAssign) else "value", node.value)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name):
                self.bind(node.target.id, "element", node.iter)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.args:
                if node.func.attr in ("append", "add", "insert"):  # `ROUTERS.append(users.router)`
                    self.bind(node.func.value.id, "member", node.args[-1])
                elif node.func.attr == "extend":
                    self.bind(node.func.value.id, "also", node.args[0])
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = (alias.name, 0, None)
                    else:
                        head = alias.name.split(".")[0]
                        self.imports[head] = (head, 0, None)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (node.module or "", node.level, alias.name)

    def bind(self, name: str, how: str, node: ast.AST) -> None:
        self.bindings.setdefault(name, []).append((how, node))


def _last(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


class _Values:
    def __init__(self, sources: Sources, order: Iterable[str], paths: Iterable[str]) -> None:
        self.sources = sources
        self.order = list(order)
        self.modules: dict[str, _Module | None] = {}
        self.by_dotted: dict[str, list[str]] = {}  # every dotted suffix of a module path -> the paths
        for path in paths:
            if path.endswith(".py"):
                parts = path[:-3].split("/")
                if parts[-1] == "__init__":
                    parts.pop()
                for cut in range(len(parts)):
                    self.by_dotted.setdefault(".".join(parts[cut:]), []).append(path)

    def module(self, path: str) -> _Module | None:
        if path not in self.modules:
            tree = self.sources.tree(path) if path in self.order else None  # a module never imported runs nothing
            self.modules[path] = _Module(path, tree) if tree is not None else None
        return self.modules[path]

    def find(self, dotted: str, level: int, near: str) -> str | None:
        """The path of module DOTTED imported from NEAR (LEVEL dots: relative)."""
        if level:
            base = posixpath.dirname(near)
            for _ in range(level - 1):
                base = posixpath.dirname(base)
            stem = posixpath.join(base, *dotted.split(".")) if dotted else base
            for candidate in (stem + ".py", stem + "/__init__.py"):
                if candidate in self.modules or candidate in self.order:
                    return candidate
            return None
        found = self.by_dotted.get(dotted, [])
        imported = [p for p in found if p in self.order] or found
        if not imported:
            return None
        return max(sorted(imported), key=lambda p: len(posixpath.commonpath([p, near])) if "/" in near else 0)

    # -- values: ("router", path, name) and ("module", path, "")

    def value(self, node: ast.AST, mod: _Module, depth: int) -> set[tuple[str, str, str]]:
        if depth > _DEPTH:
            return set()
        if isinstance(node, ast.Name):
            return self.name(node.id, mod, depth + 1)
        if isinstance(node, ast.Attribute):
            return {found for owner in self.value(node.value, mod, depth + 1) if owner[0] == "module"
                    for found in self.attribute(owner[1], node.attr, depth + 1)}
        if isinstance(node, ast.Starred):
            return self.elements(node.value, mod, depth + 1)
        if isinstance(node, ast.Call):  # `include_router(make_router())`
            return {v for owner, returned in self.returned(node, mod, depth + 1)
                    for v in self.value(returned, owner, depth + 1)}
        return set()

    def returned(self, call: ast.Call, mod: _Module, depth: int) -> list[tuple[_Module, ast.AST]]:
        """What the project function CALL calls returns, each with the module it is written in."""
        if isinstance(call.func, ast.Name) and call.func.id in mod.returns:
            return [(mod, r) for r in mod.returns[call.func.id]]
        owner: _Module | None = None
        if isinstance(call.func, ast.Name) and call.func.id in mod.imports:
            module, level, attr = mod.imports[call.func.id]
            base = self.find(module, level, mod.path) if attr is not None else None
            owner, name = (self.module(base), attr) if base else (None, "")
        elif isinstance(call.func, ast.Attribute):
            found = [v for v in self.value(call.func.value, mod, depth + 1) if v[0] == "module"]
            owner, name = (self.module(found[0][1]), call.func.attr) if len(found) == 1 else (None, "")
        if owner is None or depth > _DEPTH:
            return []
        return [(owner, r) for r in owner.returns.get(name, [])]

    def attribute(self, path: str, name: str, depth: int) -> set[tuple[str, str, str]]:
        owner = self.module(path)
        if owner is not None:
            found = self.name(name, owner, depth)
            if found:
                return found
        package = path[: -len("__init__.py")] if path.endswith("__init__.py") else None
        sub = self.find(name, 1, package + "x") if package is not None else None  # `pkg.module` not imported in pkg
        return {("module", sub, "")} if sub else set()

    def name(self, name: str, mod: _Module, depth: int) -> set[tuple[str, str, str]]:
        if depth > _DEPTH:  # a package's __init__ that imports a name from itself leads back here
            return set()
        if name in mod.routers:
            return {("router", mod.path, name)}
        out: set[tuple[str, str, str]] = set()
        for how, bound in mod.bindings.get(name, []):
            if how == "value":
                out |= self.value(bound, mod, depth + 1)
            elif how == "element":
                out |= self.elements(bound, mod, depth + 1)
        if name in mod.imports:
            module, level, attr = mod.imports[name]
            if attr is None:
                target = self.find(module, 0, mod.path)
                return out | ({("module", target, "")} if target else set())
            base = self.find(module, level, mod.path)
            whole = self.find(f"{module}.{attr}" if module else attr, level, mod.path)
            package = self.module(base) if base is not None else None
            # A package whose __init__ binds the name (`from .router import router`) gives that object, not its
            # submodule of the same name: the import sets the attribute after the submodule's.
            # (`from . import users` in that __init__ is the submodule again.)
            defines = package is not None and package.path != mod.path and (
                attr in package.routers or attr in package.bindings or attr in package.imports)
            if whole is not None and not defines:  # `from app.api import users`: a module
                out.add(("module", whole, ""))
            elif base is not None:
                out |= self.attribute(base, attr, depth + 1)
        return out

    def elements(self, node: ast.AST, mod: _Module, depth: int) -> set[tuple[str, str, str]]:
        """The values iterating over NODE gives: a literal's elements, or what a name's list was built from."""
        if depth > _DEPTH:
            return set()
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return {v for element in node.elts for v in self.value(element, mod, depth + 1)}
        if isinstance(node, ast.BinOp):  # `BASE + [extra.router]`
            return self.elements(node.left, mod, depth + 1) | self.elements(node.right, mod, depth + 1)
        if isinstance(node, ast.Call) and _last(node.func) in ("list", "tuple", "set", "sorted", "reversed") \
                and node.args:
            return self.elements(node.args[0], mod, depth + 1)
        if isinstance(node, ast.Call):  # `for r in all_routers():`
            return {v for owner, returned in self.returned(node, mod, depth + 1)
                    for v in self.elements(returned, owner, depth + 1)}
        if isinstance(node, ast.Attribute):
            return {v for owner in self.value(node.value, mod, depth + 1) if owner[0] == "module"
                    for v in self.module_elements(owner[1], node.attr, depth + 1)}
        if isinstance(node, ast.Name):
            if node.id in mod.imports and node.id not in mod.bindings:
                module, level, attr = mod.imports[node.id]
                base = self.find(module, level, mod.path) if attr is not None else None
                return self.module_elements(base, attr, depth + 1) if base else set()
            return self.module_elements(mod.path, node.id, depth + 1)
        return set()

    def module_elements(self, path: str, name: str, depth: int) -> set[tuple[str, str, str]]:
        owner = self.module(path)
        if owner is None:
            return set()
        if name in owner.imports and name not in owner.bindings:
            return self.elements(ast.Name(id=name), owner, depth + 1) if depth <= _DEPTH else set()
        out: set[tuple[str, str, str]] = set()
        for how, bound in owner.bindings.get(name, []):
            if how in ("value", "also"):
                out |= self.elements(bound, owner, depth + 1)
            elif how == "member":
                out |= self.value(bound, owner, depth + 1)
        return out


def included_routers(sources: Sources, order: Iterable[str], paths: Iterable[str]) -> Included:
    """The routers the app includes: each `include_router(x)` in the imported modules, followed to its value, on an
    app or on a router the app includes (a router only included into a router never included is not served)."""
    values = _Values(sources, order, paths)
    edges: list[tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]] = []  # (receivers, included)
    found = Included()
    for path in values.order:
        text = sources.text(path) or ""
        if "include_router(" not in text:
            continue
        mod = values.module(path)
        if mod is None:
            continue
        for node in ast.walk(mod.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "include_router"):
                continue
            given = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "router"), None)
            if given is None:
                continue
            routers = {v for v in values.value(given, mod, 0) if v[0] == "router"}
            if not routers:
                found.unfollowed.add(_last(given))
                continue
            receivers = {v for v in values.value(node.func.value, mod, 0) if v[0] == "router"}
            edges.append((receivers, routers))
    if found.unfollowed:  # a router that includes others may be what the unfollowed call includes
        found.routers |= {(r[1], r[2]) for receivers, _ in edges for r in receivers}
    changed = True
    while changed:
        changed = False
        for receivers, routers in edges:
            if (not receivers or any((r[1], r[2]) in found.routers for r in receivers)) \
                    and not {(r[1], r[2]) for r in routers} <= found.routers:
                found.routers |= {(r[1], r[2]) for r in routers}
                changed = True
    return found
