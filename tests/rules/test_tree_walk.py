"""`scan` sees what `tree.visit` sees, without rebuilding the tree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import libcst as cst
import pytest

from fixer.rules.tree_walk import POSTGRES_STRING, scan, visit_statements, words

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

def _parses(path: Path) -> bool:
    try:
        cst.parse_module(path.read_bytes())
    except cst.ParserSyntaxError:
        return False  # the fixtures of a syntax error, broken on purpose
    return True


SOURCES = [path for path in sorted(FIXTURES.rglob("*.py")) if _parses(path)]


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


class _Renamer(cst.CSTTransformer):
    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value="renamed") if updated_node.value == "old" else updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel | cst.FlattenSentinel[cst.SimpleStatementLine]:
        code = cst.Module(body=[]).code_for_node(updated_node)
        if code.startswith("drop"):
            return cst.RemoveFromParent()
        if code.startswith("twice"):
            return cst.FlattenSentinel([updated_node, updated_node])
        return updated_node


SOURCE = "x = old\ndrop = 1\ntwice = old\ndef f():\n    return old\ny = other\n"


def test_visit_statements_entering_everything_is_tree_visit() -> None:
    tree = cst.parse_module(SOURCE)
    assert visit_statements(tree, _Renamer(), lambda statement: True).code == tree.visit(_Renamer()).code


def test_visit_statements_keeps_the_statements_it_does_not_enter() -> None:
    tree = cst.parse_module(SOURCE)
    new = visit_statements(tree, _Renamer(), lambda statement: "old" in words(statement))
    assert new.code == "x = renamed\ndrop = 1\ntwice = renamed\ntwice = renamed\ndef f():\n    return renamed\ny = other\n"
    assert new.body[1] is tree.body[1] and new.body[-1] is tree.body[-1]
    untouched = cst.parse_module("y = other\ndef f():\n    return other\n")
    assert visit_statements(untouched, _Renamer(), lambda statement: False) is untouched
    # entered, but nothing changed: the same objects, so the runner need not print the module back
    assert visit_statements(untouched, _Renamer(), lambda statement: True) is untouched


def test_words() -> None:
    statement = cst.parse_statement('engine = sa.create_engine(url, echo=True, x=f"postgresql://{h}")\n')
    assert {"engine", "sa", "create_engine", "url", "echo", "True", "x", "h", POSTGRES_STRING} == words(statement)
    assert POSTGRES_STRING not in words(cst.parse_statement('u = "mysql://h/db"\n'))


def test_words_are_computed_once_per_statement_object() -> None:
    statement = cst.parse_statement("engine = create_async_engine(url)\n")
    twin = cst.parse_statement("engine = create_async_engine(url)\n")
    assert words(statement) is words(statement)  # the second codemod asking gets the first answer
    assert words(twin) == words(statement) and words(twin) is not words(statement)
    many = [cst.parse_statement(f"x{i} = {i}\n") for i in range(3000)]
    assert all(words(s) == {f"x{i}"} for i, s in enumerate(many))  # the cache stays bounded and correct
