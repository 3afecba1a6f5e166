"""The use layer: which functions use sessions, of which kind, who calls whom, and the conversion plan to async.

Read with `ast` once per run from the files that mention sessions. The plan is decided here, for the whole
project at once, so that each use-layer rule (FX010-FX016) only applies its part of it to a file:

- every session a function holds (parameters annotated `Session`/`AsyncSession` or given by
  `Depends(provider)`, `with Session(engine) as s`, `async with factory() as s`, `self.session` set in
  `__init__`) and whether it is async once the project is converted: an async engine, `AsyncSession`, an
  async factory, or a provider over one; parameters take the kind of the arguments callers pass;
- a call graph across modules (names through the imports, `self.method`, `Class(...)` instances,
  `Depends(func)`);
- a fixed point: a function that awaits (a session coroutine, an `async with`, an async project function)
  becomes `async def`, and its callers await it in turn; a function that cannot become async (a Celery task,
  a `__main__` script, a sync test, a context manager protocol method) is left as it is and reported.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from fixer.model.database import ASYNC_FACTORIES, EngineSite
from fixer.model.modules import ModuleGraph, Role, module_name
from fixer.model.sources import Sources

SESSION_CLASSES = frozenset({"Session", "AsyncSession"})
SESSION_MODULES = ("sqlmodel", "sqlalchemy")
# Decorators that hand a function to a caller outside the project that calls it synchronously.
_SYNC_CALLERS = ("task", "shared_task", "contextmanager", "property", "cached_property", "listens_for", "validator",
                 "field_validator", "model_validator", "computed_field")
_PROTOCOL = frozenset({"__init__", "__enter__", "__exit__", "__iter__", "__next__", "__len__", "__bool__",
                       "__getitem__", "__call__", "__del__", "__repr__", "__str__", "__hash__", "__eq__"})
_SKIPPED_ROLES = (Role.LIBRARY, Role.DEAD, Role.MIGRATION)  # code the plan never converts
_DDL = frozenset({"create_all", "drop_all"})
# asyncio's (and anyio's, trio's) functions that take a coroutine object, not its value.
_TAKE_COROUTINES = frozenset({"run", "create_task", "gather", "wait_for", "ensure_future", "shield", "wait",
                              "run_until_complete", "run_coroutine_threadsafe", "as_completed", "start_soon"})
RAW_SQL_METHODS = frozenset({"execute", "exec", "scalar", "scalars"})


@dataclass(frozen=True)
class FunctionPlan:
    """What the conversion does to one function (keyed by path and qualified name, `Class.method`)."""

    is_async: bool  # `async def` already
    becomes_async: bool = False  # `def` -> `async def`
    blocked: str = ""  # why it must stay sync although it would need to await
    awaits: tuple[str, ...] = ()  # callees (as written, `session.exec`, `todos.create`) whose calls are awaited
    unawaits: tuple[str, ...] = ()  # callees whose `await` is wrong (`session.add`)
    async_sessions: tuple[str, ...] = ()  # names holding an AsyncSession once converted (`session`, `self.session`)
    sync_opens: tuple[str, ...] = ()  # `with X(...) as s` openers (callee as written) that open an async session
    why: tuple[str, ...] = ()  # why it becomes async: the calls it now awaits
    provider: bool = False  # a generator dependency that yields an async session (FX011)
    ddl_engines: tuple[str, ...] = ()  # `SQLModel.metadata.create_all(X)` arguments that are async engines (FX013)
    raw_sql: tuple[str, ...] = ()  # callees given a SQL string (`session.execute("SELECT 1")`) (FX014)
    legacy_queries: tuple[str, ...] = ()  # async sessions whose `.query(...)` chains end here (FX017)
    lazy_reads: tuple[str, ...] = ()  # `x.rel` of a lazy-loaded relationship, read in async code (FX018)
    shared_sessions: tuple[str, ...] = ()  # `asyncio.gather`/`create_task`/threads given the session (FX019)
    unknown_callers: tuple[str, ...] = ()  # places the function is used other than as a call the project makes


@dataclass(frozen=True)
class UsePlan:
    active: bool = False  # the project is (or is being moved) async: the use layer is converted
    functions: Mapping[str, Mapping[str, FunctionPlan]] = field(default_factory=dict)
    factory: str = ""  # "module.name" of the project's own async session factory, if it has one
    factory_paths: Mapping[str, str] = field(default_factory=dict)  # path -> the factory's local name there
    calls_exec: bool = False  # some async session's `.exec` is called: sqlmodel's AsyncSession is the one

    def function(self, path: str, qualname: str) -> FunctionPlan | None:
        return self.functions.get(path, {}).get(qualname)


# ---------------------------------------------------------------------------------------------------------------


def _dotted(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


@dataclass
class _Function:
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
    analysed: bool = False  # sessions and calls read (once: a later round only adds modules)
    _nodes: list[ast.AST] | None = None

    @property
    def nodes(self) -> list[ast.AST]:
        if self._nodes is None:
            self._nodes = _own_nodes(self.node)
        return self._nodes
    blocked: str = ""


class _ModuleReader:
    def __init__(self, path: str, tree: ast.Module, role: Role) -> None:
        self.path = path
        self.name = module_name(path)
        self.role = role
        self.imports: dict[str, str] = {}  # local -> absolute dotted
        self.assigned: dict[str, ast.AST] = {}  # module-level name -> value
        self.functions: dict[str, _Function] = {}
        self.classes: set[str] = set()
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
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(statement, None)
            elif isinstance(statement, ast.ClassDef):
                self.classes.add(statement.name)
                self.relationships.update(_lazy_relationships(statement))
                for item in statement.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self._function(item, statement.name)
            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                passed = _passed_calls(statement)
                for node in ast.walk(statement):
                    if isinstance(node, ast.Call) and _dotted(node.func) and id(node) not in passed:
                        self.top_calls.add(_dotted(node.func))  # type: ignore[arg-type]

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, cls: str | None) -> None:
        qualname = f"{cls}.{node.name}" if cls else node.name
        args = node.args
        params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
        function = _Function(self.path, qualname, cls, node, params)
        for decorator in node.decorator_list:
            text = ast.unparse(decorator)
            last = (_dotted(decorator.func if isinstance(decorator, ast.Call) else decorator) or "").rpartition(".")[2]
            if last in _SYNC_CALLERS:
                function.blocked = f"decorated with @{text}, whose caller calls it synchronously"
        if cls and node.name in _PROTOCOL and node.name != "__init__":
            function.blocked = f"`{node.name}` is called synchronously by Python itself"
        if self.role is Role.TEST and not isinstance(node, ast.AsyncFunctionDef):
            function.blocked = "a sync test: pytest calls it synchronously"
        function.own_blocked = function.blocked
        self.functions[qualname] = function


class _Project:
    def __init__(self, readers: dict[str, _ModuleReader], graph: ModuleGraph, engines: Iterable[EngineSite]) -> None:
        self.readers = readers
        self.by_module = {r.name: r for r in readers.values()}
        self.graph = graph
        # engine (path, name) -> kind
        self.engines = {(e.path, e.target): e.kind for e in engines if e.target and not e.sqlite}
        self._located: dict[tuple[str, str], tuple[_ModuleReader, str] | None] = {}
        self.relationships = frozenset(name for reader in readers.values() for name in reader.relationships)

    # -- names ---------------------------------------------------------------------------------------------------

    def absolute(self, reader: _ModuleReader, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        if head in reader.imports:
            base = reader.imports[head]
        elif head in reader.assigned or head in reader.functions or head in reader.classes:
            base = f"{reader.name}.{head}"
        else:
            return dotted
        return f"{base}.{rest}" if rest else base

    def locate(self, absolute: str, near: str = "") -> tuple[_ModuleReader, str] | None:
        """The module and the name inside it an absolute dotted name means; of several modules with that name
        (a repository holding several backends, each with its `app/db.py`), the one nearest `near`'s folder."""
        key = (absolute, near.rpartition("/")[0])
        if key not in self._located:
            self._located[key] = self._locate(absolute, near)
        return self._located[key]

    def _locate(self, absolute: str, near: str) -> tuple[_ModuleReader, str] | None:
        parts = absolute.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            reader = self.by_module.get(module)
            if reader is None:
                paths = [p for p in self.graph._by_name.get(module, set()) if p in self.readers]
                if paths:
                    reader = self.readers[max(sorted(paths), key=lambda p: _shared_folders(p, near))]
            if reader is not None:
                return reader, ".".join(parts[cut:])
        return None

    def resolve(self, reader: _ModuleReader, dotted: str, depth: int = 0) -> tuple[_ModuleReader, str] | None:
        """Follow a name to where it is defined (through re-exports)."""
        found = self.locate(self.absolute(reader, dotted), reader.path)
        if found is None or depth > 5:
            return found
        owner, name = found
        head = name.split(".")[0]
        if head in owner.imports and head not in owner.functions and head not in owner.classes:
            return self.resolve(owner, name, depth + 1)
        return found

    def is_session_class(self, reader: _ModuleReader, node: ast.AST | None) -> str | None:
        """'Session' or 'AsyncSession' for an annotation or callee naming sqlmodel's or SQLAlchemy's class."""
        dotted = _dotted(node)
        if not dotted:
            return None
        absolute = self.absolute(reader, dotted)
        last = absolute.rpartition(".")[2]
        if last in SESSION_CLASSES and (absolute.startswith(SESSION_MODULES) or absolute == last):
            return last
        return None

    def engine_kind(self, reader: _ModuleReader, node: ast.AST | None) -> str | None:
        dotted = _dotted(node)
        if not dotted:
            if isinstance(node, ast.Call) and (_dotted(node.func) or "").rpartition(".")[2] in ASYNC_FACTORIES:
                return "async"
            return None
        found = self.resolve(reader, dotted)
        if found is None:
            return None
        return self.engines.get((found[0].path, found[1]))

    def factory_kind(self, reader: _ModuleReader, dotted: str) -> str | None:
        """'async' / 'sync' for a module-level session factory (`async_sessionmaker(...)`, `sessionmaker(...)`)."""
        found = self.resolve(reader, dotted)
        if found is None or found[1] not in found[0].assigned:
            return None
        owner, name = found
        value = owner.assigned[name]
        if not isinstance(value, ast.Call):
            return None
        callee = (_dotted(value.func) or "").rpartition(".")[2]
        if callee not in ("sessionmaker", "async_sessionmaker"):
            return None
        if callee == "async_sessionmaker" or any(
            k.arg == "class_" and (_dotted(k.value) or "").endswith("AsyncSession") for k in value.keywords
        ):
            return "async"
        bind = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "bind"), None)
        return self.engine_kind(owner, bind) or "sync"


