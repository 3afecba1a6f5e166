"""Print a changed module back by printing only the top-level statements that changed.

LibCST prints a module as its header, each top-level statement in turn, then its footer, and printing a
parsed module gives its source back exactly. The codemods keep every statement they do not change as the
same object, so the new module shares a prefix and a suffix of statements with the parsed one: their text
is the source's own. Printing the parsed prefix tells where the changed run starts in the source, and the
parsed run itself how long it is (or the statements after it, when fewer); the rest is copied. Printing
whole modules was the runner's largest cost after parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst


@dataclass(frozen=True)
class Reprint:
    code: str  # the new module's code, exactly `module.code`
    old: str  # the parsed statements that were replaced, as printed
    new: str  # the statements that replaced them, as printed


def reprint(parsed: cst.Module, module: cst.Module, text: str) -> Reprint:
    """`module.code` for `module`, a transformed `parsed` whose source is `text`."""
    old_body, new_body = parsed.body, module.body
    if not _same_frame(parsed, module):
        return _whole(module, text)
    start, limit = 0, min(len(old_body), len(new_body))
    while start < limit and old_body[start] is new_body[start]:
        start += 1
    old_end, new_end = len(old_body), len(new_body)
    while old_end > start and new_end > start and old_body[old_end - 1] is new_body[new_end - 1]:
        old_end -= 1
        new_end -= 1
    # The changed run's place in the source comes from printing two of the three parts: the statements
    # before it, the run, the statements after it; not the largest. A module fixed at its top and at its
    # bottom (imports and a call at the end) then prints neither its middle nor anything twice.
    parts = [(*parsed.header, *old_body[:start]), old_body[start:old_end], (*old_body[old_end:], *parsed.footer)]
    largest = max(range(3), key=lambda k: len(parts[k]))
    before = _code(parsed, parts[0]) if largest != 0 else None
    run = _code(parsed, parts[1]) if largest != 1 else None
    after = _code(parsed, parts[2]) if largest != 2 else None
    begin = len(before) if before is not None else len(text) - len(after) - len(run)
    end = len(text) - len(after) if after is not None else begin + len(run)
    # Never false for a `text` LibCST parsed; if it were, print everything.
    if not (
        (before is None or text.startswith(before))
        and (run is None or text.startswith(run, begin))
        and (after is None or text.endswith(after))
    ):
        return _whole(module, text)
    new = _code(module, new_body[start:new_end])
    return Reprint(text[:begin] + new + text[end:], text[begin:end], new)


def _code(module: cst.Module, nodes) -> str:
    return "".join(module.code_for_node(node) for node in nodes)


def _whole(module: cst.Module, text: str) -> Reprint:
    code = module.code
    return Reprint(code, text, code)


def _same_frame(parsed: cst.Module, module: cst.Module) -> bool:
    """Everything but the body prints the same. Without a trailing newline, the last statement's newline is
    dropped on printing: that case is printed whole."""
    return (
        parsed.has_trailing_newline
        and module.has_trailing_newline
        and (module.header is parsed.header or module.header == parsed.header)
        and (module.footer is parsed.footer or module.footer == parsed.footer)
        and module.default_indent == parsed.default_indent
        and module.default_newline == parsed.default_newline
        and module.encoding == parsed.encoding
        and bool(parsed.body)
        and bool(module.body)  # a module with nothing in it prints a lone newline
    )
