"""What SQLAlchemy's and sqlmodel's constructors and annotations make, for the value analysis
(`fixer.model.values`): `create_async_engine` an async engine (the database flow decides each engine's kind),
`sessionmaker(class_=AsyncSession)` and `async_sessionmaker` an async factory, `sessionmaker(engine)` a factory
of the engine's kind, `Session(engine)` a session of the engine's kind, `AsyncSession(...)` an async session;
an annotation `AsyncSession | None`, `Optional[...]`, `Annotated[..., Depends(...)]`, a string or an alias."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from fixer.model.modules import Role
from fixer.model.names import SESSION_MODULES, Function, ModuleReader, dotted_name

if TYPE_CHECKING:
    from fixer.model.values import ValueAnalysis

Value = tuple[str, str | None]  # (what, detail): ("session", "async"), ("instance", "path::Class"), ...
Chain = tuple["Site", ...]  # the sites the value came through, in order
Values = dict[Value, Chain]

ASYNC_ENGINES = frozenset({"create_async_engine", "async_engine_from_config", "AsyncEngine"})
SYNC_ENGINES = frozenset({"create_engine", "engine_from_config"})
FACTORIES = frozenset({"sessionmaker", "async_sessionmaker", "scoped_session", "async_scoped_session"})
WRAPPERS = frozenset({"Optional", "Union", "Annotated"})
# Names Python code uses without importing them from SQLAlchemy in the same module (`from x import *`).
# Methods only a session has: a name they are called on that holds nothing known is reported as undecided.
SESSION_ONLY = frozenset({"commit", "rollback", "refresh", "flush", "exec", "scalars", "add", "add_all", "expunge",
                          "merge", "query"})
DECLARED = "`{}` annotated {}"  # the site of a parameter's annotation
SHOWN = frozenset({"session", "engine", "factory", "connection"})  # what `fixer model` shows a parameter holding
BARE_CLASSES = frozenset({"Session", "AsyncSession", "create_engine", "create_async_engine", "sessionmaker",
                           "async_sessionmaker"})



class Site:
    """Where a value passed, written out only when `fixer model` shows it (unparsing every site costs)."""

    __slots__ = ("line", "parts", "path", "template")

    def __init__(self, path: str, line: int, template: str, parts: tuple[object, ...]) -> None:
        self.path, self.line, self.template, self.parts = path, line, template, parts

    def __str__(self) -> str:
        shown = (short(p) if isinstance(p, ast.AST) else p for p in self.parts)
        return f"{self.path}:{self.line} " + self.template.format(*shown)


def site(path: str, node: ast.AST, template: str, *parts: object) -> Site:
    return Site(path, getattr(node, "lineno", 0), template, parts)


def made_by(analysis: ValueAnalysis, reader: ModuleReader, function: Function | None, call: ast.Call, absolute: str) -> Values:
    module, _, last = absolute.rpartition(".")
    if module and not module.startswith(SESSION_MODULES) and module not in ("fastapi", "Depends"):
        return {}
    here = site(reader.path, call, "{}", call)
    if last in ASYNC_ENGINES or last in SYNC_ENGINES:
        engine = analysis.engine_sites.get((reader.path, call.lineno))
        if engine is not None:
            return {("engine", "sqlite" if engine.sqlite else engine.kind): (here,)}
        return {("engine", "async" if last in ASYNC_ENGINES else "sync"): (here,)}
    if last in FACTORIES:
        if last.startswith("async_"):
            return {("factory", "async"): (here,)}
        if last == "scoped_session":
            return {("factory", v[1]): (*c, here) for v, c in analysis.eval(reader, function, bind(call)).items() if v[0] == "factory"}
        made = next((k.value for k in call.keywords if k.arg == "class_"), None)
        classes = {v[1] for v in analysis.eval(reader, function, made)} if made is not None else set()
        if any(c and c.rpartition(".")[2] == "AsyncSession" for c in classes):
            return {("factory", "async"): (here,)}
        return {("factory", on(v)): (*c, here) for v, c in analysis.eval(reader, function, bind(call)).items() if v[0] == "engine"}
    if last == "AsyncSession":
        return {("session", "async"): (here,)}
    if last == "Session":
        bound = {v: c for v, c in analysis.eval(reader, function, bind(call)).items() if v[0] == "engine"}
        return {("session", on(v)): (*c, here) for v, c in bound.items()} or {("session", None): (here,)}
    if last == "Depends":
        return analysis.depends(reader, function, call)
    return {}


def made_unknown(values: Values, site: Site | None) -> bool:
    """Whether a session of unknown kind among `values` comes from where one is made (`Session(engine)` on an
    engine not followed, a factory of unknown kind), not only from a sync `Session` annotation (its own or a
    caller's parameter's)."""
    unknown = values.get(("session", None))
    if unknown is None:
        return False
    origin = (*unknown, site)[0]
    return origin is None or origin.template != DECLARED


def alias(analysis: ValueAnalysis, reader: ModuleReader, node: ast.AST, name: str) -> Values:
    """`SessionDep = Annotated[AsyncSession, Depends(get_db)]`, `DB: TypeAlias = "AsyncSession"`, `type DB = ...`:
    a module-level name that stands for a type of session or engine, which an annotation naming it (in any
    module) means."""
    declared = not isinstance(node, (ast.Assign, ast.AnnAssign)) or (
        isinstance(node, ast.AnnAssign) and (dotted_name(node.annotation) or "").rpartition(".")[2] == "TypeAlias")
    value = getattr(node, "value", None)
    if isinstance(value, ast.Constant) and not declared:  # `NAME = "AsyncSession"` is a string, not a type
        return {}
    if any(v[0] in SHOWN for v in annotated(analysis, reader, value)):
        return {("alias", f"{reader.path}::{name}"): ()}
    return {}


def annotated(analysis: ValueAnalysis, reader: ModuleReader, node: ast.AST | None, depth: int = 0) -> Values:
    """What a parameter annotated so holds: `AsyncSession | None`, `Optional[Session]`, `Annotated[AsyncSession,
    Depends(get_db)]`, a string, an alias (`DB = AsyncSession`, `SessionDep = Annotated[...]`)."""
    if node is None or depth > 6:
        return {}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return annotated(analysis, reader, ast.parse(node.value, mode="eval").body, depth + 1)
        except SyntaxError:
            return {}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return {**annotated(analysis, reader, node.left, depth + 1), **annotated(analysis, reader, node.right, depth + 1)}
    if isinstance(node, ast.Subscript):
        wrapper = (dotted_name(node.value) or "").rpartition(".")[2]
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if wrapper not in WRAPPERS:
            return {}
        out: Values = {}
        for element in elements[:1] if wrapper == "Annotated" else elements:
            out.update(annotated(analysis, reader, element, depth + 1))
        for extra in elements[1:] if wrapper == "Annotated" else ():
            out.update(analysis.depends(reader, None, extra))
        return out
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return {}
    out = {}
    for value in analysis.eval(reader, None, node):
        if value[0] == "alias" and value[1]:  # `SessionDep`, defined here or imported (re-exports too)
            path, _, name = value[1].partition("::")
            owner = analysis.p.readers[path]
            aliased = owner.assigned[name]
            here = site(path, aliased, "{} = {}", name, aliased)
            out.update({held: (*chain, here) for held, chain in annotated(analysis, owner, aliased, depth + 1).items()})
        elif value[0] == "class" and value[1]:
            out[("instance", value[1])] = ()
        elif value[0] == "external" and value[1]:
            last = value[1].rpartition(".")[2]
            if value[1].startswith(SESSION_MODULES) or value[1] == last:
                if last == "AsyncSession":
                    out[("session", "async")] = ()
                elif last == "Session":
                    out[("session", None)] = ()
                elif last == "AsyncEngine":
                    out[("engine", "async")] = ()
    return out


class Undecided(NamedTuple):
    """A name the use layer calls session methods on whose kind the analysis cannot tell: FX041 reports it."""

    path: str
    line: int
    function: str  # qualified name, `Class.method`
    name: str  # the receiver as written, `session`, `self.db`
    why: str  # why it could not be decided, with the chain of sites where there is one

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.function}: `{self.name}` {self.why}"


def undecided_uses(analysis: ValueAnalysis) -> Iterator[Undecided]:
    """Names the use layer calls session methods on whose kind the analysis cannot tell, and why not."""
    from fixer import tables

    # `session.get(...)` says nothing alone (a dict has it too), but on a name holding a session it counts.
    methods = SESSION_ONLY | tables.async_session_methods()
    for function in analysis.functions.values():
        if analysis.p.readers[function.path].role is Role.TEST:  # fixtures hand tests their sessions
            continue
        seen: set[str] = set()
        for node in function.nodes:
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods):
                continue
            base = dotted_name(node.func.value)
            if not base or base in seen:
                continue
            if _declared_sync(analysis, function, base):
                seen.add(base)
                continue
            values = analysis.of(function, node.func.value)
            sessions = {v[1] for v in values if v[0] == "session"}
            why = ""
            chains = "; ".join(" <- ".join(one_per_line(chain)) for v, chain in sorted(values.items(), key=str)
                               if v[0] == "session" and chain)
            if len(sessions - {None}) > 1 and decide(sessions) is None:
                why = "holds both a sync and an async session"
            elif sessions == {None}:
                why = "is a session whose engine the analysis cannot follow"
                origins = {_unfollowed(analysis, chain) for v, chain in values.items() if v == ("session", None)}
                chains = "; ".join(filter(None, [chains, *sorted(origins)]))
            elif not values and node.func.attr in SESSION_ONLY and (base in function.params or base.startswith("self.")):
                why = "holds nothing the analysis can follow (no annotation, no caller in the project passes it)"
            if why:
                seen.add(base)
                yield Undecided(function.path, node.lineno, function.qualname, base, f"{why} ({chains})" if chains else why)


def _declared_sync(analysis: ValueAnalysis, function: Function, name: str) -> bool:
    """A parameter annotated with the sync `Session` class that no session of another kind reaches: every
    session it holds is declared sync (its annotation, or a caller's parameter annotated so), none is made on
    an engine the analysis cannot follow, and none is async."""
    slot = ("l", function.path, function.qualname, name)
    held = analysis.slots.get(slot, {})
    return (name in function.params and slot not in analysis.made_unknown
            and {v[1] for v in held if v[0] == "session"} == {None}
            and not any(v[0] in ("engine", "factory", "connection") for v in held))


def _unfollowed(analysis: ValueAnalysis, chain: Chain) -> str:
    """Where a session of unknown kind was made on a parameter of its function (`Session(engine)`): that
    parameter, named, when it holds nothing the analysis can follow."""
    if not chain:
        return ""
    origin = chain[0]
    for function in analysis.functions.values():
        if function.path != origin.path or not function.node.lineno <= origin.line <= (function.node.end_lineno or 0):
            continue
        for node in function.nodes:
            engine = bind(node) if isinstance(node, ast.Call) and node.lineno == origin.line else None
            if isinstance(engine, ast.Name) and engine.id in function.params and not analysis.of(function, engine):
                return (f"`{engine.id}` is a parameter of {function.qualname} with no annotation the analysis knows, "
                        "and no caller in the project passes it an engine")
    return ""


def bind(call: ast.Call) -> ast.AST | None:
    return call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "bind"), None)


def on(engine: Value) -> str | None:
    """The kind of session or factory made on an engine of this kind."""
    return engine[1]


def decide(kinds: set[str | None]) -> str | None:
    """'async' or 'sync' when the values agree. An sqlite engine (a local fallback beside PostgreSQL, or a
    test's) does not decide against the other kind, and alone it is left as it is (sync here)."""
    known = kinds - {None}
    if len(known) > 1:
        known.discard("sqlite")
    if len(known) != 1:
        return None
    kind = known.pop()
    return "sync" if kind == "sqlite" else kind


def one_per_line(chain: Chain) -> list[str]:
    """The chain latest site first, one site per source line (`engine = create_async_engine(...)` once)."""
    out: list[Site] = []
    for site in reversed(chain):
        if not out or (out[-1].path, out[-1].line) != (site.path, site.line):
            out.append(site)
    return [str(site) for site in out]


def short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


