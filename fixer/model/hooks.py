"""The code a start runs after the imports and before "Application startup complete": the lifespan up to its
`yield`, `@app.on_event("startup")` handlers, `FastAPI(on_startup=[...])`, `app.add_event_handler("startup",
...)` (on an app built at module level or in a `create_app()` factory), and the project functions they call;
then, for which tables exist, what the functions that create the tables import before `create_all` runs. Mixed
into the import walk (`fixer.model.importwalk`), whose state it uses.

Also how a settings class reads its fields from the environment: which have no value, under which variable
(`env_prefix`, an alias), and what a shipped env file already sets.
"""

from __future__ import annotations

import ast
import dataclasses

__all__ = [
    "StartupHooks", "field_variable", "first_call_line", "required_field", "settings_config", "settings_options",
    "startup_event",
]


class StartupHooks:
    def run_hooks(self) -> None:
        """What the server runs before "Application startup complete": the lifespan up to its `yield`, the
        startup handlers, and the project functions they call; imports inside them happen then."""
        self.in_hooks = True
        for module, hook in self.hooks:  # a hook met while walking another is appended and walked in turn
            if isinstance(hook, str):
                self.run_function(module, hook)
            else:
                self._run(module, hook)
        self.in_hooks = False

    def handler(self, module, value: ast.expr) -> list:
        """The hook `app.add_event_handler("startup", value)` registers: a function named, or the inner function
        a project factory returns (`create_start_app_handler(app, settings)` returning `start_app`), which runs
        with the factory's module; none for anything else."""
        if isinstance(value, ast.Name):
            return [(module, value.id)]
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
            return []
        owner, factory = module, module.defs.get(value.func.id)
        if factory is None and value.func.id in module.imported_defs:
            owner_name, attr = module.imported_defs[value.func.id]
            owner = self.modules.get(owner_name)
            factory = owner.defs.get(attr) if owner is not None else None
        inner = {n.name: n for n in getattr(factory, "body", []) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        returned = [n.value.id for n in getattr(factory, "body", [])
                    if isinstance(n, ast.Return) and isinstance(n.value, ast.Name) and n.value.id in inner]
        return [(owner, inner[returned[-1]])] if returned else []

    def run_function(self, module, name: str, guarded: bool = False) -> None:
        """Walk the body of the project function `name` names in `module` (its own, or one it imported)."""
        function = module.defs.get(name) if self.in_hooks else None
        if function is not None:
            self._run(module, function, guarded)
            return
        owner_name, attr = module.imported_defs.get(name, ("", ""))
        owner = self.modules.get(owner_name)
        if owner is not None and attr in owner.defs:
            self._run(owner, owner.defs[attr], guarded)

    def _run(self, module, function: ast.AST, guarded: bool = False) -> None:
        if id(function) in self.ran:
            return
        self.ran.add(id(function))
        statements = []
        for statement in getattr(function, "body", []):
            if isinstance(statement, ast.Expr) and isinstance(statement.value, (ast.Yield, ast.YieldFrom)):
                break  # after the lifespan's yield: shutdown
            statements.append(statement)
        # The function's own scope: its imports bind nothing in the module; the module's functions stay uncalled.
        local = dataclasses.replace(module, defined=set(module.defined), functions={})
        self.stack.append(module.name)
        self.running.append(function)
        for statement in statements:
            if self.in_hooks and self.tables_at is None \
                    and first_call_line(statement, {"create_all"}) is not None:
                self.tables_at = len(self.order)  # what is imported by now has its tables created
            if self.in_hooks and not guarded:
                self.connected(statement)
            self.statement(local, statement, guarded)
        self.running.pop()
        self.stack.pop()

    def late_imports(self) -> None:
        """Import what the functions creating the tables import in their bodies before `create_all` runs
        (`def create_db_and_tables(): from app.models import User; SQLModel.metadata.create_all(engine)`), and
        what the functions they call and their callers import before the call."""
        functions: list[tuple[object, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        for module in list(self.modules.values()):
            if module.file is None:
                continue
            try:
                tree = self.shared_tree(module.file) or ast.parse(module.file.read_bytes())
            except (SyntaxError, OSError, ValueError, RecursionError, MemoryError):
                continue
            functions += [(module, n) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        limits: dict[int, int] = {}  # id(function) -> imports above this line count
        # Each function's calls walked once: the fixed point below asks about every function again and again.
        calls = {id(function): called_lines(function) for _, function in functions}

        def first_call(function: ast.AST, names: set[str]) -> int | None:
            return min((line for name, line in calls[id(function)].items() if name in names), default=None)

        for module, function in functions:
            line = first_call(function, {"create_all"})
            if line is not None:
                limits[id(function)] = line
        changed = True
        while changed:
            changed = False
            named = {f.name for m, f in functions if id(f) in limits}
            for module, function in functions:
                line = first_call(function, named)
                if line is not None and limits.get(id(function), 0) < line:
                    limits[id(function)] = line  # a caller: what it imports before the call counts
                    changed = True
            for module, function in functions:
                if id(function) in limits:
                    continue
                callers = [f for m, f in functions if id(f) in limits and first_call(f, {function.name})]
                for caller in callers:
                    if first_call(caller, {function.name}) < limits[id(caller)]:
                        limits[id(function)] = (function.end_lineno or function.lineno) + 1  # called first: all of it
                        changed = True
                        break
        for module, function in functions:
            limit = limits.get(id(function))
            if limit is None:
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno < limit:
                    self.statement(module, node, guarded=True)


def first_call_line(function: ast.AST, names: set[str]) -> int | None:
    """The line of the first call in `function` of a function or method named in `names` (also as a
    `run_sync(SQLModel.metadata.create_all)` argument), None when there is none."""
    return min((line for name, line in called_lines(function).items() if name in names), default=None)


def called_lines(function: ast.AST) -> dict[str, int]:
    """Each name `function` calls (as `first_call_line` reads a call), with the line of its first call."""
    lines: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            for part in (node.func, *node.args):
                name = part.attr if isinstance(part, ast.Attribute) else part.id if isinstance(part, ast.Name) else None
                if name is not None and node.lineno < lines.get(name, node.lineno + 1):
                    lines[name] = node.lineno
    return lines


def startup_event(decorator: ast.expr) -> bool:
    """`@app.on_event("startup")`."""
    return isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) \
        and decorator.func.attr == "on_event" and bool(decorator.args) \
        and isinstance(decorator.args[0], ast.Constant) and decorator.args[0].value == "startup"


def required_field(item: ast.AnnAssign) -> bool:
    """A settings field with no value: no default, or `Field(...)`/`Field()` without a default or a factory."""
    value = item.value
    if value is None:
        return True
    if isinstance(value, ast.Call) and ast.unparse(value.func).rpartition(".")[2] == "Field":
        first = value.args[0] if value.args else None
        defaults = {k.arg for k in value.keywords} & {"default", "default_factory"}
        return not defaults and (first is None or (isinstance(first, ast.Constant) and first.value is Ellipsis))
    return False


def field_variable(item: ast.AnnAssign) -> str:
    """The environment variable a field reads: its alias (`Field(alias=...)`, `validation_alias=`, pydantic 1's
    `env=`) when a string, else its name."""
    if isinstance(item.value, ast.Call):
        for keyword in item.value.keywords:
            if keyword.arg in ("validation_alias", "alias", "env") and isinstance(keyword.value, ast.Constant) \
                    and isinstance(keyword.value.value, str):
                return keyword.value.value
    return item.target.id if isinstance(item.target, ast.Name) else ""


def settings_options(node: ast.ClassDef) -> dict[str, object]:
    """The constant options of a settings class (`model_config = SettingsConfigDict(...)` or `class Config:`)."""
    values: dict[str, object] = {}
    for item in node.body:
        if isinstance(item, (ast.Assign, ast.AnnAssign)) and isinstance(item.value, ast.Call) and any(
                isinstance(t, ast.Name) and t.id == "model_config"
                for t in (item.targets if isinstance(item, ast.Assign) else [item.target])):
            values.update({k.arg: k.value.value for k in item.value.keywords
                           if k.arg and isinstance(k.value, ast.Constant)})
        elif isinstance(item, ast.ClassDef) and item.name == "Config":
            for inner in item.body:
                if isinstance(inner, ast.Assign) and isinstance(inner.value, ast.Constant):
                    values.update({t.id: inner.value.value for t in inner.targets if isinstance(t, ast.Name)})
    return values


def settings_config(node: ast.ClassDef) -> tuple[str, str | None]:
    """(env_prefix, env_file) of a settings class: `model_config = SettingsConfigDict(...)` or `class Config:`."""
    values = {name: value for name, value in settings_options(node).items() if isinstance(value, str)}
    return values.get("env_prefix", ""), values.get("env_file")