def _params_with_defaults(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[ast.arg, ast.AST | None]]:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.AST | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    return [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]


def _depends_target(node: ast.AST | None) -> ast.AST | None:
    if isinstance(node, ast.Call) and (_dotted(node.func) or "").rpartition(".")[2] == "Depends" and node.args:
        return node.args[0]
    return None


def reads(graph: ModuleGraph, roles: Mapping[str, Role]) -> set[str]:
    """The modules `build` parses first whatever the flow says (it may add the engines' own): the model keeps
    their trees from the flow's parse for it."""
    return {
        module.path for module in graph.modules.values()
        if module.db_use and _imports_orm(module) and roles.get(module.path, Role.LIVE) not in _SKIPPED_ROLES
    }


def build(
    python: Iterable[tuple[str, bytes]],
    roles: Mapping[str, Role],
    graph: ModuleGraph,
    engines: Iterable[EngineSite],
    active: bool,
    unsafe_fixes: bool = False,
    sources: Sources | None = None,
) -> UsePlan:
    """The plan, from the modules that name sessions and then from every module that imports one whose
    functions the plan makes async (they call them: `main.py`'s lifespan calls `init_db()`). Trees come from
    `sources` (the files of `python` alone when none is given)."""
    if not active:
        return UsePlan()
    sources = sources if sources is not None else Sources(lambda _: None, dict(python))
    engines = list(engines)
    engine_paths = {e.path for e in engines}
    readers: dict[str, _ModuleReader] = {}

    def skipped(path: str) -> bool:
        return roles.get(path, Role.LIVE) in _SKIPPED_ROLES

    def add(path: str) -> None:
        if skipped(path):
            return
        tree = sources.tree(path)
        if tree is None:
            return
        try:
            readers[path] = _ModuleReader(path, tree, roles.get(path, Role.LIVE))
        except (ValueError, RecursionError, MemoryError):
            return

    tried: set[str] = set()
    # The modules that make engines or name a session (create_all, execute) and import SQLAlchemy or sqlmodel, then (below) every module that
    # imports one whose functions the plan makes async: a sync project, or a tree's third-party source,
    # pays nothing for them.
    for module in graph.modules.values():
        if (module.db_use or module.path in engine_paths) and _imports_orm(module) and not skipped(module.path):
            tried.add(module.path)
            add(module.path)
    for _ in range(5):  # each round reaches one more step of importers
        plan = _Planner(_Project(readers, graph, engines), unsafe_fixes).plan()
        async_paths = {path for path, functions in plan.functions.items() if any(
            f.becomes_async or f.provider for f in functions.values())}
        importing = graph.importers(async_paths)
        importers = [module.path for module in graph.modules.values() if module.path not in tried and module.path in importing]
        if not importers:
            return plan
        for path in importers:
            tried.add(path)
            add(path)
    return plan


