"""The project's own functions that return a naive "now" (`def utcnow(): return datetime.utcnow()`), and the
files that give one to a model field (`Field(default_factory=utcnow)`): FX037 asks for them, as SQLModel's
aware datetime type refuses their values just as it refuses `datetime.utcnow` itself (VER-SQLMODEL-TZ).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from fixer.model.sources import Sources

__all__ = ["RETURNS_NAIVE", "naive_now_functions", "naive_now_users"]

RETURNS_NAIVE = re.compile(rb"return\s+(?:datetime\.)?datetime\.(?:utcnow|now)\(\s*\)")  # the model reads these files


def _naive_call(node: ast.AST | None) -> str | None:
    """`datetime.utcnow()` / `datetime.datetime.now()` with no time zone: "utcnow" or "now"."""
    if isinstance(node, ast.Call) and not node.args and not node.keywords and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("utcnow", "now") and ast.unparse(node.func.value) in ("datetime", "datetime.datetime"):
        return node.func.attr
    return None


def naive_now_functions(running: Iterable[tuple[str, bytes]], sources: Sources) -> tuple[tuple[str, str], ...]:
    """(function name, "utcnow" | "now") of each module-level project function whose every `return` gives a
    naive now; a name defined twice with different answers is left out."""
    found: dict[str, set[str]] = {}
    for path, source in running:
        if not RETURNS_NAIVE.search(source):
            continue
        tree = sources.tree(path, source.decode("utf-8", "replace"))
        for node in tree.body if tree is not None else ():
            if not isinstance(node, ast.FunctionDef):
                continue
            returns = [r for r in ast.walk(node) if isinstance(r, ast.Return)]
            kinds = {_naive_call(r.value) for r in returns}
            if returns and None not in kinds:
                found.setdefault(node.name, set()).update(kinds)
    return tuple(sorted((name, kinds.pop()) for name, kinds in found.items() if len(kinds) == 1))


def naive_now_users(read_text: Callable[[str], str | None], paths: Iterable[str], names: Iterable[str]) -> frozenset[str]:
    """The Python files that give one of `names` to `default_factory=`, `default=` or `onupdate=` (as a
    function); read (not parsed) only when the project has such a function."""
    names = list(names)
    if not names:
        return frozenset()
    given = re.compile(r"""\b(?:default_factory|onupdate|default)["']?\s*[=:]\s*(?:\w+\.)*(?:%s)\b(?!\s*\()"""
                       % "|".join(map(re.escape, names)))
    return frozenset(p for p in paths if p.endswith(".py") and given.search(read_text(p) or ""))
