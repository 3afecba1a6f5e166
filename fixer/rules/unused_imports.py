"""Removing the imports a rewrite left unused, without scope analysis.

LibCST's RemoveImportsVisitor needs ScopeProvider metadata, which costs several parses' worth of time on
every changed file, and it can empty an `if`/`try` block into `pass` (libcst#258). A rewrite only ever asks
to drop a name it stopped using, so counting the other places that name appears is enough: the import goes
only when the name appears nowhere else in the module (a string in `__all__` counts as a use), and only
from module-level import statements. A name shadowed somewhere keeps its import: never a wrong removal,
at worst an unused import left for a linter.
"""

from __future__ import annotations

from collections import Counter

import libcst as cst

from fixer.rules.tree_walk import scan


def _dotted(node: cst.BaseExpression) -> str:
    return cst.Module(body=[]).code_for_node(node)


class _Uses(cst.CSTVisitor):
    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.count: Counter[str] = Counter()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.count[node.value] += 1

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        text = node.value.strip("'\"")
        if text in self.names:
            self.count[text] += 1


def _local(module: str, obj: str | None, asname: str | None) -> str:
    return asname or obj or module.split(".")[0]


def remove_unreferenced(tree: cst.Module, requests: list[tuple[str, str | None, str | None]]) -> cst.Module:
    """Drop each requested (module, name, asname) import from module-level statements if nothing uses it."""
    wanted = {(module, obj, asname): _local(module, obj, asname) for module, obj, asname in requests}
    uses = _Uses(set(wanted.values()))
    scan(tree, uses)
    unused = {key for key, local in wanted.items() if uses.count[local] == 0}
    if not unused:
        return tree
    body: list[cst.BaseStatement] = []
    for statement in tree.body:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                kept = [alias for alias in small.names if _request(small, alias) not in unused]
                if not kept:
                    continue
                if len(kept) != len(small.names):
                    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    statement = statement.with_changes(body=[small.with_changes(names=kept)])
        body.append(statement)
    return tree.with_changes(body=body)


def _request(node: cst.Import | cst.ImportFrom, alias: cst.ImportAlias) -> tuple[str, str | None, str | None]:
    asname = _dotted(alias.asname.name) if alias.asname is not None else None
    if isinstance(node, cst.Import):
        return (_dotted(alias.name), None, asname)
    if node.relative or node.module is None:
        return ("", None, None)
    return (_dotted(node.module), _dotted(alias.name), asname)
