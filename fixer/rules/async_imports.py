"""FX002 async-imports: Import SQLAlchemy's asyncio names from where they live, and make async engines async.

## What it does
Rewrites imports of `AsyncEngine`, `AsyncSession`, `create_async_engine` and `async_sessionmaker` from
modules that do not export them (in the versions the project installs) to `sqlalchemy.ext.asyncio`; uses
sqlmodel's `AsyncSession` where the project awaits `session.exec(...)`; and turns `create_engine` into
`create_async_engine` where the engine is used the async way (`engine: AsyncEngine`, `async with
engine.begin()`, `await engine.dispose()`, a factory of async sessions bound to it). Moved names are merged
into an existing import of their module; only the imports the rewrite left unused are removed.

## Why is this bad?
These names live in `sqlalchemy.ext.asyncio`, and sqlmodel never re-exports them, so the app stops at
startup with `ImportError: cannot import name 'AsyncEngine' from 'sqlalchemy'` (ENG-IMPORT). SQLAlchemy's
own `AsyncSession` has no `.exec`: `AttributeError: 'AsyncSession' object has no attribute 'exec'` at the
first request (ENG-SA-ASYNCSESSION). A sync engine used as an async one fails with `MissingGreenlet`, or
with `TypeError: '_GeneratorContextManager' object does not support the asynchronous context manager
protocol` (ENG-SYNC-ENGINE). Old sqlmodel releases do not export `AsyncEngine` either
(VER-SQLMODEL-ASYNCENGINE).

## Example
```python
from sqlmodel import SQLModel, create_engine
from sqlalchemy import AsyncEngine

engine: AsyncEngine = create_engine(settings.DATABASE_URL)
```

## Use instead
```python
from sqlmodel import SQLModel
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

engine: AsyncEngine = create_async_engine(settings.DATABASE_URL)
```

## Fix safety
Safe: an import is moved only when the version the project installs does not export the name from where it
is imported, and `create_engine` becomes `create_async_engine` only where the module itself uses the engine
the async way. An engine in a module that defines or imports its own `create_async_engine` is reported for a
person instead, since the rewritten call would call that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.base import FixerCodemod
from fixer.rules.tree_walk import dotted, scan

ASYNCIO = "sqlalchemy.ext.asyncio"
SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.session"
ASYNC_NAMES = frozenset({"AsyncEngine", "AsyncSession", "create_async_engine", "async_sessionmaker"})
SYNC_ENGINE_SOURCES = frozenset({"sqlmodel", "sqlalchemy"})
_IMPORTED_WORDS = ASYNC_NAMES | {"create_engine"}


def _imported_name(alias: cst.ImportAlias) -> str | None:
    return alias.name.value if isinstance(alias.name, cst.Name) else None


def _local_name(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _imported_name(alias)


def _binds_other(tree: cst.Module, name: str, moved_from: Callable[[str], bool]) -> bool:
    """Whether the module binds `name` at its top level other than by importing it from sqlalchemy.ext.asyncio
    (or from a module this rule moves the import away from, `moved_from`: it becomes that one)."""
    for statement in tree.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name:
            return True
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                module = dotted(small.module) if small.module is not None and not small.relative else None
                if module != ASYNCIO and not (module and moved_from(module)) and any(
                    _local_name(alias) == name for alias in small.names
                ):
                    return True
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
            targets += [small.target] if isinstance(small, cst.AnnAssign) else []
            if any(isinstance(target, cst.Name) and target.value == name for target in targets):
                return True
    return False


@dataclass
class _ModuleUse:
    """What FX002 needs to know about a module before rewriting it (see `_Imports` and `_EngineUse`)."""

    create_engine_names: dict[str, str] = field(default_factory=dict)  # local name -> module it was imported from
    async_session_names: set[str] = field(default_factory=lambda: {"AsyncSession"})
    async_engines: set[str] = field(default_factory=set)
    imported_modules: set[str] = field(default_factory=set)  # modules some `from M import ...` already names
    create_engine_refs: dict[str, int] = field(default_factory=dict)  # uses of each create_engine name outside imports
    engine_assignments: list[tuple[str, str]] = field(default_factory=list)  # (target, func) of `x = create_engine(...)`
    entered: set[int] = field(default_factory=set)  # ids of the top-level statements the rewrite has to walk
    # The local names of AsyncSession that are called or given as class_ (not only annotated): an alias kept for
    # SQLAlchemy's own class (`AsyncSession as SqlAlchemyAsyncSession`) beside sqlmodel's is not among them.
    session_makers: set[str] = field(default_factory=set)

    def only_async_uses(self, local: str) -> bool:
        """Every use of this `create_engine` builds an engine used the async way: its import can go."""
        rewritten = sum(1 for target, func in self.engine_assignments if func == local and target in self.async_engines)
        uses = self.create_engine_refs.get(local, 0)
        return uses > 0 and rewritten == uses  # an import nothing uses is the project's business, not a defect


class _Pass(cst.CSTVisitor):
    """A read-only pass over a module that notes, in `use`, what it finds and which top-level statements hold it."""

    def __init__(self, use: _ModuleUse) -> None:
        super().__init__()
        self.use = use
        self.statement: cst.BaseStatement | None = None  # the top-level statement being scanned

    def over(self, tree: cst.Module) -> None:
        for statement in tree.body:
            self.statement = statement
            scan(statement, self)


class _Imports(_Pass):
    """First pass, on every module: the `from M import ...` statements. It hooks no expression, so `scan`
    skips every expression of the module."""

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = dotted(node.module) if node.module is not None else None
        if module is None or isinstance(node.names, cst.ImportStar):
            return False
        use = self.use
        if not node.relative:
            use.imported_modules.add(module)
        for alias in node.names:
            name, local = _imported_name(alias), _local_name(alias)
            if name in _IMPORTED_WORDS:
                use.entered.add(id(self.statement))
            if name == "create_engine" and module in SYNC_ENGINE_SOURCES and local:
                use.create_engine_names[local] = module
            elif name == "AsyncSession" and local:
                use.async_session_names.add(local)
        return False


class _EngineUse(_Pass):
    """Second pass, only on modules that import `create_engine`: which names hold engines used the async way,
    and where each `create_engine` is called."""

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False  # the names in an import are not uses

    def visit_Name(self, node: cst.Name) -> None:
        refs = self.use.create_engine_refs
        if node.value in self.use.create_engine_names:
            refs[node.value] = refs.get(node.value, 0) + 1
            self.use.entered.add(id(self.statement))

    def _record_assignment(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name) and isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            if value.func.value in self.use.create_engine_names:
                self.use.engine_assignments.append((target.value, value.func.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            self._record_assignment(node.targets[0].target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._record_assignment(node.target, node.value)
        annotation = dotted(node.annotation.annotation)
        if annotation and annotation.rsplit(".", 1)[-1] == "AsyncEngine" and isinstance(node.target, cst.Name):
            self.use.async_engines.add(node.target.value)

    def visit_With(self, node: cst.With) -> None:
        # `async with engine.begin()` / `engine.connect()`
        if node.asynchronous is None:
            return
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
                if call.func.attr.value in ("begin", "connect"):
                    self.use.async_engines.add(call.func.value.value)

    def visit_Await(self, node: cst.Await) -> None:
        call = node.expression
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
            if call.func.attr.value == "dispose":
                self.use.async_engines.add(call.func.value.value)

    def visit_Call(self, node: cst.Call) -> None:
        # An engine bound to a factory of async sessions is an async engine.
        func = dotted(node.func)
        if func is None:
            return
        short = func.rsplit(".", 1)[-1]
        makes_async = short in ("async_sessionmaker", "AsyncSession") or short in self.use.async_session_names
        if short == "sessionmaker":
            makes_async = any(
                arg.keyword is not None and arg.keyword.value == "class_" and dotted(arg.value) in self.use.async_session_names
                for arg in node.args
            )
        if not makes_async:
            return
        for arg in node.args:
            if (arg.keyword is None or arg.keyword.value == "bind") and isinstance(arg.value, cst.Name):
                self.use.async_engines.add(arg.value.value)
                break


class _SessionUse(_Pass):
    """Only where SQLAlchemy's AsyncSession is imported and the project calls sqlmodel's `.exec`: does this
    module make sessions with it (`AsyncSession(engine)`, `class_=AsyncSession`)? An annotation alone changes
    nothing at run time, so only a module that makes them needs sqlmodel's class."""

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        names = self.use.async_session_names
        made = [dotted(node.func), *(dotted(arg.value) for arg in node.args if arg.keyword is None or arg.keyword.value == "class_")]
        self.use.session_makers.update(name for name in made if name in names)


