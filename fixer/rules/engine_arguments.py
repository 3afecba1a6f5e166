"""FX038 engine-arguments: Give each engine the pool class and connect arguments of its own kind and database.

## What it does
Fixes the arguments of `create_engine(...)` / `create_async_engine(...)` that belong to another kind of engine or
another database:

- `poolclass=QueuePool` on an async engine becomes `AsyncAdaptedQueuePool`, and `AsyncAdaptedQueuePool` on a
  sync engine becomes `QueuePool` (imported from `sqlalchemy.pool` as the module imports pools); the kind is the
  dialect's, as SQLAlchemy checks it: `AsyncEngine(create_engine(...))` and a `create_engine` whose URL names an
  async driver (`postgresql+psycopg_async://`) are async engines;
- sqlite's `connect_args={"check_same_thread": False}` on an engine whose URL comes from a variable hosting
  platforms set to PostgreSQL (`DATABASE_URL`) is kept for sqlite URLs only:
  `connect_args={"check_same_thread": False} if URL.startswith("sqlite") else {}`.

## Why is this bad?
The engine is not created, so the app does not start: `sqlalchemy.exc.ArgumentError: Pool class QueuePool
cannot be used with asyncio engine` (ENG-POOLCLASS). With the platform's `postgresql://` URL, the PostgreSQL
driver rejects sqlite's argument at the first connection: `invalid connection option "check_same_thread"`
(ENG-SQLITE-ARGS-ON-PG); a local sqlite file hid it.

## Example
```python
engine = create_async_engine(settings.DATABASE_URL, poolclass=QueuePool)
engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
```

## Use instead
```python
engine = create_async_engine(settings.DATABASE_URL, poolclass=AsyncAdaptedQueuePool)
engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False} if DATABASE_URL.startswith("sqlite") else {})
```

## Fix safety
Safe: the pool class fails whatever the URL, and the new one is the same pool for the engine's own kind. The
connect arguments are changed only where a PostgreSQL driver installs and the URL is read under a variable
platforms set (their URL is PostgreSQL) and written as a name or attribute (read twice, it gives the same value); a sqlite URL still gets
the argument. An engine the project already builds only under `if ...sqlite...:` is left as it is. Other shapes are reported.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import PositionProvider

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import Role
from fixer.model.evidence import PLATFORM_URL, platform_sets
from fixer.rules.base import FixerCodemod

_ASYNC = frozenset({"create_async_engine"})
_FACTORIES = frozenset({"create_engine", "create_async_engine"})
_POSTGRES_DRIVERS = ("psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary", "asyncpg", "pg8000")
# The drivers whose dialect is async (SQLAlchemy's `is_async`), as a URL names them after `+`.
_ASYNC_DIALECTS = frozenset({"asyncpg", "psycopg_async", "aiosqlite", "aiomysql", "asyncmy", "aioodbc"})
_MATCHING_POOL = {("async", "QueuePool"): "AsyncAdaptedQueuePool", ("sync", "AsyncAdaptedQueuePool"): "QueuePool"}


def _last(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


class EngineArguments(FixerCodemod):
    __doc__ = __doc__
    RULE_ID: ClassVar[str] = "FX038"
    RULE_NAME: ClassVar[str] = "engine-arguments"
    DEFECTS: ClassVar[tuple[str, ...]] = ("ENG-POOLCLASS", "ENG-SQLITE-ARGS-ON-PG")
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"QueuePool|check_same_thread")

    def visit_Module(self, node: cst.Module) -> bool:
        path = (self.context.filename or "").replace("\\", "/")
        self._sites = sorted((e for e in self.facts.flow.engines if e.path == path), key=lambda e: e.line)
        self._module = node
        self._positions = None
        return True

    def _line(self, node: cst.CSTNode) -> int:
        # Positions without METADATA_DEPENDENCIES: declaring them makes LibCST copy the tree, which prints a
        # module ending in a blank indented line back changed although no rule edited it.
        if self._positions is None:
            self._positions = cst.MetadataWrapper(self._module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._positions[node].start.line

    def enters(self, statement: cst.BaseStatement) -> bool:
        return True

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        factory = _last(updated_node.func)
        if factory not in _FACTORIES:
            return updated_node
        args = list(updated_node.args)
        if not any(a.keyword is not None and a.keyword.value in ("poolclass", "connect_args") for a in args):
            return updated_node
        kind = self._kind(original_node, factory)
        args = list(updated_node.args)
        for index, arg in enumerate(args):
            if arg.keyword is None:
                continue
            if arg.keyword.value == "poolclass":
                new_value = self._pool(arg.value, kind)
                if new_value is not None:
                    args[index] = arg.with_changes(value=new_value)
            elif arg.keyword.value == "connect_args":
                new_value = self._connect_args(original_node, arg.value)
                if new_value is not None:
                    args[index] = arg.with_changes(value=new_value)
        if args == list(updated_node.args):
            return updated_node
        return updated_node.with_changes(args=args)

    def _kind(self, call: cst.Call, factory: str) -> str:
        """The kind of engine SQLAlchemy checks the pool against: its dialect's. `AsyncEngine(create_engine(url))`
        (the model's wrapped engine) and a URL naming an async driver make `create_engine`'s dialect async."""
        if factory in _ASYNC:
            return "async"
        line = self._line(call)
        site = next((e for e in self._sites if e.line == line), None)
        scheme = site.url.scheme if site is not None else None
        if site is not None and (site.wrapped or (scheme is not None and scheme.partition("+")[2] in _ASYNC_DIALECTS)):
            return "async"
        return "sync"

    def _pool(self, value: cst.BaseExpression, kind: str) -> cst.BaseExpression | None:
        written = _last(value)
        wanted = _MATCHING_POOL.get((kind, written or ""))
        if wanted is None:
            return None
        if isinstance(value, cst.Attribute):
            new: cst.BaseExpression = value.with_changes(attr=cst.Name(wanted))
        else:
            AddImportsVisitor.add_needed_import(self.context, "sqlalchemy.pool", wanted)
            new = cst.Name(wanted)
        error = f"cannot be used with {'asyncio' if kind == 'async' else 'non-asyncio'} engine"
        self._report(
            value, new, f"`{written}` is the pool of the other kind of engine: a {kind} engine needs `{wanted}`",
            f"Creating the engine fails with `sqlalchemy.exc.ArgumentError: Pool class {written} {error}`.",
            f"`{wanted}` is the same queue pool for a {kind} engine.", ("ENG-POOLCLASS",),
            "SQLAlchemy checks the pool class when the engine is created, on every URL",
        )
        return new

    def _connect_args(self, call: cst.Call, value: cst.BaseExpression) -> cst.BaseExpression | None:
        if not isinstance(value, cst.Dict) or not any(
            isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
            and e.key.evaluated_value == "check_same_thread" for e in value.elements
        ):
            return None
        # The model's engine on this call's line: engines without the argument sit between them in the file.
        line = self._line(call)
        site = next((e for e in self._sites if e.line == line), None)
        url = call.args[0].value if call.args and call.args[0].keyword is None else None
        if site is None or url is None or not platform_sets(site.url.names) or self.facts.role(site.path) is not Role.LIVE:
            return None
        if site.sqlite_branch:
            return None  # the project's own `if ...sqlite...:` already keeps the platform's URL away from it
        if not any(self.facts.installed.has(driver) for driver in _POSTGRES_DRIVERS):
            return None  # a sqlite project: no PostgreSQL driver installs, no platform database is meant
        if not isinstance(url, (cst.Name, cst.Attribute)):
            self._report(value, value, "sqlite's `check_same_thread` is passed to an engine a platform gives PostgreSQL",
                         "The PostgreSQL driver rejects it: `invalid connection option \"check_same_thread\"`.",
                         "Pass it only for a sqlite URL.", ("ENG-SQLITE-ARGS-ON-PG",),
                         f"the platform URL {PLATFORM_URL} is PostgreSQL", fixed=False)
            return None
        test = cst.Call(func=cst.Attribute(value=url, attr=cst.Name("startswith")), args=[cst.Arg(cst.SimpleString('"sqlite"'))])
        new = cst.IfExp(test=test, body=value, orelse=cst.Dict(elements=[]))
        self._report(
            value, new, "sqlite's `check_same_thread` is passed to an engine a platform gives PostgreSQL",
            "With the platform's postgresql:// URL the PostgreSQL driver rejects it at the first connection: "
            "`invalid connection option \"check_same_thread\"`.",
            "The argument is now passed only when the URL is sqlite.", ("ENG-SQLITE-ARGS-ON-PG",),
            f"the URL is read as {', '.join(site.url.names)}, which platforms set to {PLATFORM_URL}",
        )
        return new

    def _report(self, old: cst.CSTNode, new: cst.CSTNode, problem: str, root_cause: str, explanation: str,
                defects: tuple[str, ...], evidence: str, fixed: bool = True) -> None:
        self.report(Finding(
            rule=self.RULE_ID, category=Category.DATABASE, severity=Severity.CRITICAL, problem=problem,
            root_cause=root_cause, old_code=self.code(old), new_code=self.code(new) if fixed else "",
            explanation=explanation, fixed=fixed, defects=defects, evidence=evidence,
        ))
