"""FX015 session-annotations: Annotate AsyncSessions as AsyncSession.

## What it does
A parameter annotated `Session` (sqlmodel's or `sqlalchemy.orm`'s; also inside `Optional[...]`, `Session | None`
or `Annotated[...]`) that the model shows receives an
AsyncSession (from `Depends(get_session)` over an async engine, or from every caller in the project) is
annotated `AsyncSession`: sqlmodel's (`sqlmodel.ext.asyncio.session`) when the project calls `.exec`,
SQLAlchemy's otherwise. The `Session` import goes once nothing uses it.

## Why is this bad?
The annotation lies: readers and type checkers take the session for a sync one (the calls FX010 awaits look
wrong), and a project that calls `.exec` on SQLAlchemy's AsyncSession fails with `AttributeError:
'AsyncSession' object has no attribute 'exec'` (ENG-SA-ASYNCSESSION).

## Example
```python
async def signup(data: Credentials, session: Session = Depends(get_session)): ...
```

## Use instead
```python
async def signup(data: Credentials, session: AsyncSession = Depends(get_session)): ...
```

## Fix safety
Safe: annotations do not change what runs (FastAPI reads the `Depends`, not the class, for a dependency). Only
parameters the model follows to an async session are changed.
"""

from __future__ import annotations

import libcst as cst

from fixer.model.uses import FunctionPlan
from fixer.rules.findings import Severity
from fixer.rules.async_use import SessionClassCodemod, dotted


class SessionAnnotations(SessionClassCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX015"
    RULE_NAME = "session-annotations"
    DEFECTS = ("ENG-SA-ASYNCSESSION",)

    def relevant(self, plan: FunctionPlan) -> bool:
        return bool(plan.async_sessions)

    def leave_Param(self, original_node: cst.Param, updated_node: cst.Param) -> cst.Param:
        plan = self.here
        annotation = updated_node.annotation
        if plan is None or annotation is None or updated_node.name.value not in plan.async_sessions:
            return updated_node
        if not _names_session(annotation.annotation):
            return updated_node
        safe = self._converted_here()
        if not safe and not self.facts.unsafe_fixes:
            self.finding(original_node, original_node, problem=f"`{updated_node.name.value}` is annotated `Session` but holds an AsyncSession",
                         root_cause="the session comes from an async engine or factory",
                         explanation="Annotate it as `AsyncSession` (`--unsafe-fixes` does): nothing fails today.",
                         defects=("ENG-SA-ASYNCSESSION",), severity=Severity.LOW, safe=False)
            return updated_node
        renamed = annotation.annotation.visit(_Renamed(self.async_session_name()))
        new = updated_node.with_changes(annotation=annotation.with_changes(annotation=renamed))
        self.drop_sync_session_import()
        self.finding(
            original_node, new,
            problem=f"`{updated_node.name.value}` is annotated `Session` but holds an AsyncSession",
            root_cause="the session comes from an async engine or factory",
            explanation="Annotate it as what it is.",
            defects=("ENG-SA-ASYNCSESSION",), severity=Severity.LOW, safe=safe,
        )
        return new

    def _converted_here(self) -> bool:
        """The function (or, for a method, its class) is converted in this run: its annotations go with it.
        Alone, an annotation fails nothing, and a correct project gets no diff."""
        owner = f"{self.scope[0]}." if len(self.scope) == 2 else None  # Class.method
        candidates = [self.here] if owner is None else [p for q, p in self.plans.items() if q.startswith(owner)]
        return any(
            p is not None and not p.blocked and (p.becomes_async or p.awaits or p.unawaits or p.sync_opens or p.provider
                                                 or p.ddl_engines or p.legacy_queries or p.raw_sql)
            for p in candidates
        )


_SYNC_SESSION = ("Session", "orm.Session", "sqlmodel.Session")


def _names_session(annotation: cst.BaseExpression) -> bool:
    """`Session`, or `Session` inside `Optional[...]`, `Session | None`, `Annotated[Session, ...]`."""
    found: list[bool] = []

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.append(node.value == "Session")

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            found.append(dotted(node) in _SYNC_SESSION)
            return False

    annotation.visit(Finder())
    return any(found)


class _Renamed(cst.CSTTransformer):
    """Each `Session` of an annotation becomes the async class; `Optional`, `|` and `Annotated` stay."""

    def __init__(self, name: str) -> None:
        self.name = name

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return cst.Name(self.name) if original_node.value == "Session" else updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return cst.Name(self.name) if dotted(original_node) in _SYNC_SESSION else updated_node
