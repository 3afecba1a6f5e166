"""FX046 table-creator-uncalled: A function that creates the tables, and nothing calls it

## What it does
Writes a lifespan in the module that builds `app = FastAPI(...)` that calls the project's table-creation
function (awaited when it is `async def`), and passes it as `FastAPI(lifespan=lifespan)`, when that function
is what would create the tables and nothing runs it. Where the app module has a startup function of its own
(the lifespan it passes to `FastAPI(lifespan=...)`, or its one `@app.on_event("startup")` hook), the call
becomes that function's first statement instead.

## Why is this bad?
Nothing creates the tables: the app starts and answers `/docs`, then the first request that touches a table
fails with `ProgrammingError: relation "..." does not exist` (APP-LIFESPAN-UNUSED).

## Example
```python
# app/database.py
async def init_db() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)

# app/main.py
app = FastAPI(title="Todo API")
```

## Use instead
```python
from contextlib import asynccontextmanager

from app.database import init_db


@asynccontextmanager
async def lifespan(app: FastAPI):
    await init_db()
    yield


app = FastAPI(title="Todo API", lifespan=lifespan)
```

## Fix safety
Safe: fixer's walk of the start finds no startup code reaching `create_all`, no migrations, no SQL script and
no documented migration step, and the function, which takes no argument, is nothing's to call: not a
script's `__main__`, not a command. It lives in a module the start already imports, under the one name the
start gives it (no second import root); the app module has no lifespan, no `on_startup`/`@app.on_event` hook
a lifespan would switch off, and no other `lifespan`. An existing startup function takes the call only when
it is the app module's own: the lifespan defined there and passed to its one `FastAPI(...)`, with one
`yield` at its top level, or its only `on_event("startup")` hook (an `async def` when the call is awaited) with
no lifespan beside it; the call goes first, so whatever the function does with the tables finds them.
A function that drops the tables before creating them (`drop_all`, `op.drop_table`, `DROP TABLE` SQL, itself
or through a function it calls) is never called: it would empty every table at each restart.
Otherwise FX045 reports it.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from fixer.model import ProjectModel
from fixer.model.tables import NeverCreated
from fixer.rules.base import FixerCodemod
from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.lifespan_never_passed import may_have_lifespan, with_lifespan

__all__ = ["TableCreatorUncalled"]


def _fastapi_call(statement: cst.BaseStatement) -> cst.Call | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], cst.Assign) and isinstance(statement.body[0].value, cst.Call):
        func = statement.body[0].value.func
        if (func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else "") \
                == "FastAPI":
            return statement.body[0].value
    return None


class TableCreatorUncalled(FixerCodemod):
    __doc__ = __doc__

    RULE_ID: ClassVar[str] = "FX046"
    RULE_NAME: ClassVar[str] = "table-creator-uncalled"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-LIFESPAN-UNUSED",)
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"FastAPI")

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        never = model.startup.tables_never_created
        return never is not None and never.kind == "uncalled" and bool(never.module) and never.app_path == path

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        never = self.facts.startup.tables_never_created
        if never is None or not never.module:
            return tree
        if never.hook:
            return self._in_hook(tree, never)
        body = list(tree.body)
        at = [i for i, s in enumerate(body) if _fastapi_call(s) is not None]
        if len(at) != 1 or may_have_lifespan(_fastapi_call(body[at[0]])):
            return tree
        i = at[0]
        call = _fastapi_call(body[i])
        func = call.func
        annotation = ": FastAPI" if isinstance(func, cst.Name) else f": {self.code(func)}"
        run = f"await {never.name}()" if never.awaited else f"{never.name}()"
        blank = cst.EmptyLine()
        function = cst.parse_statement(
            f"@asynccontextmanager\nasync def lifespan(app{annotation}):\n    {run}\n    yield\n"
        ).with_changes(leading_lines=[blank, blank])
        assign = body[i].body[0]
        before = self.code(body[i]).strip()
        comments = [line for line in body[i].leading_lines if line.comment is not None]
        app = body[i].with_changes(body=[assign.with_changes(value=with_lifespan(call, "lifespan"))],
                                   leading_lines=[blank, blank, *comments])
        body[i:i + 1] = [function, app]
        AddImportsVisitor.add_needed_import(self.context, "contextlib", "asynccontextmanager")
        if never.path != never.app_path:
            AddImportsVisitor.add_needed_import(self.context, never.module, never.name)
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.DATABASE,
            severity=Severity.HIGH,
            problem=f"`{never.name}()` creates the tables, but nothing calls it",
            root_cause=f"Nothing the start runs creates the tables of {', '.join(never.models)}: the first request "
                       "that touches one fails with `relation \"...\" does not exist`.",
            old_code=before,
            new_code=self.code(function).strip() + "\n\n\n" + self.code(app).strip(),
            explanation=f"A lifespan passed to `FastAPI(...)` now runs `{run}` at startup.",
            defects=self.DEFECTS,
            evidence=f"fixer's walk of the start: no startup code reaches create_all, no migrations, SQL script or "
                     f"documented migration step; only `{never.name}` in {never.path} creates them",
        ))
        return tree.with_changes(body=body)

    def _in_hook(self, tree: cst.Module, never: NeverCreated) -> cst.Module:
        """The creator's call as the first statement (after a docstring) of the app's own lifespan or startup hook."""
        body = list(tree.body)
        at = [i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef) and s.name.value == never.hook]
        if len(at) != 1 or not isinstance(body[at[0]].body, cst.IndentedBlock):
            return tree
        function = body[at[0]]
        run = f"await {never.name}()" if never.awaited else f"{never.name}()"
        statements = list(function.body.body)
        first = 1 if statements and isinstance(statements[0], cst.SimpleStatementLine) \
            and isinstance(statements[0].body[0], cst.Expr) \
            and isinstance(statements[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)) else 0
        statements.insert(first, cst.parse_statement(f"{run}\n"))
        body[at[0]] = function.with_changes(body=function.body.with_changes(body=statements))
        if never.path != never.app_path:
            AddImportsVisitor.add_needed_import(self.context, never.module, never.name)
        kind = "lifespan" if function.decorators and any(
            "asynccontextmanager" in self.code(d.decorator) for d in function.decorators) else "startup hook"
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.DATABASE,
            severity=Severity.HIGH,
            problem=f"`{never.name}()` creates the tables, but nothing calls it",
            root_cause=f"Nothing the start runs creates the tables of {', '.join(never.models)}: the app's {kind} "
                       f"`{never.hook}` runs without them, and the first request that touches one fails with "
                       "`relation \"...\" does not exist`.",
            old_code=self.code(function).strip(),
            new_code=self.code(body[at[0]]).strip(),
            explanation=f"The app's {kind} `{never.hook}` now runs `{run}` first.",
            defects=self.DEFECTS,
            evidence=f"fixer's walk of the start: no startup code reaches create_all, no migrations, SQL script or "
                     f"documented migration step; only `{never.name}` in {never.path} creates them",
        ))
        return tree.with_changes(body=body)
