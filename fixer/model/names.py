"""The project's modules as the use layer reads them: names resolved through imports and re-exports, the
functions and classes each module defines (read with `ast` once per run), shared by the value analysis
(`fixer.model.values`) and the conversion plan (`fixer.model.uses`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from fixer.model.modules import ModuleGraph, Role, module_name

SESSION_MODULES = ("sqlmodel", "sqlalchemy")
# Decorators that hand a function to a caller outside the project that calls it synchronously.
SYNC_CALLERS = ("task", "shared_task", "contextmanager", "property", "cached_property", "listens_for", "validator",
                "field_validator", "model_validator", "computed_field")
PROTOCOL = frozenset({"__init__", "__enter__", "__exit__", "__iter__", "__next__", "__len__", "__bool__",
                      "__getitem__", "__call__", "__del__", "__repr__", "__str__", "__hash__", "__eq__"})
DDL = frozenset({"create_all", "drop_all"})
# `type DB = Annotated[AsyncSession, ...]`: a statement of its own from Python 3.12 on (not parsed before).
TYPE_ALIAS = getattr(ast, "TypeAlias", None)
# asyncio's (and anyio's, trio's) functions that take a coroutine object, not its value.
TAKE_COROUTINES = frozenset({"run", "create_task", "gather", "wait_for", "ensure_future", "shield", "wait",
                             "run_until_complete", "run_coroutine_threadsafe", "as_completed", "start_soon"})


def dotted_name(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted_name(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


@dataclass
class Function:
    path: str
    qualname: str
    cls: str | None
    node: ast.FunctionDef | ast.AsyncFunctionDef
    params: list[str]
    sessions: dict[str, str | None] = field(default_factory=dict)  # name -> "async" | "sync" | None (a parameter)
    param_sessions: dict[str, str] = field(default_factory=dict)  # parameter -> "Session" annotation or provider key
    calls: list[tuple[ast.Call, str, tuple[str, str] | None, bool, bool]] = field(default_factory=list)  # (call, callee, target, handed on, awaited)
    opens: list[tuple[str, str]] = field(default_factory=list)  # (opener as written, name bound) of `with ... as s`
    yields: set[str] = field(default_factory=set)
    connections: set[str] = field(default_factory=set)  # `with engine.begin() as conn`
    raw_sql: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)  # sessions whose legacy `.query(...)` is called
    own_blocked: str = ""  # what the function itself says (its decorators, its role); `blocked` adds its callers
    _nodes: list[ast.AST] | None = None
    generator: bool | None = None  # it yields (known once asked)
    parent: Function | None = field(default=None, repr=False, compare=False)  # defined in: a closure reads its names
    children: dict[str, Function] = field(default_factory=dict, repr=False, compare=False)  # its nested functions

    @property
    def nodes(self) -> list[ast.AST]:
        if self._nodes is None:
            self._nodes = own_nodes(self.node)
        return self._nodes
    blocked: str = ""


class ModuleReader:
    def __init__(self, path: str, tree: ast.Module, role: Role) -> None:
        self.path = path
        self.name = module_name(path)
        self.role = role
        self.imports: dict[str, str] = {}  # local -> absolute dotted
        self.assigned: dict[str, ast.AST] = {}  # module-level name -> value
        self.functions: dict[str, Function] = {}
        self.classes: set[str] = set()
        self.class_nodes: dict[str, ast.ClassDef] = {}
        self.tree = tree
        self.relationships: set[str] = set()  # lazy-loaded relationship attributes its model classes declare
        self.top_calls: set[str] = set()  # names called by module-level code (`__main__` guards too)
        package = self.name if path.endswith("__init__.py") else self.name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".") if package else []
                    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    if alias.name != "*":
                        self.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        for statement in tree.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.assigned[target.id] = statement.value
            elif TYPE_ALIAS is not None and isinstance(statement, TYPE_ALIAS):
                self.assigned[statement.name.id] = statement.value
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(statement, None)
            elif isinstance(statement, ast.ClassDef):
                self.classes.add(statement.name)
                self.class_nodes[statement.name] = statement
                self.relationships.update(lazy_relationships(statement))
                for item in statement.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self._function(item, statement.name)
            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                passed = passed_calls(statement)
                for node in ast.walk(statement):
                    if isinstance(node, ast.Call) and dotted_name(node.func) and id(node) not in passed:
                        self.top_calls.add(dotted_name(node.func))  # type: ignore[arg-type]

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, cls: str | None,
                  parent: Function | None = None) -> None:
        qualname = f"{parent.qualname}.{node.name}" if parent else f"{cls}.{node.name}" if cls else node.name
        args = node.args
        params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        function = Function(self.path, qualname, None if parent else cls, node, params, parent=parent)
        for decorator in node.decorator_list:
            text = ast.unparse(decorator)
            last = (dotted_name(decorator.func if isinstance(decorator, ast.Call) else decorator) or "").rpartition(".")[2]
            if last in SYNC_CALLERS:
                function.blocked = f"decorated with @{text}, whose caller calls it synchronously"
        if cls and node.name in PROTOCOL and node.name != "__init__":
            function.blocked = f"`{node.name}` is called synchronously by Python itself"
        if self.role is Role.TEST and not isinstance(node, ast.AsyncFunctionDef):
            function.blocked = "a sync test: pytest calls it synchronously"
        function.own_blocked = function.blocked
        self.functions[qualname] = function
        if parent is not None:
            parent.children[node.name] = function
        for inner in function.nodes:  # closures: a nested function is a function of its own
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(inner, None, function)


class Project:
    def __init__(self, readers: dict[str, ModuleReader], graph: ModuleGraph) -> None:
        self.readers = readers
        self.by_module = {r.name: r for r in readers.values()}
        self.graph = graph
        self._located: dict[tuple[str, str], tuple[ModuleReader, str] | None] = {}
        self.relationships = frozenset(name for reader in readers.values() for name in reader.relationships)

    # -- names ---------------------------------------------------------------------------------------------------

    def absolute(self, reader: ModuleReader, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        if head in reader.imports:
            base = reader.imports[head]
        elif head in reader.assigned or head in reader.functions or head in reader.classes:
            base = f"{reader.name}.{head}"
        else:
            return dotted
        return f"{base}.{rest}" if rest else base

    def locate(self, absolute: str, near: str = "") -> tuple[ModuleReader, str] | None:
        """The module and the name inside it an absolute dotted name means; of several modules with that name
        (a repository holding several backends, each with its `app/db.py`), the one nearest `near`'s folder."""
        key = (absolute, near.rpartition("/")[0])
        if key not in self._located:
            self._located[key] = self._locate(absolute, near)
        return self._located[key]

    def _locate(self, absolute: str, near: str) -> tuple[ModuleReader, str] | None:
        parts = absolute.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            reader = self.by_module.get(module)
            if reader is None:
                paths = [p for p in self.graph._by_name.get(module, set()) if p in self.readers]
                if paths:
                    reader = self.readers[max(sorted(paths), key=lambda p: shared_folders(p, near))]
            if reader is not None:
                return reader, ".".join(parts[cut:])
        return None

    def resolve(self, reader: ModuleReader, dotted: str, depth: int = 0) -> tuple[ModuleReader, str] | None:
        """Follow a name to where it is defined (through re-exports)."""
        found = self.locate(self.absolute(reader, dotted), reader.path)
        if found is None or depth > 5:
            return found
        owner, name = found
        head = name.split(".")[0]
        if head in owner.imports and head not in owner.functions and head not in owner.classes:
            return self.resolve(owner, name, depth + 1)
        return found




