"""Where FX037 finds a naive "now" called (`datetime.utcnow()`) whose value a table stores or is compared with.

SQLModel's aware datetime type refuses a naive value however it arrives, not only from a field's default: given
to a table's constructor (`User(created_at=datetime.utcnow())`), set on a row (`task.updated_at = ...`, where
`task` is known to be one: annotated as the table, built by it or got by key), put in
the dict of `row.sqlmodel_update({...})` / `row.model_copy(update={...})`, or bound in a query
(`Token.expires_at < datetime.utcnow()`). And a stored value read back is aware: comparing it with a naive one
raises `TypeError: can't compare offset-naive and offset-aware datetimes`. A function's local name bound once to a naive
now (`now = datetime.utcnow()`) is followed to its uses; it is made aware only when every use is one of those,
as any other use (a naive dict's timestamps, arithmetic with another naive value) could break on an aware one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from fixer.rules.tree_walk import dotted, scan, words

__all__ = ["Sink", "naive_sinks"]

_COPIES = frozenset({"sqlmodel_update", "model_copy"})  # row methods whose dict becomes stored values


@dataclass(frozen=True)
class Sink:
    """A naive call to make aware, and where its value goes (for the finding)."""

    call: cst.Call
    where: str


@dataclass
class _Scope:
    bound: dict[str, list[cst.Call]] = field(default_factory=dict)  # name -> the naive calls bound to it once
    again: set[str] = field(default_factory=set)  # names bound more than once (or not to a naive now)
    seen: dict[str, int] = field(default_factory=dict)  # uses of each name, the binding left out
    sunk: dict[str, list[str]] = field(default_factory=dict)  # name -> where each use sent it
    # Names known to hold a row, and its table (`visit: Visit`, `visit = Visit(...)`, `= session.get(Visit, id)`):
    # only a row's attributes are stored columns; another object's (a cache entry, a request) may hold naive values.
    rows: dict[str, str] = field(default_factory=dict)


class _Returns(cst.CSTVisitor):
    """The return annotation of each function the module defines, by name (a name defined twice: None)."""

    def __init__(self) -> None:
        self.returns: dict[str, cst.BaseExpression | None] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        self.returns[name] = None if name in self.returns or node.returns is None else node.returns.annotation


class _Finder(cst.CSTVisitor):
    def __init__(self, naive: frozenset[str], tables: frozenset[str], columns: frozenset[tuple[str, str]],
                 returns: dict[str, cst.BaseExpression | None]) -> None:
        self.naive, self.tables, self.columns, self.returns = naive, tables, columns, returns
        self.scopes = [_Scope()]
        self.sinks: list[Sink] = []
        self.skip: set[int] = set()  # Name nodes that do not read a variable (attributes, keywords)

    def _naive_call(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and not node.args and dotted(node.func) in self.naive

    def _flow(self, value: cst.BaseExpression, where: str) -> None:
        """`value` goes to `where`: a naive call in it (alone or `+`/`-` a timedelta) is a sink, a name bound to
        one is followed."""
        while isinstance(value, cst.BinaryOperation) and isinstance(value.operator, (cst.Add, cst.Subtract)) \
                and not self._naive_call(value.right):
            value = value.left
        if self._naive_call(value):
            self.sinks.append(Sink(value, where))  # type: ignore[arg-type]
        elif isinstance(value, cst.Name):
            for scope in reversed(self.scopes):
                if value.value in scope.bound:
                    scope.sunk.setdefault(value.value, []).append(where)
                    break

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(_Scope())
        self.skip.add(id(node.name))
        # A parameter is a binding the function does not see: a name also bound in the body is not followed.
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        self.scopes[-1].again.update(p.name.value for p in params)
        for p in params:
            if p.annotation is not None and (table := self._annotated(p.annotation.annotation)):
                self.scopes[-1].rows[p.name.value] = table

    def _annotated(self, annotation: cst.BaseExpression) -> str | None:
        """The one table an annotation names (`Visit`, `Optional[Visit]`, `Annotated[Visit, Depends(...)]`)."""
        named = words(annotation) & self.tables
        return next(iter(named)) if len(named) == 1 else None

    def _built(self, value: cst.BaseExpression) -> str | None:
        """The table whose row `value` is: a call of the table (`Visit(...)`), a `get` of one by key
        (`session.get(Visit, id)`), or of a function of the module annotated to return one; awaited or not."""
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return None
        name = (dotted(value.func) or "").rpartition(".")[2]
        if name == "get" and isinstance(value.func, cst.Attribute) and value.args and value.args[0].keyword is None:
            name = (dotted(value.args[0].value) or "").rpartition(".")[2]
        elif (returns := self.returns.get(name)) is not None:
            return self._annotated(returns)
        return name if name in self.tables else None

    def _table_of(self, owner: cst.BaseExpression) -> str | None:
        """The table `owner` is (a query's `Visit.left_at`) or holds a row of; None for any other object."""
        if isinstance(owner, cst.Name) and owner.value in self.scopes[-1].rows:
            return self.scopes[-1].rows[owner.value]
        name = (dotted(owner) or "").rpartition(".")[2]
        return name if name in self.tables else None

    def _row(self, node: cst.Attribute) -> bool:
        """The attribute is a stored aware column: its owner is known to be the table or one of its rows."""
        table = self._table_of(node.value)
        return table is not None and (table, node.attr.value) in self.columns

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.close(self.scopes.pop())

    def close(self, scope: _Scope) -> None:
        for name, calls in scope.bound.items():
            uses = scope.sunk.get(name, [])
            if name not in scope.again and uses and len(uses) == scope.seen.get(name, 0):
                self.sinks.extend(Sink(call, uses[0]) for call in calls)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.skip:
            for scope in self.scopes:
                scope.seen[node.value] = scope.seen.get(node.value, 0) + 1

    def visit_Assign(self, node: cst.Assign) -> None:
        scope = self.scopes[-1]
        for target in node.targets:
            name = target.target
            if isinstance(name, cst.Name):
                self.skip.add(id(name))
                scope.rows.pop(name.value, None)
                if len(node.targets) == 1 and (table := self._built(node.value)):
                    scope.rows[name.value] = table
                if name.value in scope.bound or not self._naive_call(node.value):
                    scope.again.add(name.value)
                else:
                    scope.bound[name.value] = [node.value]  # type: ignore[list-item]
            elif isinstance(name, cst.Attribute) and self._row(name) and len(node.targets) == 1:
                self._flow(node.value, f"set on a row's `{name.attr.value}`")

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.scopes[-1].again.add(node.target.value)
            self.scopes[-1].rows.pop(node.target.value, None)
            if table := self._annotated(node.annotation.annotation):
                self.scopes[-1].rows[node.target.value] = table

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.scopes[-1].again.add(node.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = dotted(node.func) or ""
        table = func.rpartition(".")[2]
        if table in self.tables:
            for arg in node.args:
                if arg.keyword is not None and (table, arg.keyword.value) in self.columns:
                    self._flow(arg.value, f"given to `{func}({arg.keyword.value}=...)`, whose insert fails")
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in _COPIES \
                and (row := self._table_of(node.func.value)):
            for arg in node.args:
                if isinstance(arg.value, cst.Dict) and (arg.keyword is None or arg.keyword.value == "update"):
                    self._dict(arg.value, node.func.attr.value, row)

    def _dict(self, node: cst.Dict, method: str, table: str) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString) \
                    and (table, element.key.evaluated_value) in self.columns:
                self._flow(element.value, f"given to `{method}` as a row's `{element.key.evaluated_value}`")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        sides = [node.left, *(c.comparator for c in node.comparisons)]
        stored = [s for s in sides if isinstance(s, cst.Attribute) and self._row(s)]
        if stored:
            where = f"compared with the stored (aware) `{stored[0].attr.value}`"  # type: ignore[attr-defined]
            for side in sides:
                if all(side is not s for s in stored):
                    self._flow(side, where)


def naive_sinks(tree: cst.CSTNode, naive: frozenset[str], tables: frozenset[str],
                columns: frozenset[tuple[str, str]]) -> list[Sink]:
    """The naive calls (their dotted functions are `naive`) in `tree` whose value a table's aware `columns`
    ((table, field)) get."""
    if not (tables and columns):
        return []
    returns = _Returns()
    scan(tree, returns)
    finder = _Finder(naive, tables, columns, returns.returns)
    scan(tree, finder)  # the module's own names are left unclosed: other modules may import and use them
    return finder.sinks
