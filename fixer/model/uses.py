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

from fixer.model import values
from fixer.model.database import EngineSite
from fixer.model.modules import ModuleGraph, Role
from fixer.model.names import (
    DDL,
    EAGER,
    SESSION_MODULES,
    Function,
    ModuleReader,
    Project,
    dotted_name,
    is_generator,
    passed_calls,
    takes_coroutines,
)
from fixer.model.sources import Sources
from fixer.model.value_kinds import Undecided

_SKIPPED_ROLES = (Role.LIBRARY, Role.DEAD, Role.MIGRATION)  # code the plan never converts
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
    # Blocked, but all it does is open a sync `Session` on the async engine and hand it on (yield, return): that
    # works until a method is called on it, where the analysis cannot follow (pytest's fixture injection). A note.
    hands_on_only: bool = False


@dataclass(frozen=True)
class UsePlan:
    active: bool = False  # the project is (or is being moved) async: the use layer is converted
    functions: Mapping[str, Mapping[str, FunctionPlan]] = field(default_factory=dict)
    factory: str = ""  # "module.name" of the project's own async session factory, if it has one
    factory_paths: Mapping[str, str] = field(default_factory=dict)  # path -> the factory's local name there
    calls_exec: bool = False  # some async session's `.exec` is called: sqlmodel's AsyncSession is the one
    # "path::Class.method" -> parameter -> what it holds and the chain of sites why (`fixer model` shows it)
    holds: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    undecided: tuple[Undecided, ...] = ()  # session uses whose kind the value analysis cannot tell, with why

    def function(self, path: str, qualname: str) -> FunctionPlan | None:
        return self.functions.get(path, {}).get(qualname)


# ---------------------------------------------------------------------------------------------------------------


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
    readers: dict[str, ModuleReader] = {}

    def skipped(path: str) -> bool:
        return roles.get(path, Role.LIVE) in _SKIPPED_ROLES

    def add(path: str) -> None:
        if skipped(path):
            return
        tree = sources.tree(path)
        if tree is None:
            return
        try:
            readers[path] = ModuleReader(path, tree, roles.get(path, Role.LIVE))
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
    analysis = None
    for _ in range(5):  # each round reaches one more step of importers
        planner = _Planner(Project(readers, graph), engines, unsafe_fixes, analysis)
        analysis = planner.values
        plan = planner.plan()
        # Importers of a module whose functions become async call them; importers of one that holds an engine,
        # a factory or a session (`deps.py` importing `SessionLocal`) may open sessions on it.
        async_paths = {path for path, functions in plan.functions.items() if any(
            f.becomes_async or f.provider for f in functions.values())} | planner.values.exporting()
        importing = graph.importers(async_paths)
        importers = [
            module.path for module in graph.modules.values() if module.path not in tried and module.path in importing
        ] + sorted({path for dotted in planner.values.wanted for path in graph.resolve(dotted)} - tried)
        if not importers:
            return plan
        for path in importers:
            tried.add(path)
            add(path)
    return plan


