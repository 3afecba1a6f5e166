"""The patch `fixer dry-run` prints: a unified diff that `git apply` accepts, with credentials held back.

A change whose lines hold a password (a URL with one, or anything in a `.env`-style file) is left out of
the patch and named in a redacted note instead; the rest of the patch is computed against the file with
only the shown changes applied, so it still applies cleanly.
"""

from __future__ import annotations

import difflib
import posixpath
import re

from codemods.findings import FileResult
from codemods.urls import redact

_URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*:[^\s/@'\"]+@")


def is_env_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def _split_lines(text: str) -> list[str]:
    # Only "\n" ends a line for git; str.splitlines would also split on \x0c, \u2028 and friends.
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _decode(data: bytes, encoding: str) -> str:
    return data.decode(encoding, errors="surrogateescape")


def patch(result: FileResult, encoding: str = "utf-8") -> tuple[bytes, list[str]]:
    """The file's diff as bytes in the file's own encoding, and notes for the changes held back."""
    old = _split_lines(_decode(result.old, encoding))
    new = _split_lines(_decode(result.new, encoding))
    secret_file = is_env_file(result.path)
    shown: list[str] = []
    notes: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal" and (secret_file or any(_URL_WITH_PASSWORD.search(line) for line in old[i1:i2] + new[j1:j2])):
            shown.extend(old[i1:i2])
            notes.append(_note(result.path, i1 + 1, old[i1:i2], new[j1:j2], secret_file))
        else:
            shown.extend(new[j1:j2] if tag != "equal" else old[i1:i2])
    if shown == old:
        return b"", notes
    out: list[str] = []
    for line in difflib.unified_diff(old, shown, f"a/{result.path}", f"b/{result.path}", n=3):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out).encode(encoding, errors="surrogateescape"), notes


def _note(path: str, line: int, old: list[str], new: list[str], secret_file: bool) -> str:
    where = f"{path}:{line}"
    if secret_file:
        # Even redacted, a .env line is nobody's business on a CI log: name the change only.
        return f"{where}: {len(old)} line(s) would change (credentials file: not shown; `fixer apply` writes it)"
    before = " | ".join(redact(line.strip()) for line in old)
    after = " | ".join(redact(line.strip()) for line in new)
    return f"{where}: {before} -> {after} (holds a password: not in the patch; `fixer apply` writes it)"
