"""The patch `fixer dry-run` prints: a unified diff that `git apply` accepts, with untracked secrets held back.

A hunk that would show a secret the repository does not hold (fixer.apply.disclosure: a value of a `.env`-style file
git does not track, or any password in a file git does not track; on a changed line or a context line) is left
out and named in a one-line note; every other hunk of the file is shown, and the patch applies to give the file
with the shown hunks made (`shown`). A `.env`-style file git does not track is left out whole.
"""

from __future__ import annotations

from fixer.apply.changes import Anchored, Review, review_changes, shown, shown_lines
from fixer.rules.findings import FileResult


def patch(result: FileResult, encoding: str = "utf-8", as_path: str | None = None) -> tuple[bytes, list[str]]:
    """The file's diff as bytes in the file's own encoding, and a note for each change it leaves out. `as_path`:
    the path the headers and notes give the file (default: its path relative to the root)."""
    path = as_path or result.path
    review = review_changes(result)
    if review.whole:
        changed = sum(i2 - i1 for i1, i2, _, _ in review.changes)
        return b"", [f"{path}: {changed} line(s) would change (credentials file git does not track: not shown; "
                     "`fixer apply` writes it)"]
    if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32")):
        return _binary(path, result.old, shown(result)), _held_back(review, path)
    lines = [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
        for line in _unified(review.old, shown_lines(review), path)
    ]
    return "".join(lines).encode(encoding, errors="surrogateescape"), _held_back(review, path)


def _held_back(review: Review, path: str) -> list[str]:
    return [
        f"{path}:{_span(i1, i2)}: a change not in the patch, as it would show a password or secret git does "
        "not track; `fixer apply` writes it"
        for n, (i1, i2, _, _) in enumerate(review.changes) if n in review.withheld
    ]


def _binary(path: str, old: bytes, new: bytes) -> bytes:
    """`git diff --binary` of a file git holds as binary, as UTF-16 and UTF-32 text is (it has NUL bytes): a
    line diff in that encoding is no patch `git apply` reads. The full index line is what git asks of one."""
    import hashlib

    def blob(data: bytes) -> str:
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    return (f"diff --git a/{path} b/{path}\nindex {blob(old)}..{blob(new)}\nGIT binary patch\n"
            f"{_literal(new)}\n{_literal(old)}\n").encode("ascii")


def _literal(data: bytes) -> str:
    """git's `literal` hunk: the deflated bytes in base 85, 52 bytes a line, each led by its length (A-Z: 1-26,
    a-z: 27-52). git's base-85 alphabet is RFC 1924's, as `base64.b85encode` writes it."""
    import base64
    import zlib

    packed = zlib.compress(data, 9)
    rows = [f"literal {len(data)}\n"]
    for at in range(0, len(packed), 52):
        chunk = packed[at:at + 52]
        size = chr(ord("A") + len(chunk) - 1) if len(chunk) <= 26 else chr(ord("a") + len(chunk) - 27)
        rows.append(size + base64.b85encode(chunk, pad=True).decode("ascii") + "\n")
    return "".join(rows)


def _span(start: int, stop: int) -> str:
    """1-based lines of the old file a change replaces (before line `start + 1` for an insertion)."""
    return f"{start + 1}" if stop - start <= 1 else f"{start + 1}-{stop}"


def _unified(old: list[str], new: list[str], path: str, context: int = 3) -> list[str]:
    """`difflib.unified_diff(old, new, "a/" + path, "b/" + path)`, from `Anchored`'s matching blocks."""
    out: list[str] = []
    for group in Anchored(old, new).get_grouped_opcodes(context):
        if not out:
            out += [f"--- a/{path}\n", f"+++ b/{path}\n"]
        out.append(f"@@ -{_range(group[0][1], group[-1][2])} +{_range(group[0][3], group[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in old[i1:i2]]
                continue
            out += ["-" + line for line in old[i1:i2]]
            out += ["+" + line for line in new[j1:j2]]
    return out


def _range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"
