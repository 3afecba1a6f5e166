"""What each expression of the project holds: an engine, a session factory, a session (each sync or async),
a connection, an instance of one of the project's classes; computed once per run for the whole project.

One flow-insensitive analysis over the modules the use layer reads (`fixer.model.names`), to a fixed point
across modules. A value reaches a name through:

- assignments (module globals, locals, `self.x = ...` in any method of the class or of a class above or
  below it in the hierarchy, class-level attributes), imports and re-exports;
- parameters: their annotations (`Optional[...]`, `Union[...]`, `X | None`, `Annotated[...]`, string
  annotations, aliases such as `DB = AsyncSession`), their `Depends(...)` default, and every call site in
  the project that passes them an argument (bound methods too, found through generic base classes);
- return values (a getter function) and yielded values (a dependency; `with` over an `@contextmanager`);
- `with X as n` / `async with X as n`: what entering X gives.

The constructors and annotations are SQLAlchemy's and sqlmodel's (`fixer.model.value_kinds`). Where a name
holds both kinds, or a session whose kind nothing shows, the analysis says so
(`undecided`) rather than guess; the plan acts only on what it decided.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from fixer.model.database import EngineSite
from fixer.model.names import (
    TYPE_ALIAS,
    Function,
    ModuleReader,
    Project,
    dotted_name,
    is_generator,
)
from fixer.model.value_kinds import (
    BARE_CLASSES,
    DECLARED,
    FACTORIES,
    SHOWN,
    Site,
    Value,
    Values,
    alias,
    annotated,
    decide,
    made_by,
    made_unknown,
    one_per_line,
    site,
    Undecided,
    undecided_uses,
)

Slot = tuple[str, ...]

_CONTEXT_MANAGERS = frozenset({"contextmanager", "asynccontextmanager"})
_MAX_ROUNDS = 30


def _decorated(function: Function, names: Iterable[str]) -> bool:
    wanted = set(names)
    return any((dotted_name(d.func if isinstance(d, ast.Call) else d) or "").rpartition(".")[2] in wanted
               for d in function.node.decorator_list)


def _bound(function: Function) -> bool:
    return bool(function.cls) and not _decorated(function, ("staticmethod",))


class ValueAnalysis:
    """The values of a project's expressions, solved once (`solve`), then asked by the plan."""

    def __init__(self, project: Project, engines: Iterable[EngineSite]) -> None:
        self.engine_sites = {(e.path, e.line): e for e in engines}
        self.slots: dict[Slot, Values] = {}
        self.declared: dict[Slot, str] = {}  # parameter annotated AsyncSession: what it holds is declared
        self.made_unknown: set[Slot] = set()  # slots a session of unknown kind reaches not only from an annotation
        self.changed = False
        self._locals: dict[int, frozenset[str]] = {}
        self._top: dict[str, list[ast.AST]] = {}
        self._flows: dict[int, list[ast.AST]] = {}  # per function, the nodes values flow through (read once)
        self.wanted: set[str] = set()  # dotted names of modules not read that are handed a session, engine or factory
        self.read(project)

    def read(self, project: Project) -> None:
        """The project's modules, again when the plan has read more of them: what is known stays known (a module
        read later only adds values), the rest is solved from there."""
        self.p = project
        self.functions = {(f.path, f.qualname): f for r in project.readers.values() for f in r.functions.values()}
        self.bases: dict[str, list[str]] = {}  # "path::Class" -> its project base classes, in order
        self._mro: dict[str, list[str]] = {}  # filled once the bases are known (`solve`)
        self._hierarchies: dict[str, list[str]] = {}

    def locals(self, function: Function) -> frozenset[str]:
        if id(function) not in self._locals:
            args = function.node.args
            stars = [a.arg for a in (args.vararg, args.kwarg) if a is not None]
            self._locals[id(function)] = frozenset([*function.params, *stars, *_assigned_names(function)])
        return self._locals[id(function)]

    # -- the fixed point -----------------------------------------------------------------------------------------

    def solve(self) -> ValueAnalysis:
        for reader in self.p.readers.values():
            for name, node in reader.class_nodes.items():
                key = f"{reader.path}::{name}"
                # `class CRUDNote(CRUDBase[Note])`: the generic base is the class subscripted
                self.bases[key] = [v[1] for base in node.bases
                                   for v in self.eval(reader, None, base.value if isinstance(base, ast.Subscript) else base)
                                   if v[0] == "class" and v[1] != key]
        for _ in range(_MAX_ROUNDS):
            self.changed = False
            for reader in self.p.readers.values():
                self._module(reader)
            for function in self.functions.values():
                self._parameters(function)
                self._function(function)
            if not self.changed:
                break
        return self

    def _add(self, slot: Slot, values: Values, site: Site | None) -> None:
        held = self.slots.setdefault(slot, {})
        if made_unknown(values, site):
            self.made_unknown.add(slot)
        for value, chain in values.items():
            if value not in held:
                held[value] = (*chain, site) if site is not None else chain
                self.changed = True

    def _parameters(self, function: Function) -> None:
        reader = self.p.readers[function.path]
        args = function.node.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.AST | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for index, (arg, default) in enumerate([*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]):
            slot = ("l", function.path, function.qualname, arg.arg)
            if index == 0 and _bound(function):  # `self` holds an instance, a classmethod's `cls` the class
                kind = "class" if _decorated(function, ("classmethod",)) else "instance"
                self._add(slot, {(kind, f"{function.path}::{function.cls}"): ()}, None)
                continue
            if arg.annotation is not None:
                annotated = self.annotation(reader, arg.annotation)
                self._add(slot, annotated, site(function.path, arg, DECLARED, arg.arg, arg.annotation))
                if ("session", "async") in annotated:
                    self.declared[slot] = "async"
            if default is not None:
                provided = self.depends(reader, None, default)
                self._add(slot, provided, site(function.path, default, "`{}` = {}", arg.arg, default))

    def _top_level(self, reader: ModuleReader) -> list[ast.AST]:
        """The module's own statements' nodes, outside functions and classes (read once)."""
        if reader.path not in self._top:
            self._top[reader.path] = [
                node for statement in reader.tree.body
                if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                for node in ast.walk(statement)
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.With, ast.AsyncWith, ast.Call))
                or (TYPE_ALIAS is not None and isinstance(node, TYPE_ALIAS))
            ]
        return self._top[reader.path]

    def _module(self, reader: ModuleReader) -> None:
        for statement in reader.class_nodes.values():
            self._class_body(reader, statement)
        for node in self._top_level(reader):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        held = {**self.eval(reader, None, node.value), **alias(self, reader, node, target.id)}
                        self._add(("g", reader.path, target.id), held,
                                  site(reader.path, node, "{} = {}", target.id, node.value))
            elif TYPE_ALIAS is not None and isinstance(node, TYPE_ALIAS):
                self._add(("g", reader.path, node.name.id), alias(self, reader, node, node.name.id),
                          site(reader.path, node, "type {} = {}", node.name.id, node.value))
            elif isinstance(node, (ast.With, ast.AsyncWith)):  # `if __name__ == "__main__": with ... as s`
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        self._add(("g", reader.path, item.optional_vars.id),
                                  self.enter(self.eval(reader, None, item.context_expr)),
                                  site(reader.path, node, "with {} as {}", item.context_expr, item.optional_vars.id))
            elif isinstance(node, ast.Call):
                self._call(reader, None, node)

    def _class_body(self, reader: ModuleReader, cls: ast.ClassDef) -> None:
        for statement in cls.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                found: Values = {}
                if isinstance(statement, ast.AnnAssign):
                    found.update(self.annotation(reader, statement.annotation))
                if statement.value is not None:
                    found.update(self.eval(reader, None, statement.value))
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._add(("a", reader.path, cls.name, target.id), found,
                                  site(reader.path, statement, "{}.{}", cls.name, target.id))

    def _function(self, function: Function) -> None:
        reader = self.p.readers[function.path]
        for decorator in function.node.decorator_list:  # `@with_session`: the decorator is called with the function
            for callee, bound in self.callees(reader, function.parent, ast.Call(func=decorator, args=[], keywords=[])):
                target = self.functions[callee]
                positional = _positional(target)[1 if bound else 0:]
                if positional:
                    self._add(("l", target.path, target.qualname, positional[0]),
                              {("function", f"{function.path}::{function.qualname}"): ()},
                              site(function.path, decorator, "@{} on {}", decorator, function.qualname))
        if id(function) not in self._flows:
            self._flows[id(function)] = [n for n in function.nodes if isinstance(n, _FLOWS)]
        for node in self._flows[id(function)]:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                values = self.eval(reader, function, node.value)
                for target in targets:
                    self._assign(function, target, values, site(function.path, node, "{} = {}", target, node.value))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        entered = self.enter(self.eval(reader, function, item.context_expr))
                        with_word = "async with" if isinstance(node, ast.AsyncWith) else "with"
                        self._assign(function, item.optional_vars, entered,
                                     site(function.path, node, "{} {} as {}", with_word, item.context_expr, item.optional_vars))
            elif isinstance(node, ast.Return) and node.value is not None:
                self._add(("r", function.path, function.qualname), self.eval(reader, function, node.value),
                          site(function.path, node, "{} returns {}", function.qualname, node.value))
            elif isinstance(node, (ast.Yield, ast.YieldFrom)) and node.value is not None:
                self._add(("y", function.path, function.qualname), self.eval(reader, function, node.value),
                          site(function.path, node, "{} yields {}", function.qualname, node.value))
            elif isinstance(node, ast.Call):
                self._call(reader, function, node)

    def _assign(self, function: Function, target: ast.AST, values: Values, site: Site) -> None:
        if isinstance(target, ast.Name):
            self._add(("l", function.path, function.qualname, target.id), values, site)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            reader = self.p.readers[function.path]
            for owner in self.eval(reader, function, target.value):
                if owner[0] == "instance" and owner[1]:
                    path, _, cls = owner[1].partition("::")
                    self._add(("a", path, cls, target.attr), values, site)

    def _call(self, reader: ModuleReader, function: Function | None, call: ast.Call) -> None:
        """Arguments flow into the parameters of the project functions the call reaches."""
        callees = self.callees(reader, function, call)
        dotted = dotted_name(call.func)
        if not callees and dotted and dotted.partition(".")[0] in reader.imports and self._unread(reader, dotted) and any(
            any(v[0] in SHOWN for v in self.eval(reader, function, arg))
            for arg in (*call.args, *(k.value for k in call.keywords))
        ):  # `Repo(session)` of a module not read yet: the plan reads it next
            self.wanted.add(self.p.absolute(reader, dotted))
        where = function.qualname if function else reader.path
        for callee, bound in callees:
            target = self.functions[callee]
            positional = _positional(target)[1 if bound else 0:]
            index = 0
            for arg in call.args:
                # `f(*args)` with the caller's own `*args`: what each of its positions holds moves on in place
                spread = self._spread(function, arg.value) if isinstance(arg, ast.Starred) else None
                if isinstance(arg, ast.Starred) and spread is None:
                    break
                for values in spread if spread is not None else [self.eval(reader, function, arg)]:
                    name = positional[index] if index < len(positional) else (
                        f"*{index - len(positional)}" if target.node.args.vararg else None)
                    if name is not None:
                        self._add(("l", target.path, target.qualname, name), values,
                                  site(reader.path, call, "{} passes {} to {}", where, arg, target.qualname))
                    index += 1
            for keyword in call.keywords:
                if keyword.arg is None:  # `f(**kwargs)` with the caller's own `**kwargs`
                    given = self._named(function, keyword.value)
                else:
                    given = {keyword.arg: self.eval(reader, function, keyword.value)}
                for key, values in given.items():
                    name = key if key in target.params else f"**{key}" if target.node.args.kwarg else None
                    if name is not None:
                        self._add(("l", target.path, target.qualname, name), values,
                                  site(reader.path, call, "{} passes {}={} to {}", where, key, keyword.value, target.qualname))

    def _spread(self, function: Function | None, node: ast.AST) -> list[Values] | None:
        """What each position of the caller's own `*args` holds, in order (None: not the caller's `*args`)."""
        vararg = function.node.args.vararg if function is not None else None
        if not (vararg is not None and isinstance(node, ast.Name) and node.id == vararg.arg):
            return None
        out = []
        while ("l", function.path, function.qualname, f"*{len(out)}") in self.slots:
            out.append(self.slots[("l", function.path, function.qualname, f"*{len(out)}")])
        return out

    def _named(self, function: Function | None, node: ast.AST) -> dict[str, Values]:
        """What each key of the caller's own `**kwargs` holds."""
        kwarg = function.node.args.kwarg if function is not None else None
        if not (kwarg is not None and isinstance(node, ast.Name) and node.id == kwarg.arg):
            return {}
        return {slot[3][2:]: held for slot, held in self.slots.items()
                if slot[:3] == ("l", function.path, function.qualname) and slot[3].startswith("**")}

    # -- evaluation ----------------------------------------------------------------------------------------------

    def _unread(self, reader: ModuleReader, dotted: str) -> bool:
        """A name of the project's own modules that the analysis has not read."""
        absolute = self.p.absolute(reader, dotted)
        found = self.p.locate(absolute, reader.path)  # `app.repo.Repo` may stop at a read `app/__init__.py`
        if found is not None:
            owner, head = found[0], found[1].partition(".")[0]
            if head in owner.functions or head in owner.classes or head in owner.assigned or head in owner.imports:
                return False
        return bool(self.p.graph.resolve(absolute))

    def callees(self, reader: ModuleReader, function: Function | None, call: ast.Call) -> list[tuple[tuple[str, str], bool]]:
        """The project functions a call reaches, each with whether it is bound (its first parameter skipped)."""
        out = []
        for value in self.eval(reader, function, call.func):
            if value[0] in ("function", "method") and value[1]:
                path, _, qualname = value[1].partition("::")
                out.append(((path, qualname), value[0] == "method"))
            elif value[0] == "class" and value[1]:
                init = self.method(value[1], "__init__")
                if init:
                    out.append((init, True))
        return out

    def method(self, cls: str, name: str) -> tuple[str, str] | None:
        for klass in self.mro(cls):
            path, _, qualname = klass.partition("::")
            if (path, f"{qualname}.{name}") in self.functions:
                return path, f"{qualname}.{name}"
        return None

    def mro(self, cls: str) -> list[str]:
        if cls not in self._mro:
            self._mro[cls] = self._linear(cls)
        return self._mro[cls]

    def _linear(self, cls: str) -> list[str]:
        out: list[str] = []
        stack = [cls]
        while stack:
            klass = stack.pop(0)
            if klass not in out:
                out.append(klass)
                stack.extend(self.bases.get(klass, []))
        return out

    def _hierarchy(self, cls: str) -> list[str]:
        """The class, its bases and the classes below it: `self.x` may be set in any of them."""
        if cls not in self._hierarchies:
            below = [k for k in self.bases if cls in self.mro(k)]
            self._hierarchies[cls] = list(dict.fromkeys([*self.mro(cls), *below]))
        return self._hierarchies[cls]

    def attribute(self, owner: Value, attr: str) -> Values:
        if owner[0] in ("instance", "class") and owner[1]:
            method = self.method(owner[1], attr)
            if method:
                function = self.functions[method]
                # a classmethod binds the class whether it is reached through the class or an instance
                bound = _bound(function) and (owner[0] == "instance" or _decorated(function, ("classmethod",)))
                return {("method" if bound else "function", f"{method[0]}::{method[1]}"): ()}
            out: Values = {}
            for klass in self._hierarchy(owner[1]):
                path, _, name = klass.partition("::")
                for value, chain in self.slots.get(("a", path, name, attr), {}).items():
                    out.setdefault(value, chain)
            return out
        if owner[0] == "external" and owner[1]:
            found = self.p.locate(f"{owner[1]}.{attr}")  # `import app.database as db; db.engine`
            if found is not None and found[1] == attr:
                return self.name(found[0], None, attr)
            return {("external", f"{owner[1]}.{attr}"): ()}
        if owner[0] == "engine" and attr in ("connect", "begin"):
            return {("opener", f"connection:{owner[1]}"): ()}
        if owner[0] == "engine" and attr in FACTORIES:  # `engine.sessionmaker(...)`: FX003 makes it the engine's factory
            return {("opener", f"factory:{owner[1]}"): ()}
        if owner[0] == "factory" and attr == "begin":
            return {("opener", f"session:{owner[1]}"): ()}
        return {}

    def name(self, reader: ModuleReader, function: Function | None, name: str) -> Values:
        if function is not None:
            local = self.slots.get(("l", function.path, function.qualname, name))
            if local is not None or name in self.locals(function):
                return dict(local or {})
            if name in function.children:
                return {("function", f"{function.path}::{function.children[name].qualname}"): ()}
            if function.parent is not None:  # a closure reads the enclosing function's names
                return self.name(reader, function.parent, name)
        if name in reader.functions:
            return {("function", f"{reader.path}::{name}"): ()}
        if name in reader.classes:
            return {("class", f"{reader.path}::{name}"): ()}
        if name in reader.assigned or ("g", reader.path, name) in self.slots:
            return dict(self.slots.get(("g", reader.path, name), {}))
        if name in reader.imports:
            found = self.p.resolve(reader, name)
            if found is not None and (found[0] is not reader or found[1] != name):
                owner, inside = found
                if inside in owner.functions or inside in owner.classes or inside in owner.assigned or (
                    ("g", owner.path, inside) in self.slots  # set in an `if` branch, a `with` at module level
                ):
                    return self.name(owner, None, inside)
            return {("external", reader.imports[name]): ()}
        return {("external", name): ()} if name in BARE_CLASSES else {}

    def eval(self, reader: ModuleReader, function: Function | None, node: ast.AST | None) -> Values:
        if isinstance(node, ast.Name):
            return self.name(reader, function, node.id)
        if isinstance(node, ast.Attribute):
            out: Values = {}
            for owner, chain in self.eval(reader, function, node.value).items():
                for value, inner in self.attribute(owner, node.attr).items():
                    out.setdefault(value, inner or chain)
            return out
        if isinstance(node, ast.Await):
            return self.eval(reader, function, node.value)
        if isinstance(node, ast.IfExp):
            return {**self.eval(reader, function, node.body), **self.eval(reader, function, node.orelse)}
        if isinstance(node, ast.BoolOp):
            out = {}
            for value in node.values:
                out.update(self.eval(reader, function, value))
            return out
        if isinstance(node, ast.NamedExpr):
            return self.eval(reader, function, node.value)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:  # `kwargs.get("db")`
                keyed = self._keyed(function, node.func.value, node.args[0])
                if keyed is not None:
                    return keyed
            return self._made(reader, function, node)
        if isinstance(node, ast.Subscript):  # `kwargs["db"]`, `args[0]`
            keyed = self._keyed(function, node.value, node.slice)
            return keyed if keyed is not None else {}
        return {}

    def _keyed(self, function: Function | None, owner: ast.AST, key: ast.AST) -> Values | None:
        """`kwargs["db"]` / `args[0]` of the function's own `**kwargs` / `*args`; None for anything else."""
        if function is None or not isinstance(owner, ast.Name) or not isinstance(key, ast.Constant):
            return None
        args = function.node.args
        if args.kwarg is not None and owner.id == args.kwarg.arg and isinstance(key.value, str):
            return dict(self.slots.get(("l", function.path, function.qualname, f"**{key.value}"), {}))
        if args.vararg is not None and owner.id == args.vararg.arg and isinstance(key.value, int):
            return dict(self.slots.get(("l", function.path, function.qualname, f"*{key.value}"), {}))
        return None

    def _made(self, reader: ModuleReader, function: Function | None, call: ast.Call) -> Values:
        out: Values = {}
        for callee, chain in self.eval(reader, function, call.func).items():
            what, detail = callee
            if what == "external" and detail:
                out.update(self._constructed(reader, function, call, detail))
            elif what in ("function", "method") and detail:
                target = self.functions[tuple(detail.split("::", 1))]  # type: ignore[index]
                if _decorated(target, _CONTEXT_MANAGERS):
                    out[("cm", detail)] = chain
                elif not is_generator(target):
                    out.update(self.slots.get(("r", target.path, target.qualname), {}))
            elif what == "class" and detail:
                out[("instance", detail)] = (site(reader.path, call, "{}", call),)
            elif what == "factory":
                out[("session", detail)] = (*chain, site(reader.path, call, "{}: a session of the factory", call))
            elif what == "opener" and detail:
                kind, _, made = detail.partition(":")
                out[(kind, made or None)] = chain
        return out

    def _constructed(self, reader: ModuleReader, function: Function | None, call: ast.Call, absolute: str) -> Values:
        return made_by(self, reader, function, call, absolute)

    def depends(self, reader: ModuleReader, function: Function | None, node: ast.AST) -> Values:
        """What `Depends(provider)` hands the parameter: what the provider yields, or returns."""
        if not (isinstance(node, ast.Call) and (dotted_name(node.func) or "").rpartition(".")[2] == "Depends" and node.args):
            return {}
        out: Values = {}
        for value, chain in self.eval(reader, function, node.args[0]).items():
            if value[0] in ("function", "method") and value[1]:
                path, _, qualname = value[1].partition("::")
                kind = "y" if is_generator(self.functions[(path, qualname)]) else "r"
                for held, inner in self.slots.get((kind, path, qualname), {}).items():
                    out.setdefault(held, inner)
            elif value[0] == "class":
                out[("instance", value[1])] = chain
        return out

    def enter(self, values: Values) -> Values:
        """What `with X as n` binds n to, for each value X holds."""
        out: Values = {}
        for value, chain in values.items():
            if value[0] in ("session", "connection"):
                out[value] = chain
            elif value[0] == "cm" and value[1]:
                path, _, qualname = value[1].partition("::")
                out.update(self.slots.get(("y", path, qualname), {}))
        return out

    def annotation(self, reader: ModuleReader, node: ast.AST | None) -> Values:
        return annotated(self, reader, node)

    # -- questions -----------------------------------------------------------------------------------------------

    def of(self, function: Function, node: ast.AST) -> Values:
        return self.eval(self.p.readers[function.path], function, node)

    def kind(self, function: Function, node: ast.AST, what: str = "session") -> str | None:
        """'async' / 'sync' for what the expression holds, when every value of that sort agrees; else None."""
        slot = ("l", function.path, function.qualname, node.id) if isinstance(node, ast.Name) else None
        if slot is not None and self.declared.get(slot) == "async" and what == "session":
            return "async"
        return decide({v[1] for v in self.of(function, node) if v[0] == what})

    def holds(self, function: Function, node: ast.AST, what: str = "session") -> bool:
        return any(v[0] == what for v in self.of(function, node))

    def sessions(self, function: Function) -> dict[str, str | None]:
        """The names (`session`, `self.session`, `self.repo.db`) in the function that hold a session, with its kind."""
        out: dict[str, str | None] = {}
        for name in sorted(self.locals(function)):
            node = ast.Name(id=name)
            if self.holds(function, node):
                out[name] = self.kind(function, node)
        for node in function.nodes:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                base = dotted_name(node.func.value)
                if base and base not in out and self.holds(function, node.func.value):
                    out[base] = self.kind(function, node.func.value)
        return out

    def provided(self, function: Function) -> str | None:
        """The kind of session a generator function yields."""
        return decide({v[1] for v in self.slots.get(("y", function.path, function.qualname), {}) if v[0] == "session"})

    def explain(self, function: Function) -> dict[str, str]:
        """Per parameter holding a session, engine or factory: what it holds and the chain of sites why."""
        out = {}
        args = function.node.args
        stars = sorted(slot[3] for slot in self.slots if slot[:3] == ("l", function.path, function.qualname)
                       and slot[3].startswith("*")) if args.vararg or args.kwarg else []  # `*0`, `**db`
        for name in [*function.params, *stars]:
            held = self.slots.get(("l", function.path, function.qualname, name), {})
            shown = [f"{what} {detail or '(kind unknown)'} <- {' <- '.join(one_per_line(chain)) or 'declared'}"
                     for (what, detail), chain in sorted(held.items(), key=str) if what in SHOWN]
            if shown:
                out[name] = "; ".join(shown)
        return out

    def undecided(self) -> Iterator[Undecided]:
        """Names the use layer calls session methods on whose kind the analysis cannot tell, and why not."""
        return undecided_uses(self)

    def exporting(self) -> set[str]:
        """Paths whose module-level names or functions hold an engine, a factory or a session: their importers
        may use them."""
        out = set()
        for slot, held in self.slots.items():
            if slot[0] in ("g", "r", "y") and any(v[0] in _EXPORTED for v in held):
                out.add(slot[1])
        grown = True
        while grown:  # a package `__init__` re-exporting the factory is imported in its place
            grown = False
            for reader in self.p.readers.values():
                if reader.path not in out and any(
                    any(v[0] in _EXPORTED for v in self.name(reader, None, local)) for local in reader.imports
                ):
                    out.add(reader.path)
                    grown = True
        return out


_FLOWS = (ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.With, ast.AsyncWith, ast.Return, ast.Yield, ast.YieldFrom, ast.Call)
_EXPORTED = SHOWN | {"alias"}  # a module defining `SessionDep = Annotated[AsyncSession, ...]`: its importers use it

def _positional(function: Function) -> list[str]:
    args = function.node.args
    return [a.arg for a in (*args.posonlyargs, *args.args)]


def _assigned_names(function: Function) -> list[str]:
    names: dict[str, None] = {}
    for node in function.nodes:
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        for target in targets:
            if isinstance(target, ast.Name):
                names[target.id] = None
    return list(names)


def analyse(project: Project, engines: Iterable[EngineSite], before: ValueAnalysis | None = None) -> ValueAnalysis:
    """The values of the project's expressions; `before`, the analysis of fewer of its modules, is carried on."""
    if before is None:
        return ValueAnalysis(project, engines).solve()
    before.read(project)
    return before.solve()