class _Planner:
    def __init__(self, project: _Project, unsafe_fixes: bool = False) -> None:
        self.p = project
        self.unsafe_fixes = unsafe_fixes
        self.functions = {(f.path, f.qualname): f for r in project.readers.values() for f in r.functions.values()}
        fresh = [f for f in self.functions.values() if not f.analysed]
        for function in self.functions.values():
            function.blocked = function.own_blocked
        for function in fresh:
            self._sessions(function)
        for function in fresh:
            self._calls(function)
            function.analysed = True

    # -- sessions ------------------------------------------------------------------------------------------------

    def _opened_kind(self, reader: _ModuleReader, value: ast.AST) -> str | None | bool:
        """The kind of session an expression opens: 'async', 'sync', or False when it opens none."""
        if not isinstance(value, ast.Call):
            return False
        cls = self.p.is_session_class(reader, value.func)
        if cls == "AsyncSession":
            return "async"
        if cls == "Session":
            bind = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "bind"), None)
            return "async" if self.p.engine_kind(reader, bind) == "async" else "sync"
        dotted = _dotted(value.func)
        if dotted:
            kind = self.p.factory_kind(reader, dotted)
            if kind:
                return kind
        return False

    def _sessions(self, function: _Function) -> None:
        reader = self.p.readers[function.path]
        for arg, default in _params_with_defaults(function.node):
            annotation = arg.annotation
            depends = _depends_target(default)
            if isinstance(annotation, ast.Subscript) and (_dotted(annotation.value) or "").endswith("Annotated"):
                elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
                annotation = elements[0]
                depends = next((_depends_target(e) for e in elements[1:] if _depends_target(e) is not None), depends)
            alias = _dotted(annotation)
            if alias and depends is None:  # SessionDep = Annotated[Session, Depends(get_session)]
                found = self.p.resolve(reader, alias)
                if found and found[1] in found[0].assigned:
                    value = found[0].assigned[found[1]]
                    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Tuple):
                        annotation = value.slice.elts[0]
                        depends = next((_depends_target(e) for e in value.slice.elts[1:] if _depends_target(e)), None)
            cls = self.p.is_session_class(reader, annotation)
            if depends is not None and _dotted(depends):
                target = self.p.resolve(reader, _dotted(depends))  # type: ignore[arg-type]
                if target and target[1] in target[0].functions:
                    function.param_sessions[arg.arg] = f"{target[0].path}::{target[1]}"
                    function.sessions[arg.arg] = None
                    continue
            if cls == "AsyncSession":
                function.sessions[arg.arg] = "async"
            elif cls == "Session":
                function.sessions[arg.arg] = None
                function.param_sessions[arg.arg] = "Session"
        for node in function.nodes:
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    kind = self._opened_kind(reader, item.context_expr)
                    if kind is not False and isinstance(item.optional_vars, ast.Name):
                        function.sessions[item.optional_vars.id] = kind  # type: ignore[assignment]
                        # `with` over an async session, or `async with Session(...)`: the sync class has no
                        # asynchronous context manager protocol.
                        sync_class = self.p.is_session_class(reader, item.context_expr.func) == "Session"  # type: ignore[attr-defined]
                        if kind == "async" and (isinstance(node, ast.With) or sync_class):
                            function.opens.append((_dotted(item.context_expr.func) or "", item.optional_vars.id))  # type: ignore[attr-defined]
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                kind = self._opened_kind(reader, node.value)
                if kind is not False:
                    function.sessions[node.targets[0].id] = kind  # type: ignore[assignment]
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    opener = item.context_expr
                    if (
                        isinstance(opener, ast.Call) and isinstance(opener.func, ast.Attribute)
                        and opener.func.attr in ("begin", "connect") and isinstance(item.optional_vars, ast.Name)
                    ):
                        function.connections.add(item.optional_vars.id)
            if isinstance(node, (ast.Yield, ast.YieldFrom)) and isinstance(node.value, ast.Name):
                function.yields.add(node.value.id)

    # -- calls -----------------------------------------------------------------------------------------------------

    def _callee(self, function: _Function, dotted: str, instances: dict[str, str]) -> tuple[str, str] | None:
        reader = self.p.readers[function.path]
        head, _, rest = dotted.partition(".")
        if head == "self" and function.cls:
            if "." not in rest:
                key = (function.path, f"{function.cls}.{rest}")
                return key if key in self.functions else None
            return None
        if head in instances and rest and "." not in rest:
            key_path, cls = instances[head].split("::")
            key = (key_path, f"{cls}.{rest}")
            return key if key in self.functions else None
        found = self.p.resolve(reader, dotted)
        if found is None:
            return None
        owner, name = found
        if name in owner.classes:
            key = (owner.path, f"{name}.__init__")
            return key if key in self.functions else None
        key = (owner.path, name)
        return key if key in self.functions else None

    def _calls(self, function: _Function) -> None:
        reader = self.p.readers[function.path]
        instances: dict[str, str] = {}  # local name -> "path::Class" of a project class instance
        for arg, _default in _params_with_defaults(function.node):  # service: TodoService = Depends(...)
            dotted = _dotted(arg.annotation)
            found = self.p.resolve(reader, dotted) if dotted else None
            if found and found[1] in found[0].classes:
                instances[arg.arg] = f"{found[0].path}::{found[1]}"
        for node in function.nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
                target = node.targets[0]
                dotted = _dotted(node.value.func)
                found = self.p.resolve(reader, dotted) if dotted else None
                if found and found[1] in found[0].classes and isinstance(target, ast.Name):
                    instances[target.id] = f"{found[0].path}::{found[1]}"
        passed = _passed_calls(function.nodes)
        awaited = {id(n.value) for n in function.nodes if isinstance(n, ast.Await)}
        for node in function.nodes:
            if isinstance(node, ast.Call):
                dotted = _dotted(node.func)
                if dotted:
                    function.calls.append((node, dotted, self._callee(function, dotted, instances), id(node) in passed, id(node) in awaited))
                    base, _, method = dotted.rpartition(".")
                    first = node.args[0] if node.args else None
                    if (
                        method in RAW_SQL_METHODS and (base in function.sessions or base in function.connections)
                        and (isinstance(first, ast.JoinedStr) or (isinstance(first, ast.Constant) and isinstance(first.value, str)))
                    ):
                        function.raw_sql.append(dotted)
                    if method == "query" and base in function.sessions:
                        function.queries.append(base)

    # -- the fixed point -----------------------------------------------------------------------------------------

    def plan(self) -> UsePlan:
        from fixer import tables

        coroutines = tables.async_session_methods()
        functions = self.functions
        kinds: dict[tuple[str, str], dict[str, str | None]] = {k: dict(f.sessions) for k, f in functions.items()}
        # self.<attr> = <session parameter> in __init__: the attribute holds that session in every method
        attributes: dict[tuple[str, str], dict[str, str]] = {}
        for key, function in functions.items():
            if function.cls and function.qualname.endswith(".__init__"):
                for node in function.nodes:
                    if (
                        isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Name)
                        and node.value.id in function.sessions and _dotted(node.targets[0]) is not None
                        and _dotted(node.targets[0]).startswith("self.")  # type: ignore[union-attr]
                    ):
                        attributes.setdefault((function.path, function.cls), {})[_dotted(node.targets[0])] = node.value.id  # type: ignore[index]
        while True:
            becomes, providers = self._fixed_point(kinds, attributes, coroutines)
            unconverted = self._unconverted_callers(becomes)
            if self.unsafe_fixes or not unconverted:
                break
            # A function some caller cannot await stays sync: reported, and its callers need not await it.
            for key, where in unconverted.items():
                self.functions[key].blocked = f"called where it cannot be awaited: {', '.join(where)}"

        out: dict[str, dict[str, FunctionPlan]] = {}
        for key, function in functions.items():
            plan = self._function_plan(key, function, kinds[key], coroutines, becomes, providers, unconverted.get(key, []))
            if plan is not None:
                out.setdefault(key[0], {})[key[1]] = plan
        factory, factory_paths = self._factory()
        calls_exec = any(a.rpartition(".")[2] == "exec" for f in (p for ps in out.values() for p in ps.values()) for a in f.awaits)
        return UsePlan(active=True, functions=out, factory=factory, factory_paths=factory_paths, calls_exec=calls_exec)

    def _fixed_point(self, kinds, attributes, coroutines) -> tuple[set[tuple[str, str]], dict[tuple[str, str], str | None]]:
        """Session kinds flow along the calls and `Depends`; functions that await become async; until nothing moves."""
        functions = self.functions
        becomes: set[tuple[str, str]] = set()
        providers: dict[tuple[str, str], str | None] = {}
        changed = True
        rounds = 0
        while changed and rounds < 50:
            changed = False
            rounds += 1

            def set_kind(key: tuple[str, str], name: str, kind: str | None) -> None:
                nonlocal changed
                known = kinds[key].get(name, "x") is None or (name in functions[key].params and name not in kinds[key])
                if kind and known:
                    kinds[key][name] = kind
                    changed = True

            # providers: generator functions yielding a session
            for key, function in functions.items():
                for name in function.yields:
                    if name in kinds[key] and providers.get(key) != kinds[key][name]:
                        providers[key] = kinds[key][name]
                        changed = True
            for key, function in functions.items():
                for param, source in function.param_sessions.items():
                    if "::" in source:
                        path, qual = source.split("::")
                        set_kind(key, param, providers.get((path, qual)))
                # self attributes
                if function.cls:
                    init = (function.path, f"{function.cls}.__init__")
                    for attr, param in attributes.get((function.path, function.cls), {}).items():
                        kind = kinds.get(init, {}).get(param)
                        if kind and kinds[key].get(attr) != kind:
                            kinds[key][attr] = kind
                            changed = True
                # arguments flow into parameters
                for call, dotted, target, _, _ in function.calls:
                    if target is None:
                        continue
                    callee = functions[target]
                    params = callee.params[1:] if callee.cls and not _static(callee) else callee.params
                    for index, arg in enumerate(call.args):
                        name = _dotted(arg)
                        if name and index < len(params) and name in kinds[key]:
                            set_kind(target, params[index], kinds[key][name])
                    for keyword in call.keywords:
                        name = _dotted(keyword.value)
                        if keyword.arg and name and name in kinds[key]:
                            set_kind(target, keyword.arg, kinds[key][name])
            # asyncness
            for key, function in functions.items():
                if function.blocked or key in becomes or isinstance(function.node, ast.AsyncFunctionDef):
                    continue
                if self._needs_await(key, function, kinds[key], coroutines, becomes, providers):
                    becomes.add(key)
                    changed = True

        return becomes, providers

    def _unconverted_callers(self, becomes: set[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """Functions becoming async that some code cannot await: a function that must stay sync, module-level code."""
        out: dict[tuple[str, str], list[str]] = {}
        for key, function in self.functions.items():
            # A sync test is reported, not a reason to keep the app broken.
            if self.p.readers[key[0]].role is Role.TEST:
                continue
            if function.blocked and not isinstance(function.node, ast.AsyncFunctionDef):
                for _, _, target, _, _ in function.calls:
                    if target in becomes:
                        out.setdefault(target, []).append(f"{key[0]}:{key[1]} ({function.blocked})")
        for reader in self.p.readers.values():
            for dotted in sorted(reader.top_calls):
                found = self.p.resolve(reader, dotted)
                if found and (found[0].path, found[1]) in becomes:
                    out.setdefault((found[0].path, found[1]), []).append(f"{reader.path} (module level: use asyncio.run)")
        return out

    def _awaits(self, key, function, kinds, coroutines, becomes, providers) -> tuple[list[str], list[str]]:
        """(callees to await, callees wrongly awaited) inside one function."""
        awaits: list[str] = []
        unawaits: list[str] = []
        for call, dotted, target, handed_on, is_awaited in function.calls:
            base, _, method = dotted.rpartition(".")
            if base and kinds.get(base) == "async":
                if method in coroutines and not is_awaited and not handed_on:
                    awaits.append(dotted)
                elif method in tables_sync_methods() and is_awaited:
                    unawaits.append(dotted)
                continue
            if is_awaited:
                continue
            if target is not None and target != key and not self.functions[target].yields and not handed_on:
                callee = self.functions[target]
                if target in becomes or (isinstance(callee.node, ast.AsyncFunctionDef) and not callee.yields):
                    awaits.append(dotted)
        return sorted(set(awaits)), sorted(set(unawaits))

    def _ddl(self, function: _Function) -> list[str]:
        reader = self.p.readers[function.path]
        out = []
        for call, dotted, _, _, _ in function.calls:
            if dotted.rpartition(".")[2] in _DDL and "metadata" in dotted:
                bind = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "bind"), None)
                if self.p.engine_kind(reader, bind) == "async" and _dotted(bind):
                    out.append(_dotted(bind))
        return out

    def _needs_await(self, key, function, kinds, coroutines, becomes, providers) -> bool:
        awaits, _ = self._awaits(key, function, kinds, coroutines, becomes, providers)
        return bool(
            awaits or function.opens or self._ddl(function) or (function.yields and providers.get(key) == "async")
            or any(kinds.get(base) == "async" for base in function.queries)
        )

    def _function_plan(self, key, function, kinds, coroutines, becomes, providers, unconverted) -> FunctionPlan | None:
        awaits, unawaits = self._awaits(key, function, kinds, coroutines, becomes, providers)
        ddl = self._ddl(function)
        is_async = isinstance(function.node, ast.AsyncFunctionDef)
        provider = bool(function.yields) and providers.get(key) == "async"
        async_sessions = tuple(sorted(n for n, k in kinds.items() if k == "async"))
        annotated = any(kinds.get(param) == "async" for param, source in function.param_sessions.items() if source == "Session")
        queries = sorted({base for base in function.queries if kinds.get(base) == "async"})
        lazy = self._lazy_reads(function, kinds) if (is_async or key in becomes) else []
        shared = _shared_sessions(
            function, {name for name, kind in kinds.items() if kind == "async"},
            lambda dotted: self.p.absolute(self.p.readers[function.path], dotted),
        )
        if not (awaits or unawaits or function.opens or ddl or provider or key in becomes or annotated or function.raw_sql or queries or lazy or shared):
            return None
        blocked = ""
        if function.blocked and not is_async and (awaits or function.opens or ddl or provider):
            blocked = function.blocked
        elif not is_async and key not in becomes and (awaits or function.opens or ddl or provider):
            blocked = "it cannot become async"
        return FunctionPlan(
            is_async=is_async,
            becomes_async=key in becomes,
            blocked=blocked,
            awaits=tuple(awaits) if (is_async or key in becomes) else (),
            unawaits=tuple(unawaits),
            async_sessions=async_sessions,
            sync_opens=tuple(sorted({o for o, _ in function.opens})) if (is_async or key in becomes) else (),
            why=tuple(awaits),
            provider=provider and (is_async or key in becomes),
            ddl_engines=tuple(sorted(set(ddl))) if (is_async or key in becomes) else (),
            unknown_callers=tuple(unconverted),
            raw_sql=tuple(sorted(set(function.raw_sql))),
            legacy_queries=tuple(queries) if (is_async or key in becomes) else (),
            lazy_reads=tuple(lazy),
            shared_sessions=tuple(shared),
        )

    def _lazy_reads(self, function: _Function, kinds: Mapping[str, str | None]) -> list[str]:
        """`obj.rel` reads of lazy relationships, where `obj` came from an async session in the same function
        (`todo = await session.get(Todo, id)`, rows of `(await session.exec(q)).all()`) and nothing there
        loads eagerly (`selectinload`, `joinedload`): each needs a lazy load, which async code cannot do."""
        sessions = {name for name, kind in kinds.items() if kind == "async"}
        if not self.p.relationships or not sessions:
            return []
        if any(isinstance(n, ast.Call) and (_dotted(n.func) or "").rpartition(".")[2] in _EAGER for n in function.nodes):
            return []

        def from_session(value: ast.AST) -> bool:
            return any(
                isinstance(n, ast.Call) and (_dotted(n.func) or "").rpartition(".")[0] in sessions | loaded
                or isinstance(n, ast.Name) and n.id in loaded
                for n in ast.walk(value)
            )

        loaded: set[str] = set()
        for node in function.nodes:  # in source order: a name is loaded before it is iterated over
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if from_session(node.value):
                    loaded.add(node.targets[0].id)
            elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
                if from_session(node.iter):
                    loaded.add(node.target.id)
        return sorted({
            f"{node.value.id}.{node.attr}" for node in function.nodes
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr in self.p.relationships
            and isinstance(node.value, ast.Name) and node.value.id in loaded
        })

    def _factory(self) -> tuple[str, dict[str, str]]:
        """The project's own async session factory: `async_session = async_sessionmaker(...)` at module level."""
        for reader in sorted(self.p.readers.values(), key=lambda r: r.path):
            for name in sorted(reader.assigned):
                if self.p.factory_kind(reader, name) == "async":
                    return f"{reader.name}.{name}", {reader.path: name}
        return "", {}


