"""Whether the start creates the tables of the models it imports (APP-LIFESPAN-UNUSED): when no startup hook
reaches `create_all` and no migration or SQL script makes them, which code would have (a lifespan never passed
to `FastAPI(...)`, a function nothing calls), or that none does. The first request then fails with
`relation "..." does not exist`.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fixer.model.failures import Prediction
from fixer.model.sources import Sources

__all__ = ["NeverCreated", "documents_above", "never_created", "table_classes"]

_TABLE = re.compile(r"^class\s+(\w+)\s*\([^)]*\btable\s*=\s*True", re.M)
_NOT_THE_APP = frozenset({"tests", "test", "alembic", "migrations", "migration"})


@dataclass(frozen=True)
class NeverCreated:
    """The start never creates its tables; `kind` says what would have."""

    # "lifespan": never passed to FastAPI(); "uncalled": a function nothing calls; "nothing": the app has no code
    # that creates them, while its tests do
    kind: str
    path: str  # the lifespan or the function; for "nothing", the first table model
    line: int
    name: str
    models: tuple[str, ...]  # the table models the start imports
    app_line: int = 0  # "lifespan": the `FastAPI(...)` call to pass it to, in the same module
    # "uncalled", where a lifespan of the app module can call it (FX046): the app module's file, the module to
    # import the function from as the start names it, and whether it is `async def` (then awaited).
    app_path: str = ""
    module: str = ""
    awaited: bool = False
    tables: tuple[str, ...] = ()  # their tables' names, as the database's error names them
    # "uncalled": the app module's own startup function (its lifespan, or its one `on_event("startup")` hook) to
    # call it first in; "" when FX046 writes a new lifespan.
    hook: str = ""
    # "uncalled", "lifespan": the destructive call (`drop_all`, `drop_table`, `DROP ...` SQL) the function reaches,
    # itself or through what it calls: run at each start it would empty every table, so FX045 reports it, unfixed.
    drops: str = ""
    drops_first: bool = False  # that drop is reached before the tables are created


def table_classes(text: str, declarative: bool = False) -> Iterable[tuple[int, str, str]]:
    """(line, class, table name) of each `class X(SQLModel, table=True)` in a module's text; with `declarative`,
    also of each SQLAlchemy declarative model (`class X(Base): __tablename__ = "x"`, not `__abstract__`)."""
    if not (_TABLE.search(text) if "table" in text else False) and not (declarative and "__tablename__" in text):
        return
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        for match in _TABLE.finditer(text):
            yield text.count("\n", 0, match.start()) + 1, match.group(1), match.group(1).lower()
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        table = None
        if any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords):
            table = node.name.lower()
        constants = {}
        for statement in node.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else (
                [statement.target] if isinstance(statement, ast.AnnAssign) else [])
            value = getattr(statement, "value", None)
            for target in targets:
                if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                    constants[target.id] = value.value
        named = constants.get("__tablename__")
        if isinstance(named, str) and (table is not None or declarative and constants.get("__abstract__") is not True):
            table = named
        if table is not None:
            yield node.lineno, node.name, table


def _app_code(path: str) -> bool:
    parts = path.split("/")
    return path.endswith(".py") and not _NOT_THE_APP & set(parts[:-1]) and not parts[-1].startswith("test")


def _made_elsewhere(paths: list[str], sources: Sources) -> bool:
    """Migrations (an env.py beside a versions/ folder) or a SQL script with CREATE TABLE make the tables."""
    for path in paths:
        head, versions, _ = f"/{path}".partition("/versions/")
        if versions and path.endswith(".py") and f"{head}/env.py".lstrip("/") in paths:
            return True
    return any(p.endswith(".sql") and "create table" in (sources.text(p) or "").lower() for p in paths)


def _calls(function: ast.AST, names: set[str]) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            for part in (node.func, *node.args):
                name = part.attr if isinstance(part, ast.Attribute) else part.id if isinstance(part, ast.Name) else None
                if name in names:
                    return True
    return False


_DROP_CALLS = frozenset({"drop_all", "drop_table", "drop_tables", "drop_database"})
_DROP_SQL = re.compile(r"^\s*DROP\s+(?:TABLE|SCHEMA|DATABASE|OWNED)\b", re.I)


def _drop_in(function: ast.AST) -> str:
    """The destructive call a function makes itself: `metadata.drop_all` (called or passed to `run_sync`),
    `op.drop_table`, `drop_database`, or SQL text starting `DROP TABLE/SCHEMA/DATABASE`; "" when none."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            for part in (node.func, *node.args):
                name = part.attr if isinstance(part, ast.Attribute) else part.id if isinstance(part, ast.Name) else None
                if name in _DROP_CALLS:
                    return name
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _DROP_SQL.match(node.value):
            return " ".join(node.value.split()[:2]).upper()
    return ""


