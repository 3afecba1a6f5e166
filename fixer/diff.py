"""The patch `fixer dry-run` prints: a unified diff that `git apply` accepts, with credentials held back.

A file whose hunks would show a password (on a changed line or a context line: any form `fixer.urls.redact`
masks, from `user:pass@` to `?password=`, DSNs and `PGPASSWORD=`), and any `.env`-style
file, is left out of the patch whole and named in a redacted note instead. Whole files, not hunks: a
half-shown file could apply cleanly and still not run (an import moved, the call that needs it held back).
"""

from __future__ import annotations

import difflib
import posixpath

from fixer.findings import FileResult
from fixer.urls import holds_secret, redact


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
    """The file's diff as bytes in the file's own encoding, or nothing and the notes saying why."""
    old = _split_lines(_decode(result.old, encoding))
    new = _split_lines(_decode(result.new, encoding))
    lines = [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for line in difflib.unified_diff(old, new, f"a/{result.path}", f"b/{result.path}", n=3)
    ]
    if is_env_file(result.path):
        changed = sum(1 for line in lines[2:] if line.startswith("-"))
        return b"", [f"{result.path}: {changed} line(s) would change (credentials file: not shown; `fixer apply` writes it)"]
    secret = [line for line in lines[2:] if holds_secret(line[1:])]  # without the diff's own +/-/space
    if secret:
        notes = [f"{result.path}: not in the patch, as its hunks would show a password; `fixer apply` writes it"]
        notes += [f"  {redact(line.rstrip())}" for line in secret]
        return b"", notes
    return "".join(lines).encode(encoding, errors="surrogateescape"), []
