"""Printing only the changed statements gives exactly what printing the whole module gives."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from fixer.apply.reprint import reprint

REPO = Path(__file__).resolve().parent.parent

SOURCES = {
    "plain": "import os\n\nx = 1\n\n\ndef f():\n    return x\n",
    "docstring and comments": '"""Doc."""\n# about os\nimport os  # why\n\n# about x\nx = 1\n# the end\n',
    "crlf": "import os\r\n\r\nx = 1\r\ny = 2\r\n",
    "tabs": "if True:\n\tx = 1\n\ty = 2\nz = 3\n",
    "semicolons": "a = 1; b = 2\nc = 3\n",
    "block footer": "def f():\n    x = 1\n    # owned by the block\n\n# owned by g\ndef g():\n    pass\n",
    "no trailing newline": "import os\nx = 1",
    "latin-1 cookie": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\nx = 1\n",
    "bom": "\ufeffimport os\nx = 1\n",
    "comment only at the end": "x = 1\n# trailing\n\n",
    "one statement": "x = 1\n",
}


def _sources() -> list[tuple[str, bytes]]:
    found = [(name, text.encode("latin-1" if "latin-1" in name else "utf-8")) for name, text in SOURCES.items()]
    for path in sorted((REPO / "fixtures").rglob("*.py")):
        try:
            cst.parse_module(path.read_bytes())
        except cst.ParserSyntaxError:
            continue  # the fixtures of a syntax error, broken on purpose: no codemod reprints them
        found.append((str(path.relative_to(REPO)), path.read_bytes()))
    return found


def _edits(tree: cst.Module) -> list[cst.Module]:
    """Every kind of change a codemod makes to a module's top-level statements."""
    body = list(tree.body)
    new = cst.parse_statement("changed = 'statement'\n")
    edits = []
    for i in range(len(body)):
        edits.append(tree.with_changes(body=[*body[:i], new, *body[i + 1 :]]))  # replaced
        edits.append(tree.with_changes(body=[*body[:i], new, *body[i:]]))  # inserted before
        edits.append(tree.with_changes(body=[*body[:i], *body[i + 1 :]]))  # removed
    edits.append(tree.with_changes(body=[*body, new]))  # appended
    edits.append(tree.with_changes(body=[new, *body[1:-1], new]))  # first and last replaced
    return edits


@pytest.mark.parametrize(("name", "source"), _sources(), ids=[name for name, _ in _sources()])
def test_reprint_is_the_whole_print(name: str, source: bytes) -> None:
    parsed = cst.parse_module(source)
    text = source.decode(parsed.encoding)
    for module in _edits(parsed):
        printed = reprint(parsed, module, text)
        assert printed.code == module.code
        assert printed.code.encode(module.encoding) == module.bytes


def test_reprint_gives_the_replaced_and_replacing_statements() -> None:
    parsed = cst.parse_module("import os\nx = 1\ny = 2\nz = 3\n")
    module = parsed.with_changes(body=[parsed.body[0], cst.parse_statement("x = 10\n"), *parsed.body[2:]])
    printed = reprint(parsed, module, parsed.code)
    assert (printed.old, printed.new) == ("x = 1\n", "x = 10\n")
