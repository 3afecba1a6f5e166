"""FX017 legacy-query: Rewrite `session.query(...)` on an AsyncSession to the 2.0 `select()` form.

## What it does
On a session the model shows is an `AsyncSession`, a legacy query chain whose steps have a `select()`
equivalent (`filter`, `filter_by`, `where`, `order_by`, `limit`, `offset`, `join`, `outerjoin`, `options`,
`group_by`, `distinct`) and that ends in `.all()`, `.first()`, `.one()`, `.one_or_none()` or `.scalar()`
becomes `(await session.exec(select(M)...)).first()` (sqlmodel's `exec`, when the project uses it) or
`(await session.execute(select(M)...)).scalars().first()`; `session.query(M).get(id)` becomes
`await session.get(M, id)`. Any other form (`.count()`, `.delete()`, `.update()`, a query kept in a variable)
is reported for a person.

## Why is this bad?
`AsyncSession` has no `query`: `AttributeError: 'AsyncSession' object has no attribute 'query'` at the request.

## Example
```python
async def by_email(session: AsyncSession, email: str):
    return session.query(User).filter(User.email == email).first()
```

## Use instead
```python
async def by_email(session: AsyncSession, email: str):
    return (await session.exec(select(User).filter(User.email == email))).first()
```

## Fix safety
Safe: `select()` with these steps exists on every SQLAlchemy version that has AsyncSession (1.4+), and the
legacy form cannot work on an AsyncSession. Forms without a mechanical translation are only reported.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from fixer.model.uses import FunctionPlan
from fixer.rules.findings import Severity
from fixer.rules.async_use import UseCodemod, dotted, in_parens

_STEPS = frozenset({"filter", "filter_by", "where", "order_by", "limit", "offset", "join", "outerjoin", "options",
                    "group_by", "distinct"})
_ENDS = frozenset({"all", "first", "one", "one_or_none", "scalar"})


def _chain(call: cst.Call, sessions: tuple[str, ...]) -> tuple[str, cst.Call, list[cst.Call]] | None:
    """(session, the `.query(...)` call, the step calls in order) of `session.query(M).step(...)...`, or None."""
    steps: list[cst.Call] = []
    node: cst.BaseExpression = call
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value == "query" and dotted(node.func.value) in sessions:
            return dotted(node.func.value), node, list(reversed(steps))  # type: ignore[return-value]
        steps.append(node)
        node = node.func.value
    return None


class LegacyQuery(UseCodemod):
    __doc__ = __doc__  # the module's: `fixer rule ID` shows it
    RULE_ID = "FX017"
    RULE_NAME = "legacy-query"
    DEFECTS = ("ENG-LEGACY-QUERY",)

    def relevant(self, plan: FunctionPlan) -> bool:
        return bool(plan.legacy_queries)

    def visit_Call(self, node: cst.Call) -> bool | None:
        self._inner = getattr(self, "_inner", set())
        plan = self.here
        if plan is None or not plan.legacy_queries or id(node) in self._inner:
            return None
        found = _chain(node, plan.legacy_queries)
        if found is not None:  # the inner calls of a chain are this chain's, not chains of their own
            for step in found[2][:-1] if found[2] else ():
                self._inner.add(id(step))
            self._inner.add(id(found[1]))
        return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        plan = self.here
        if plan is None or not plan.legacy_queries or id(original_node) in getattr(self, "_inner", set()):
            return updated_node
        found = _chain(updated_node, plan.legacy_queries)
        if found is None:
            return updated_node
        session, query, steps = found
        end = steps[-1].func.attr.value if steps else None  # type: ignore[union-attr]
        middle = steps[:-1]
        new = self._rewrite(session, query, middle, end, steps[-1] if steps else None)
        if new is None:
            self.finding(
                original_node, original_node,
                problem=f"`{session}.query(...)` on an AsyncSession has no mechanical `select()` translation here",
                root_cause="AsyncSession has no `query`",
                explanation="It fails with `AttributeError: 'AsyncSession' object has no attribute 'query'`; rewrite it "
                            "with `select()` and `await session.execute(...)` (or `exec`).",
                defects=self.DEFECTS, severity=Severity.HIGH, fixed=False,
            )
            return updated_node
        self.finding(
            original_node, new,
            problem=f"`{session}.query(...)` is called on an AsyncSession",
            root_cause="AsyncSession has no `query`: the 2.0 form is `select()` run by `execute`/`exec`",
            explanation="It fails with `AttributeError: 'AsyncSession' object has no attribute 'query'`.",
            defects=self.DEFECTS,
        )
        return new

    def _rewrite(self, session: str, query: cst.Call, middle: list[cst.Call], end: str | None,
                 last: cst.Call | None) -> cst.BaseExpression | None:
        if not query.args or any(a.keyword is not None or a.star for a in query.args):
            return None
        if any(step.func.attr.value not in _STEPS for step in middle):  # type: ignore[union-attr]
            return None
        base = cst.parse_expression(session)
        if end == "get" and not middle and len(query.args) == 1 and last is not None and len(last.args) == 1:
            return cst.Await(expression=cst.Call(
                func=cst.Attribute(value=base, attr=cst.Name("get")),
                args=[query.args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                      last.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)],
            ))
        if end not in _ENDS or last is None or last.args:
            return None
        statement: cst.BaseExpression = cst.Call(func=cst.Name(self._select()), args=query.args)
        for step in middle:
            statement = step.with_changes(func=step.func.with_changes(value=statement))  # type: ignore[union-attr]
        single = len(query.args) == 1
        use_exec = self.facts.sqlmodel_exec
        method = "exec" if use_exec else "execute"
        result: cst.BaseExpression = in_parens(cst.Await(expression=cst.Call(
            func=cst.Attribute(value=base, attr=cst.Name(method)), args=[cst.Arg(statement)]
        )))
        if single and not use_exec and end != "scalar":
            result = cst.Call(func=cst.Attribute(value=result, attr=cst.Name("scalars")))
        if use_exec and end == "scalar":
            end = "first"
        return cst.Call(func=cst.Attribute(value=result, attr=cst.Name(end)))

    def _select(self) -> str:
        module = self.context.module
        bound = module is not None and any(
            isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar)
            and any((a.asname.name.value if a.asname else dotted(a.name)) == "select" for a in small.names)  # type: ignore[union-attr]
            for statement in module.body if isinstance(statement, cst.SimpleStatementLine) for small in statement.body
        )
        if not bound:
            AddImportsVisitor.add_needed_import(self.context, "sqlmodel" if self.facts.sqlmodel_exec else "sqlalchemy", "select")
        return "select"
