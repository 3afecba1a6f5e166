"""The bad-input matrix: a Python file fixer cannot read is named on stderr with the reason, never skipped in
silence, and the rest of the project is fixed; where the app imports that file, the predicted startup failure is
the error the import raises."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.cli_helpers import fixer

BAD_IMPORT = b"from sqlalchemy import AsyncEngine\n"
GOOD_IMPORT = b"from sqlalchemy.ext.asyncio import AsyncEngine\n"

# kind -> (bytes after the first line, what the notice says, what the import raises)
KINDS = {
    "syntax-error": (b"def handler(:\n    pass\n", r"cannot parse: invalid syntax \(line \d\)", "SyntaxError"),
    "python-2": (b'print "started"\n', r"cannot parse: Missing parentheses in call to 'print'", "SyntaxError"),
    "latin-1-without-cookie": (b'NAME = "caf\xe9"\n', r"cannot decode: not UTF-8 .*and no coding cookie", "SyntaxError"),
    "nul-bytes": (b"x = 1\x00\n", r"cannot parse: it holds NUL bytes", "SyntaxError"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)), r"cannot parse: it holds NUL bytes",
               "SyntaxError"),
    "2000-nested-parentheses": (b"x = " + b"(" * 2000 + b"1" + b")" * 2000 + b"\n",
                                r"cannot parse: too many nested parentheses", "SyntaxError"),
    "3000-term-expression": (b"x = " + b" + ".join([b"1"] * 3000) + b"\n", r"cannot (parse|fix it): nested too deeply", "RecursionError"),
}


def _cpython_refuses(source: bytes) -> bool:
    """Whether this interpreter's parser refuses `source` (a 3,000-term expression: 3.11 and 3.12 do)."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_a_rule_would_read_is_named_with_the_reason_and_the_rest_fixed(tmp_path: Path, kind: str) -> None:
    body, notice, _ = KINDS[kind]
    (tmp_path / "bad.py").write_bytes(BAD_IMPORT + body)
    (tmp_path / "good.py").write_bytes(BAD_IMPORT)
    done = fixer("apply", ".", cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr  # the skipped file is left for a person
    assert re.search(rf"^skipped bad\.py: {notice}.*; left as it is$", stderr, re.M), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert (tmp_path / "good.py").read_bytes() == GOOD_IMPORT
    assert (tmp_path / "bad.py").read_bytes() == BAD_IMPORT + body


@pytest.mark.parametrize("kind", KINDS)
def test_a_module_the_app_imports_is_named_and_is_the_predicted_startup_failure(tmp_path: Path, kind: str) -> None:
    """No rule's text is in the file: only the app importing it makes it matter."""
    body, notice, raised = KINDS[kind]
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\nsqlmodel\n")
    (tmp_path / "README.md").write_text("Start it:\n\n```sh\nuvicorn app.main:app\n```\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text("from fastapi import FastAPI\n\nfrom app import helpers\n\napp = FastAPI()\n")
    (tmp_path / "app" / "helpers.py").write_bytes(body)
    done = fixer("dry-run", ".", cwd=tmp_path)
    stderr = done.stderr.decode()
    if kind == "3000-term-expression" and not _cpython_refuses(body):
        assert done.returncode == 0 and "skipped" not in stderr, stderr  # it imports here: nothing to say
        return
    assert done.returncode == 1, stderr
    assert re.search(rf"^skipped app/helpers\.py: {notice}.*; left as it is$", stderr, re.M), stderr
    assert re.search(rf"predicted failures in order:\n  1\. {raised}: .*\[app/helpers\.py:\d+;", stderr), stderr
