"""`scan` sees what `tree.visit` sees, without rebuilding the tree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from codemods.rules.tree_walk import scan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SOURCES = sorted(FIXTURES.rglob("*.py"))


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.depth = 0
        self.nested: Counter[str] = Counter()

    def visit_Name(self, node: cst.Name) -> None:
        self.seen[f"name {node.value}"] += 1
        if self.depth:
            self.nested[node.value] += 1

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.seen[f"string {node.value}"] += 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.seen["import"] += 1
        return False  # names in imports are not counted

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_scan_sees_what_visit_sees(path: Path) -> None:
    tree = cst.parse_module(path.read_bytes())
    slow, fast = _Recorder(), _Recorder()
    tree.visit(slow)
    scan(tree, fast)
    assert fast.seen == slow.seen
    assert fast.nested == slow.nested
    assert fast.depth == 0


def test_scan_refuses_what_it_cannot_call_the_same_way() -> None:
    class Attribute(cst.CSTVisitor):
        def visit_Call_func(self, node: cst.Call) -> None:
            pass

    class Dispatch(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            return True

    tree = cst.parse_module("f(x)\n")
    for visitor in (Attribute(), Dispatch()):
        with pytest.raises(TypeError):
            scan(tree, visitor)