_EAGER = frozenset({"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"})
_EAGER_LAZY = ("selectin", "joined", "subquery", "immediate")


def _lazy_relationships(cls: ast.ClassDef) -> set[str]:
    """Relationship attributes of a model class that load lazily (the default)."""
    out = set()
    for statement in cls.body:
        value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
        target = statement.targets[0] if isinstance(statement, ast.Assign) else getattr(statement, "target", None)
        if not isinstance(value, ast.Call) or not isinstance(target, ast.Name):
            continue
        if (_dotted(value.func) or "").rpartition(".")[2] not in ("Relationship", "relationship"):
            continue
        if not any(lazy in ast.unparse(keyword.value) for keyword in value.keywords for lazy in _EAGER_LAZY):
            out.add(target.id)
    return out


# Where one call runs its arguments concurrently, or on another thread.
_CONCURRENT = frozenset({"gather", "create_task", "ensure_future", "to_thread", "run_in_executor", "submit", "Thread",
                         "start_soon", "run_in_threadpool"})


def _shared_sessions(function: _Function, sessions: set[str], absolute: Callable[[str], str]) -> list[str]:
    """`asyncio.gather(a(session), b(session))`, `create_task(job(session))`, `to_thread(f, session)`: an
    AsyncSession is not safe for concurrent use (one connection, one transaction). Only the concurrency
    libraries' own functions count (`TaskService.create_task` is a todo app's method)."""
    out = []
    for node in function.nodes:
        callee = _dotted(node.func) if isinstance(node, ast.Call) else None
        if not callee or callee.rpartition(".")[2] not in _CONCURRENT:
            continue
        base = callee.rpartition(".")[0]
        if not (absolute(callee).startswith(_CONCURRENCY_MODULES) or base.rpartition(".")[2] in _CONCURRENCY_OBJECTS):
            continue
        named = [n.id if isinstance(n, ast.Name) else _dotted(n) for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute))]
        uses = [name for name in named if name in sessions]
        last = (_dotted(node.func) or "").rpartition(".")[2]
        if uses and (last != "gather" or len(uses) > 1):
            out.append(_dotted(node.func) or last)
    return sorted(set(out))


