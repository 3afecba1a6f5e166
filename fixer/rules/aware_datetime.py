"""FX037 aware-datetime: Give SQLModel fields timezone-aware datetimes where SQLModel stores them aware.

## What it does
In a module that uses SQLModel, rewrites `Field(default_factory=datetime.utcnow)` (also `datetime.now`, and
the same functions given as `onupdate`/`default` inside `sa_column_kwargs`) to
`Field(default_factory=lambda: datetime.now(timezone.utc))`, importing `timezone` as the module imports
`datetime`. A project function that returns one of them (`def utcnow(): return datetime.utcnow()`) is kept and
its value made aware: `lambda: utcnow().replace(tzinfo=timezone.utc)` (`.astimezone(timezone.utc)` for a
local `datetime.now()`). Only where the SQLModel that installs on the project's CPython stores datetimes
timezone-aware (its `sqlmodel.sql.sqltypes` has `UTCDateTime`, per fixer's package tables), and only on fields a
table stores: a `table=True` class's, a base's of one, or a field named as a table's column (its value may be
copied there); an event or response model's timestamp never reaches the database.

A naive now called (`datetime.utcnow()`, `datetime.now()`) whose value a table's aware column gets is made
`datetime.now(timezone.utc)` too: a keyword of a table's constructor (`User(created_at=...)`), a row's attribute
set (`task.updated_at = ...`, `task` annotated as the table, built by it or got by key), a key of
`row.sqlmodel_update({...})` / `row.model_copy(update={...})`, either alone or `+`/`-` a timedelta; and one
compared with such a column (`Token.expires_at < datetime.utcnow()`, in a query or on a row read back). Each
column is its own table's: another table's naive column of the same name, or another object's attribute, is left
alone. Only in the code that runs (the server's modules, scripts), not in tests. A function's local name bound once to one (`now = datetime.utcnow()`) is made aware only when every use of it is one of those: a
name also used with in-process naive values is left alone.

The other way round: where the SQLModel that installs maps `datetime` to a naive `DateTime` (from the release whose
`Field` takes `sa_type`, per fixer's package tables, to before the aware type) and the async engine's driver is
asyncpg, a table class that gives aware values (an aware default factory, `lambda: datetime.now(timezone.utc)`)
gets `sa_type=DateTime(timezone=True)` on each of its datetime `Field(...)`s.

## Why is this bad?
Newer SQLModel maps `datetime` fields to an aware UTC type that refuses naive values: the first insert fails
with `sqlalchemy.exc.StatementError: (builtins.ValueError) Datetime values must have timezone information`
(VER-SQLMODEL-TZ). `datetime.utcnow()` and `datetime.now()` are naive. The values it reads back are aware:
comparing one with a naive value raises `TypeError: can't compare offset-naive and offset-aware datetimes`.
Older SQLModel makes naive `TIMESTAMP WITHOUT TIME ZONE` columns, and asyncpg refuses an aware value for one:
`asyncpg.exceptions.DataError: invalid input for query argument $5: ... (can't subtract offset-naive and
offset-aware datetimes)`.

## Example
```python
class Task(SQLModel, table=True):
    created_at: datetime = Field(default_factory=datetime.utcnow)
```

```python
token = Token(user_id=user.id, expires_at=datetime.utcnow() + timedelta(days=7))
```

## Use instead
```python
class Task(SQLModel, table=True):
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
```
```python
token = Token(user_id=user.id, expires_at=datetime.now(timezone.utc) + timedelta(days=7))
```

## Fix safety
Safe when the SQLModel a fresh install gives stores datetimes aware (the insert fails today; an aware UTC
value is what that type stores on every database). Nothing is reported where the SQLModel that installs
stores naive datetimes, nor on a model no table stores: the code works there. A naive column made
`DateTime(timezone=True)` is safe on asyncpg: a new table gets `timestamptz`, and PostgreSQL casts an aware value
for an existing `timestamp` column (psycopg, which does that cast itself, is left alone).
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from fixer import tables
from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel, Role
from fixer.rules.aware_sinks import Sink, naive_sinks
from fixer.rules.base import FixerCodemod
from fixer.rules.tree_walk import dotted

_NAIVE = frozenset({"utcnow", "now"})
_KEYS = frozenset({"default_factory", "onupdate", "default"})


def naive_columns_on_asyncpg(model: ProjectModel) -> bool:
    """The SQLModel that installs maps `datetime` to a naive `DateTime` (it has `sa_type` to say otherwise), and
    the project's engines are async ones on asyncpg, which refuses an aware value for such a column."""
    version = model.versions.version("sqlmodel")
    accepted = tables.keywords("sqlmodel", version, "sqlmodel", "Field") if version is not None else None
    # Every engine async: a table a sync engine (psycopg2, which casts an aware value itself) may serve alone is
    # not one asyncpg is shown to write.
    engines = [e for e in model.flow.engines if model.runs(e.path)]
    return ("sa_type" in (accepted or ()) and not stores_aware(model) and model.async_db
            and model.async_driver() == "asyncpg" and bool(engines) and all(e.kind == "async" for e in engines))


