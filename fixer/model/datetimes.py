"""The project's own functions that return a naive "now" (`def utcnow(): return datetime.utcnow()`), and the
files that give one to a model field (`Field(default_factory=utcnow)`): FX037 asks for them, as SQLModel's
aware datetime type refuses their values just as it refuses `datetime.utcnow` itself (VER-SQLMODEL-TZ).
And which model fields a database stores (`stored_fields`): the aware type refuses a naive value only there.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fixer.model.sources import Sources

__all__ = ["NAIVE_DEFAULT", "RETURNS_NAIVE", "TABLE_CLASS", "StoredFields", "naive_now_functions", "naive_now_users",
           "stored_fields"]

# The model reads the files these match.
RETURNS_NAIVE = re.compile(rb"return\s+(?:datetime\.)?datetime\.(?:utcnow|now)\(\s*\)")
TABLE_CLASS = re.compile(rb"^[ \t]*class\s+\w+\s*\([^)]*\btable\s*=\s*True", re.M)
# `datetime.utcnow` given, not called, as a default: what FX037 rewrites.
NAIVE_DEFAULT = re.compile(
    rb"""\b(?:default_factory|onupdate|default)["']?\s*[=:]\s*(?:datetime\.)?datetime\.(?:utcnow|now)\b(?!\s*\()"""
)
# Bases a model class takes from its libraries, not from the project.
_LIBRARY_BASES = frozenset({"SQLModel", "BaseModel", "object", "Generic", "Protocol"})


def _naive_call(node: ast.AST | None) -> str | None:
    """`datetime.utcnow()` / `datetime.datetime.now()` with no time zone: "utcnow" or "now"."""
    if isinstance(node, ast.Call) and not node.args and not node.keywords and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("utcnow", "now") and ast.unparse(node.func.value) in ("datetime", "datetime.datetime"):
        return node.func.attr
    return None


def naive_now_functions(running: Iterable[tuple[str, bytes]], sources: Sources) -> tuple[tuple[str, str], ...]:
    """(function name, "utcnow" | "now") of each module-level project function whose every `return` gives a
    naive now; a name defined twice with different answers is left out."""
    found: dict[str, set[str]] = {}
    for path, source in running:
        if not RETURNS_NAIVE.search(source):
            continue
        tree = sources.tree(path, source.decode("utf-8", "replace"))
        for node in tree.body if tree is not None else ():
            if not isinstance(node, ast.FunctionDef):
                continue
            returns = [r for r in ast.walk(node) if isinstance(r, ast.Return)]
            kinds = {_naive_call(r.value) for r in returns}
            if returns and None not in kinds:
                found.setdefault(node.name, set()).update(kinds)
    return tuple(sorted((name, kinds.pop()) for name, kinds in found.items() if len(kinds) == 1))


def naive_now_users(read_text: Callable[[str], str | None], paths: Iterable[str], names: Iterable[str]) -> frozenset[str]:
    """The Python files that give one of `names` to `default_factory=`, `default=` or `onupdate=` (as a
    function); read (not parsed) only when the project has such a function."""
    names = list(names)
    if not names:
        return frozenset()
    given = re.compile(r"""\b(?:default_factory|onupdate|default)["']?\s*[=:]\s*(?:\w+\.)*(?:%s)\b(?!\s*\()"""
                       % "|".join(map(re.escape, names)))
    return frozenset(p for p in paths if p.endswith(".py") and given.search(read_text(p) or ""))


@dataclass(frozen=True)
class StoredFields:
    """The model fields a database stores: those of the `table=True` classes and of every project class they
    inherit from. A field of another model (an event, a response) only ever holds Python values, unless a table
    has a column of that name its value may be copied into (`Task.model_validate(create)`)."""

    classes: frozenset[str] = frozenset()  # the table classes and the project classes they inherit from
    columns: frozenset[str] = frozenset()  # the fields those classes declare
    known: bool = False  # every base of a table class was read: otherwise any class may be stored
    tables: frozenset[str] = frozenset()  # the `table=True` classes: calling one builds a row
    # (class, field) of those classes' columns annotated `datetime` whose type SQLModel picks (no `sa_column`/
    # `sa_type`), inherited ones included: the aware type refuses a naive value given to them, and gives back
    # aware values a naive one cannot be compared to. Keyed by class: another table's column of the same name
    # may be the project's own naive type.
    aware_columns: frozenset[tuple[str, str]] = frozenset()
    # Fields of those classes with a `default_factory`: SQLModel's table constructor calls each factory itself.
    factories: frozenset[str] = frozenset()

    def stores(self, cls: str | None, name: str | None) -> bool:
        return not self.known or cls is None or cls in self.classes or name is None or name in self.columns


