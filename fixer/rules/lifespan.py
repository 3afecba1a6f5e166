"""FX022 lifespan: Run startup and shutdown hooks from the app's lifespan, and make them call what they name.

## What it does
In the module that builds `app = FastAPI(...)`:

- with `FastAPI(lifespan=...)` and `@app.on_event("startup"/"shutdown")` handlers beside it, the handlers'
  decorators go and the lifespan calls them: startup handlers before its `yield`, shutdown handlers after it
  (APP-LIFESPAN-MIX);
- with only `@app.on_event` handlers, writes an `@asynccontextmanager` lifespan that calls them and passes it
  as `FastAPI(lifespan=lifespan)` (APP-ON-EVENT);
- in a startup/shutdown handler or the lifespan, a function named without being called (`init_db` on a line of
  its own) is called, and a call to an `async def` of the project without `await` (`init_db()`) is awaited; a
  plain `def` handler that must await becomes `async def` (APP-STARTUP-UNAWAITED).

## Why is this bad?
Passing `lifespan=` makes FastAPI ignore every `on_event` handler, silently: the tables are never created and
the first request fails (APP-LIFESPAN-MIX, checked with FastAPI 0.133 and 0.163 on Starlette 1.0). A coroutine
called without `await` never runs: `RuntimeWarning: coroutine 'init_db' was never awaited`, and again nothing is
created (APP-STARTUP-UNAWAITED). `on_event` alone still works on every FastAPI that installs (FastAPI 0.133+
runs it itself on Starlette 1.0, which dropped it) but is deprecated: `DeprecationWarning: on_event is
deprecated, use lifespan event handlers instead.` (APP-ON-EVENT).

## Example
```python
app = FastAPI(lifespan=lifespan)


@app.on_event("startup")
async def on_startup():
    init_db()
```

## Use instead
```python
app = FastAPI(lifespan=lifespan)  # the lifespan now awaits on_startup() before its yield


async def on_startup():
    await init_db()
```

## Fix safety
Safe: merging handlers into an existing lifespan (today they never run), and awaiting or calling a function
the project defines only as `async def` (today it never runs). Unsafe: turning `on_event` into a new lifespan
(it works today, deprecated; not offered where a FastAPI older than 0.93, which has no `lifespan=`, installs),
and calling a named function whose kind fixer does not know. Only reported: a lifespan whose body has no single
`yield` to put the calls around.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.base import FixerCodemod
from fixer.rules.tree_walk import dotted

_EVENTS = ("startup", "shutdown")


@dataclass
class _Handler:
    name: str
    event: str
    is_async: bool


@dataclass
class _Module:
    """What the module holds: its apps (name -> the lifespan passed, or None), handlers, own functions."""

    apps: dict[str, str | None] = field(default_factory=dict)
    app_func: str = "FastAPI"
    handlers: list[_Handler] = field(default_factory=list)
    async_defs: set[str] = field(default_factory=set)
    sync_defs: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # every name bound at module level


def _on_event(decorator: cst.Decorator, apps: dict[str, str | None]) -> str | None:
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute) or call.func.attr.value != "on_event":
        return None
    if dotted(call.func.value) not in apps or not call.args or not isinstance(call.args[0].value, cst.SimpleString):
        return None
    event = call.args[0].value.evaluated_value
    return event if event in _EVENTS else None


def _scan(tree: cst.Module) -> _Module:
    found = _Module()
    for statement in tree.body:
        if isinstance(statement, cst.FunctionDef):
            found.names.add(statement.name.value)
            (found.async_defs if statement.asynchronous else found.sync_defs).add(statement.name.value)
        elif isinstance(statement, cst.ClassDef):
            found.names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
                    func = dotted(small.value.func)
                    if func in ("FastAPI", "fastapi.FastAPI"):
                        lifespan = next((a.value for a in small.value.args if a.keyword and a.keyword.value == "lifespan"), None)
                        for target in small.targets:
                            if isinstance(target.target, cst.Name):
                                found.apps[target.target.value] = dotted(lifespan) if lifespan is not None else None
                                found.app_func = func
                for target in small.targets if isinstance(small, cst.Assign) else ():
                    if isinstance(target.target, cst.Name):
                        found.names.add(target.target.value)
                if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        found.names.add(dotted(alias.asname.name if alias.asname else alias.name) or "")
    for statement in tree.body:
        if isinstance(statement, cst.FunctionDef):
            for decorator in statement.decorators:
                event = _on_event(decorator, found.apps)
                if event is not None:
                    found.handlers.append(_Handler(statement.name.value, event, statement.asynchronous is not None))
    return found


class _Awaits(cst.CSTTransformer):
    """Inside one hook's body: call what is only named, await what is async. Nested functions are not entered."""

    def __init__(self, kind: dict[str, bool | None], in_async: bool) -> None:
        self.kind = kind  # name -> True async, False sync, None unknown
        self.in_async = in_async
        self.fixes: list[tuple[str, str, bool]] = []  # (old, new, safe)
        self.needs_async = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def leave_Expr(self, original_node: cst.Expr, updated_node: cst.Expr) -> cst.Expr:
        value = updated_node.value
        if isinstance(value, cst.Name) and value.value in self.kind:
            kind = self.kind[value.value]
            call: cst.BaseExpression = cst.Call(func=value)
            if kind:
                call = cst.Await(expression=call)
                self.needs_async = True
            self.fixes.append((value.value, cst.Module([]).code_for_node(call), kind is not None))
            return updated_node.with_changes(value=call) if kind is not None else updated_node
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and self.kind.get(value.func.value):
            awaited = cst.Await(expression=value)
            self.needs_async = True
            code = cst.Module([]).code_for_node
            self.fixes.append((code(value), code(awaited), True))
            return updated_node.with_changes(value=awaited)
        return updated_node