def _module_files(dotted: str, level: int, importer: str, paths: Iterable[str]) -> list[str]:
    """The project files an import in `importer` names: a relative one from its folder, an absolute one by the
    end of the path (the import root is not known here)."""
    if level:
        folder = posixpath.dirname(importer).split("/") if posixpath.dirname(importer) else []
        base = folder[:len(folder) - (level - 1)] if level - 1 <= len(folder) else None
        if base is None:
            return []
        rel = "/".join([*base, *(dotted.split(".") if dotted else [])])
        return [p for p in paths if p in (f"{rel}.py", f"{rel}/__init__.py".lstrip("/"))]
    rel = dotted.replace(".", "/")
    return [p for p in paths if any(f"/{p}".endswith(f"/{rel}{tail}") for tail in (".py", "/__init__.py"))]


@dataclass(frozen=True)
class _Scope:
    """What a module's names call: its own functions, and those and the modules its imports name."""

    path: str
    defined: frozenset[str]
    functions: dict[str, list[tuple[str, str]]]  # local name -> (file, name there)
    modules: dict[str, list[str]]  # local name -> the files of the module it names

    def callees(self, function: ast.AST) -> set[tuple[str, str]]:
        """(file, name) of each function `function` calls or passes on (`run_sync(wipe)`): a bare name is this
        module's function or the one an import names; `mod.f()` is `f` of the module `mod` names; any other
        `x.f()` (`self.f()`) this module's `f`. Never a same-named function of an unrelated module."""
        found = set()
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            for part in (node.func, *node.args):
                if isinstance(part, ast.Name):
                    found |= {(self.path, part.id)} if part.id in self.defined else set(self.functions.get(part.id, ()))
                elif isinstance(part, ast.Attribute):
                    owner = part.value.id if isinstance(part.value, ast.Name) else None
                    if owner in self.modules:
                        found |= {(file, part.attr) for file in self.modules[owner]}
                    elif part.attr in self.defined:
                        found.add((self.path, part.attr))
        return found


def _scope(path: str, tree: ast.AST, paths: list[str]) -> _Scope:
    defined = frozenset(f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)))
    functions: dict[str, list[tuple[str, str]]] = {}
    modules: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                # `from pkg import mod` names a module, `from mod import f` a function: either may be meant.
                sub = _module_files(f"{node.module}.{alias.name}" if node.module else alias.name, node.level, path, paths)
                if sub:
                    modules[alias.asname or alias.name] = sub
                functions[alias.asname or alias.name] = [
                    (file, alias.name) for file in _module_files(node.module or "", node.level, path, paths)]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    modules[alias.asname] = _module_files(alias.name, 0, path, paths)
                else:  # `import app.db` binds `app`; `app.db.f()` is read as `f` of what `app` names
                    modules[alias.name.split(".")[0]] = _module_files(alias.name, 0, path, paths)
    return _Scope(path, defined, functions, modules)


