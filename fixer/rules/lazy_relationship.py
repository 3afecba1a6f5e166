"""FX018 lazy-relationship: Report lazy-loaded relationships read from async code.

## What it does
Reports (never edits) a read of a relationship attribute (`todo.owner`, `user.todos`) that loads lazily (the
default `Relationship()` / `relationship()`) inside an async function that uses an AsyncSession and loads no
relationship eagerly (`selectinload`, `joinedload`, ...). The model finds the relationships in the project's
model classes.

## Why is this bad?
A lazy load is sync I/O: on an AsyncSession it fails with `sqlalchemy.exc.MissingGreenlet: greenlet_spawn has
not been called; can't call await_() here.` at the request, and only when the related row exists (ENG-LAZY).

## Example
```python
async def owner_email(session: AsyncSession, todo_id: int) -> str:
    todo = await session.get(Todo, todo_id)
    return todo.owner.email
```

## Use instead
```python
async def owner_email(session: AsyncSession, todo_id: int) -> str:
    todo = (await session.exec(select(Todo).where(Todo.id == todo_id).options(selectinload(Todo.owner)))).one()
    return todo.owner.email
```
(or `Relationship(sa_relationship_kwargs={"lazy": "selectin"})` on the model).

## Fix safety
Report only: which load strategy fits (per query or on the model, `selectin` or `joined`) is a design choice a
person makes. The name may be another object's attribute: each report says where to look.
"""

from __future__ import annotations

import libcst as cst

from fixer.rules.findings import Severity
from fixer.model.uses import FunctionPlan
from fixer.rules.async_use import UseCodemod, dotted


class LazyRelationship(UseCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX018"
    RULE_NAME = "lazy-relationship"
    DEFECTS = ("ENG-LAZY",)

    def relevant(self, plan: FunctionPlan) -> bool:
        return bool(plan.lazy_reads)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        plan = self.here
        name = dotted(node)
        reported = self.__dict__.setdefault("_reported", set())
        if plan is None or name not in plan.lazy_reads or (id(plan), name) in reported:
            return
        reported.add((id(plan), name))
        self.finding(
            node, node,
            problem=f"`{name}` may be a lazy-loaded relationship read in async code",
            root_cause="a lazy load runs sync I/O, which an AsyncSession cannot do",
            explanation=(
                "It fails with `sqlalchemy.exc.MissingGreenlet` when the related row exists: load it eagerly "
                "(`.options(selectinload(Model.rel))` on the query) or declare the relationship "
                "`sa_relationship_kwargs={\"lazy\": \"selectin\"}`."
            ),
            defects=self.DEFECTS, severity=Severity.MEDIUM, fixed=False,
        )
