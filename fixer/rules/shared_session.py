"""FX019 shared-session: Report an AsyncSession handed to concurrent tasks or threads.

## What it does
Reports (never edits) an `AsyncSession` passed to code that runs concurrently: `asyncio.gather(...)` of
several calls given the same session, `asyncio.create_task(job(session))`, `asyncio.to_thread(f, session)`,
`run_in_executor`, `Thread(target=..., args=(session,))`, `run_in_threadpool`.

## Why is this bad?
An AsyncSession holds one connection and one transaction and is not safe for concurrent use: two tasks using
it at once fail with `sqlalchemy.exc.InvalidRequestError: This session is provisioning a new connection;
concurrent operations are not permitted` or `asyncpg.exceptions._base.InterfaceError: cannot perform operation:
another operation is in progress`, intermittently.

## Example
```python
async def dashboard(session: AsyncSession = Depends(get_session)):
    todos, users = await asyncio.gather(count_todos(session), count_users(session))
```

## Use instead
```python
async def dashboard(session: AsyncSession = Depends(get_session)):
    todos = await count_todos(session)
    users = await count_users(session)
```
(or one session per task, each from the session factory).

## Fix safety
Report only: running the calls one after the other, or giving each task its own session, changes how the code
behaves; a person chooses.
"""

from __future__ import annotations

import libcst as cst

from fixer.rules.findings import Severity
from fixer.model.uses import FunctionPlan
from fixer.rules.async_use import UseCodemod, dotted


class SharedSession(UseCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX019"
    RULE_NAME = "shared-session"
    DEFECTS = ("ENG-SHARED-SESSION",)

    def relevant(self, plan: FunctionPlan) -> bool:
        return bool(plan.shared_sessions)

    def visit_Call(self, node: cst.Call) -> None:
        plan = self.here
        callee = dotted(node.func)
        if plan is None or callee not in plan.shared_sessions:
            return
        self.finding(
            node, node,
            problem=f"an AsyncSession is shared by the concurrent work `{callee}(...)` starts",
            root_cause="an AsyncSession (one connection, one transaction) is not safe for concurrent use",
            explanation=(
                "Concurrent use fails intermittently (`InvalidRequestError: ... concurrent operations are not permitted`, "
                "asyncpg's `another operation is in progress`): await the calls one after the other, or give each task "
                "its own session from the session factory."
            ),
            defects=self.DEFECTS, severity=Severity.HIGH, fixed=False,
        )
