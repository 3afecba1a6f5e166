"""What the use-layer rules (FX010-FX017) share: each applies its part of the model's conversion plan
(`fixer.model.uses`) to the functions of one file, found by their qualified names."""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.codemod import SkipFile

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.model.uses import FunctionPlan
from fixer.rules.base import FixerCodemod
from fixer.rules.tree_walk import dotted

SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.session"
SQLALCHEMY_ASYNCIO = "sqlalchemy.ext.asyncio"


def awaited(call: cst.BaseExpression) -> cst.Await:
    return cst.Await(expression=call)


def in_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class UseCodemod(FixerCodemod):
    """A codemod over the functions the plan names in this file; files the plan leaves alone are skipped."""

    # The model's plan says which files these rules edit (`planned`): no text check picks a file for them.
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\x00fixer: the use-layer plan decides\x00")

    @classmethod
    def planned(cls, model: ProjectModel, path: str) -> bool:
        return bool(model.uses.functions.get(path))

    def relevant(self, plan: FunctionPlan) -> bool:
        """Whether this rule has anything to do in a function with this plan (the others are not walked)."""
        return True

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.plans = self.facts.uses.functions.get(self.context.filename or "", {})
        # Top-level names (functions, classes) holding a function this rule has work in.
        self.wanted = {qualname.split(".")[0] for qualname, plan in self.plans.items() if self.relevant(plan)}
        if not self.wanted:
            raise SkipFile("nothing planned for this rule")
        self.scope: list[str] = []
        self.functions: list[FunctionPlan | None] = []
        return super().transform_module_impl(tree)

    def enters(self, statement: cst.BaseStatement) -> bool:
        return isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value in self.wanted

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.scope.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # A closure is planned as `outer.inner` (the model reads nested functions as functions of their own).
        self.functions.append(self.plans.get(".".join([*self.scope, node.name.value])))
        self.scope.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.scope.pop()
        plan = self.functions.pop()
        return self.function_left(plan, original_node, updated_node) if plan is not None else updated_node

    def function_left(self, plan: FunctionPlan, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return updated

    # Decorators run where the function is defined, and a lambda's body is its own: neither is the plan's.
    def visit_Decorator(self, node: cst.Decorator) -> None:
        self.functions.append(None)

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        self.functions.pop()
        return updated_node

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.functions.append(None)

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.BaseExpression:
        self.functions.pop()
        return updated_node

    @property
    def here(self) -> FunctionPlan | None:
        return self.functions[-1] if self.functions else None

    def finding(self, old: cst.CSTNode, new: cst.CSTNode, problem: str, root_cause: str, explanation: str,
                defects: tuple[str, ...], severity: Severity = Severity.CRITICAL, fixed: bool = True,
                safe: bool = True, note: bool = False) -> None:
        versions = self.facts.versions
        judged = ", ".join(f"{d} {versions.version(d) or 'newest'}" for d in ("sqlalchemy", "sqlmodel"))
        evidence = (
            "`--to-async` asked for the move to SQLAlchemy's asyncio layer"
            if self.facts.to_async
            else "the project already uses an async engine, AsyncSession or asyncpg (half moved to asyncio)"
        )
        self.report(Finding(
            rule=self.RULE_ID, category=Category.DATABASE, severity=severity, problem=problem,
            root_cause=root_cause, old_code=self.code(old), new_code=self.code(new) if fixed else "",
            explanation=explanation, fixed=fixed and (safe or self.facts.unsafe_fixes), defects=defects,
            safe=safe, evidence=f"{evidence}; judged against {judged}", note=note,
        ))


class AwaitingCodemod(UseCodemod):
    """Adds `await` to the calls `wants(callee)` picks inside the planned functions, parenthesised where the
    result is used further (`(await session.exec(q)).all()`), and moves a misplaced `await x.exec(q).all()`
    onto the call that returns the coroutine."""

    def wants(self, plan: FunctionPlan, callee: str) -> bool:
        raise NotImplementedError

    def describe(self, plan: FunctionPlan, callee: str, old: cst.Call, new: cst.BaseExpression) -> None:
        raise NotImplementedError

    def _target(self, call: cst.BaseExpression) -> str | None:
        plan = self.here
        if plan is None or not (plan.is_async or plan.becomes_async) or plan.blocked or not isinstance(call, cst.Call):
            return None
        callee = dotted(call.func)
        return callee if callee is not None and self.wants(plan, callee) else None

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited = getattr(self, "_awaited", set())
        self._awaited.add(id(node.expression))

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        # `await session.exec(q).all()`: the await belongs to the inner call, `.all()` is a plain method.
        inner = updated_node.expression
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute):
            base = inner.func.value
            if isinstance(base, cst.Await) and base.lpar:  # the inner call was just awaited by leave_Call
                return inner.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        callee = self._target(original_node)
        if callee is None or id(original_node) in getattr(self, "_awaited", set()):
            return updated_node
        new: cst.BaseExpression = awaited(updated_node)
        self.describe(self.here, callee, original_node, new)  # type: ignore[arg-type]
        return new

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if isinstance(updated_node.value, cst.Await) and not updated_node.value.lpar:
            return updated_node.with_changes(value=in_parens(updated_node.value))
        return updated_node

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if isinstance(updated_node.value, cst.Await) and not updated_node.value.lpar:
            return updated_node.with_changes(value=in_parens(updated_node.value))
        return updated_node


