"""FX044 lifespan-never-passed: A lifespan that creates the tables is never passed to `FastAPI(...)`

## What it does
Passes the module's lifespan (an `@asynccontextmanager` function nothing names) to the module's one
`FastAPI(...)` call without a `lifespan=`, when it is what would create the tables and nothing else does.

## Why is this bad?
FastAPI runs only the lifespan it is given: this one never runs, so the tables it creates never exist.
The first request that touches one fails with `relation "..." does not exist` (APP-LIFESPAN-UNUSED).

## Example
```python
@asynccontextmanager
async def lifespan(app: FastAPI):
    create_db_and_tables()
    yield

app = FastAPI(title="Notes")
```

## Use instead
```python
app = FastAPI(title="Notes", lifespan=lifespan)
```

## Fix safety
Safe: fixer's walk of the start finds no startup code reaching `create_all`, no migrations and no SQL
script, and the lifespan reaches it; the app has no `@app.on_event` hook a lifespan would switch off (FastAPI
runs one or the other). A lifespan that drops the tables before creating them (`drop_all`, `DROP TABLE` SQL,
itself or through a function it calls) is never passed: it would empty every table at each restart (FX045
reports it). Everything else is left alone.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.rules.base import FixerCodemod

__all__ = ["LifespanNeverPassed", "may_have_lifespan", "with_lifespan"]


class LifespanNeverPassed(FixerCodemod):
    __doc__ = __doc__


    RULE_ID: ClassVar[str] = "FX044"
    RULE_NAME: ClassVar[str] = "lifespan-never-passed"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-LIFESPAN-UNUSED",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"asynccontextmanager")

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        never = model.startup.tables_never_created
        return never is not None and never.kind == "lifespan" and not never.drops and never.path == path

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        never = self.facts.startup.tables_never_created
        if never is None or never.drops:  # it would empty the tables at each start: FX045 reports it
            return tree
        self.name = never.name
        self.done = False
        return tree.visit(self)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        called = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else ""
        if self.done or called != "FastAPI" or may_have_lifespan(updated_node):
            return updated_node
        self.done = True
        result = with_lifespan(updated_node, self.name)
        never = self.facts.startup.tables_never_created
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.ENTRYPOINT,
            severity=Severity.HIGH,
            problem=f"The lifespan `{self.name}` creates the tables but is never passed to `FastAPI(...)`",
            root_cause=f"FastAPI runs only the lifespan it is given, so the tables of {', '.join(never.models)} are "
                       "never created: the first request that touches one fails with `relation \"...\" does not exist`.",
            old_code=self.code(original_node),
            new_code=self.code(result),
            explanation=f"`FastAPI(...)` now runs `{self.name}` at startup.",
            defects=self.DEFECTS,
            evidence="fixer's walk of the start: no startup code reaches create_all, no migrations or SQL script; "
                     f"`{self.name}` reaches it",
        ))
        return result


def may_have_lifespan(call: cst.Call) -> bool:
    """`FastAPI(lifespan=...)` or `FastAPI(**options)`, which may hold one."""
    return any(a.keyword is None and a.star or a.keyword is not None and a.keyword.value == "lifespan"
               for a in call.args)


def with_lifespan(call: cst.Call, name: str) -> cst.Call:
    """`call` with `lifespan=name` appended, laid out as its arguments are (one a line, or on one line)."""
    new = cst.Arg(keyword=cst.Name("lifespan"), value=cst.Name(name),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    args = list(call.args)
    if args:
        last = args[-1]
        between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
            between = cst.Comma(whitespace_after=call.whitespace_before_args)  # one argument a line
        elif len(args) > 1 and isinstance(args[-2].comma, cst.Comma):
            between = args[-2].comma
        new = new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(comma=between, whitespace_after_arg=cst.SimpleWhitespace(""))
    args.append(new)
    return call.with_changes(args=args)
