"""A rule's docstring read as its page: every rule documents itself in the one shape ruff's rules use.

A rule's docstring (its module's, or its class's) has this shape, which every rule follows:

    FXnnn rule-name: one-line title.

    ## What it does
    ## Why is this bad?
    ## Example
    ## Use instead
    ## Fix safety

fixer.output.docs renders the pages (for a terminal, and docs/rules/); the registry reads each rule's title from here.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")
_HEAD = re.compile(r"(?P<id>FX\d{3})\s+(?P<name>[a-z0-9-]+):\s*(?P<title>.+)")


class MissingDoc(ValueError):
    """A rule whose docstring does not follow the format (the message says what is wrong and where)."""


@dataclass(frozen=True)
class RuleDoc:
    id: str
    name: str
    title: str
    defects: tuple[str, ...]
    sections: dict[str, str]  # heading → markdown body, in SECTIONS order


def rule_doc(rule) -> RuleDoc:
    """The documentation of a registered rule (`fixer.rules.registry.Rule`): the first docstring among its module's
    and its classes' that starts with `FXnnn name:`."""
    import inspect

    candidates = []
    for cls in rule.classes:
        candidates += [getattr(sys.modules.get(cls.__module__), "__doc__", None), cls.__doc__]
    for doc in candidates:
        text = inspect.cleandoc(doc or "")
        head = _HEAD.fullmatch(text.split("\n", 1)[0].strip())
        if head and head["id"] == rule.id:
            return _parse(rule, head, text)
    where = ", ".join(sorted({cls.__module__ for cls in rule.classes}))
    raise MissingDoc(f"{rule.id}: no docstring starting with '{rule.id} {rule.name}: title.' in {where}")


def _parse(rule, head: re.Match[str], text: str) -> RuleDoc:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.split("\n")[1:]:
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
            continue
        if current is not None:
            current.append(line)
    missing = [name for name in SECTIONS if name not in sections]
    extra = [name for name in sections if name not in SECTIONS]
    if missing or extra:
        problems = [f"missing {', '.join(missing)}"] * bool(missing) + [f"unknown {', '.join(extra)}"] * bool(extra)
        raise MissingDoc(f"{rule.id}: the docstring's sections: {'; '.join(problems)} (expected: {', '.join(SECTIONS)})")
    defects = tuple(dict.fromkeys(d for cls in rule.classes for d in getattr(cls, "DEFECTS", ())))
    return RuleDoc(
        id=rule.id,
        name=head["name"],
        title=head["title"].rstrip("."),
        defects=defects,
        sections={name: "\n".join(sections[name]).strip("\n") for name in SECTIONS},
    )