class AsyncImports(FixerCodemod):
    """Import AsyncEngine, AsyncSession, create_async_engine and async_sessionmaker from where they live.

    What it fixes (ENG-IMPORT, ENG-SA-ASYNCSESSION, ENG-SYNC-ENGINE):
    - `from sqlalchemy import AsyncEngine`, `from sqlmodel import AsyncSession`, `from sqlalchemy.orm import
      async_sessionmaker`, ... fail at startup with `ImportError: cannot import name 'AsyncEngine' from
      'sqlalchemy'`: these names live in `sqlalchemy.ext.asyncio` (AsyncSession with `.exec` in
      `sqlmodel.ext.asyncio.session`, which sqlmodel never re-exports).
    - `create_engine` (sqlmodel's or SQLAlchemy's) builds a sync engine; code that treats it as async
      (`engine: AsyncEngine`, `async with engine.begin()`, `await engine.dispose()`, a factory of
      AsyncSessions bound to it) fails with `MissingGreenlet` or `TypeError: '_GeneratorContextManager'
      object does not support the asynchronous context manager protocol`. It becomes `create_async_engine`.
    Moved names are merged into an existing import of their module; only imports the rewrite left unused
    are removed.

    Before:
        from sqlmodel import SQLModel, create_engine
        from sqlalchemy import AsyncEngine
        engine: AsyncEngine = create_engine(settings.DATABASE_URL)
    After:
        from sqlmodel import SQLModel
        from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
        engine: AsyncEngine = create_async_engine(settings.DATABASE_URL)
    """

    RULE_ID = "FX002"
    RULE_NAME = "async-imports"
    DEFECTS = ("ENG-IMPORT", "ENG-SA-ASYNCSESSION", "ENG-SYNC-ENGINE")
    TRIGGER = re.compile(rb"\b(?:AsyncEngine|AsyncSession|create_async_engine|async_sessionmaker|create_engine)\b")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self._use = _ModuleUse()
        _Imports(self._use).over(tree)
        # `create_async_engine(...)` would call the module's own one: its engines are left for a person.
        self._own_create_async_engine = _binds_other(
            tree, "create_async_engine", lambda module: self.facts.exports(module, "create_async_engine") is False
        )
        if self._use.create_engine_names:  # without a `create_engine` import there is no engine to rewrite
            _EngineUse(self._use).over(tree)
        if self.facts.sqlmodel_exec and ASYNCIO in self._use.imported_modules:
            _SessionUse(self._use).over(tree)
        return super().transform_module_impl(tree)

    def enters(self, statement: cst.BaseStatement) -> bool:
        # Imports of the names this rule moves, and `create_engine` under any local name (not the annotations
        # that mention AsyncSession all over an app).
        return id(statement) in self._use.entered

    def _home(self, name: str, source: str) -> str:
        if name != "AsyncSession":
            return ASYNCIO
        if self.facts.sqlmodel_exec or source.startswith("sqlmodel"):
            return SQLMODEL_ASYNC_SESSION
        return ASYNCIO

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if len(updated_node.body) != 1 or not isinstance(updated_node.body[0], cst.ImportFrom):
            return updated_node
        node = updated_node.body[0]
        module = dotted(node.module) if node.module is not None else None
        if module is None or node.relative or isinstance(node.names, cst.ImportStar):
            return updated_node
        kept: list[cst.ImportAlias] = []
        moved: dict[str, list[cst.ImportAlias]] = {}
        swapped: list[cst.ImportAlias] = []
        for alias in node.names:
            name = _imported_name(alias)
            if name in ASYNC_NAMES and self.facts.exports(module, name) is False:
                # The exports tables decide, by the version that installs: sqlmodel 0.0.8's session module
                # still imported AsyncEngine (VER-SQLMODEL-ASYNCENGINE), current ones do not.
                moved.setdefault(self._home(name, module), []).append(alias)
            elif name == "AsyncSession" and module == ASYNCIO and self.facts.sqlmodel_exec and _local_name(alias) in self._use.session_makers:
                moved.setdefault(SQLMODEL_ASYNC_SESSION, []).append(alias)
            elif (
                name == "create_engine"
                and module in SYNC_ENGINE_SOURCES
                and not self._own_create_async_engine
                and self._use.only_async_uses(_local_name(alias))
            ):
                # Swapped in place (and reported with the engine it builds), so the import stays where it stood.
                swapped.append(cst.ImportAlias(name=cst.Name("create_async_engine")))
            else:
                kept.append(alias)
        if not moved and not swapped:
            return updated_node
        if moved:
            self._report_moved(module, original_node, moved)
        if swapped:
            moved.setdefault(ASYNCIO, []).extend(swapped)
        statements: list[cst.BaseStatement] = []
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            statements.append(updated_node.with_changes(body=[node.with_changes(names=kept)]))
        for home, aliases in moved.items():
            if home in self._use.imported_modules:
                for alias in aliases:
                    asname = _local_name(alias) if alias.asname is not None else None
                    AddImportsVisitor.add_needed_import(self.context, home, _imported_name(alias), asname)
                continue
            # The module is not imported yet: put its import where the wrong one stood, so it stays in place.
            self._use.imported_modules.add(home)
            aliases[-1] = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            replacement = cst.ImportFrom(module=cst.parse_expression(home), names=aliases)
            statements.append(updated_node.with_changes(body=[replacement], leading_lines=() if statements else updated_node.leading_lines))
        if not statements:
            return cst.RemoveFromParent()
        return cst.FlattenSentinel(statements)

    def _report_moved(self, module: str, original: cst.SimpleStatementLine, moved: dict[str, list[cst.ImportAlias]]) -> None:
        names = [_imported_name(alias) or "" for aliases in moved.values() for alias in aliases]
        wrong_source = any(self.facts.exports(module, name) is False for name in names)
        self.report(
            Finding(
                rule=self.RULE_ID,
                category=Category.IMPORT,
                severity=Severity.CRITICAL,
                problem=f"`{', '.join(names)}` imported from `{module}`, which "
                + ("does not export it." if wrong_source else "is SQLAlchemy's AsyncSession, without the `.exec` this project calls."),
                root_cause=(
                    f"`{module}` has no `{names[0]}`: SQLAlchemy's asyncio API lives in `sqlalchemy.ext.asyncio`, and "
                    "sqlmodel's AsyncSession (the one with `.exec`) in `sqlmodel.ext.asyncio.session`, which sqlmodel "
                    f"never re-exports. The server stops at startup with `ImportError: cannot import name '{names[0]}' from '{module}'`."
                )
                if wrong_source
                else "SQLAlchemy's AsyncSession has no `.exec`: every request that calls it fails with "
                "`AttributeError: 'AsyncSession' object has no attribute 'exec'`.",
                old_code=self.code(original).strip(),
                new_code="\n".join(
                    f"from {home} import {', '.join(self.code(a.with_changes(comma=cst.MaybeSentinel.DEFAULT)) for a in aliases)}"
                    for home, aliases in moved.items()
                ),
                explanation="Import each name from the module that defines it; an existing import of that module is extended.",
                defects=("ENG-IMPORT",) if wrong_source else ("ENG-SA-ASYNCSESSION",),
            )
        )

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1:
            return updated_node
        return updated_node.with_changes(value=self._async_engine(updated_node.targets[0].target, updated_node.value))

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        if updated_node.value is None:
            return updated_node
        return updated_node.with_changes(value=self._async_engine(updated_node.target, updated_node.value))

    def _async_engine(self, target: cst.BaseExpression, value: cst.BaseExpression) -> cst.BaseExpression:
        """`engine = create_engine(...)` where `engine` is used the async way becomes `create_async_engine(...)`."""
        if not (isinstance(target, cst.Name) and target.value in self._use.async_engines):
            return value
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
            return value
        source = self._use.create_engine_names.get(value.func.value)
        if source is None:
            return value
        new = value.with_changes(func=cst.Name("create_async_engine"))
        if not self._own_create_async_engine:
            AddImportsVisitor.add_needed_import(self.context, ASYNCIO, "create_async_engine")
        self.report(
            Finding(
                rule=self.RULE_ID,
                category=Category.DATABASE,
                severity=Severity.CRITICAL,
                problem=f"`{target.value}` is used as an async engine but is built with `{source}.create_engine`, which makes a sync one."
                + (" This module has its own `create_async_engine`: not changed." if self._own_create_async_engine else ""),
                root_cause=(
                    "`create_engine` returns a sync Engine; awaiting it or using `async with engine.begin()` fails with "
                    "`MissingGreenlet` or `TypeError: '_GeneratorContextManager' object does not support the asynchronous "
                    "context manager protocol`."
                ),
                old_code=self.code(value),
                new_code=self.code(new),
                explanation="Build the engine with `sqlalchemy.ext.asyncio.create_async_engine`, which takes the same arguments.",
                defects=("ENG-SYNC-ENGINE",),
                fixed=not self._own_create_async_engine,
            )
        )
        return value if self._own_create_async_engine else new
