"""`fixer apply --add-noqa`: a suppression comment on each line with a finding fixer does not fix (an unsafe fix
held back, or an issue for a person), as ruff's `--add-noqa`: adopt fixer on a big project, then remove the
comments one by one.

Where a comment goes must not change what the file means: in Python, at the end of a line only where the
tokenizer ends a line (not inside a string, not after a backslash), else alone on the line above; in other
formats always alone on the line above, since an inline `#` is part of the value in some readers of `.env`
and ini files.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict

from fixer.rules.findings import FileResult
from fixer.discover.suppress import parse


def with_suppressions(result: FileResult) -> tuple[bytes, int]:
    """The file's bytes with a comment for each of its unfixed findings not suppressed yet, and how many lines got one."""
    wanted: dict[int, set[str]] = defaultdict(set)
    for finding in result.findings:
        if not finding.fixed and finding.line:
            wanted[finding.line].add(finding.rule)
    if not wanted or result.error or not result.old:
        return result.old, 0
    bom = result.old.startswith(b"\xef\xbb\xbf")
    text = result.old.decode("utf-8-sig")
    present = parse(text)
    lines = text.splitlines(keepends=True)
    python = result.path.endswith(".py")
    ends = _line_ends(text) if python else set()
    added = 0
    for number in sorted(wanted, reverse=True):  # from the bottom: inserted lines do not move the ones left
        rules = sorted(rule for rule in wanted[number] if not present.covers(rule, number))
        if not rules or number > len(lines):
            continue
        comment = f"# fixer: ignore[{', '.join(rules)}]"
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        newline = line[len(body) :] or _newline(text)
        if python and number in ends:
            lines[number - 1] = f"{body}  {comment}{newline}"
        elif not python or number == 1 or number - 1 in ends:
            indent = re.match(r"[ \t]*", body).group(0)
            lines.insert(number - 1, f"{indent}{comment}{newline}")
        else:
            continue  # inside a string or a continued line: nowhere to put it that keeps the code
        added += 1
    new = "".join(lines)
    return (b"\xef\xbb\xbf" if bom else b"") + new.encode("utf-8"), added


def _line_ends(text: str) -> set[int]:
    """The lines of Python source whose end the tokenizer reaches as a line end (a comment can go there)."""
    ends: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                ends.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return ends


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"

