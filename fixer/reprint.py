"""Print a changed module back by printing only the top-level statements that changed.

LibCST prints a module as its header, each top-level statement in turn, then its footer, and printing a
parsed module gives its source back exactly. The codemods keep every statement they do not change as the
same object, so the new module shares a prefix and a suffix of statements with the parsed one: their text
is the source's own. Printing the parsed prefix tells where the changed run starts in the source, and the
parsed run itself how long it is; the rest is copied. Printing whole modules was the runner's largest
cost after parsing.
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
    prefix = "".join(parsed.code_for_node(node) for node in (*parsed.header, *old_body[:start]))
    old = "".join(parsed.code_for_node(node) for node in old_body[start:old_end])
    end = len(prefix) + len(old)
    if not text.startswith(prefix + old):  # never, for a `text` LibCST parsed: print everything then
        return _whole(module, text)
    new = "".join(module.code_for_node(node) for node in new_body[start:new_end])
    return Reprint(text[: len(prefix)] + new + text[end:], old, new)


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