def _droppers(functions: list[tuple[str, ast.AST]], scopes: dict[str, _Scope]) -> dict[tuple[str, str], str]:
    """(file, function name) -> the destructive call it reaches, itself or through the functions it calls (as
    its module's scope resolves them, to a fixed point)."""
    found = {(p, f.name): drop for p, f in functions if (drop := _drop_in(f))}
    calls = {(p, id(f)): scopes[p].callees(f) for p, f in functions}
    while True:
        more = {(p, f.name): found[callee] for p, f in functions if (p, f.name) not in found
                for callee in calls[p, id(f)] if callee in found}
        if not more:
            return found
        found.update(more)


def _drops_first(path: str, function: ast.AST, scopes: dict[str, _Scope], droppers: dict[tuple[str, str], str],
                 bodies: dict[tuple[str, str], list[ast.AST]], names: set[str], seen: frozenset = frozenset()) -> bool:
    """The first call of `function` that reaches a drop or a creation reaches the drop first: itself only the
    drop, or a function that drops first (`reset()` dropping then creating). False when a creation comes first
    or the order is not known."""
    calls = sorted((n for n in ast.walk(function) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for call in calls:
        callees = [c for c in scopes[path].callees(call) if c in droppers and c not in seen]
        drops = bool(_drop_in(call)) or bool(callees)
        creates = _calls(call, names)
        if drops or creates:
            return drops and (not creates or any(
                _drops_first(c[0], body, scopes, droppers, bodies, names, seen | {(path, function.name)})
                for c in callees for body in bodies.get(c, ())))
    return False


def _lifespan(node: ast.AST) -> bool:
    return isinstance(node, ast.AsyncFunctionDef) and any(
        (d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else "") == "asynccontextmanager"
        for d in node.decorator_list)


def _module_name(path: str, root: str) -> str:
    relative = posixpath.relpath(path, root or ".")
    if relative.startswith("..") or not relative.endswith(".py"):
        return ""
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _bound(tree: ast.Module) -> dict[str, ast.stmt]:
    """The names a module binds at its top level, with the statement that binds each."""
    bound: dict[str, ast.stmt] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[statement.name] = statement
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                bound[(alias.asname or alias.name).split(".")[0]] = statement
        else:
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    bound.setdefault(node.id, statement)
    return bound


def _lifespan_fits(tree: ast.Module, text: str, name: str, module: str, own: bool) -> bool:
    """The app module can take a new lifespan that calls `name`: one `app = FastAPI(...)` at its top level with
    no `lifespan=` (nor `**options` that may hold one), no startup or shutdown hook a lifespan would switch off,
    `lifespan` free, and `name` free or already the function (defined here, or imported from `module`)."""
    apps = [s.value for s in tree.body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
            and (s.value.func.id if isinstance(s.value.func, ast.Name) else getattr(s.value.func, "attr", "")) == "FastAPI"]
    if len(apps) != 1 or any(k.arg in ("lifespan", "on_startup", "on_shutdown", None) for k in apps[0].keywords) \
            or ".on_event(" in text or "add_event_handler(" in text:
        return False
    bound = _bound(tree)
    if "lifespan" in bound or "asynccontextmanager" in bound and not isinstance(bound["asynccontextmanager"], ast.ImportFrom):
        return False
    return _name_free(bound, name, module, own)


def _name_free(bound: dict[str, ast.stmt], name: str, module: str, own: bool) -> bool:
    """`name` is free in the app module, or already the function (defined there, or imported from `module`)."""
    binding = bound.get(name)
    if own:
        return isinstance(binding, (ast.FunctionDef, ast.AsyncFunctionDef))
    return binding is None or isinstance(binding, ast.ImportFrom) and binding.level == 0 and binding.module == module \
        and any(a.name == name and a.asname is None for a in binding.names)


def _startup_event(function: ast.AST) -> bool:
    return isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "on_event"
        and d.args and isinstance(d.args[0], ast.Constant) and d.args[0].value == "startup" for d in function.decorator_list)


def _existing_hook(tree: ast.Module, text: str, name: str, module: str, own: bool, awaited: bool) -> str:
    """The app module's own startup function the creator can be called first in: the lifespan defined there and
    passed as `FastAPI(lifespan=NAME)` (one `yield`, at its top), else its one `@app.on_event("startup")`
    function when no lifespan switches the hooks off (an `async def` when the creator is awaited). "" when there
    is none, or the name is taken."""
    apps = [s.value for s in tree.body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
            and (s.value.func.id if isinstance(s.value.func, ast.Name) else getattr(s.value.func, "attr", "")) == "FastAPI"]
    if len(apps) != 1 or any(k.arg is None for k in apps[0].keywords) or not _name_free(_bound(tree), name, module, own):
        return ""
    given = next((k.value for k in apps[0].keywords if k.arg == "lifespan"), None)
    functions = {s.name: s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if given is not None:
        function = functions.get(given.id) if isinstance(given, ast.Name) else None
        yields = [n for n in ast.walk(function) if isinstance(n, (ast.Yield, ast.YieldFrom))] if function else []
        if function is None or not _lifespan(function) or len(yields) != 1 or _sets_globals(function) \
                or not any(isinstance(s, ast.Expr) and s.value is yields[0] for s in function.body):
            return ""
        return function.name
    if "add_event_handler(" in text or any(k.arg == "on_startup" for k in apps[0].keywords):
        return ""
    hooks = [f for f in functions.values() if _startup_event(f)]
    if len(hooks) != 1 or awaited and not isinstance(hooks[0], ast.AsyncFunctionDef) \
            or text.count(".on_event(") != 1 or _sets_globals(hooks[0]):
        return ""
    return hooks[0].name


def _sets_globals(function: ast.AST) -> bool:
    """A startup function that sets module names (`global engine; engine = create_engine(...)`) may set up what
    the creator uses: where in it the call belongs is a person's to decide."""
    return any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(function))


def _callable_from_app(path: str, imported: list[str], paths: list[str], primary: Prediction, sources: Sources,
                       function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, str, str]:
    """(the app module's file, the module the function is imported from) when the app module's lifespan can
    call the function as it is: no argument to supply, in a module the start already imports (importing it adds
    nothing that does not run today), under one name. With a second import root (PYTHONPATH, a `sys.path`
    edit) the name is not certain: a module imported under two names is two modules, with two engines and two
    metadata. The third: the app module's startup function to call it in (`_existing_hook`), "" for a new
    lifespan. ("", "", "") otherwise."""
    start = primary.start
    arguments = function.args
    required = len(arguments.posonlyargs) + len(arguments.args) - len(arguments.defaults) \
        + sum(d is None for d in arguments.kw_defaults)
    if required or start.pythonpath or primary.sys_path_edits or start.factory or path not in imported:
        return "", "", ""
    app_path = next((p for p in (posixpath.normpath(posixpath.join(start.run_from or ".", start.module.replace(".", "/")
                                                                       + tail)) for tail in (".py", "/__init__.py"))
                     if p in paths), "")
    module = _module_name(path, start.run_from)
    if not app_path or not module or _module_name(app_path, start.run_from) != start.module:
        return "", "", ""
    text = sources.text(app_path) or ""
    tree = sources.tree(app_path, text)
    if tree is None:
        return "", "", ""
    if _lifespan_fits(tree, text, function.name, module, path == app_path):
        return app_path, module, ""
    hook = _existing_hook(tree, text, function.name, module, path == app_path,
                          isinstance(function, ast.AsyncFunctionDef))
    return (app_path, module, hook) if hook else ("", "", "")


_DOCUMENTS = re.compile(r"(?:^|/)(?:[^/]*\.(?:md|rst|txt|sh|ya?ml|toml|cfg|ini)|Dockerfile[^/]*|[^/]*\.Dockerfile|Procfile|"
                        r"Makefile|justfile)$", re.I)


def _main_block(tree: ast.Module) -> ast.If | None:
    return next((s for s in tree.body if isinstance(s, ast.If) and "__main__" in ast.unparse(s.test)
                 and "__name__" in ast.unparse(s.test)), None)


def documents_above(backend: Path) -> tuple[str, ...]:
    """The texts of the documents (README, Makefile, compose file...) of the folders above the backend, up to
    the repository's top (three levels without a `.git`): a Makefile there may run the backend's script."""
    texts = []
    for folder in list(backend.resolve().parents)[:3]:
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if path.is_file() and _DOCUMENTS.search(path.name):
                try:
                    texts.append(path.read_text(encoding="utf-8", errors="replace")[:200_000])
                except OSError:
                    continue
        if (folder / ".git").exists():
            break
    return tuple(texts)


def _undocumented_script(paths: list[str], sources: Sources, code: dict[str, str], names: set[str],
                         inner: dict[str, int], above: Sequence[str]) -> tuple[str, int] | None:
    """(path, line) of the script whose `if __name__ == "__main__":` block alone runs the table creation
    (`create_all`, or a function of `inner`'s that reaches it), when no document of the project (README,
    Dockerfile, compose file, Makefile, shell script...) names it: the documented start never creates the
    tables. None when a script is documented, or code other than scripts calls the creation."""
    scripts = {}
    for path, text in code.items():
        if "__main__" not in text:
            continue
        tree = sources.tree(path, text)
        block = _main_block(tree) if tree is not None else None
        if block is not None and _calls(block, names):
            scripts[path] = block.lineno
    if not scripts:
        return None
    rest = "\n".join(text for path, text in code.items() if path not in scripts)
    if any(len(re.findall(rf"\b{re.escape(name)}\b", rest)) > 1 + inner[name] for name in inner):
        return None
    stems = {posixpath.splitext(posixpath.basename(path))[0] for path in scripts}
    texts = [*(sources.text(p) or "" for p in paths if _DOCUMENTS.search(p)), *above]
    if any(re.search(rf"\b{re.escape(stem)}\b", text) for text in texts for stem in stems):
        return None
    path = sorted(scripts)[0]
    return path, scripts[path]


def never_created(paths: list[str], sources: Sources, primary: Prediction,
                  above: Sequence[str] = ()) -> NeverCreated | None:
    """None when the start creates its tables (a startup hook reaches create_all), when migrations or SQL make
    them, when it imports no table model, or when it fails before serving at all. `above`: the texts of the
    documents above the backend (`documents_above`)."""
    if primary.failures or primary.tables_at is not None:
        return None
    imported = [p for p in dict.fromkeys((*primary.order, *primary.late_order)) if _app_code(p)]
    found = [(p, line, name, table) for p in imported for line, name, table in table_classes(sources.text(p) or "", True)]
    models = [(p, line, name) for p, line, name, _ in found]
    tables = tuple(table for *_, table in found)
    if not models or _made_elsewhere(paths, sources):
        return None
    code = {p: sources.text(p) or "" for p in paths if _app_code(p)}
    # The functions that create the tables, then those that call them, to a fixed point.
    functions = []
    for path, text in code.items():
        if "create_all" in text or "def " in text and path in imported:
            tree = sources.tree(path, text)
            functions += [(path, f) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))] \
                if tree is not None else []
    creators: dict[str, tuple[str, ast.AST]] = {}
    names = {"create_all"}
    while True:
        more = {f.name: (p, f) for p, f in functions if f.name not in creators and not _lifespan(f) and _calls(f, names)}
        if not more:
            break
        creators.update(more)
        names |= set(more)
    every = "\n".join(code.values())
    for path in imported:  # made at import: `SQLModel.metadata.create_all(engine)` beside the engine
        tree = sources.tree(path, code.get(path))
        # An `if __name__ == "__main__":` block does not run when the start imports the module.
        if tree is not None and any(_calls(s, names) for s in tree.body if s is not _main_block(tree)
                                    and not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))):
            return None

    # Drop helpers may live in modules without `create_all` the start does not import: read every one that drops.
    creating = {p for p, _ in functions}
    trees = {p: sources.tree(p, text) for p, text in code.items() if "drop" in text.lower() or p in creating}
    trees = {p: tree for p, tree in trees.items() if tree is not None}
    scopes = {p: _scope(p, tree, list(code)) for p, tree in trees.items()}
    every_function = [(p, f) for p, tree in trees.items() for f in ast.walk(tree)
                      if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    droppers = _droppers(every_function, scopes)
    bodies: dict[tuple[str, str], list[ast.AST]] = {}
    for p, f in every_function:
        bodies.setdefault((p, f.name), []).append(f)

    def dropping(path: str, function: ast.AST) -> dict:
        drop = droppers.get((path, function.name), "")
        return {"drops": drop, "drops_first": bool(drop) and _drops_first(path, function, scopes, droppers, bodies,
                                                                           names)}

    def uses(name: str) -> int:
        return len(re.findall(rf"\b{re.escape(name)}\b", every))

    for path, function in functions:
        # A module with `on_event` hooks is left out: a lifespan passed there would switch them off (FX022).
        if _lifespan(function) and path in imported and _calls(function, names) and uses(function.name) == 1 \
                and ".on_event(" not in code[path] and "add_event_handler(" not in code[path]:
            tree = sources.tree(path, code[path])
            apps = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                    and (n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")) == "FastAPI"
                    and not any(k.arg in ("lifespan", None) for k in n.keywords)] if tree is not None else []
            if len(apps) == 1:
                return NeverCreated("lifespan", path, function.lineno, function.name, tuple(m[2] for m in models),
                                    apps[0].lineno, tables=tables, **dropping(path, function))
    # A creator called from outside the creators (a script's `__main__`, a CLI command) is a step the project
    # provides: not fixer's to judge. Otherwise the first nothing calls is the one to call.
    # A decorator registers its function to be called (a startup hook, a route, a CLI command, a listener): a
    # decorated creator is called, never an uncalled one to call again (from itself, as a hook).
    inner = {name: sum(_calls(f, {name}) for _, f in creators.values()) for name in creators}
    if any(uses(name) > 1 + inner[name] or creators[name][1].decorator_list for name in creators) \
            or not creators and any("__main__" in text and "create_all" in text for text in code.values()):
        script = _undocumented_script(paths, sources, code, names, inner, above)
        if script is None:
            return None
        return NeverCreated("script", script[0], script[1], script[0], tuple(m[2] for m in models), tables=tables)
    # A creator or lifespan that drops the tables first would wipe them at each start: never the one to run.
    uncalled = sorted((name for name in creators if uses(name) == 1),
                      key=lambda name: (creators[name][0], name) in droppers)
    for name in uncalled[:1]:
        path, function = creators[name]
        app_path, module, hook = ("", "", "") if (path, name) in droppers else \
            _callable_from_app(path, imported, paths, primary, sources, function)
        return NeverCreated("uncalled", path, function.lineno, name, tuple(m[2] for m in models),
                            app_path=app_path, module=module, awaited=isinstance(function, ast.AsyncFunctionDef),
                            tables=tables, hook=hook, **dropping(path, function))
    # No code of the app creates them: a finding only where the project shows it relies on create_all (its tests
    # or a script call it), not where the tables may come from outside (another service, a console).
    if not creators and any("create_all" in (sources.text(p) or "") for p in paths
                            if p.endswith(".py") and not _app_code(p) and "alembic" not in p and "migration" not in p):
        path, line, _ = models[0]
        return NeverCreated("nothing", path, line, models[0][2], tuple(m[2] for m in models), tables=tables)
    return None
