"""FX011 session-dependency: A session dependency over an async engine yields an AsyncSession.

## What it does
A generator dependency (`def get_session(): with Session(engine) as session: yield session`) whose session is
bound to an async engine or made by an async factory becomes
`async def get_session(): async with <factory>() as session: yield session`, with the project's own async
session factory when it has one (`async_session = async_sessionmaker(...)`), else
`AsyncSession(engine, expire_on_commit=False)`. A `Generator[Session, ...]` return annotation becomes
`AsyncGenerator[AsyncSession, None]`. (FX016 makes the function `async def`.)

## Why is this bad?
A sync `Session` on an `AsyncEngine` fails at the first query: `AsyncContextNotStarted: AsyncConnection context
has not been started and object has not been awaited.`; a sync `with` around an async factory fails with
`TypeError: 'AsyncSession' object does not support the context manager protocol` (ENG-GET-SESSION,
ENG-SYNC-SESSION).

## Example
```python
engine = create_async_engine(DATABASE_URL)
async_session = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

def get_session():
    with Session(engine) as session:
        yield session
```

## Use instead
```python
async def get_session():
    async with async_session() as session:
        yield session
```

## Fix safety
Safe: the model shows the engine (or factory) the session is opened on is async, so the sync session cannot
work on it; FastAPI takes async generator dependencies on every version. An engine that stays sync (a Celery
or Alembic engine beside the async one) is left alone.
"""

from __future__ import annotations

import libcst as cst

from fixer.model.uses import FunctionPlan
from fixer.rules.async_use import OpeningCodemod, dotted


class SessionDependency(OpeningCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX011"
    RULE_NAME = "session-dependency"
    DEFECTS = ("ENG-GET-SESSION", "ENG-SYNC-SESSION")
    PROVIDERS = True

    def relevant(self, plan: FunctionPlan) -> bool:
        return plan.provider

    def opened(self, old: cst.With, new: cst.With) -> None:
        self.finding(
            old, new,
            problem="the session dependency opens a sync Session on an async engine",
            root_cause="the engine (or session factory) is async; the dependency still uses the sync Session",
            explanation=(
                "The first query fails with `AsyncContextNotStarted` (or `TypeError: 'AsyncSession' object does not "
                "support the context manager protocol`): the dependency must be an async generator over an AsyncSession."
            ),
            defects=("ENG-GET-SESSION",),
        )

    def function_left(self, plan: FunctionPlan, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        returns = updated.returns
        if not plan.provider or returns is None or not isinstance(returns.annotation, cst.Subscript):
            return updated
        if original.asynchronous is not None:
            return updated  # an async generator annotated `Generator[...]` runs all the same: typing only, no edit
        annotation = returns.annotation
        if (dotted(annotation.value) or "").rpartition(".")[2] not in ("Generator", "Iterator"):
            return updated
        from libcst.codemod.visitors import AddImportsVisitor

        AddImportsVisitor.add_needed_import(self.context, "collections.abc", "AsyncGenerator")
        new_annotation = cst.parse_expression(f"AsyncGenerator[{self.async_session_name()}, None]")
        new = updated.with_changes(returns=returns.with_changes(annotation=new_annotation))
        self.finding(annotation, new_annotation, problem="the dependency's return annotation names a sync generator",
                     root_cause="it now yields an AsyncSession from an async generator",
                     explanation="Type checkers and readers see what it really returns.", defects=("ENG-GET-SESSION",))
        return new
