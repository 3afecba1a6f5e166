"""What happens when the server starts: the project's modules imported in the order Python imports them, from
each documented start (entrypoint + start folder), and the exceptions that import would raise, in order.

Nothing is run. Each module's top-level statements are walked in order with the standard library's `ast`
(function bodies are not executed at import; class bodies are; `if TYPE_CHECKING:` and
`if __name__ == "__main__":` are not), and each import is resolved as Python resolves it:

- against the folders on `sys.path` at that moment: the start folder, `PYTHONPATH`, `--app-dir`, and
  `sys.path.insert/append` calls executed before it (a package's `__init__` runs before its modules; a
  relative import needs the package its module was imported as part of);
- against what installs (`fixer.model.versions` and the Requires-Dist tables, markers evaluated for the
  project's Python): a third-party module whose distribution does not install raises ModuleNotFoundError;
- against what third-party modules export in the versions that install (`fixer.tables.exports`/`moved`).

A failure is recorded with the type and message Python prints, and the walk goes on as if it had been fixed,
so the list is the order in which a person would meet them: fix the first, start again, meet the second.
Settings that must come from the environment (a pydantic settings class instantiated at import with fields
without defaults) are named as requirements, not failures.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from fixer.model.connect import ConnectChecks, module_level_ifs
from fixer.model.database import ASYNC_FACTORIES, SYNC_FACTORIES, DatabaseFlow
from fixer.model.entrypoints import StartPoint, installed_roots
from fixer.model.failures import LOG_FILE_HANDLERS, Failure, FailureChecks, ImportFix, Prediction, rejects_plain_url
from fixer.model.freshinstall import Installed
from fixer.model.hooks import StartupHooks, field_variable, required_field, settings_config, settings_options, startup_event
from fixer.model.importfind import ImportResolution, WalkedModule
from fixer.model.importsweep import ImportIdentity
from fixer.model.annotated import AnnotatedChecks
from fixer.model.modules import project_python
from fixer.model.openapi import OpenAPIChecks
from fixer.model.settingsenv import collection_fields
from fixer.model.sources import Sources
from fixer.model.syspath import path_value

__all__ = ["predict", "predict_script"]

_ENGINE_FACTORIES = SYNC_FACTORIES | ASYNC_FACTORIES
_LOOP_RUNNERS = ("asyncio.run", "run_until_complete")


class _Walk(FailureChecks, AnnotatedChecks, OpenAPIChecks, StartupHooks, ConnectChecks, ImportResolution, ImportIdentity):
    def __init__(self, backend: Path, start: StartPoint, have: Installed, paths: Iterable[str],
                 flow: DatabaseFlow, database_url: str | None = None, python: str = "",
                 sources: Sources | None = None) -> None:
        self.backend = backend
        self.sources = sources  # the run's: each module parsed once for every walk
        self.python = python  # the project's CPython ("3.12"); "" when unknown
        self.database_url = database_url  # what the environment sets DATABASE_URL to (None: what the project ships)
        # Each module of the tree as a path without `.py` (a package as its folder): what an import may mean; and
        # every dotted name (and suffix) the tree's modules could have.
        self.module_paths, self.project_names = _tree_modules(tuple(paths))
        self.paths = tuple(paths)
        self.python_files = tuple(p for p in self.paths if p.endswith(".py"))
        self.flow = flow
        self.start = start
        self.have = have
        run_dir = (backend / start.run_from).resolve()
        self.run_dir = run_dir
        self.sys_path: list[Path] = [run_dir] + [(backend / p).resolve() for p in start.pythonpath]
        if start.installed:
            self.sys_path += installed_roots(backend)
        self.modules: dict[str, WalkedModule] = {}
        self.stack: list[str] = []
        self.failures: list[Failure] = []
        self.uncertain: list[tuple[str, int, str, str]] = []
        self.failed_keys: set[str] = set()
        self.required_env: list[str] = []
        # Startup hooks (a lifespan, on_event("startup"), on_startup=[...]) as (module, function or its name).
        self.hooks: list[tuple[WalkedModule, ast.AST | str]] = []
        self.in_hooks = False  # while the startup hooks run
        self.ran: set[int] = set()  # the functions already walked (called at import or by a hook)
        self.running: list[ast.FunctionDef | ast.AsyncFunctionDef] = []  # the functions being walked, innermost last
        self.tables_at: int | None = None  # len(order) when a startup hook first reaches create_all
        self.required_settings: list[tuple[str, str, int, str]] = []
        self.order: list[str] = []
        self.sys_path_edits: list[tuple[str, int, str, bool]] = []
        self.third_party_failed: set[str] = set()
        self.import_fixes: list[ImportFix] = []
        self.unresolved_at: list[tuple[Path, int]] = []  # every import that did not resolve from the start folder
        self.unchecked: list[tuple[str, int, str]] = []
        self.made_dirs: set[str | None] = set()  # folders the code creates before a mount or handler (None: unknown)
        # Driver failures met at the first connection (`connected`); (path, line, URL) each engine gets.
        self.module_ifs: set[int] = set()  # the `if` statements that run at import, outside any function
        self.pending_connects: list[tuple] = []; self.engine_urls: list[tuple[str, int, str]] = []  # noqa: E702

    # -- recording

    def rel(self, path: Path | None) -> str:
        if path is None:
            return ""
        return Path(os.path.relpath(path, self.backend)).as_posix()

    def fail(self, key: str, exception: str, message: str, where: tuple[Path, int], family: str,
             detail: str = "", cycle: tuple[str, ...] = ()) -> None:
        if key in self.failed_keys:
            return
        self.failed_keys.add(key)
        self.failures.append(Failure(exception, message, self.rel(where[0]), where[1], family,
                                     tuple(self.stack), detail, cycle))

    def doubt(self, error: str, where: tuple[Path, int], why: str) -> None:
        """A failure the install may or may not cause (Prediction.uncertain)."""
        entry = (self.rel(where[0]), where[1], error, why)
        if entry not in self.uncertain:
            self.uncertain.append(entry)

    # -- importing

    def shared_tree(self, file: Path) -> ast.Module | None:
        """The module's tree from the run's sources (None: not there, or it does not parse: read it here)."""
        rel = self.rel(file)
        return self.sources.tree(rel) if self.sources is not None and not rel.startswith("../") else None

    def execute(self, module: WalkedModule) -> None:
        assert module.file is not None
        self.stack.append(module.name)
        self.order.append(self.rel(module.file))
        try:
            tree = self.shared_tree(module.file)
            if tree is None:
                source = module.file.read_bytes()
                tree = ast.parse(source, filename=str(module.file))
        except SyntaxError as error:
            if self._newer_grammar(source):
                self.unchecked.append((self.rel(module.file), error.lineno or 1, error.msg))
                module.open_names = True
                module.done = True
                self.stack.pop()
                return
            self.fail(f"syntax:{module.file}", "SyntaxError", error.msg, (module.file, error.lineno or 1), "syntax")
            module.open_names = True
            module.done = True
            self.stack.pop()
            return
        except (ValueError, RecursionError, MemoryError) as error:
            # What the import raises: NUL bytes are a SyntaxError there; nesting too deep for this parser also
            # stops the compiler of the CPythons before 3.13 (3.13 compiles a 3,000-term sum).
            if isinstance(error, ValueError):
                self.fail(f"syntax:{module.file}", "SyntaxError", str(error), (module.file, 1), "syntax")
            elif self._version() < (3, 13):
                self.fail(f"syntax:{module.file}", "RecursionError", "maximum recursion depth exceeded during compilation",
                          (module.file, 1), "syntax")
            module.open_names = True
            module.done = True
            self.stack.pop()
            return
        except OSError:
            module.open_names = True
            module.done = True
            self.stack.pop()
            return
        self.module_ifs.update(module_level_ifs(tree.body))
        self.body(module, tree.body, guarded=False)
        self.raw_pools(tree, module.file)
        module.done = True
        self.stack.pop()

    def _version(self) -> tuple[int, ...]:
        try:
            return tuple(map(int, self.python.split(".")))
        except ValueError:
            return sys.version_info[:2]

    def _newer_grammar(self, source: bytes) -> bool:
        """The project runs on a newer CPython than fixer and the file is valid there (PEP 695 `class C[T]:`
        on 3.12): this interpreter's SyntaxError predicts nothing."""
        try:
            newer = tuple(map(int, self.python.split("."))) > sys.version_info[:2]
        except ValueError:
            return False
        if not newer:
            return False
        import libcst

        for version in (self.python, "3.12"):  # LibCST's grammar may stop before the project's Python
            try:
                libcst.parse_module(source, config=libcst.PartialParserConfig(python_version=version))
                return True
            except libcst.ParserSyntaxError:
                return False
            except ValueError:
                continue
        return False

    def body(self, module: WalkedModule, statements: list[ast.stmt], guarded: bool) -> None:
        for node in statements:
            self.statement(module, node, guarded)

    def statement(self, module: WalkedModule, node: ast.stmt, guarded: bool) -> None:
        where = (module.file, node.lineno)
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.import_name(alias.name, where, guarded)
                module.defined.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            self.import_from(module, node, where, guarded)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            module.defined.add(node.name)
            module.defs[node.name] = node
            if isinstance(node, ast.FunctionDef):
                module.functions[node.name] = node
            if any(startup_event(d) for d in node.decorator_list):
                self.hooks.append((module, node))  # @app.on_event("startup")
            if node.name == "__getattr__":
                module.open_names = True
            self.route(module, node, where, guarded)
        elif isinstance(node, ast.ClassDef):
            module.defined.add(node.name)
            self.class_def(module, node, where, guarded)
            # `manager = DatabaseManager(url)` at import runs `__init__` as a call of a module function runs it.
            module.functions.update({node.name: i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"})
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if isinstance(node, ast.Assign) and len(targets) == 1 and isinstance(targets[0], ast.Name):
                module.assigned[targets[0].id] = node.value
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        module.defined.add(name.id)
            if node.value is not None:
                self.expression(module, node.value, where, guarded)
        elif isinstance(node, ast.Expr):
            self.expression(module, node.value, where, guarded)
        elif isinstance(node, ast.If):
            test = ast.unparse(node.test)
            if "TYPE_CHECKING" in test:
                self.body(module, node.orelse, guarded)
                return
            if "__name__" in test and "__main__" in test:
                return
            if test.endswith("is_offline_mode()"):
                # alembic's env.py: `alembic upgrade` runs online, the else branch (or the body of a `not`).
                online, offline = (node.body, node.orelse) if test.startswith("not ") else (node.orelse, node.body)
                self.body(module, offline, True)
                self.body(module, online, guarded)
                return
            if "sqlite" in test.lower():
                # The platform's URL is PostgreSQL: the branch that is not about SQLite runs.
                negated = test.lstrip().startswith("not ")
                self.body(module, node.body, guarded if negated else True)
                self.body(module, node.orelse, True if negated else guarded)
                return
            taken = self.branch_taken(node, where) if id(node) in self.module_ifs \
                else self.function_branch(self.running[-1], node, where) if self.running else None
            if taken is not None:
                # The project's own code, run on the platform's environment, says which branch runs.
                self.body(module, node.body, guarded if taken else True)
                self.body(module, node.orelse, True if taken else guarded)
                return
            self.body(module, node.body, True if node.orelse else guarded)
            self.body(module, node.orelse, True)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.body(module, node.body, True if node.handlers else guarded)
            # `try: from pydantic_settings import ... except ImportError: from pydantic import ...`: where the
            # install lacks what the try imports, the handler runs whenever the module loads.
            falls = self.import_fails(node.body) or self.project_import_fails(module, node.body)
            for handler in node.handlers:
                self.body(module, handler.body, guarded if falls and self.catches_import_error(handler) else True)
            self.body(module, node.orelse, guarded)
            self.body(module, node.finalbody, guarded)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            for target in ast.walk(node.target) if isinstance(node, (ast.For, ast.AsyncFor)) else ():
                if isinstance(target, ast.Name):
                    module.defined.add(target.id)
            self.body(module, node.body, guarded)
            self.body(module, getattr(node, "orelse", []), True)
        elif isinstance(node, ast.Return) and node.value is not None:
            self.expression(module, node.value, where, guarded)  # `return Settings()` of a function run at import
        elif isinstance(node, ast.Global):
            module.open_names = True

    def import_from(self, module: WalkedModule, node: ast.ImportFrom, where: tuple[Path, int], guarded: bool) -> None:
        names = [a.name for a in node.names]
        if node.level:
            if not module.package:
                if not guarded:
                    self.fail(f"rel:{module.file}", "ImportError", "attempted relative import with no known parent package",
                              where, "relative-import",
                              f"{self.rel(module.file)} is imported as the top-level module `{module.name}`, so it has no package")
                self._recover_relative(module, node, where, guarded)
                return
            parts = module.package.split(".")
            if node.level - 1 >= len(parts):
                if not guarded:
                    family, detail = self._beyond_top(module, node, parts[0])
                    self.fail(f"rel:{module.file}", "ImportError", "attempted relative import beyond top-level package",
                              where, family, detail)
                self._recover_relative(module, node, where, guarded)
                return
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = node.module or ""
        seen = len(self.unresolved_at)
        imported = self.import_name(target, where, guarded, names)
        if where in self.unresolved_at[seen:] and isinstance(imported, WalkedModule) and not node.level and node.module:
            self.import_fixes.append(ImportFix(self.rel(module.file), node.lineno, node.module, imported.name))
        if isinstance(imported, WalkedModule) and "*" not in names:
            # Before the names are bound here: a package importing its own submodules (`from app.routes import
            # login` in app/routes/__init__.py) would otherwise find them bound already.
            for name in names:
                self.name_from(imported, name, where, guarded)
        for alias in node.names:
            if alias.name != "*":
                module.defined.add(alias.asname or alias.name)
                if isinstance(imported, WalkedModule):
                    module.imported_defs[alias.asname or alias.name] = (imported.name, alias.name)
        if imported == "third":
            module.third_names.update((a.asname or a.name, (target, a.name)) for a in node.names if a.name != "*")
            if not guarded:
                self.from_third(target, [n for n in names if n != "*"], where)
            if "*" in names:
                module.open_names = True
        elif isinstance(imported, WalkedModule) and "*" in names:
            module.defined |= {n for n in imported.defined if not n.startswith("_")}
            module.open_names |= imported.open_names
        elif imported is None and "*" in names:
            module.open_names = True

    def _beyond_top(self, module: WalkedModule, node: ast.ImportFrom, top: str) -> tuple[str, str]:
        """The family and detail of a relative import that climbs above the top-level package: "relative-import"
        (another start folder may make the dots fit: FX020's) when the folder the dots reach on disk holds the
        module inside the backend; "outside-import" when it lies outside the backend folder (a deploy of the folder
        lacks it) or nowhere (the dots are wrong for any start)."""
        said = f"`{module.name}` is inside the top-level package `{top}`: {node.level} dots go above it"
        if module.file is None:
            return "relative-import", said
        folder = module.file.parent
        for _ in range(node.level - 1):
            folder = folder.parent
        if not node.module:
            return "relative-import", said
        path = node.module.split(".")

        def at(base: Path) -> Path | None:
            target = base.joinpath(*path)
            return next((p for p in (target.with_suffix(".py"), target / "__init__.py") if p.is_file()),
                        target if target.is_dir() else None)

        found = at(folder)
        backend = self.backend.resolve()
        if found is not None and backend in found.resolve().parents:
            return "relative-import", said
        if found is not None:
            return "outside-import", (f"{said}; the module it means is {self.rel(found)}, outside the backend folder: "
                                      "no start of this folder imports it, and a deploy of the folder does not have it")
        higher = next((p for p in map(at, list(folder.parents)[:3]) if p is not None), None)
        return "outside-import", f"{said}; and {self.rel(folder.joinpath(*path))} does not exist: the dots are wrong " \
            "for any start" + (f" (the repository has {self.rel(higher)}, outside the backend folder)" if higher else "")

    def name_from(self, imported: WalkedModule, name: str, where: tuple[Path, int], guarded: bool) -> None:
        if name in imported.defined:
            return
        if imported.search is not None:
            sub = self._find_in(f"{imported.name}.{name}", imported.search)
            if sub is not None:
                self.project_module(f"{imported.name}.{name}", where)
                imported.defined.add(name)
                return
        if imported.open_names or guarded or imported.file is None:
            return
        path = imported.file
        if not imported.done:
            cycle = tuple(self.stack[self.stack.index(imported.name):]) if imported.name in self.stack else ()
            self.fail(f"name:{imported.name}:{name}", "ImportError",
                      f"cannot import name '{name}' from partially initialized module '{imported.name}' "
                      f"(most likely due to a circular import)", where, "circular-import",
                      f"{' -> '.join(cycle + (imported.name,))}: `{name}` is defined in {self.rel(path)} after the "
                      f"import that starts the cycle", cycle)
        else:
            self.fail(f"name:{imported.name}:{name}", "ImportError", f"cannot import name '{name}' from '{imported.name}'",
                      where, "missing-name", f"{self.rel(path)} defines no `{name}`")
        imported.defined.add(name)

    # -- what module-level code does besides imports

    def class_def(self, module: WalkedModule, node: ast.ClassDef, where: tuple[Path, int], guarded: bool) -> None:
        bases = {ast.unparse(b).rpartition(".")[2] for b in node.bases}
        fields: list[tuple[str, str, int]] = []  # (field, variable, line) of the fields without a value
        for item in node.body:
            if isinstance(item, (ast.AnnAssign, ast.Assign)) and item.value is not None and not guarded:
                # A field's value is built with the class, as the module loads (`Field(ondelete=...)`).
                for call in (n for n in ast.walk(item.value) if isinstance(n, ast.Call) and n.keywords):
                    if ast.unparse(call.func) in module.third_names:
                        self.keywords_accepted(*module.third_names[ast.unparse(call.func)], call, where_of(module, item))
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                annotation = ast.unparse(item.annotation)
                if "EmailStr" in annotation and not guarded:
                    self.email(where_of(module, item))
                if required_field(item) and not item.target.id.startswith("_") and "ClassVar" not in annotation:
                    fields.append((item.target.id, field_variable(item), item.lineno))
            elif isinstance(item, (ast.Import, ast.ImportFrom)):
                self.statement(module, item, guarded)
        known = set(module.settings_classes)
        if bases & ({"BaseSettings"} | known):
            inherited = [f for b in bases & known for f in module.settings_classes[b]]
            prefix, env_file = settings_config(node)
            set_in_file = self._dotenv(env_file)
            module.settings_classes[node.name] = [
                (name, variable, line) for name, variable, line in inherited + [
                    # pydantic-settings puts env_prefix before a field's name, never before its alias.
                    (name, (variable if variable != name else prefix + name).upper(), line)
                    for name, variable, line in fields]
                if variable not in set_in_file]
            if rejects_plain_url(node):
                module.url_validators.add(node.name)
            # What pydantic-settings reads as JSON, with what a subclass inherits (its own fields win).
            options = settings_options(node)
            parents = [module.settings_decoded[b] for b in bases & set(module.settings_decoded)]
            decoded = {f.name: f for parent in parents for f in parent[0]}
            decoded.update({f.name: f for f in collection_fields(node, prefix)})
            module.settings_decoded[node.name] = (
                tuple(decoded.values()), env_file or next((parent[1] for parent in parents if parent[1]), None),
                bool(options.get("case_sensitive", any(parent[2] for parent in parents))))

    def _dotenv(self, env_file: str | None) -> set[str]:
        """The variables a shipped env file sets (upper-cased), read from the start folder as pydantic reads it."""
        path = self.run_dir / env_file if env_file else None
        if path is None or not path.is_file():
            return set()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return set()
        return {line.partition("=")[0].strip().removeprefix("export ").strip().upper()
                for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#")}

    def expression(self, module: WalkedModule, value: ast.expr, where: tuple[Path, int], guarded: bool) -> None:
        for node in ast.walk(value):
            if isinstance(node, ast.Lambda):
                return
            if not isinstance(node, ast.Call):
                continue
            func = ast.unparse(node.func)
            if func in module.third_names and node.keywords and not guarded:
                self.keywords_accepted(*module.third_names[func], node, where)
            if func in module.functions:
                # `app = create_app()`: the factory runs at import, and the imports in it with it (once).
                called = module.functions.pop(func)
                local = WalkedModule(module.name, module.file, module.package, module.search)
                local.functions, local.defs, local.imported_defs = module.functions, module.defs, module.imported_defs
                # `settings = get_settings()` beside the class: the factory builds the module's own settings classes.
                local.settings_classes, local.url_validators = module.settings_classes, module.url_validators
                local.settings_decoded = module.settings_decoded
                self.call_into(called, node, where); self.running.append(called)  # noqa: E702
                self.body(local, called.body, guarded)
                self.running.pop()
                continue
            coroutine = node.args[0] if func.endswith(_LOOP_RUNNERS) and node.args else None
            if isinstance(coroutine, ast.Call) and isinstance(coroutine.func, ast.Name) \
                    and isinstance(module.defs.get(coroutine.func.id), ast.AsyncFunctionDef) \
                    and id(module.defs[coroutine.func.id]) not in self.ran:
                # `asyncio.run(main())`: the coroutine function runs now (alembic's async env.py).
                self.ran.add(id(module.defs[coroutine.func.id]))
                self.running.append(module.defs[coroutine.func.id])
                self.body(module, module.defs[coroutine.func.id].body, guarded)
                self.running.pop()
            if isinstance(node.func, ast.Name) and (self.in_hooks or node.func.id in module.imported_defs):
                # A project function called at import (`settings = get_settings()` of another module) or by a
                # startup hook runs then, and what it imports with it.
                self.run_function(module, node.func.id, guarded)
            if func.rpartition(".")[2] == "FastAPI":
                if not guarded:
                    self.openapi_fields(node, where)
                for keyword in node.keywords:
                    values = keyword.value.elts if isinstance(keyword.value, (ast.List, ast.Tuple)) else [keyword.value]
                    if keyword.arg in ("lifespan", "on_startup"):
                        self.hooks += [(module, v.id) for v in values if isinstance(v, ast.Name)]
            elif func.endswith(".add_event_handler") and len(node.args) == 2 \
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value == "startup":
                self.hooks += self.handler(module, node.args[1])
            if func.endswith(("sys.path.insert", "sys.path.append")) and node.args:
                self.path_edit(module, node, where, func.endswith("insert"))
            elif func in module.settings_classes and not node.args and not node.keywords:
                for name, variable, line in module.settings_classes[func]:
                    if name not in self.required_env:
                        self.required_env.append(name)
                        self.required_settings.append((variable, self.rel(module.file), line, f"{func}.{name}"))
                if func in module.url_validators and not guarded:
                    self.settings_rejects_url(func, where, node)
                if func in module.settings_decoded and not guarded:
                    self.settings_decode(func, module.settings_decoded[func], where)
            elif func.rpartition(".")[2] in _ENGINE_FACTORIES and not guarded:
                self.engine(node, func.rpartition(".")[2] in ASYNC_FACTORIES, where)
            elif func.rpartition(".")[2] == "Config" and not guarded:
                self.env_file_config(node, where)
            elif func.rpartition(".")[2] == "StaticFiles" and not guarded:
                self.static_files(node, where)
            elif func.rpartition(".")[2] in LOG_FILE_HANDLERS and not guarded:
                self.log_file(node, where)
            elif func.rpartition(".")[2] in ("makedirs", "mkdir"):  # guarded too: it may make the folder
                self.made_dir(node, where)
            elif func == "globals":
                module.open_names = True

    def path_edit(self, module: WalkedModule, call: ast.Call, where: tuple[Path, int], insert: bool) -> None:
        folder = path_value(call.args[-1], module.file, self.run_dir, module.assigned)
        if folder is None:
            return
        exists = folder.is_dir()
        self.sys_path_edits.append((self.rel(module.file), where[1], self.rel(folder), exists))
        if folder not in self.sys_path:
            if insert:
                self.sys_path.insert(0, folder)
            else:
                self.sys_path.append(folder)


@functools.lru_cache(maxsize=1)  # each start of a run walks the same tree, and each later round a tree of the same paths
def _tree_modules(paths: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    modules = {p[:-3].removesuffix("/__init__") for p in paths if p.endswith(".py")}
    # A folder of modules without `__init__.py` imports too, as a namespace package (`from src.api import auth`).
    folders = {m.rpartition("/")[0] for m in modules if "/" in m}
    return tuple(sorted(modules | folders)), frozenset(project_python(paths))


def where_of(module: WalkedModule, node: ast.AST) -> tuple[Path, int]:
    return module.file, getattr(node, "lineno", 1)


# ---------------------------------------------------------------------------------------------------------


def predict(backend: str | os.PathLike[str], start: StartPoint, have: Installed, paths: Iterable[str],
            flow: DatabaseFlow | None = None, database_url: str | None = None, python: str = "",
            sources: Sources | None = None) -> Prediction:
    """The start `start` of the backend, walked: the project modules it imports, in order, and the failures.
    `flow` (the model's engines, URL rewrites, shipped URLs) says what URL reaches each engine; `database_url`
    is the one the environment sets DATABASE_URL to, when known (a platform's, a test's)."""
    root = Path(backend).resolve()
    walk = _Walk(root, start, have, list(paths), flow or DatabaseFlow(), database_url, python, sources)
    entry = walk.run_dir / "__fixer_start__.py"
    result = walk.import_name(start.module, (entry, 1), guarded=False)
    if result == "third" and not walk.have.provides(start.module.split(".")[0]):
        # Nothing of the tree, nothing installed: uvicorn says `Could not import module "main"`.
        walk.fail(f"mod:{start.module}", "ModuleNotFoundError", f"No module named '{start.module.split('.')[0]}'",
                  (entry, 1), "start-command")
    if isinstance(result, WalkedModule) and result.file is not None and start.attr not in result.defined \
            and not result.open_names:
        walk.fail(f"attr:{start.app}", "AttributeError", f"module '{start.module}' has no attribute '{start.attr}'",
                  (result.file, 1), "missing-app", f"uvicorn: Attribute \"{start.attr}\" not found in module \"{start.module}\".")
    walk.run_hooks()
    walk.complete_import_fixes(walk.python_files)
    failures = tuple(_entry_relative(f, walk) for f in walk.failures)
    # No startup hook connected: the queued driver failures are the first request's.
    first_connect = tuple(dict.fromkeys(Failure(exception, message, walk.rel(where[0]), where[1], family, (), detail)
                                        for exception, message, where, family, detail in walk.pending_connects))
    prediction = Prediction(start, failures, tuple(walk.required_env), tuple(walk.order),
                            tuple(walk.sys_path_edits), tuple(walk.import_fixes), unchecked=tuple(walk.unchecked),
                            required_settings=tuple(walk.required_settings), tables_at=walk.tables_at,
                            engine_urls=tuple(walk.engine_urls), uncertain=tuple(walk.uncertain),
                            first_connect=first_connect)
    before = len(walk.order)
    walk.late_imports()  # only for which tables exist: a failure there is not part of the start
    return dataclasses.replace(prediction, late_order=tuple(walk.order[before:]))


def predict_script(backend: str | os.PathLike[str], start: StartPoint, script: str, have: Installed,
                   paths: Iterable[str], flow: DatabaseFlow | None = None, database_url: str | None = None,
                   python: str = "", sources: Sources | None = None, then: Sequence[str] = ()) -> tuple[Failure, ...]:
    """The failures of running the file `script` (relative to the backend) as a program from `start.run_from`,
    which is first on sys.path: alembic's env.py, executed by `alembic upgrade head` from alembic.ini's folder.
    `then`: the files loaded once its connection is open (the revision files `upgrade` reads to find `head`)."""
    root = Path(backend).resolve()
    walk = _Walk(root, start, have, list(paths), flow or DatabaseFlow(), database_url, python, sources)
    file = root / script
    if not file.is_file():
        return ()
    script_module = WalkedModule("__main__", file, "", None)
    walk.modules.setdefault("__main__", script_module)  # the evaluator reads env.py's own values through it
    walk.execute(script_module)
    # `alembic upgrade head` runs online: env.py's own engine connects, the app's engines it imports do not.
    for exception, message, where, family, detail in walk.pending_connects:
        if where[0] == file:
            walk.fail(f"connect:{message}", exception, message, where, family, detail)
    for number, revision in enumerate(then):
        if (root / revision).is_file():
            walk.execute(WalkedModule(f"__revision{number}__", root / revision, "", None))
    return tuple(walk.failures)


def _entry_relative(failure: Failure, walk: _Walk) -> Failure:
    """A failure of the start itself (the entry module not found) is about the command, not a file."""
    if failure.path.endswith("__fixer_start__.py"):
        return Failure(failure.exception, failure.message, walk.start.where[0] if walk.start.where else "",
                       walk.start.where[1] if walk.start.where else 1, "start-command", failure.chain,
                       f"{walk.start.describe()}: the module is not on sys.path from that folder", failure.cycle)
    return failure
