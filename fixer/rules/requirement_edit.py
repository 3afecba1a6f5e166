"""Editing one PEP 508 requirement in place (its head, its extras, its marker) and the lines of a requirements
file, keeping everything else byte for byte: what FX001 and the rules that add dependency lines share."""

from __future__ import annotations

import re
from collections.abc import Sequence

from packaging.requirements import Requirement

from fixer.discover.requirements import COMMENT, PhysicalLine

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def _head_span(req_text: str, req: Requirement) -> tuple[int, int]:
    """Where `name[extras] specifier` (or `name @ url`) sits in `req_text`, leaving its marker outside."""
    start = len(req_text) - len(req_text.lstrip())
    end = len(req_text.rstrip())
    if req.marker is not None:
        if req.url is None:
            semi = req_text.find(";")
        else:  # a URL may hold a `;`: PEP 508 wants whitespace before the marker's
            found = re.search(r"\s;", req_text)
            semi = found.start() if found else -1
        if semi >= 0:
            end = len(req_text[:semi].rstrip())
    return start, end


def with_head(req_text: str, req: Requirement, new_head: str) -> str:
    start, end = _head_span(req_text, req)
    return req_text[:start] + new_head + req_text[end:]


def add_asyncio_extra(req_text: str, req: Requirement) -> str:
    start, end = _head_span(req_text, req)
    head = req_text[start:end]
    name = _NAME.match(head)
    if name is None:  # pragma: no cover - packaging parsed a name, so this matches
        return req_text
    after = name.end()
    rest = head[after:]
    if rest.lstrip().startswith("["):
        open_at = after + (len(rest) - len(rest.lstrip()))
        close_at = head.find("]", open_at)
        inner = head[open_at + 1 : close_at]
        if inner.strip():
            sep = ", " if ", " in inner else ","
            new_inner = inner.rstrip() + sep + "asyncio" + inner[len(inner.rstrip()) :]
        else:
            new_inner = "asyncio"
        head = head[: open_at + 1] + new_inner + head[close_at:]
    else:
        head = head[:after] + "[asyncio]" + head[after:]
    return req_text[:start] + head + req_text[end:]


def marker_text(req_text: str, req: Requirement) -> str:
    """The marker as written (`; python_version < "3.13"`), or ""."""
    if req.marker is None:
        return ""
    _, end = _head_span(req_text, req)
    return req_text[end:].rstrip()


def joined(out: list[PhysicalLine], lines: list[PhysicalLine], eol: str) -> str:
    """The new file's text: every line ended by the file's line ending, the last as the original's was."""
    final_newline = not lines or bool(lines[-1].eol)
    for k, line in enumerate(out):
        if k < len(out) - 1 and not line.eol:
            line.eol = eol
    if out:
        out[-1].eol = (out[-1].eol or eol) if final_newline else ""
    return "".join(p.content + p.eol for p in out)


def add_lines(out: list[PhysicalLine], new_lines: Sequence[str], eol: str) -> None:
    if new_lines and out and out[-1].content.endswith("\\") and not COMMENT.match(out[-1].content):
        out.append(PhysicalLine("", eol))  # ends the dangling continuation, or pip would join the new line to it
    out.extend(PhysicalLine(new, eol) for new in new_lines)