EAGER = frozenset({"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"})
EAGER_LAZY = ("selectin", "joined", "subquery", "immediate")


def lazy_relationships(cls: ast.ClassDef) -> set[str]:
    """Relationship attributes of a model class that load lazily (the default)."""
    out = set()
    for statement in cls.body:
        value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
        target = statement.targets[0] if isinstance(statement, ast.Assign) else getattr(statement, "target", None)
        if not isinstance(value, ast.Call) or not isinstance(target, ast.Name):
            continue
        if (dotted_name(value.func) or "").rpartition(".")[2] not in ("Relationship", "relationship"):
            continue
        if not any(lazy in ast.unparse(keyword.value) for keyword in value.keywords for lazy in EAGER_LAZY):
            out.add(target.id)
    return out


def shared_folders(path: str, other: str) -> int:
    count = 0
    for a, b in zip(path.split("/")[:-1], other.split("/")[:-1]):
        if a != b:
            break
        count += 1
    return count


def is_generator(function: Function) -> bool:
    """It yields: calling it makes a generator (an async one for `async def`), never a coroutine to await."""
    if function.generator is None:
        function.generator = any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in function.nodes)
    return function.generator


def own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's own body: not its decorators (they run where it is defined), not the bodies
    of functions, lambdas and classes defined in it (their awaits are theirs)."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(function.body))
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out


def takes_coroutines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a function hands one of its parameters on as a coroutine (`asyncio.run(coro)`,
    `pool.submit(asyncio.run, coro)`, `await coro`): a project's own bridge from sync code, such as
    `def run_async(coro): return asyncio.run(coro)`. A call handed to it is meant unawaited."""
    args = function.args
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    for node in ast.walk(function):
        if isinstance(node, ast.Await) and isinstance(node.value, ast.Name) and node.value.id in params:
            return True
        if isinstance(node, ast.Call):
            handed = [*node.args, *(k.value for k in node.keywords)]
            # `loop.run_until_complete(coro)` and `asyncio.get_event_loop().run_until_complete(coro)` alike.
            called = node.func.attr if isinstance(node.func, ast.Attribute) else dotted_name(node.func)
            runs = called in TAKE_COROUTINES or any(
                (dotted_name(a) or "").rpartition(".")[2] in TAKE_COROUTINES for a in handed)
            if runs and any(isinstance(a, ast.Name) and a.id in params for a in handed):
                return True
    return False


def passed_calls(node: ast.AST | list[ast.AST]) -> set[int]:
    """Calls whose result is handed to another call (`asyncio.run(main())`, `create_task(job())`): the
    coroutine object is what is wanted there, not its awaited value."""
    return {
        id(arg) for call in (node if isinstance(node, list) else ast.walk(node))
        if isinstance(call, ast.Call) and (dotted_name(call.func) or "").rpartition(".")[2] in TAKE_COROUTINES
        for arg in (*call.args, *(k.value for k in call.keywords)) if isinstance(arg, ast.Call)
    }
