"""FX016 async-propagation: A function that now awaits becomes `async def`, and every caller awaits it.

## What it does
Makes `async def` every function the conversion gives an `await` (a session coroutine, an `async with`
session, `run_sync`, or a call to a project function that is async), and adds `await` to every call of such a
function in the project, up to the route handlers, dependencies, the lifespan and startup hooks: a fixed point
over the project model's call graph, across modules, through methods of service classes (`self.method`,
`service = TodoService(session)`, `service: TodoService = Depends(...)`). Calls to project functions that
are already `async def` but are called without `await` get one too. A function that cannot become async
(a Celery task, a `@contextmanager`, a `@property`, a `__main__` script's code, a sync test) is left as it
is and reported, with the pattern to use instead.

## Why is this bad?
`await` in a plain `def` is `SyntaxError: 'await' outside async function` at startup (ENG-SYNC-HANDLER); an
async function called without `await` returns a coroutine: `AttributeError: 'coroutine' object has no
attribute ...` or, for a function that writes, no write at all and `RuntimeWarning: coroutine ... was never
awaited` (ENG-MISSING-AWAIT).

## Example
```python
class TodoService:
    def list_for(self, user):
        return (await self.session.exec(select(Todo))).all()

@router.get("/todos")
def list_todos(service: TodoService = Depends(get_service)):
    return service.list_for(user)
```

## Use instead
```python
class TodoService:
    async def list_for(self, user):
        return (await self.session.exec(select(Todo))).all()

@router.get("/todos")
async def list_todos(service: TodoService = Depends(get_service)):
    return await service.list_for(user)
```

## Fix safety
Safe when every caller of the function is in the project and converted in the same run (FastAPI calls route
handlers and dependencies either way). Unsafe when some caller cannot be converted (it is named in the
finding): written only with `--unsafe-fixes`. A function that cannot become async is only reported.
"""

from __future__ import annotations

import libcst as cst

from fixer.rules.findings import Severity
from fixer.model.uses import FunctionPlan
from fixer.rules.async_use import AwaitingCodemod, header

_PATTERN = (
    "Keep it sync and give it its own sync engine and Session, or run the async code from it with "
    "`asyncio.run(...)` (a script's top level) or `await session.run_sync(...)`."
)


class AsyncPropagation(AwaitingCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX016"
    RULE_NAME = "async-propagation"
    DEFECTS = ("ENG-SYNC-HANDLER", "ENG-MISSING-AWAIT")

    def relevant(self, plan: FunctionPlan) -> bool:
        return plan.becomes_async or bool(plan.blocked) or any(not self._session_call(plan, c) for c in plan.awaits)

    @staticmethod
    def _session_call(plan: FunctionPlan, callee: str) -> bool:
        return callee.rpartition(".")[0] in plan.async_sessions

    def wants(self, plan: FunctionPlan, callee: str) -> bool:
        return callee in plan.awaits and not self._session_call(plan, callee)

    def describe(self, plan: FunctionPlan, callee: str, old: cst.Call, new: cst.BaseExpression) -> None:
        self.finding(
            old, new,
            problem=f"`{callee}(...)` is an async function called without `await`",
            root_cause=f"`{callee}` is `async def` (or becomes it in this run)",
            explanation="Its result is a coroutine, not its return value; the work it does never runs.",
            defects=("ENG-MISSING-AWAIT",),
        )

    def function_left(self, plan: FunctionPlan, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if plan.hands_on_only:
            self.finding(
                header(original), header(original),
                problem=(
                    f"`{original.name.value}` opens a sync Session on the async engine and only hands it on; it stays "
                    f"sync ({plan.blocked}), and fixer cannot follow whether what receives it calls its methods"
                ),
                root_cause="a sync Session on an async engine works until a method is called on it",
                explanation="Left as it is: a note, not a defect fixer can show. Where the session's methods are "
                            f"called, they fail. {_PATTERN}",
                defects=("ENG-SYNC-SESSION",), severity=Severity.LOW, fixed=False, note=True,
            )
            return updated
        if plan.blocked:
            self.finding(
                header(original), header(original),
                problem=(
                    f"`{original.name.value}` would have to await ({', '.join(plan.why) or 'an async session'}) but cannot "
                    f"become async: {plan.blocked}"
                ),
                root_cause=plan.blocked,
                explanation=f"Left as it is. {_PATTERN}",
                defects=("ENG-SYNC-HANDLER",), severity=Severity.HIGH, fixed=False,
            )
            return updated
        if not plan.becomes_async:
            return updated
        new = updated.with_changes(asynchronous=cst.Asynchronous())
        reasons = ", ".join(f"`{w}`" for w in plan.why[:3]) or "an async session"
        self.finding(
            header(original), header(new),
            problem=f"`{original.name.value}` awaits {reasons} but is a plain `def`",
            root_cause="the session it uses is an AsyncSession, so the function must be a coroutine",
            explanation=(
                "`await` in a plain function is `SyntaxError: 'await' outside async function`; every caller in the "
                "project awaits it in the same run."
                + (f" Callers outside the conversion: {', '.join(plan.unknown_callers)}." if plan.unknown_callers else "")
            ),
            defects=("ENG-SYNC-HANDLER",), safe=not plan.unknown_callers,
        )
        return new if (not plan.unknown_callers or self.facts.unsafe_fixes) else updated
