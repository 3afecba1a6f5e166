"""FX013 create-all-run-sync: Run `metadata.create_all` on an async engine through `run_sync`.

## What it does
The statement `SQLModel.metadata.create_all(engine)` (or `drop_all`, any `metadata`) where the model shows
`engine` is async becomes
`async with engine.begin() as conn: await conn.run_sync(SQLModel.metadata.create_all)`; FX016 makes the
enclosing function async and awaits it in the lifespan or startup hook that calls it.

## Why is this bad?
An AsyncEngine cannot run DDL synchronously: `AttributeError: 'AsyncEngine' object has no attribute
'_run_ddl_visitor'` at startup (ENG-CREATE-ALL).

## Example
```python
def create_db_and_tables():
    SQLModel.metadata.create_all(engine)
```

## Use instead
```python
async def create_db_and_tables():
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
```

## Fix safety
Safe: the model shows the engine is async, so today's call fails on every version; `run_sync` exists on every
AsyncConnection. Only statements of their own are rewritten (a `create_all` inside a larger expression is
reported).
"""

from __future__ import annotations

import libcst as cst

from fixer.model.uses import FunctionPlan

from fixer.rules.async_use import UseCodemod, dotted


class CreateAllRunSync(UseCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX013"
    RULE_NAME = "create-all-run-sync"
    DEFECTS = ("ENG-CREATE-ALL",)

    def relevant(self, plan: FunctionPlan) -> bool:
        return bool(plan.ddl_engines)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement:
        plan = self.here
        if plan is None or not plan.ddl_engines or plan.blocked or len(updated_node.body) != 1:
            return updated_node
        expression = updated_node.body[0]
        call = expression.value if isinstance(expression, cst.Expr) else None
        if not isinstance(call, cst.Call) or len(call.args) != 1 or call.args[0].keyword not in (None,):
            return updated_node
        method = dotted(call.func)
        engine = dotted(call.args[0].value)
        if method is None or engine not in plan.ddl_engines:
            return updated_node
        connection = "conn"
        new = cst.parse_statement(
            f"async with {engine}.begin() as {connection}:\n    await {connection}.run_sync({method})\n"
        ).with_changes(leading_lines=updated_node.leading_lines)
        self.finding(
            original_node, new,
            problem=f"`{method}({engine})` runs DDL synchronously on an async engine",
            root_cause=f"`{engine}` is an AsyncEngine",
            explanation="It fails at startup with `AttributeError: 'AsyncEngine' object has no attribute '_run_ddl_visitor'`; "
                        "run it on an async connection with `run_sync`.",
            defects=("ENG-CREATE-ALL",),
        )
        return new
