"""Code fixer writes laid out as the project lays out its own: within its configured line length, and formatted
by the formatter it configures (ruff format or black), on the lines fixer changed only.

The line length is the project's own: `line-length` of `[tool.ruff]` (pyproject.toml, ruff.toml, .ruff.toml) or
`[tool.black]`, 88 (both tools' default) when one of them is configured without it, and no limit when neither is.
The formatter is the one the project names (`[tool.ruff.format]`, `[tool.black]`, or a `ruff-format`/`black`
pre-commit hook); it is run on the changed ranges only (`ruff format --range`, `black --line-ranges`), and only
if it is installed. Without it, a changed line longer than the limit that is a call, a subscript or a literal
is split as both formatters split it: one argument per line, a trailing comma, the bracket on its own line.
A layout whose result does not parse, or a formatter that fails, leaves the fix as the rules wrote it.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
import subprocess
import tokenize
from dataclasses import dataclass
from pathlib import Path

from fixer.discover.config import read_toml
from fixer.apply.changes import line_opcodes
from fixer.rules.findings import FileResult

DEFAULT_LENGTH = 88  # ruff's and black's
_OPEN, _CLOSE = "([{", ")]}"


@dataclass(frozen=True)
class Style:
    line_length: int | None  # None: the project configures none
    formatter: str | None  # "ruff" or "black": the one the project configures


def project_style(root: Path) -> Style:
    """The style the project configures in `root` (its pyproject.toml, ruff.toml, .pre-commit-config.yaml)."""
    tables: dict[str, dict] = {}
    for name, key in (("pyproject.toml", None), ("ruff.toml", "ruff"), (".ruff.toml", "ruff")):
        path = root / name
        if not path.is_file():
            continue
        try:
            data = read_toml(path.read_text(encoding="utf-8"))
        except Exception:  # a broken settings file configures nothing fixer can follow
            continue
        if key is None:
            tables.update({tool: value for tool, value in data.get("tool", {}).items() if tool in ("ruff", "black")})
        else:
            tables.setdefault("ruff", data)
    length = next((table["line-length"] for table in tables.values() if isinstance(table.get("line-length"), int)), None)
    if length is None and tables:
        length = DEFAULT_LENGTH
    hooks = root / ".pre-commit-config.yaml"
    hook_text = hooks.read_text(encoding="utf-8", errors="replace") if hooks.is_file() else ""
    formatter = None
    if "format" in tables.get("ruff", {}) or re.search(r"id:\s*ruff-format\b", hook_text):
        formatter = "ruff"
    elif "black" in tables or re.search(r"id:\s*black\b", hook_text):
        formatter = "black"
    return Style(length, formatter)


def lay_out(results: list[FileResult], root: Path) -> None:
    """Each changed Python file's new lines laid out in the project's style (in place)."""
    changed = [r for r in results if r.changed and r.path.endswith(".py")]
    if not changed:
        return
    style = project_style(root)
    if style.line_length is None and style.formatter is None:
        return
    for result in changed:
        old = result.old.decode(result.encoding, errors="surrogateescape")
        new = result.new.decode(result.encoding, errors="surrogateescape")
        laid = _formatted(new, _changed_ranges(old, new), style.formatter, root, result.path)
        if laid is None and style.line_length is not None:
            laid = _wrapped(new, _changed_ranges(old, new, style.line_length), style.line_length)
        if laid is not None and laid != new and _parses(laid):
            result.new = laid.encode(result.encoding, errors="surrogateescape")


def _changed_ranges(old: str, new: str, limit: int | None = None) -> list[tuple[int, int]]:
    """The 1-based, inclusive line ranges of `new` that differ from `old`; with `limit`, only those that replace
    lines within it (where the project already has a longer line, fixer's edit of it is left as long)."""
    old_lines = old.splitlines(keepends=True)

    def within(i1: int, i2: int) -> bool:
        return limit is None or all(len(line.rstrip("\r\n")) <= limit for line in old_lines[i1:i2])

    ranges = []
    for tag, i1, i2, j1, j2 in line_opcodes(old_lines, new.splitlines(keepends=True)):
        if tag == "equal" or j2 == j1:
            continue
        if limit is not None and i2 - i1 == j2 - j1:  # line for line: each new line against the one it replaces
            ranges += [(j1 + n + 1, j1 + n + 1) for n in range(j2 - j1) if within(i1 + n, i1 + n + 1)]
        elif within(i1, i2):
            ranges.append((j1 + 1, j2))
    return ranges


def _formatted(text: str, ranges: list[tuple[int, int]], formatter: str | None, root: Path, rel: str) -> str | None:
    if formatter is None or not ranges or shutil.which(formatter) is None:
        return None
    if formatter == "black":
        command = ["black", "-q", *(f"--line-ranges={a}-{b}" for a, b in ranges), "--stdin-filename", rel, "-"]
        return _run(command, text, root)
    # ruff takes one range a run: from the bottom up, so that the ranges above keep their lines.
    for start, end in reversed(ranges):
        text = _run(["ruff", "format", f"--range={start}-{end}", "--stdin-filename", rel, "-"], text, root)
        if text is None:
            return None
    return text


def _run(command: list[str], text: str, root: Path) -> str | None:
    try:
        done = subprocess.run(command, input=text, capture_output=True, text=True, cwd=root, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def _wrapped(text: str, ranges: list[tuple[int, int]], limit: int) -> str:
    lines = text.splitlines(keepends=True)
    whole = _one_line_statements(text)
    for start, end in reversed(ranges):
        for number in range(end, start - 1, -1):
            line = lines[number - 1]
            if number in whole and len(line.rstrip("\r\n")) > limit:
                lines[number - 1] = _split(line) or line
    return "".join(lines)


def _one_line_statements(text: str) -> set[int]:
    """The lines that hold a whole statement (not a line of a string, nor of a statement spanning lines)."""
    found: set[int] = set()
    first = None
    skipped = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NEWLINE:
                if first is not None and token.start[0] == first:
                    found.add(first)
                first = None
            elif first is None and token.type not in skipped:
                first = token.start[0]
    except (tokenize.TokenError, SyntaxError):
        return set()
    return found


def _split(line: str) -> str | None:
    """`x = f(a, b)` as `x = f(\\n    a,\\n    b,\\n)`: the last bracket pair that closes at the line's end (before a
    `:` or a comment), its arguments one per line. None when the line is not one such statement."""
    body = line.rstrip("\r\n")
    newline = line[len(body):] or "\n"
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(body + "\n").readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)]
    except (tokenize.TokenError, SyntaxError):
        return None
    tail = len(tokens)
    while tail and (tokens[tail - 1].type == tokenize.COMMENT or tokens[tail - 1].string == ":"):
        tail -= 1
    if not tail or tokens[tail - 1].string not in _CLOSE:
        return None
    depth, opening = 0, None
    for index in range(tail - 1, -1, -1):
        string = tokens[index].string
        depth += string in _CLOSE
        depth -= string in _OPEN
        if depth == 0:
            opening = index
            break
    if opening is None or opening == 0:
        return None
    parts, depth, begin = [], 0, tokens[opening].end[1]
    for token in tokens[opening + 1 : tail - 1]:
        depth += token.string in _OPEN
        depth -= token.string in _CLOSE
        if depth == 0 and token.string == ",":
            parts.append(body[begin : token.start[1]].strip())
            begin = token.end[1]
    last = body[begin : tokens[tail - 1].start[1]].strip()
    if last:
        parts.append(last)
    if not parts:
        return None
    indent = body[: len(body) - len(body.lstrip())]
    head = body[: tokens[opening].end[1]]
    rest = body[tokens[tail - 1].start[1] :]
    inner = "".join(f"{indent}    {part},{newline}" for part in parts)
    return f"{head}{newline}{inner}{indent}{rest}{newline}"


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True
