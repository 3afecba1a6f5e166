"""FX047 url-cleaner: Make a project's own regex that removes a URL parameter keep the separator of the next one.

## What it does
Where the prediction of the documented start fails because the project's own URL code glued the rest of the
query onto the database name (`database "db&channel_binding=require" does not exist`), rewrites each
`re.sub(r"[?&]NAME=...", "", url)` of that module whose pattern does it: the leading `[?&]` becomes the
look-behind `(?<=[?&])` and the parameter's own trailing `&` is removed with it, so the separator before it
stays and the next parameter keeps its own.

## Why is this bad?
Hosting platforms inject `postgresql://...?sslmode=require&channel_binding=require`. A pattern that removes
`?sslmode=require` together with the `?` leaves `...db&channel_binding=require`: the driver reads the whole rest
as the database name, and the first connection fails (`database "db&channel_binding=require" does not exist`) —
in alembic's env.py, before the server starts (URL-OWN-CLEANER-CORRUPTS).

## Example
```python
database_url = re.sub(r"[?&]sslmode=[^&]+", "", database_url)
```

## Use instead
```python
database_url = re.sub(r"(?<=[?&])sslmode=[^&]+&?", "", database_url)
```

## Fix safety
Safe when the prediction fails on a URL the project's code corrupted (the `url-cleaner` failure) and the
rewritten pattern, run on the platform URL, leaves the database name and every other parameter as they were,
where the old one did not. A parameter that is last leaves a trailing `?` or `&`, which SQLAlchemy and libpq
read as an empty query. Patterns of any other shape, and a replacement other than `""`, are left alone.
"""

from __future__ import annotations

import ast
import re
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

import libcst as cst

from fixer.model import ProjectModel
from fixer.model.evidence import PLATFORM_URL, cite
from fixer.rules.base import FixerCodemod
from fixer.rules.findings import Category, Finding, Severity

# The separator class a cleaner starts with, as written in the literal's source: `[?&]`, `[&?]`, `[\?&]` ...
_LEADING = re.compile(r"\[(?:\\{0,2}\?&|&\\{0,2}\?)\]")


def _corrupting(model: ProjectModel):
    """The predicted failure of a URL the project's own code corrupted, if any."""
    prediction = model.startup.primary
    return next((f for f in (prediction.failures if prediction is not None else ()) if f.family == "url-cleaner"),
                None)


def _intact(url: str, pattern: str) -> bool:
    """Whether removing `pattern` from the platform URL keeps its database and the other parameters whole."""
    try:
        cleaned = re.sub(pattern, "", url)
    except re.error:
        return False
    parts, before = urlsplit(cleaned), urlsplit(url)
    kept = dict(parse_qsl(parts.query))
    return parts.path == before.path and all(kept.get(k) == v for k, v in parse_qsl(before.query) if k in kept) \
        and bool(kept) and len(kept) < len(parse_qsl(before.query))


def rewritten(literal: cst.SimpleString) -> cst.SimpleString | None:
    """The literal with its leading separator class made a look-behind and the parameter's own `&` taken with
    it, when the old pattern corrupts the platform URL and the new one does not; None otherwise."""
    body = literal.raw_value
    match = _LEADING.match(body)
    if match is None or "[?&]" in body[match.end():] or "(?<=" in body:
        return None
    new_body = "(?<=[?&])" + body[match.end():] + ("" if body.endswith("&?") else "&?")
    new = literal.with_changes(value=literal.prefix + literal.quote + new_body + literal.quote)
    try:
        old_pattern, new_pattern = literal.evaluated_value, ast.literal_eval(new.value)
    except (SyntaxError, ValueError):
        return None
    if not isinstance(old_pattern, str) or _intact(PLATFORM_URL, old_pattern) or not _intact(PLATFORM_URL, new_pattern):
        return None
    return new


class UrlCleaner(FixerCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID: ClassVar[str] = "FX047"
    RULE_NAME: ClassVar[str] = "url-cleaner"
    DEFECTS: ClassVar[tuple[str, ...]] = ("URL-OWN-CLEANER-CORRUPTS",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\bre\s*\.\s*sub\s*\(")

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        return _corrupting(model) is not None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "re"
                and func.attr.value == "sub") or len(updated_node.args) < 3 \
                or any(a.keyword is not None for a in updated_node.args[:3]):
            return updated_node
        pattern, replacement = updated_node.args[0].value, updated_node.args[1].value
        if not isinstance(pattern, cst.SimpleString) or not isinstance(replacement, cst.SimpleString) \
                or replacement.evaluated_value != "":
            return updated_node
        failure = _corrupting(self.facts)
        new_pattern = rewritten(pattern) if failure is not None else None
        # the failure's URL is this pattern's work: the database name it glued is the one the prediction names
        if new_pattern is None or urlsplit(re.sub(pattern.evaluated_value, "", PLATFORM_URL)).path not in failure.detail:
            return updated_node
        new = updated_node.with_changes(args=[updated_node.args[0].with_changes(value=new_pattern),
                                              *updated_node.args[1:]])
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.CONFIG,
            severity=Severity.CRITICAL,
            problem="the project's own URL cleaner removes the `?` of the query with the parameter it removes",
            root_cause=f"On the platform URL ({PLATFORM_URL}) `{pattern.evaluated_value}` leaves the rest of the "
                       "query glued onto the database name: the first connection fails.",
            old_code=self.code(original_node),
            new_code=self.code(new),
            explanation="The parameter is removed with its own `&`; the separator before it stays.",
            defects=self.DEFECTS,
            evidence=cite(self.facts, failure),
        ))
        return new
