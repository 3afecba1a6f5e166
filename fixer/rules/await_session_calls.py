"""FX010 await-session-calls: Await AsyncSession's coroutine methods, and only those.

## What it does
Inside async functions (and functions the conversion makes async), adds `await` to the calls of an
`AsyncSession`'s coroutine methods (`exec`, `execute`, `commit`, `refresh`, `get`, `delete`, `scalar(s)`,
`flush`, `rollback`, `close`, ... read from the real classes, see `tools/gen_session_methods.py`), inside
expressions too: `session.exec(q).all()` becomes `(await session.exec(q)).all()`, and the misplaced
`await session.exec(q).all()` becomes `(await session.exec(q)).all()`. Removes `await` from the plain methods
(`add`, `add_all`, `expunge`, `expire`, ...). A session is async when the project model follows it to an
async engine, `AsyncSession`, an async session factory, or a dependency that yields one, across modules.

## Why is this bad?
A coroutine method called without `await` does nothing: `AttributeError: 'coroutine' object has no attribute
'all'` at the request, or, for `commit()`/`delete()`/`refresh()`, no exception at all, only
`RuntimeWarning: coroutine 'AsyncSession.commit' was never awaited` and the row is NOT written
(ENG-MISSING-AWAIT). `await session.add(x)` fails with `TypeError: object NoneType can't be used in 'await'
expression` (ENG-AWAIT-ADD).

## Example
```python
async def create(session: AsyncSession, todo: Todo) -> list[Todo]:
    await session.add(todo)
    session.commit()
    return session.exec(select(Todo)).all()
```

## Use instead
```python
async def create(session: AsyncSession, todo: Todo) -> list[Todo]:
    session.add(todo)
    await session.commit()
    return (await session.exec(select(Todo))).all()
```

## Fix safety
Safe when the project is half async (an async engine, `AsyncSession` or asyncpg is used) or `--to-async`
asks for the move: the model shows the session is an `AsyncSession`, whose methods are coroutines on every
SQLAlchemy/sqlmodel version that has them. A session the model cannot follow to an async source (a parameter
no caller in the project passes) is left alone; an all-sync project is never touched.
"""

from __future__ import annotations

import libcst as cst

from fixer.model.uses import FunctionPlan
from fixer.rules.async_use import AwaitingCodemod, dotted


def _on_session(plan: FunctionPlan, callee: str) -> bool:
    return callee.rpartition(".")[0] in plan.async_sessions


class AwaitSessionCalls(AwaitingCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX010"
    RULE_NAME = "await-session-calls"
    DEFECTS = ("ENG-MISSING-AWAIT", "ENG-AWAIT-ADD")

    def relevant(self, plan: FunctionPlan) -> bool:
        return any(_on_session(plan, c) for c in (*plan.awaits, *plan.unawaits))

    def wants(self, plan: FunctionPlan, callee: str) -> bool:
        return callee in plan.awaits and _on_session(plan, callee)

    def describe(self, plan: FunctionPlan, callee: str, old: cst.Call, new: cst.BaseExpression) -> None:
        method = callee.rpartition(".")[2]
        self.finding(
            old, new,
            problem=f"`{callee}(...)` returns a coroutine that is never awaited",
            root_cause=f"`{callee.rpartition('.')[0]}` is an AsyncSession: `{method}` is a coroutine method",
            explanation=(
                f"Without `await`, `{method}` never runs: the result is a coroutine (`AttributeError: 'coroutine' "
                "object has no attribute ...`), or a commit/delete/refresh silently does nothing "
                "(`RuntimeWarning: coroutine ... was never awaited`)."
            ),
            defects=("ENG-MISSING-AWAIT",),
        )

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        plan = self.here
        call = updated_node.expression
        if plan is not None and isinstance(call, cst.Call):
            callee = dotted(call.func)
            if callee in plan.unawaits and _on_session(plan, callee):
                new = call.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
                self.finding(
                    original_node, new,
                    problem=f"`await {callee}(...)`: `{callee.rpartition('.')[2]}` is not a coroutine",
                    root_cause="AsyncSession's add/add_all/expunge/expire are plain methods that return None",
                    explanation="`await` on their result fails: `TypeError: object NoneType can't be used in 'await' expression`.",
                    defects=("ENG-AWAIT-ADD",),
                )
                return new
        return super().leave_Await(original_node, updated_node)