class _Planner:
    def __init__(self, project: Project, engines: Iterable[EngineSite], unsafe_fixes: bool = False,
                 before: values.ValueAnalysis | None = None) -> None:
        self.p = project
        self.unsafe_fixes = unsafe_fixes
        self.values = values.analyse(project, engines, before)
        self.functions = {(f.path, f.qualname): f for r in project.readers.values() for f in r.functions.values()}
        for function in self.functions.values():
            function.blocked = function.own_blocked
            self._read(function)

    def _read(self, function: Function) -> None:
        """What the function does with sessions, as the value analysis sees each expression."""
        reader = self.p.readers[function.path]
        asked = self.values
        function.sessions = asked.sessions(function)
        function.param_sessions = {}
        function.opens, function.calls, function.raw_sql, function.queries = [], [], [], []
        function.yields, function.connections = set(), set()
        for arg in (*function.node.args.posonlyargs, *function.node.args.args, *function.node.args.kwonlyargs):
            if ("session", None) in asked.annotation(reader, arg.annotation):
                function.param_sessions[arg.arg] = "Session"  # annotated with the sync class
        for node in function.nodes:
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    opener, bound = item.context_expr, item.optional_vars
                    if not isinstance(bound, ast.Name) or not isinstance(opener, ast.Call):
                        continue
                    if isinstance(opener.func, ast.Attribute) and opener.func.attr in ("begin", "connect"):
                        function.connections.add(bound.id)
                    made = asked.of(function, opener.func)
                    sync_class = any(v[0] == "external" and (v[1] or "").rpartition(".")[2] == "Session" for v in made)
                    opens = sync_class or any(v[0] == "factory" or (v[0] == "external" and (v[1] or "").endswith("AsyncSession")) for v in made)
                    # `with` over an async session, or `async with Session(...)`: the sync class has no
                    # asynchronous context manager protocol.
                    if opens and asked.kind(function, opener) == "async" and (isinstance(node, ast.With) or sync_class):
                        function.opens.append((dotted_name(opener.func) or "", bound.id))
            if isinstance(node, (ast.Yield, ast.YieldFrom)) and isinstance(node.value, ast.Name):
                function.yields.add(node.value.id)
        passed = passed_calls(function.nodes)
        awaited = {id(n.value) for n in function.nodes if isinstance(n, ast.Await)}
        calls = [(node, dotted) for node in function.nodes if isinstance(node, ast.Call) and (dotted := dotted_name(node.func))]
        resolved = {id(node): [key for key, _ in asked.callees(reader, function, node)] for node, _ in calls}
        for node, _ in calls:  # a call handed to the project's own bridge (`run_async(job())`) is meant unawaited
            if any(key in self.functions and takes_coroutines(self.functions[key].node) for key in resolved[id(node)]):
                passed |= {id(arg) for arg in (*node.args, *(k.value for k in node.keywords)) if isinstance(arg, ast.Call)}
        for node, dotted in calls:
            targets = resolved[id(node)]
            function.calls.append((node, dotted, targets[0] if targets else None, id(node) in passed, id(node) in awaited))
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
        providers = {key: self.values.provided(f) for key, f in functions.items() if f.yields}
        while True:
            becomes = self._fixed_point(kinds, coroutines, providers)
            unconverted = self._unconverted_callers(becomes)
            if self.unsafe_fixes or not unconverted:
                break
            # A function some caller cannot await stays sync: reported, and its callers need not await it.
            for key, where in unconverted.items():
                self.functions[key].blocked = f"called where it cannot be awaited: {', '.join(where)}"

        out: dict[str, dict[str, FunctionPlan]] = {}
        holds: dict[str, dict[str, str]] = {}
        for key, function in functions.items():
            plan = self._function_plan(key, function, kinds[key], coroutines, becomes, providers, unconverted.get(key, []))
            if plan is not None:
                out.setdefault(key[0], {})[key[1]] = plan
            explained = self.values.explain(function)
            if explained:
                holds[f"{key[0]}::{key[1]}"] = explained
        factory, factory_paths = self._factory()
        calls_exec = any(a.rpartition(".")[2] == "exec" for f in (p for ps in out.values() for p in ps.values()) for a in f.awaits)
        return UsePlan(active=True, functions=out, factory=factory, factory_paths=factory_paths, calls_exec=calls_exec,
                       holds=holds, undecided=tuple(sorted(set(self.values.undecided()))))

    def _fixed_point(self, kinds, coroutines, providers) -> set[tuple[str, str]]:
        """Functions that await become async, and their callers await them in turn, until nothing moves."""
        becomes: set[tuple[str, str]] = set()
        changed = True
        while changed:
            changed = False
            for key, function in self.functions.items():
                if function.blocked or key in becomes or isinstance(function.node, ast.AsyncFunctionDef):
                    continue
                if self._needs_await(key, function, kinds[key], coroutines, becomes, providers):
                    becomes.add(key)
                    changed = True
        return becomes

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
            if target is not None and target != key and not is_generator(self.functions[target]) and not handed_on:
                callee = self.functions[target]
                if target in becomes or isinstance(callee.node, ast.AsyncFunctionDef):
                    awaits.append(dotted)
        return sorted(set(awaits)), sorted(set(unawaits))

    def _ddl(self, function: Function) -> list[str]:
        out = []
        for call, dotted, _, _, _ in function.calls:
            if dotted.rpartition(".")[2] in DDL and "metadata" in dotted:
                bind = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "bind"), None)
                if bind is not None and self.values.kind(function, bind, "engine") == "async" and dotted_name(bind):
                    out.append(dotted_name(bind))
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
        hands_on_only = bool(blocked) and not (awaits or ddl) and all(
            opener.rpartition(".")[2] == "Session" for opener, _ in function.opens)
        return FunctionPlan(
            is_async=is_async,
            becomes_async=key in becomes,
            blocked=blocked,
            hands_on_only=hands_on_only,
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

    def _lazy_reads(self, function: Function, kinds: Mapping[str, str | None]) -> list[str]:
        """`obj.rel` reads of lazy relationships, where `obj` came from an async session in the same function
        (`todo = await session.get(Todo, id)`, rows of `(await session.exec(q)).all()`) and nothing there
        loads eagerly (`selectinload`, `joinedload`): each needs a lazy load, which async code cannot do."""
        sessions = {name for name, kind in kinds.items() if kind == "async"}
        if not self.p.relationships or not sessions:
            return []
        if any(isinstance(n, ast.Call) and (dotted_name(n.func) or "").rpartition(".")[2] in EAGER for n in function.nodes):
            return []

        def from_session(value: ast.AST) -> bool:
            return any(
                isinstance(n, ast.Call) and (dotted_name(n.func) or "").rpartition(".")[0] in sessions | loaded
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
                held = self.values.slots.get(("g", reader.path, name), {})
                if {v[1] for v in held if v[0] == "factory"} == {"async"}:
                    return f"{reader.name}.{name}", {reader.path: name}
        return "", {}


# Where one call runs its arguments concurrently, or on another thread.
_CONCURRENT = frozenset({"gather", "create_task", "ensure_future", "to_thread", "run_in_executor", "submit", "Thread",
                         "start_soon", "run_in_threadpool"})


def _shared_sessions(function: Function, sessions: set[str], absolute: Callable[[str], str]) -> list[str]:
    """`asyncio.gather(a(session), b(session))`, `create_task(job(session))`, `to_thread(f, session)`: an
    AsyncSession is not safe for concurrent use (one connection, one transaction). Only the concurrency
    libraries' own functions count (`TaskService.create_task` is a todo app's method)."""
    out = []
    for node in function.nodes:
        callee = dotted_name(node.func) if isinstance(node, ast.Call) else None
        if not callee or callee.rpartition(".")[2] not in _CONCURRENT:
            continue
        base = callee.rpartition(".")[0]
        if not (absolute(callee).startswith(_CONCURRENCY_MODULES) or base.rpartition(".")[2] in _CONCURRENCY_OBJECTS):
            continue
        named = [n.id if isinstance(n, ast.Name) else dotted_name(n) for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute))]
        uses = [name for name in named if name in sessions]
        last = (dotted_name(node.func) or "").rpartition(".")[2]
        if uses and (last != "gather" or len(uses) > 1):
            out.append(dotted_name(node.func) or last)
    return sorted(set(out))


_CONCURRENCY_MODULES = ("asyncio.", "anyio.", "threading.", "concurrent.futures.", "starlette.concurrency.",
                        "fastapi.concurrency.")
_CONCURRENCY_OBJECTS = frozenset({"loop", "tg", "task_group", "taskgroup", "executor", "pool", "nursery"})


def _imports_orm(module) -> bool:  # noqa: ANN001 - a ModuleInfo
    return any(name.split(".")[0] in SESSION_MODULES for name in module.imports)



def tables_sync_methods() -> frozenset[str]:
    from fixer import tables

    return tables.sync_session_methods()