"""FX012 sync-session-on-async-engine: Open AsyncSessions on async engines, with `async with`.

## What it does
`with Session(engine) as session:` where the model shows `engine` is async (or `with factory() as session:`
over an async session factory), outside a session dependency (FX011), becomes
`async with <the project's factory>() as session:`, or `async with AsyncSession(engine, expire_on_commit=False)
as session:` when the project has no factory of its own (sqlmodel's AsyncSession when the project calls
`.exec`, SQLAlchemy's otherwise). FX016 makes the enclosing function async and FX010 awaits the session's calls.

## Why is this bad?
`Session(async_engine)` fails at the first query: `AsyncContextNotStarted: AsyncConnection context has not been
started and object has not been awaited.`; `with` over an AsyncSession fails with `TypeError: 'AsyncSession'
object does not support the context manager protocol` (ENG-SYNC-SESSION).

## Example
```python
async def seed() -> None:
    with Session(engine) as session:
        session.add(User(email="admin@example.com"))
        session.commit()
```

## Use instead
```python
async def seed() -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add(User(email="admin@example.com"))
        await session.commit()
```

## Fix safety
Safe: the model shows the engine is async. A session on a sync engine (Celery, Alembic, scripts with their own
`create_engine`) is left alone; a function that cannot become async is reported by FX016 instead.
"""

from __future__ import annotations

import libcst as cst

from fixer.model.uses import FunctionPlan

from fixer.rules.async_use import OpeningCodemod


class SyncSessionOnAsyncEngine(OpeningCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX012"
    RULE_NAME = "sync-session-on-async-engine"
    DEFECTS = ("ENG-SYNC-SESSION",)
    PROVIDERS = False

    def relevant(self, plan: FunctionPlan) -> bool:
        return bool(plan.sync_opens) and not plan.provider

    def opened(self, old: cst.With, new: cst.With) -> None:
        self.finding(
            old, new,
            problem="a sync Session is opened on an async engine",
            root_cause="the engine (or session factory) is async",
            explanation="The first query fails with `AsyncContextNotStarted`; open an AsyncSession with `async with`.",
            defects=("ENG-SYNC-SESSION",),
        )
