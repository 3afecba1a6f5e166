"""pip requirements files read as pip reads them, for byte-exact line edits.

pip's own reader (pip._internal.req.req_file) is not an API; the libraries that wrap it lose what the rules
must keep. Measured on a file with `-r`, `-c`, `--index-url`, `--hash` continuation lines and comments:
`requirements-parser` 0.13 inlines `-r` files (the requirement no longer says which file it is in), skips `-c`
and the index options with a warning, drops the hashes and gives no line numbers, so an edit could neither
keep a file's options nor land on its line; `pip-requirements-parser` keeps options, hashes and includes with
line numbers, but reads only from a path (a string goes through a temporary file) and gives back logical lines,
not the physical lines and line endings a byte-exact edit rewrites. So the lines are split here as pip splits
them (`join_lines`: a backslash continues a line unless it is a comment; `break_args_options`: per-requirement
options start at the first ` -`), and each requirement is parsed by `packaging` (PEP 508), as pip does.
Every physical line keeps its own ending, so an edit rewrites only the lines it changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

# pip's own comment syntax for requirement files: `#` at the start or after whitespace.
COMMENT = re.compile(r"(^|\s+)#.*$")
REQUIREMENT_OPTION = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)")


@dataclass
class PhysicalLine:
    content: str
    eol: str  # "\n", "\r\n" or "" (last line without a final newline)


@dataclass
class LogicalLine:
    start: int  # first physical line (0-based)
    end: int  # one past the last physical line
    text: str  # continuation lines joined, as pip joins them
    requirement: Requirement | None = None
    req_text: str = ""  # the requirement part of `text`: no options, no comment
    options: str = ""  # per-requirement pip options (--hash, --config-settings, ...)
    comment: str = ""  # the trailing comment, with the whitespace before it


def physical_lines(text: str) -> list[PhysicalLine]:
    lines: list[PhysicalLine] = []
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        if nl < 0:
            lines.append(PhysicalLine(text[pos:], ""))
            break
        content = text[pos:nl]
        if content.endswith("\r"):
            lines.append(PhysicalLine(content[:-1], "\r\n"))
        else:
            lines.append(PhysicalLine(content, "\n"))
        pos = nl + 1
    return lines


def logical_lines(lines: Sequence[PhysicalLine]) -> list[LogicalLine]:
    """pip's `join_lines`: a line ending in a backslash continues, unless it is a comment."""
    result: list[LogicalLine] = []
    parts: list[str] = []
    start = 0
    for i, line in enumerate(lines):
        content = line.content
        if not content.endswith("\\") or COMMENT.match(content):
            if parts:
                parts.append(content)
                result.append(LogicalLine(start, i + 1, "".join(parts)))
                parts = []
            else:
                result.append(LogicalLine(i, i + 1, content))
        else:
            if not parts:
                start = i
            parts.append(content[:-1])
    if parts:
        result.append(LogicalLine(start, len(lines), "".join(parts)))
    return result


def split_options(body: str) -> tuple[str, str]:
    """`req ; marker --hash=... ` -> (`req ; marker `, `--hash=...`), as pip's break_args_options does."""
    found = re.search(r"(?:^|\s)(-)", body)
    if found is None:
        return body, ""
    return body[: found.start(1)], body[found.start(1) :]


def analyse(logical: LogicalLine) -> None:
    body = COMMENT.sub("", logical.text)
    if not body.strip() or body.lstrip().startswith("-"):
        return
    req_text, options = split_options(body)
    req = parse_requirement(req_text.strip())
    if req is not None:
        logical.requirement, logical.req_text, logical.options = req, req_text, options
        logical.comment = logical.text[len(body) :]


def option_lines(logicals: Iterable[LogicalLine]) -> Iterable[str]:
    for logical in logicals:
        body = COMMENT.sub("", logical.text).strip()
        if body.startswith("-"):
            yield body


def parse_requirement(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def entries(text: str) -> Iterable[tuple[str, str]]:
    """('req', requirement without its options), ('include', path of `-r`) and ('constraint', path of `-c`)
    items of a requirements file, in order."""
    for logical in logical_lines(physical_lines(text)):
        body = COMMENT.sub("", logical.text).strip()
        include = _INCLUDE.match(body)
        if include:
            yield ("constraint" if include.group(1) in ("-c", "--constraint") else "include"), include.group(2)
        elif body and not body.startswith("-"):
            yield "req", split_options(body)[0].strip()
