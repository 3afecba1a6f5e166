"""FastAPI reads a route's parameters when the route is declared (at import): from 0.95, which reads `Annotated`
metadata, a parameter whose `Annotated[...]` holds a FastAPI marker and whose default is another one fails its
assertions there (`current_user: CurrentUser = Depends()` where `CurrentUser = Annotated[User,
Depends(get_user)]`). `AnnotatedChecks` is the part of the import walk (`fixer.model.importwalk`) that checks it;
`annotated_conflicts` gives the parameters to the rule that removes the redundant default.

Which releases assert, and their words, are read in fastapi's wheels (messages.json keys "annotated-depends-default",
"annotated-marker-depends-default", "annotated-field-default"; 0.94.1's dependencies/utils.py has none of them).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from fixer import tables

__all__ = ["REDUNDANT", "AnnotatedChecks", "AnnotatedConflict", "annotated_conflicts", "marker"]

# fastapi's assertion for each pair (the marker in `Annotated`, the default's), as messages.json keys it; each text
# ends where fastapi appends the parameter's repr. A field default beside an `Annotated` Depends passes.
_ASSERTIONS = {("depends", "depends"): "annotated-depends-default",
               ("field", "depends"): "annotated-marker-depends-default", ("field", "field"): "annotated-field-default"}
# How a failure's detail names the parameters whose `Depends` default repeats the Annotated one (FX052 reads it).
REDUNDANT = "redundant `Depends` defaults: "
# fastapi's markers by kind: Depends (Security subclasses it), and the parameter classes (params.Param, params.Body).
_DEPENDS = frozenset({"Depends", "Security"})
_FIELDS = frozenset({"Query", "Path", "Header", "Cookie", "Body", "Form", "File"})


@dataclass(frozen=True)
class AnnotatedConflict:
    parameter: str
    message: str  # fastapi's assertion, as it words it
    redundant: bool  # the default is a Depends the Annotated one already gives (removing it changes nothing)


def marker(node: ast.expr) -> str | None:
    """"depends" or "field" for a call to one of fastapi's markers, else None."""
    if not isinstance(node, ast.Call):
        return None
    name = ast.unparse(node.func).rpartition(".")[2]
    return "depends" if name in _DEPENDS else "field" if name in _FIELDS else None


def _annotated_marker(annotation: ast.expr, alias: Callable[[str], ast.expr | None]) -> ast.Call | None:
    """The last fastapi marker an `Annotated[...]` annotation holds (through a module-level alias, also one
    imported from another project module); None when it holds none or is not Annotated."""
    if isinstance(annotation, ast.Name):
        target = alias(annotation.id)
        return _annotated_marker(target, lambda name: None) if target is not None else None
    if not (isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value).rpartition(".")[2] == "Annotated"):
        return None
    parts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    markers = [p for p in parts[1:] if marker(p) is not None]
    return markers[-1] if markers else None


def annotated_conflicts(function: ast.FunctionDef | ast.AsyncFunctionDef, alias: Callable[[str], ast.expr | None],
                        fastapi: Version | None = None) -> list[AnnotatedConflict]:
    """The parameters of a route function that fastapi (`fastapi`; None: its newest release) refuses, in the order
    it reads them."""
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    pairs = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    pairs += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None]
    order = {id(a): i for i, a in enumerate(positional + arguments.kwonlyargs)}
    out = []
    for argument, default in sorted(pairs, key=lambda p: order[id(p[0])]):
        found = _annotated_marker(argument.annotation, alias) if argument.annotation else None
        given, annotated = marker(default), marker(found) if found is not None else None
        key = _ASSERTIONS.get((annotated, given))
        text = tables.message("fastapi", fastapi, key) if key else None
        if text is None:
            continue
        # `= Depends()` asks for what the annotation names; `= Depends(same)` names it again
        same = given == annotated == "depends" and (
            (not default.args and not default.keywords) or ast.dump(default) == ast.dump(found))
        out.append(AnnotatedConflict(argument.arg, text + repr(argument.arg), same))
    return out


class AnnotatedChecks:
    def annotated_defaults(self, module, node: ast.FunctionDef | ast.AsyncFunctionDef, where: tuple[Path, int]) -> None:
        fastapi = self.have.version("fastapi")
        if fastapi is None:
            return
        found = annotated_conflicts(node, lambda name: self.module_alias(module, name), fastapi)
        if found:
            since = tables.releases_with("fastapi", _ASSERTIONS["depends", "depends"])[0]
            redundant = ", ".join(c.parameter for c in found if c.redundant)
            self.fail(f"annotated:{self.rel(where[0])}:{node.lineno}:{found[0].parameter}", "AssertionError",
                      found[0].message, where, "annotated-default" if found[0].redundant else "annotated-marker",
                      f"fastapi {fastapi} reads `Annotated` metadata (from {since.major}.{since.minor}): the parameter "
                      f"`{found[0].parameter}` of "
                      f"{node.name}() has a marker there and another as its default, which it asserts against when "
                      f"the route is declared" + (f"; {REDUNDANT}{redundant}" if redundant else ""))

    def module_alias(self, module, name: str) -> ast.expr | None:
        """The value of a module-level `name = ...` of `module`, or of the project module it imports `name` from."""
        if name in module.assigned:
            return module.assigned[name]
        source = module.imported_defs.get(name)
        other = self.modules.get(source[0]) if source else None
        return other.assigned.get(source[1]) if other is not None else None
