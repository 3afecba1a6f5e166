"""The folder a `sys.path.insert/append(...)` call adds, evaluated statically for the usual spellings (a literal,
`os.path.dirname(__file__)`, `Path(__file__).parent`, ...): the import walk (`fixer.model.importwalk`) puts it
on its sys.path as the running code would.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["path_value"]


def path_value(node: ast.expr, file: Path | None, cwd: Path,
               assigned: Mapping[str, ast.expr] | None = None) -> Path | None:
    """The folder a sys.path edit adds, for the usual spellings: a literal, `os.path.dirname(__file__)`,
    `os.path.join(..., "..")`, `Path(__file__).parent.parent / "src"`, `.resolve().parents[1]`, `str(...)`,
    `abspath`, or a name the module assigned one of these to before (`assigned`)."""
    seen: set[str] = set()

    def value(n: ast.AST) -> Path | str | None:
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            return n.value
        if isinstance(n, ast.Name) and n.id == "__file__" and file is not None:
            return file
        if isinstance(n, ast.Name) and assigned and n.id in assigned and n.id not in seen:
            seen.add(n.id)
            return value(assigned[n.id])
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div):
            left, right = value(n.left), value(n.right)
            return Path(left) / right if isinstance(left, Path) and right is not None else None
        if isinstance(n, ast.Attribute):
            inner = value(n.value)
            if isinstance(inner, str):
                inner = Path(inner)
            if isinstance(inner, Path) and n.attr == "parent":
                return inner.parent
            return None
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Attribute) and n.value.attr == "parents":
            inner = value(n.value.value)
            index = n.slice.value if isinstance(n.slice, ast.Constant) else None
            if isinstance(inner, Path) and isinstance(index, int):
                return inner.parents[index] if index < len(inner.parents) else None
            return None
        if isinstance(n, ast.Call):
            func = ast.unparse(n.func)
            args = [value(a) for a in n.args]
            if func.endswith(("dirname",)) and args and args[0] is not None:
                return Path(args[0]).parent
            if func.endswith(("abspath", "realpath", "normpath")) and args and args[0] is not None:
                return Path(os.path.normpath(cwd / args[0]))
            if func.endswith("resolve") and isinstance(n.func, ast.Attribute):
                inner = value(n.func.value)
                return Path(os.path.normpath(cwd / inner)) if inner is not None else None
            if func.endswith("join") and args and all(a is not None for a in args):
                return Path(*[str(a) for a in args])
            if func in ("str", "Path", "pathlib.Path", "os.fspath") and args and args[0] is not None:
                return Path(args[0]) if func != "str" else args[0]
        return None

    result = value(node)
    if result is None:
        return None
    return Path(os.path.normpath(cwd / result))
