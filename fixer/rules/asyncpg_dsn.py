"""FX043 asyncpg-dsn: A DSN given to asyncpg itself keeps only what asyncpg reads.

## What it does
Where `asyncpg.connect(DSN)` or `asyncpg.create_pool(DSN)` gets a URL from the environment that the prediction
shows failing, wraps it as `asyncpg.create_pool(to_asyncpg_dsn(DSN))` and adds, once, a small pure-string
`to_asyncpg_dsn` function that drops libpq's client-side parameters (`channel_binding`, `gssencmode`, ...)
from the query and keeps everything else byte for byte (`sslmode`, which asyncpg reads, the password).

## Why is this bad?
Neon, Render, Railway, Heroku and Vercel set `DATABASE_URL=postgresql://...?sslmode=require&channel_binding=require`.
asyncpg's DSN parser reads `sslmode` but sends every parameter it does not know to the server as a setting,
and PostgreSQL rejects `channel_binding` when the pool opens: `asyncpg.exceptions.UndefinedObjectError:
unrecognized configuration parameter "channel_binding"` (URL-NEON-SSL). With a lifespan that opens the pool,
the app does not start.

## Example
```python
self.pool = await asyncpg.create_pool(settings.DATABASE_URL, min_size=1)
```

## Use instead
```python
def to_asyncpg_dsn(dsn: str) -> str:
    ...  # channel_binding and libpq's other client-side parameters dropped


self.pool = await asyncpg.create_pool(to_asyncpg_dsn(settings.DATABASE_URL), min_size=1)
```

## Fix safety
Safe where the prediction of the documented start fails at this call (the URL, run through the project's own
code, still holds such a parameter); the finding cites it. A DSN without those parameters passes the function
unchanged. Other calls are left alone.
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import ClassVar

import libcst as cst

from fixer.rules.findings import Category, Finding, Severity
from fixer.model.connect import LIBPQ_CLIENT_ONLY
from fixer.model.evidence import cite
from fixer.rules.base import FixerCodemod
from fixer.rules.url_normaliser import defined_names, insert_helper

RULE_ID = "FX043"
HELPER = "to_asyncpg_dsn"
_CALLS = ("asyncpg.connect", "asyncpg.create_pool")
_NAMES = textwrap.fill(", ".join(f'"{n}"' for n in sorted(LIBPQ_CLIENT_ONLY)), 100, initial_indent=" " * 8,
                       subsequent_indent=" " * 8)
HELPER_SOURCE = f'''\
def {HELPER}(dsn: str) -> str:
    """Drop libpq's client-side parameters from a PostgreSQL DSN (platforms add channel_binding=require).

    Added by fixer (FX043): asyncpg reads sslmode itself but sends the others to the server, which rejects them.
    """
    client_only = (
{_NAMES},
    )
    base, _, query = dsn.partition("?")
    kept = [p for p in query.split("&") if p and p.partition("=")[0] not in client_only]
    return base + "?" + "&".join(kept) if kept else base
'''


class AsyncpgDsn(FixerCodemod):
    __doc__ = __doc__
    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = "asyncpg-dsn"
    DEFECTS: ClassVar[tuple[str, ...]] = ("URL-NEON-SSL",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"asyncpg\.(?:connect|create_pool)\(")

    def visit_Module(self, node: cst.Module) -> bool:
        path = (self.context.filename or "").replace("\\", "/")
        prediction = self.facts.startup.primary
        failures = {f.line: f for f in (prediction.failures if prediction is not None else ())
                    if f.fixed_by == RULE_ID and f.path == path}
        self._wrapped = False
        names, _ = defined_names(node)
        if not failures or HELPER in names:
            return False
        # The calls in source order, as leave_Call meets them, each with the failure predicted at its line.
        calls = sorted((n for n in ast.walk(ast.parse(node.code)) if isinstance(n, ast.Call)
                        and ast.unparse(n.func) in _CALLS), key=lambda n: (n.lineno, n.col_offset))
        self._failures = [failures.get(call.lineno) for call in calls]
        return True

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.code(original_node.func) not in _CALLS:
            return updated_node
        failure = self._failures.pop(0) if self._failures else None
        args = list(updated_node.args)
        index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == "dsn"),
                     0 if args and args[0].keyword is None and not args[0].star else None)
        if failure is None or index is None:
            return updated_node
        args[index] = args[index].with_changes(
            value=cst.Call(func=cst.Name(HELPER), args=[cst.Arg(value=args[index].value)]))
        new = updated_node.with_changes(args=args)
        self._wrapped = True
        self.report(Finding(
            rule=RULE_ID, category=Category.CONFIG, severity=Severity.CRITICAL,
            problem="asyncpg gets the platform's DSN with libpq's client-side parameters (channel_binding).",
            root_cause="asyncpg sends query parameters it does not read to the server as settings; PostgreSQL "
                       "rejects them when the connection opens.",
            old_code=self.code(original_node), new_code=self.code(new),
            explanation=f"The DSN now passes through `{HELPER}`, added to this module: it drops those parameters "
                        "and keeps the rest as written.",
            defects=self.DEFECTS, fixed=True, safe=True, evidence=cite(self.facts, failure),
        ))
        return new

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._wrapped:
            return updated_node
        return insert_helper(self.context, updated_node, HELPER, HELPER_SOURCE, True)
