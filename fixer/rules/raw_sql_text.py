"""FX014 raw-sql-text: Wrap SQL strings given to a session or connection in `text(...)`.

## What it does
`session.execute("SELECT 1")` (also `exec`, `scalar`, `scalars`, and a connection from `engine.begin()` /
`engine.connect()`) in a project being moved to async becomes `session.execute(text("SELECT 1"))`, with
`from sqlalchemy import text`.

## Why is this bad?
SQLAlchemy 2.0 refuses plain strings: `sqlalchemy.exc.ArgumentError: Textual SQL expression 'SELECT 1' should
be explicitly declared as text('SELECT 1')` at the request (or at startup, for a health check in the lifespan).

## Example
```python
async def health(session: AsyncSession = Depends(get_session)):
    await session.execute("SELECT 1")
```

## Use instead
```python
async def health(session: AsyncSession = Depends(get_session)):
    await session.execute(text("SELECT 1"))
```

## Fix safety
Safe when the project can install SQLAlchemy 2.0 or newer (the string fails there; `text()` works on every
version). When only SQLAlchemy 1.4 installs, the string works (deprecated): the fix is unsafe, written with
`--unsafe-fixes`.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from fixer.model.uses import FunctionPlan
from fixer.rules.findings import Severity
from fixer.rules.async_use import UseCodemod, dotted

_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


class RawSqlText(UseCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX014"
    RULE_NAME = "raw-sql-text"
    DEFECTS = ("ENG-RAW-SQL",)

    def relevant(self, plan: FunctionPlan) -> bool:
        return bool(plan.raw_sql)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        plan = self.here
        if plan is None or dotted(updated_node.func) not in plan.raw_sql or not updated_node.args:
            return updated_node
        first = updated_node.args[0]
        if first.keyword is not None or not isinstance(first.value, _STRINGS):
            return updated_node
        AddImportsVisitor.add_needed_import(self.context, "sqlalchemy", "text")
        wrapped = cst.Call(func=cst.Name("text"), args=[cst.Arg(first.value)])
        new = updated_node.with_changes(args=[first.with_changes(value=wrapped), *updated_node.args[1:]])
        safe = self.facts.versions.may_install("sqlalchemy", ">=2.0")
        self.finding(
            original_node, new,
            problem="a SQL string is passed where SQLAlchemy 2.0 wants `text(...)`",
            root_cause="SQLAlchemy 2.0 no longer coerces plain strings to SQL",
            explanation="It fails with `sqlalchemy.exc.ArgumentError: Textual SQL expression ... should be explicitly declared as text(...)`.",
            defects=self.DEFECTS, severity=Severity.HIGH, safe=safe,
        )
        return new