_CONCURRENCY_MODULES = ("asyncio.", "anyio.", "threading.", "concurrent.futures.", "starlette.concurrency.",
                        "fastapi.concurrency.")
_CONCURRENCY_OBJECTS = frozenset({"loop", "tg", "task_group", "taskgroup", "executor", "pool", "nursery"})


def _imports_orm(module) -> bool:  # noqa: ANN001 - a ModuleInfo
    return any(name.split(".")[0] in SESSION_MODULES for name in module.imports)


def _shared_folders(path: str, other: str) -> int:
    count = 0
    for a, b in zip(path.split("/")[:-1], other.split("/")[:-1]):
        if a != b:
            break
        count += 1
    return count


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
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


def _passed_calls(node: ast.AST | list[ast.AST]) -> set[int]:
    """Calls whose result is handed to another call (`asyncio.run(main())`, `create_task(job())`): the
    coroutine object is what is wanted there, not its awaited value."""
    return {
        id(arg) for call in (node if isinstance(node, list) else ast.walk(node))
        if isinstance(call, ast.Call) and (_dotted(call.func) or "").rpartition(".")[2] in _TAKE_COROUTINES
        for arg in (*call.args, *(k.value for k in call.keywords)) if isinstance(arg, ast.Call)
    }


def _static(function: _Function) -> bool:
    return any(_dotted(d) == "staticmethod" for d in function.node.decorator_list)


def tables_sync_methods() -> frozenset[str]:
    from fixer import tables

    return tables.sync_session_methods()