def header(function: cst.FunctionDef) -> cst.FunctionDef:
    """A function's `def` line alone, for a finding's code (its body may be long)."""
    return function.with_changes(body=cst.IndentedBlock(body=[]), leading_lines=(), decorators=())


class SessionClassCodemod(UseCodemod):
    """Names the async session class: sqlmodel's AsyncSession when the project calls `.exec`, SQLAlchemy's
    otherwise; imports it and lets a `Session` import go once nothing uses it."""

    def async_session_name(self) -> str:
        from libcst.codemod.visitors import AddImportsVisitor

        module = SQLMODEL_ASYNC_SESSION if self.facts.sqlmodel_exec else SQLALCHEMY_ASYNCIO
        AddImportsVisitor.add_needed_import(self.context, module, "AsyncSession")
        return "AsyncSession"

    def drop_sync_session_import(self) -> None:
        from libcst.codemod.visitors import RemoveImportsVisitor

        for module in ("sqlmodel", "sqlalchemy.orm"):
            RemoveImportsVisitor.remove_unused_import(self.context, module, "Session")


class OpeningCodemod(SessionClassCodemod):
    """`with Session(engine) as s` on an async engine -> `async with <the project's factory>() as s`, or
    `async with AsyncSession(engine, expire_on_commit=False) as s`."""

    PROVIDERS: ClassVar[bool]  # FX011 handles the generator dependencies, FX012 every other function

    def opener(self, call: cst.Call) -> cst.Call:
        from libcst.codemod.visitors import AddImportsVisitor

        uses = self.facts.uses
        if uses.factory:
            local = uses.factory_paths.get(self.context.filename or "")
            if local is None:
                module, _, local = uses.factory.rpartition(".")
                AddImportsVisitor.add_needed_import(self.context, module, local)
            return cst.Call(func=cst.Name(local))
        name = self.async_session_name()
        args = [a for a in call.args if a.keyword is None or a.keyword.value != "expire_on_commit"]
        expire = cst.Arg(keyword=cst.Name("expire_on_commit"), value=cst.Name("False"),
                         equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return call.with_changes(func=cst.Name(name), args=[*args, expire])

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.BaseStatement:
        plan = self.here
        if plan is None or plan.provider != self.PROVIDERS or not plan.sync_opens or plan.blocked:
            return updated_node
        items = []
        changed = False
        for item in updated_node.items:
            call = item.item
            if isinstance(call, cst.Call) and dotted(call.func) in plan.sync_opens:
                item = item.with_changes(item=self.opener(call))
                changed = True
            items.append(item)
        if not changed:
            return updated_node
        new = updated_node.with_changes(items=items, asynchronous=cst.Asynchronous())
        self.drop_sync_session_import()
        shown = new.with_changes(body=cst.IndentedBlock(body=[cst.SimpleStatementLine([cst.Expr(cst.Ellipsis())])]))
        self.opened(original_node.with_changes(body=shown.body), shown)
        return new

    def opened(self, old: cst.With, new: cst.With) -> None:
        raise NotImplementedError