def stores_aware(model: ProjectModel) -> bool:
    """The SQLModel that installs (the newest, when the project does not pin it) stores datetimes aware."""
    return model.exports("sqlmodel.sql.sqltypes", "UTCDateTime") is True


class AwareDatetime(FixerCodemod):
    __doc__ = __doc__
    RULE_ID: ClassVar[str] = "FX037"
    RULE_NAME: ClassVar[str] = "aware-datetime"
    DEFECTS: ClassVar[tuple[str, ...]] = ("VER-SQLMODEL-TZ",)
    # The function given, not called, as one of the keywords the fix rewrites: a bare `now` matches prose too.
    # Or called with no time zone, as a value a row may be given (`User(created_at=datetime.utcnow())`).
    # Or an aware default factory, which an older SQLModel's naive column refuses through asyncpg.
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(
        rb"""\b(?:default_factory|onupdate|default)["']?\s*[=:]\s*(?:datetime\.)?datetime\.(?:utcnow|now)\b(?!\s*\()"""
        rb"""|\bdatetime\.(?:utcnow|now)\(\s*\)|\bdefault_factory\s*=\s*lambda\s*:\s*(?:datetime\.)?datetime\.now\(\s*\w"""
    )

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        return stores_aware(model) or naive_columns_on_asyncpg(model)

    @classmethod
    def planned(cls, model: ProjectModel, path: str) -> bool:
        # `default_factory=utcnow` of the project's own `def utcnow(): return datetime.utcnow()`.
        return path in model.naive_now_users and stores_aware(model)

    def visit_Module(self, node: cst.Module) -> bool:
        # How the module names datetime: `from datetime import datetime` or `import datetime`.
        self._module_import = False
        self._uses_sqlmodel = False
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    self._module_import |= any(self.code(a.name) == "datetime" and a.asname is None for a in small.names)
                    self._uses_sqlmodel |= any(self.code(a.name) == "sqlmodel" for a in small.names)
                elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                    self._uses_sqlmodel |= self.code(small.module).split(".")[0] == "sqlmodel"
        self._sinks: dict[int, Sink] = {}
        self._aware_type = stores_aware(self.facts)
        self._naive_columns = self._uses_sqlmodel and naive_columns_on_asyncpg(self.facts)
        if self._naive_columns:
            return True
        if not self._aware_type:
            return False
        stored = self.facts.stored_fields
        # The code that runs (the server's, a seed script's): a test's own rows are the test's business.
        runs = self.facts.role((self.context.filename or "").replace("\\", "/")) in (Role.LIVE, Role.SCRIPT)
        prefix = "datetime.datetime." if self._module_import else "datetime."
        self._sinks = {id(s.call): s for s in naive_sinks(
            node, frozenset({prefix + "utcnow", prefix + "now"}), stored.tables, stored.aware_columns)} if runs else {}
        return self._uses_sqlmodel or bool(self._sinks)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        sink = self._sinks.get(id(original_node))
        if sink is None:
            return updated_node
        if self._module_import:
            now = cst.parse_expression("datetime.datetime.now(datetime.timezone.utc)")
        else:
            AddImportsVisitor.add_needed_import(self.context, "datetime", "timezone")
            now = cst.parse_expression("datetime.now(timezone.utc)")
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.DATABASE,
            severity=Severity.HIGH,
            problem=f"`{self.code(original_node)}` gives a naive datetime, {sink.where}",
            root_cause="SQLModel stores `datetime` fields as aware UTC values: it refuses a naive one with "
                       "`ValueError: Datetime values must have timezone information`, and a stored value compared "
                       "with one raises `TypeError: can't compare offset-naive and offset-aware datetimes`.",
            old_code=self.code(original_node),
            new_code=self.code(now),
            explanation="The value is now the current time in UTC, timezone-aware.",
            defects=self.DEFECTS,
            evidence=self.facts.versions.judged_against("sqlmodel")
            + "; its sqlmodel.sql.sqltypes has UTCDateTime (fixer's package tables)",
        ))
        return now

    # The class and the field a default belongs to: only a field some table stores meets the aware type.
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes = [*getattr(self, "_classes", []), node.name.value]
        self._aware_classes = [*getattr(self, "_aware_classes", []), self._naive_columns and any(
            isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.AnnAssign)
            and isinstance(call := s.body[0].value, cst.Call)
            and any(a.keyword is not None and a.keyword.value == "default_factory" and _aware_now(a.value) for a in call.args)
            for s in node.body.body)]

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self._classes.pop()
        self._aware_classes.pop()
        return updated_node

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._field = node.target.value if isinstance(node.target, cst.Name) else None

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        self._field = target.value if isinstance(target, cst.Name) else None

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        new = self._aware_column(updated_node) if self._naive_columns and self._stored() else updated_node
        self._field = None
        return new

    def _aware_column(self, node: cst.AnnAssign) -> cst.AnnAssign:
        """A datetime `Field(...)` of a table class that gives aware values (an aware default factory on one of
        its fields): the column made `DateTime(timezone=True)`, to which asyncpg sends an aware value as it is
        (PostgreSQL casts it for an existing `timestamp` column)."""
        call = node.value
        if not (self._aware_classes and self._aware_classes[-1]
                and (self._classes[-1], self._field) in self.facts.stored_fields.aware_columns
                and isinstance(call, cst.Call) and (dotted(call.func) or "").rpartition(".")[2] == "Field"
                and not {"sa_type", "sa_column"} & {a.keyword.value for a in call.args if a.keyword is not None}):
            return node
        AddImportsVisitor.add_needed_import(self.context, "sqlalchemy", "DateTime")
        args = [*call.args[:-1], call.args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)] if call.args else []
        new = node.with_changes(value=call.with_changes(args=[*args, cst.Arg(
            keyword=cst.Name("sa_type"), value=cst.parse_expression("DateTime(timezone=True)"),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))]))
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.DATABASE,
            severity=Severity.HIGH,
            problem=f"`{self._field}` of a table that gives aware datetimes is a naive `TIMESTAMP WITHOUT TIME ZONE` "
                    "column on this SQLModel, for which asyncpg refuses an aware value",
            root_cause="asyncpg converts an aware value for a naive column by subtracting a naive epoch: the insert "
                       "fails with `asyncpg.exceptions.DataError: invalid input for query argument $N: ... (can't "
                       "subtract offset-naive and offset-aware datetimes)`.",
            old_code=self.code(call),
            new_code=self.code(new.value),
            explanation="The column is `DateTime(timezone=True)`: asyncpg sends the aware value as it is.",
            defects=self.DEFECTS,
            evidence=self.facts.versions.judged_against("sqlmodel") + f"; the async driver is {self.facts.async_driver()}",
        ))
        return new

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        self._field = None
        return updated_node

    def _stored(self) -> bool:
        classes = getattr(self, "_classes", [])
        return self.facts.stored_fields.stores(classes[-1] if classes else None, getattr(self, "_field", None))

    def _naive(self, node: cst.BaseExpression) -> str | None:
        """`datetime.utcnow` / `datetime.datetime.now` given as a function (not called), or a project function
        that returns one of them called (the model's `naive_now`): its dotted text."""
        text = self.code(node)
        if self._module_import and text in ("datetime.datetime.utcnow", "datetime.datetime.now"):
            return text
        if not self._module_import and text in ("datetime.utcnow", "datetime.now"):
            return text
        if text.rpartition(".")[2] in dict(self.facts.naive_now):
            return text
        return None

    def _aware(self, written: str) -> cst.Lambda:
        utc = "datetime.timezone.utc" if self._module_import else "timezone.utc"
        if not self._module_import:
            AddImportsVisitor.add_needed_import(self.context, "datetime", "timezone")
        kind = dict(self.facts.naive_now).get(written.rpartition(".")[2])
        if kind == "utcnow":  # the project's helper gives UTC without saying so: say so, keep the helper
            return cst.parse_expression(f"lambda: {written}().replace(tzinfo={utc})")  # type: ignore[return-value]
        if kind == "now":  # local time, naive: the same instant, in UTC
            return cst.parse_expression(f"lambda: {written}().astimezone({utc})")  # type: ignore[return-value]
        now = "datetime.datetime.now" if self._module_import else "datetime.now"
        return cst.parse_expression(f"lambda: {now}({utc})")  # type: ignore[return-value]

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        if not (self._aware_type and self._uses_sqlmodel) or updated_node.keyword is None \
                or updated_node.keyword.value not in _KEYS:
            return updated_node
        written = self._naive(updated_node.value)
        if written is None or not self._stored():
            return updated_node
        new = updated_node.with_changes(value=self._aware(written))
        self._report(original_node, new, written)
        return new

    def leave_DictElement(self, original_node: cst.DictElement, updated_node: cst.DictElement) -> cst.DictElement:
        key = updated_node.key
        if not (self._aware_type and self._uses_sqlmodel and isinstance(key, cst.SimpleString)
                and key.evaluated_value in _KEYS):
            return updated_node
        written = self._naive(updated_node.value)
        if written is None or not self._stored():
            return updated_node
        new = updated_node.with_changes(value=self._aware(written))
        self._report(original_node, new, written)
        return new

    def _report(self, old: cst.CSTNode, new: cst.CSTNode, written: str) -> None:
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.DATABASE,
            severity=Severity.HIGH,
            problem=f"`{written}` gives a naive datetime, which the SQLModel that installs refuses to store",
            root_cause="SQLModel stores `datetime` fields as aware UTC values: the first insert fails with "
                       "`ValueError: Datetime values must have timezone information`.",
            old_code=self.code(old),
            new_code=self.code(new),
            explanation="The field now gets the current time in UTC, timezone-aware.",
            defects=self.DEFECTS,
            evidence=self.facts.versions.judged_against("sqlmodel")
            + "; its sqlmodel.sql.sqltypes has UTCDateTime (fixer's package tables)",
        ))


def _aware_now(node: cst.BaseExpression) -> bool:
    """`lambda: datetime.now(<a time zone>)` (also `datetime.datetime.now(tz=...)`)."""
    body = node.body if isinstance(node, cst.Lambda) else None
    return isinstance(body, cst.Call) and (dotted(body.func) or "") in ("datetime.now", "datetime.datetime.now") \
        and len(body.args) == 1