def _fields(node: ast.ClassDef) -> set[str]:
    out = set()
    for statement in node.body:
        targets = [statement.target] if isinstance(statement, ast.AnnAssign) else (
            statement.targets if isinstance(statement, ast.Assign) else [])
        out |= {t.id for t in targets if isinstance(t, ast.Name)}
    return out


# `datetime`/`datetime.datetime`, not the module's other types (`datetime.time`, `datetime.timedelta`).
_DATETIME = re.compile(r"(?<![\w.])(?:datetime\.)?datetime\b(?!\.)")
_OWN_TYPE = frozenset({"sa_column", "sa_type"})  # the project picks the column type: not SQLModel's aware one


def _factory_fields(node: ast.ClassDef) -> set[str]:
    return {s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            and isinstance(s.value, ast.Call) and any(k.arg == "default_factory" for k in s.value.keywords)}


def _aware_fields(node: ast.ClassDef) -> set[str]:
    out = set()
    for statement in node.body:
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and _DATETIME.search(ast.unparse(statement.annotation))):
            continue
        value = statement.value
        if isinstance(value, ast.Call) and any(k.arg in _OWN_TYPE for k in value.keywords):
            continue
        out.add(statement.target.id)
    return out


def _inherited_aware(name: str, classes: dict[str, tuple[set[str], set[str], bool]],
                     aware: dict[str, set[str]]) -> set[str]:
    """The aware columns of class `name`: each field as its nearest declaration (its own, then its bases') says."""
    out: set[str] = set()
    declared: set[str] = set()
    queue, seen = [name], set()
    while queue:
        cls = queue.pop(0)
        if cls in seen or cls not in classes:
            continue
        seen.add(cls)
        out |= aware[cls] - declared
        declared |= classes[cls][1]
        queue.extend(sorted(classes[cls][0]))
    return out


def stored_fields(running: Iterable[tuple[str, bytes]], sources: Sources) -> StoredFields:
    """Which classes and fields the running modules' table models store (`StoredFields`)."""
    classes: dict[str, tuple[set[str], set[str], bool]] = {}  # name -> (base names, fields, a table)
    aware: dict[str, set[str]] = {}
    factories: dict[str, set[str]] = {}
    for path, source in running:
        if not (TABLE_CLASS.search(source) or NAIVE_DEFAULT.search(source)):
            continue
        tree = sources.tree(path, source.decode("utf-8", "replace"))
        if tree is None:
            return StoredFields()
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases, fields, table = classes.get(node.name, (set(), set(), False))
                bases |= {ast.unparse(b).partition("[")[0].rpartition(".")[2] for b in node.bases}
                table |= any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
                             for k in node.keywords)
                classes[node.name] = (bases, fields | _fields(node), table)
                aware.setdefault(node.name, set()).update(_aware_fields(node))
                factories.setdefault(node.name, set()).update(_factory_fields(node))
    stored: set[str] = set()
    known = True
    queue = [name for name, (_, _, table) in classes.items() if table]
    while queue:
        name = queue.pop()
        if name in stored:
            continue
        stored.add(name)
        for base in classes[name][0]:
            if base in classes:
                queue.append(base)
            elif base not in _LIBRARY_BASES:
                known = False  # a base whose file the model did not read: its fields may be columns
    columns = frozenset(f for name in stored for f in classes[name][1])
    tables = frozenset(name for name, (_, _, table) in classes.items() if table)
    aware_columns = frozenset((name, f) for name in stored for f in _inherited_aware(name, classes, aware))
    return StoredFields(frozenset(stored), columns, known, tables, aware_columns,
                        frozenset(f for name in stored for f in factories[name]))