class Lifespan(FixerCodemod):
    """Run startup and shutdown hooks from the app's lifespan, and make them call what they name."""

    RULE_ID: ClassVar[str] = "FX022"
    RULE_NAME: ClassVar[str] = "lifespan"
    DEFECTS: ClassVar[tuple[str, ...]] = ("APP-LIFESPAN-MIX", "APP-ON-EVENT", "APP-STARTUP-UNAWAITED")
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\.on_event\(|\blifespan\b")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.scanned = _scan(tree)
        if not self.scanned.apps:
            return tree
        self.kind: dict[str, bool | None] = {}
        for name in self.scanned.names:
            if name in self.scanned.async_defs or (name in self.facts.async_functions and name not in self.scanned.sync_defs):
                self.kind[name] = True
            elif name in self.scanned.sync_defs or (name in self.facts.sync_functions and name not in self.scanned.async_defs):
                self.kind[name] = False
            else:
                self.kind[name] = None
        lifespans = {ls for ls in self.scanned.apps.values() if ls}
        self.lifespan = next(iter(lifespans)) if len(lifespans) == 1 else None
        self.merge = bool(self.scanned.handlers) and self.lifespan is not None and self.lifespan in self.scanned.async_defs
        # FastAPI(lifespan=...) exists since FastAPI 0.93.0 (checked in the wheels of 0.92.0 and 0.93.0).
        self.create = (
            bool(self.scanned.handlers)
            and not lifespans
            and "lifespan" not in self.scanned.names
            and self.facts.versions.supports("fastapi", ">=0.93")
        )
        self.write_create = self.facts.unsafe_fixes
        hooks = {h.name for h in self.scanned.handlers}
        self.hooks = hooks | ({self.lifespan} if self.lifespan else set())
        # A plain `def` handler that must await becomes async: the lifespan then awaits it, wherever it stands.
        for statement in tree.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value in hooks:
                awaits = _Awaits(self.kind, statement.asynchronous is not None)
                statement.body.visit(awaits)
                if awaits.needs_async:
                    for handler in self.scanned.handlers:
                        handler.is_async = handler.is_async or handler.name == statement.name.value
        return tree.visit(self)

    # -- hooks: what they call ----------------------------------------------------------------------

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if original_node.name.value not in self.hooks:
            return updated_node
        awaits = _Awaits(self.kind, updated_node.asynchronous is not None)
        body = updated_node.body.visit(awaits)
        node = updated_node.with_changes(body=body)
        for old, new, safe in awaits.fixes:
            self._report(
                old, new,
                f"`{old}` in the {'lifespan' if original_node.name.value == self.lifespan else 'startup hook'} "
                + ("names a function without calling it" if "(" not in old else "calls a coroutine function without await"),
                "A coroutine that is not awaited never runs: `RuntimeWarning: coroutine was never awaited`; a name alone "
                "runs nothing. Whatever it should set up (tables, connections) is missing at the first request.",
                f"Now `{new}`." if safe else "Left as it is: fixer does not know whether it is a coroutine function; call it, with `await` if it is `async def`.",
                ("APP-STARTUP-UNAWAITED",), safe, fixed=safe,
            )
        if awaits.needs_async and node.asynchronous is None:
            node = node.with_changes(asynchronous=cst.Asynchronous())
        if original_node.name.value in {h.name for h in self.scanned.handlers} and (self.merge or (self.create and self.write_create)):
            node = node.with_changes(decorators=[d for d in node.decorators if _on_event(d, self.scanned.apps) is None])
        if self.merge and original_node.name.value == self.lifespan:
            node = self._merge_into(node)
        return node

    # -- the lifespan -------------------------------------------------------------------------------

    def _calls(self, event: str) -> list[cst.SimpleStatementLine]:
        out = []
        for handler in self.scanned.handlers:
            if handler.event == event:
                call: cst.BaseExpression = cst.Call(func=cst.Name(handler.name))
                if handler.is_async:
                    call = cst.Await(expression=call)
                out.append(cst.SimpleStatementLine(body=[cst.Expr(call)]))
        return out

    def _merge_into(self, lifespan: cst.FunctionDef) -> cst.FunctionDef:
        new_body = _around_yield(lifespan.body, self._calls("startup"), self._calls("shutdown"))
        names = ", ".join(h.name for h in self.scanned.handlers)
        if new_body is None:
            self._report(
                f"@app.on_event(...) {names}", "",
                "`on_event` handlers beside `FastAPI(lifespan=...)` never run",
                "FastAPI runs either the lifespan or the on_event handlers, never both: passing `lifespan=` silently "
                "drops every `@app.on_event` handler.",
                f"The lifespan `{self.lifespan}` has no single `yield` in its body to put the calls around: call {names} from it by hand.",
                ("APP-LIFESPAN-MIX",), True, fixed=False,
            )
            return lifespan
        self._report(
            self.code(lifespan).strip(), self.code(lifespan.with_changes(body=new_body)).strip(),
            f"`on_event` handlers ({names}) beside `FastAPI(lifespan={self.lifespan})` never run",
            "FastAPI runs either the lifespan or the on_event handlers, never both: passing `lifespan=` silently "
            "drops every `@app.on_event` handler (checked with FastAPI 0.133 and 0.163).",
            f"The lifespan `{self.lifespan}` now calls {names} (startup before its yield, shutdown after it); their "
            "`@app.on_event` decorators are gone.",
            ("APP-LIFESPAN-MIX",), True,
        )
        return lifespan.with_changes(body=new_body)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        lifespans = {ls for ls in self.scanned.apps.values() if ls}
        if self.scanned.handlers and lifespans and not self.merge:
            names = ", ".join(h.name for h in self.scanned.handlers)
            self._report(
                f"@app.on_event(...) {names}", "",
                f"`on_event` handlers ({names}) beside `FastAPI(lifespan={', '.join(sorted(lifespans))})` never run",
                "FastAPI runs either the lifespan or the on_event handlers, never both: passing `lifespan=` silently "
                "drops every `@app.on_event` handler.",
                "The lifespan is not an `async def` of this module: call the handlers from it by hand (startup before "
                "its yield, shutdown after it) and drop their decorators.",
                ("APP-LIFESPAN-MIX",), True, fixed=False,
            )
        if not self.create:
            return updated_node
        body = list(updated_node.body)
        at = next(i for i, s in enumerate(body) if _assigns_app(s, self.scanned.apps))
        annotation = "" if self.scanned.app_func != "FastAPI" else ": FastAPI"
        lines = ["@asynccontextmanager", f"async def lifespan(app{annotation}):"]
        lines += [f"    {self.code(s).strip()}" for s in self._calls("startup")] + ["    yield"]
        lines += [f"    {self.code(s).strip()}" for s in self._calls("shutdown")]
        blank = cst.EmptyLine()
        function = cst.parse_statement("\n".join(lines) + "\n").with_changes(leading_lines=[blank, blank])
        comments = [line for line in body[at].leading_lines if line.comment is not None]
        app = _with_lifespan(body[at], self.scanned.apps).with_changes(leading_lines=[blank, blank, *comments])
        new_code = self.code(function) + "\n\n" + self.code(app).strip()
        self._report(
            self.code(body[at]).strip(), new_code,
            "`@app.on_event` is deprecated: FastAPI's lifespan replaces it",
            "`DeprecationWarning: on_event is deprecated, use lifespan event handlers instead.` It still runs on every "
            "FastAPI that installs (0.133+ runs it itself on Starlette 1.0), but a `lifespan=` added later silently "
            "disables every on_event handler.",
            "A lifespan calls the handlers (startup before its yield, shutdown after it) and is passed to FastAPI.",
            ("APP-ON-EVENT",), False, fixed=self.write_create,
        )
        if not self.write_create:
            return updated_node
        AddImportsVisitor.add_needed_import(self.context, "contextlib", "asynccontextmanager")
        body[at : at + 1] = [function, app]
        return updated_node.with_changes(body=body)

    def _report(self, old: str, new: str, problem: str, root_cause: str, explanation: str, defects: Sequence[str], safe: bool, fixed: bool = True) -> None:
        self.report(
            Finding(
                rule=self.RULE_ID,
                category=Category.ENTRYPOINT,
                severity=Severity.HIGH if safe else Severity.LOW,
                problem=problem,
                root_cause=root_cause,
                old_code=old,
                new_code=new,
                explanation=explanation,
                fixed=fixed,
                defects=tuple(defects),
                safe=safe,
                evidence=f"{self.context.filename}: the app, its lifespan and handlers are in this module",
            )
        )


def _assigns_app(statement: cst.BaseStatement, apps: dict[str, str | None]) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return any(
        isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value in apps for t in small.targets)
        for small in statement.body
    )


def _with_lifespan(statement: cst.SimpleStatementLine, apps: dict[str, str | None]) -> cst.SimpleStatementLine:
    small = statement.body[0]
    assert isinstance(small, cst.Assign) and isinstance(small.value, cst.Call)
    call = small.value
    args = list(call.args)
    new_arg = cst.Arg(keyword=cst.Name("lifespan"), value=cst.Name("lifespan"), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    if args:
        args[-1:] = _appended(args[-1], new_arg, _separator(call))
    else:
        args = [new_arg]
    return statement.with_changes(body=[small.with_changes(value=call.with_changes(args=args)), *statement.body[1:]])


def _separator(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """What goes between two arguments of the call as written: the break and indentation of one argument per
    line, else a space (its comment left where it is)."""
    before = call.args[-2].comma.whitespace_after if len(call.args) > 1 and isinstance(call.args[-2].comma, cst.Comma) else call.whitespace_before_args
    if isinstance(before, cst.ParenthesizedWhitespace):
        return before.with_changes(first_line=cst.TrailingWhitespace())
    return cst.SimpleWhitespace(" ")


def _appended(last: cst.Arg, new: cst.Arg, separator: cst.BaseParenthesizableWhitespace) -> list[cst.Arg]:
    """`last` and `new` after it, laid out as the call's arguments are; what closed the list (a trailing comma,
    the break before the parenthesis, a comment) now closes it after `new`."""
    if isinstance(last.comma, cst.Comma):
        closing = last.comma.whitespace_after
        if isinstance(closing, cst.ParenthesizedWhitespace) and isinstance(separator, cst.ParenthesizedWhitespace):
            # The comment after the last argument stays on its line; the new one closes the list as it did.
            kept = last.with_changes(comma=last.comma.with_changes(whitespace_after=separator.with_changes(first_line=closing.first_line)))
            return [kept, new.with_changes(comma=cst.Comma(whitespace_after=closing.with_changes(first_line=cst.TrailingWhitespace())))]
        return [last.with_changes(comma=cst.Comma(whitespace_after=separator)), new.with_changes(comma=last.comma)]
    kept = last.with_changes(comma=cst.Comma(whitespace_after=separator), whitespace_after_arg=cst.SimpleWhitespace(""))
    return [kept, new.with_changes(whitespace_after_arg=last.whitespace_after_arg)]


def _around_yield(block: cst.BaseSuite, before: list, after: list) -> cst.BaseSuite | None:
    """`block` with `before` just ahead of its one `yield` statement and `after` just behind it, looking into
    `try:` and `with` bodies; None when there is not exactly one."""
    if not isinstance(block, cst.IndentedBlock):
        return None
    body = list(block.body)
    spots = [i for i, s in enumerate(body) if isinstance(s, cst.SimpleStatementLine) and any(
        isinstance(small, cst.Expr) and isinstance(small.value, cst.Yield) for small in s.body
    )]
    if len(spots) == 1:
        i = spots[0]
        return block.with_changes(body=body[:i] + before + [body[i]] + after + body[i + 1 :])
    if spots:
        return None
    results = []
    for i, statement in enumerate(body):
        if isinstance(statement, (cst.Try, cst.With)):
            inner = _around_yield(statement.body, before, after)
            if inner is not None:
                results.append((i, statement.with_changes(body=inner)))
    if len(results) != 1:
        return None
    i, statement = results[0]
    body[i] = statement
    return block.with_changes(body=body)
