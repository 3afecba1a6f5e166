"""What the drivers get at the first connection: the URL read from the environment, run through the project's own
code (`fixer.model.urleval`) as the start runs it, and what each driver does with it. Mixed into the import walk
(`fixer.model.importwalk`), whose state (`modules`, `have`, `fail`, ...) it reads.

A driver that rejects its URL fails when it connects, not at import: SQLAlchemy's asyncpg dialect hands the
query string to `asyncpg.connect()` as keyword arguments (no `sslmode`, no `channel_binding`); asyncpg's own DSN
parser (`asyncpg.connect(dsn)`, `create_pool(dsn)`) knows libpq's `sslmode` but sends any other parameter to
the server as a setting, which PostgreSQL rejects; a cleaner that cut the `?` glued the rest of the query onto
the database name. These failures wait (`pending_connects`) until a startup hook connects (create_all, a pool,
a `connect()`/`begin()`); a start that connects only on the first request starts.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote


from fixer import tables
from fixer.model.evidence import PLATFORM_URL, platform_piece, platform_url_read
from fixer.model.migrations import compose_hosts, ini_url
from fixer.model.settingsenv import read_env_file
from fixer.model.urleval import Evaluator, Raised, Unknown, make_url

__all__ = ["CONNECTING", "LIBPQ_CLIENT_ONLY", "NOT_KNOWN", "ConnectChecks"]

NOT_KNOWN = object()  # what the evaluator cannot tell (a value the code holds may be None)

# Calls that open a connection when a startup hook makes them.
CONNECTING = frozenset({"create_all", "connect", "begin", "execute", "create_pool", "run_sync", "exec", "scalar",
                        "fetch", "fetchval", "fetchrow", "ping"})
# libpq's client-side parameters that asyncpg's DSN parser does not read: it sends them to the server as
# settings, and PostgreSQL has no such setting (a real setting such as application_name is fine).
LIBPQ_CLIENT_ONLY = frozenset({"channel_binding", "gssencmode", "requirepeer", "sslcompression", "sslsni",
                               "require_auth", "keepalives", "keepalives_idle", "keepalives_interval",
                               "keepalives_count", "tcp_user_timeout", "load_balance_hosts", "sslcertmode"})
_LIBPQ_ONLY = ("sslmode", "channel_binding")
# libpq's parameters whose value it checks against a fixed set before connecting.
_LIBPQ_CHECKED = frozenset({"sslmode", "channel_binding", "gssencmode", "target_session_attrs", "load_balance_hosts",
                            "sslcertmode", "sslnegotiation"})
_ALEMBIC_URL = "sqlalchemy.url"
_SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)
# What each driver raises when the host name does not resolve (the resolver's EAI_NONAME): libpq's words for
# psycopg2, Python's getaddrinfo error for psycopg 3 (it resolves the host itself; from 3.3 naming it) and asyncpg.
_UNRESOLVED = {
    "psycopg2": ("sqlalchemy.exc.OperationalError",
                 '(psycopg2.OperationalError) could not translate host name "{host}" to address: '
                 "Name or service not known"),
    "psycopg": ("sqlalchemy.exc.OperationalError", "(psycopg.OperationalError) [Errno -2] Name or service not known"),
    "asyncpg": ("socket.gaierror", "[Errno -2] Name or service not known"),
}


def _alembic_assignments(scope: ast.AST) -> list[tuple[ast.expr, int]]:
    """(value, line) of each URL put into alembic's config directly in `scope` (not in a nested function)."""
    found = []
    nodes = list(ast.iter_child_nodes(scope))
    while nodes:
        node = nodes.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].slice, ast.Constant) and node.targets[0].slice.value == _ALEMBIC_URL):
            found.append((node.value, node.lineno))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("set_main_option", "set_section_option") and len(node.args) >= 2
              and isinstance(node.args[-2], ast.Constant) and node.args[-2].value == _ALEMBIC_URL):
            found.append((node.args[-1], node.lineno))
        nodes.extend(ast.iter_child_nodes(node))
    return found


class ConnectChecks:
    def evaluator(self) -> Evaluator:
        if getattr(self, "_evaluator", None) is None:
            url = self.database_url or PLATFORM_URL
            self._evaluator = Evaluator(
                lambda name: url if platform_url_read([str(name)]) else platform_piece(str(name), url), self._load,
                self._dotenv_values)
        return self._evaluator

    def _dotenv_values(self, path: str | None, module_file: Path | None) -> dict[str, str | None] | None:
        """What `dotenv_values(path)` returns at the start: the file's variables, {} when the tree does not ship it
        (python-dotenv warns and goes on); None (not known) for a path outside the tree, which an image may hold.
        Without a path it looks for `.env` from the calling module's folder up (here: up to the backend)."""
        if path is None:
            folder = module_file.parent if module_file is not None else self.run_dir
            backend = self.backend.resolve()
            for candidate in (folder.resolve(), *folder.resolve().parents):
                if (candidate / ".env").is_file():
                    return read_env_file(candidate / ".env")
                if candidate == backend:
                    return {}
            return None
        if os.path.isabs(path):
            return None
        file = self.run_dir / path
        return read_env_file(file) if file.is_file() else {}

    def _load(self, name: str) -> tuple[ast.Module, Path | None, str] | None:
        module = self.modules.get(name)
        if module is None or module.file is None:
            return None
        tree = self.shared_tree(module.file)
        if tree is None:
            try:
                tree = ast.parse(module.file.read_bytes())
            except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
                return None
        return tree, module.file, module.package

    def unparsable_url(self, argument: ast.expr, where: tuple[Path, int]) -> bool:
        """create_engine parses its URL before anything else: a text that is no URL (a setting that is empty where
        the start reaches it, `dotenv_values(".env")` of a file the tree does not ship) stops the start there."""
        value = self.value_at(argument, where)
        if not isinstance(value, str):
            return False
        try:
            make_url(value)
            return False
        except ValueError:
            return False  # a URL whose port is no number: what the environment gives there is another question
        except Raised:
            pass
        # SQLAlchemy's own words, which quote the text before 2.0.41
        message = tables.message("sqlalchemy", self.have.version("sqlalchemy"), "unparsable-url").replace("%s", value)
        self.fail("url:unparsable", "sqlalchemy.exc.ArgumentError", message, where, "unparsable-url",
                  f"the engine gets {value!r} where the start reaches it: the platform sets only the database URL's "
                  "variable, and the code does not read it there")
        return True

    def network_hosts(self) -> dict[str, tuple[str, str]]:
        if getattr(self, "_network_hosts", None) is None:
            self._network_hosts = compose_hosts(self.backend)
        return self._network_hosts

    def _module_named(self, file: Path):
        return next((m for m in self.modules.values() if m.file == file), None)

    def value_at(self, node: ast.expr | None, where: tuple[Path, int]):
        """The value `node` (in the module of `where`, evaluated at its line) holds when the start reaches it; None
        when the evaluator cannot tell. A `raise` of the project's code is returned as `Raised`."""
        value = self.known_value(node, where)
        return None if value is NOT_KNOWN else value

    def known_value(self, node: ast.expr | None, where: tuple[Path, int]):
        """`value_at`, with NOT_KNOWN where the evaluator cannot tell (so that a None the code holds is None)."""
        module = self._module_named(where[0]) if node is not None else None
        if module is None:
            return NOT_KNOWN
        try:
            scope = self.evaluator().module(module.name, until=where[1])
            return self.evaluator().expr(node, scope, scope.names)
        except Raised as raised:
            return raised
        except (Unknown, RecursionError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError):
            return NOT_KNOWN

    def branch_taken(self, node: ast.If, where: tuple[Path, int]) -> bool | None:
        """Whether a module-level `if` runs its body, the module's code run up to it on the platform's
        environment (`if DATABASE_URL.startswith("postgresql+asyncpg://"):`); None when that is not known."""
        value = self.value_at(node.test, where)
        return None if value is None or isinstance(value, Raised) else bool(value)

    def function_branch(self, function: ast.FunctionDef | ast.AsyncFunctionDef, node: ast.If,
                        where: tuple[Path, int]) -> bool | None:
        """Whether an `if` directly in the body of a function the start runs takes its body, the assignments
        before it run as the start runs them (`use_async = os.getenv("USE_ASYNC", "false") == "true"`); None
        when the test reads anything else (a parameter, a name bound by a loop or a call not evaluated)."""
        value = self.function_value(function, node, node.test, where)
        return None if value is NOT_KNOWN else bool(value)

    def function_value(self, function: ast.FunctionDef | ast.AsyncFunctionDef, statement: ast.stmt, node: ast.expr,
                       where: tuple[Path, int]):
        """The value `node` (in `statement`, directly in the body of a function the start runs) holds there, the
        assignments before it run as the start runs them; NOT_KNOWN when it reads anything else."""
        if not any(item is statement for item in function.body):
            return NOT_KNOWN
        module = self._module_named(where[0])
        if module is None:
            return NOT_KNOWN
        arguments = function.args
        unknown = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                   *(a for a in (arguments.vararg, arguments.kwarg) if a is not None))}
        local: dict = {}
        try:
            scope = self.evaluator().module(module.name, until=function.lineno)
            for item in function.body[:function.body.index(statement)]:
                stored = {n.id for n in ast.walk(item) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                if isinstance(item, (ast.Assign, ast.AnnAssign)) and not unknown & _read(item):
                    try:
                        self.evaluator().run([item], scope, local)
                        continue
                    except (Unknown, Raised, RecursionError, ArithmeticError, LookupError, TypeError, ValueError,
                            AttributeError):
                        pass
                unknown |= stored  # what the statement binds is not known
                for name in stored:
                    local.pop(name, None)
            if unknown & _read(node):
                return NOT_KNOWN
            return self.evaluator().expr(node, scope, local)
        except (Unknown, Raised, RecursionError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError):
            return NOT_KNOWN

    def alembic_url(self, call: ast.Call, where: tuple[Path, int]) -> str | None:
        """The URL `engine_from_config(config.get_section(...))` gets in alembic's env.py: the value env.py put
        into alembic's config (`config.set_main_option("sqlalchemy.url", URL)`, `section["sqlalchemy.url"] =
        URL`) in the function that builds the engine, else at the top level, run as the start runs it."""
        module = self._module_named(where[0])
        loaded = self._load(module.name) if module is not None else None
        if loaded is None:
            return None
        tree = loaded[0]
        scopes: list[ast.AST] = [tree]
        scopes += [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and f.lineno <= call.lineno <= (f.end_lineno or f.lineno)]
        for scope in reversed(scopes):  # the innermost function first
            for value, line in _alembic_assignments(scope):
                url = self.url_reaching(value, (where[0], line))
                if url is not None:
                    return url
        # env.py that puts no URL of its own anywhere (nor passes `url=`) connects to the ini's.
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr in ("set_main_option", "set_section_option") for n in ast.walk(tree)) \
                or any(_alembic_assignments(f) for f in ast.walk(tree) if isinstance(f, _SCOPES)) \
                or any(k.arg in ("url", None) for k in call.keywords):
            return None
        try:
            text = (self.run_dir / "alembic.ini").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return ini_url(text, self.run_dir)

    def call_into(self, function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call,
                  where: tuple[Path, int]) -> None:
        """Record the arguments `call` (at `where`, run at import) gives the parameters of `function`, which the
        walk is about to run: `DatabaseManager(settings.database_url)` runs `__init__(self, url)`, whose engine
        gets what `url` holds there. A `*args` or `**kwargs` ends what is known."""
        named = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        bound: dict[str, ast.expr] = {}
        for name, argument in zip(named[1:] if function.name == "__init__" else named, call.args):
            if isinstance(argument, ast.Starred):
                break
            bound[name] = argument
        bound.update({k.arg: k.value for k in call.keywords if k.arg is not None})
        if getattr(self, "_bindings", None) is None:
            self._bindings: dict[int, tuple[dict[str, ast.expr], tuple[Path, int]]] = {}
        self._bindings[id(function)] = (bound, where)

    def argument_bound(self, node: ast.expr | None, where: tuple[Path, int]) -> tuple[ast.expr | None, tuple[Path, int]]:
        """A parameter of the function being walked, as the call that runs it gives it, with the caller's place
        to evaluate it at; anything else as it is."""
        bindings = getattr(self, "_bindings", None) or {}
        if isinstance(node, ast.Name) and self.running and id(self.running[-1]) in bindings:
            bound, caller = bindings[id(self.running[-1])]
            if node.id in bound:
                return bound[node.id], caller
        return node, where

    def url_reaching(self, node: ast.expr | None, where: tuple[Path, int]) -> str | None:
        """The URL text an engine or a pool gets, when the project's code between the environment and it runs."""
        value = self.value_at(node, where)
        return value if isinstance(value, str) and "://" in value else None

    def driver_connect(self, url: str, module: str, where: tuple[Path, int], through_sqlalchemy: bool) -> None:
        """Queue what `module` (asyncpg, psycopg2, psycopg) raises when it connects to `url`."""
        try:
            parsed = make_url(url)
        except (Raised, ValueError):
            # a URL SQLAlchemy cannot read (a port from an unset variable, `:None`): the walk cannot tell what the
            # deploy's environment gives there, so it says nothing of the connection
            return
        database = parsed.database or ""
        host = (parsed.host or "").lower()
        if self.network_hosts() and host in self.network_hosts():
            service, compose = self.network_hosts()[host]
            exception, message = _UNRESOLVED[module]
            # psycopg's error names the host it could not resolve from 3.2.13 (its source, in the tables)
            if module == "psycopg" and tables.message("psycopg", self.have.version("psycopg"), "resolve-host-error"):
                message = message.replace("[Errno", "failed to resolve host '{host}': [Errno")
            self.pending_connects.append((
                exception, message.format(host=host), where, "compose-host",
                f"the URL names the host `{host}`, compose's network name for its `{service}` service ({compose}): "
                "only containers on that network resolve it. Set the URL from the platform's DATABASE_URL "
                "instead of the compose host"))
            return
        if "&" in database or "=" in database:
            missing = f'database "{database}" does not exist'
            exception, message = ("asyncpg.exceptions.InvalidCatalogNameError", missing) if module == "asyncpg" else \
                ("sqlalchemy.exc.OperationalError", f"({module}.OperationalError) {missing}")
            self.pending_connects.append((exception, message, where, "url-cleaner",
                                          f"the project's own URL code turns the platform URL into {url}: the rest "
                                          "of the query string is glued onto the database name"))
            return
        if not parsed.host and "@" in unquote(database):
            # `"postgresql+asyncpg://" + url[12:]` (one character short): the authority lands in the path, and the
            # driver connects to its default, the local socket or localhost:5432, where nothing listens.
            self.pending_connects.append(("ConnectionRefusedError", "[Errno 111] Connection refused", where,
                                          "url-cleaner", f"the project's own URL code turns the platform URL into "
                                          f"{url}: no host, and the credentials and host are read as the database name"))
            return
        query = list(parsed.query)
        glued = [name for name in query if name in _LIBPQ_CHECKED and "?" in str(parsed.query[name])]
        if module == "psycopg2" and glued:
            # `url + "?param=value"` on a URL that has a query already: the second `?` is part of the value before it
            value = parsed.query[glued[0]]
            self.pending_connects.append((
                "sqlalchemy.exc.OperationalError",
                f'(psycopg2.OperationalError) invalid {glued[0]} value: "{value}"', where, "url-query-glued",
                f"the project's own URL code turns the platform URL into {url}: it appends a query with `?` to a "
                f"URL that has one, so libpq reads `{value}` as `{glued[0]}`; join with `&` there"))
            return
        if module == "asyncpg" and through_sqlalchemy:
            bad = [name for name in query if name in _LIBPQ_ONLY]
            if bad:
                self.pending_connects.append(("TypeError", f"connect() got an unexpected keyword argument '{bad[0]}'",
                                              where, "async-driver-params",
                                              f"the URL reaches asyncpg as {url.split('?')[0]}?{'&'.join(query)}: "
                                              "SQLAlchemy passes its query to asyncpg.connect() as keyword arguments"))
        elif module == "asyncpg":
            settings = [name for name in query if name in LIBPQ_CLIENT_ONLY]
            if settings:
                self.pending_connects.append(("asyncpg.exceptions.UndefinedObjectError",
                                              f'unrecognized configuration parameter "{settings[0]}"', where,
                                              "asyncpg-dsn",
                                              f"asyncpg's DSN parser sends `{settings[0]}` to the server as a setting"))

    def raw_pools(self, tree: ast.Module, file: Path) -> None:
        """`asyncpg.connect(dsn)` / `asyncpg.create_pool(dsn)` anywhere in a module the start imports: their DSN."""
        if not self.have.known or self.have.provides("asyncpg") is False:
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("asyncpg.connect", "asyncpg.create_pool"):
                arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "dsn"), None)
                url = self.url_reaching(arg, (file, 10 ** 9))
                if url is not None:
                    self.driver_connect(url, "asyncpg", (file, node.lineno), through_sqlalchemy=False)

    def connected(self, statement: ast.stmt) -> None:
        """A startup hook's statement that connects: the queued driver failures happen here."""
        if not self.pending_connects:
            return
        for node in _unguarded(statement):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in CONNECTING:
                    for exception, message, where, family, detail in self.pending_connects:
                        self.fail(f"connect:{message}", exception, message, where, family, detail)
                    self.pending_connects.clear()
                    return

    def env_file_config(self, call: ast.Call, where: tuple[Path, int]) -> None:
        """starlette's `Config(path)` raises when the file is not there in the releases whose source says so
        (0.36.0 to 0.37.0: before, it skips the file; after, it warns)."""
        version = self.have.version("starlette")
        if not call.args or version is None or not tables.message("starlette", version, "config-file-missing-raises") \
                or self.value_at(call.func, where) != ("dotted", "starlette.config.Config"):
            return
        path = self.value_at(call.args[0], where)
        if isinstance(path, str) and not Path(path).is_file():
            variables = sorted({n.args[0].value for n in ast.walk(self.evaluator().load(self._module_named(where[0]).name)[0])
                                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "config"
                                and n.args and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)
                                and not n.keywords and len(n.args) == 1})
            shown = Path(path).resolve()
            try:
                shown = shown.relative_to(self.backend)
            except ValueError:
                pass
            folder = Path(path).resolve().parent
            examples = sorted(p.name for p in folder.glob("*") if p.is_file() and "env" in p.name.lower()
                              and p.name != Path(path).name) if folder.is_dir() else []
            self.fail(f"envfile:{path}", "FileNotFoundError", f"Config file '{path}' not found.", where, "env-file",
                      f"starlette {version}'s Config needs the file {shown.as_posix()}: create it"
                      + (f" (the project's example: {', '.join(examples)} beside it)" if examples else "")
                      + (f", setting {', '.join(variables)} (no default)" if variables else ""))


def _unguarded(statement: ast.AST):
    """The nodes of `statement` outside the body of a `try` that handles exceptions (a lifespan that catches the
    connection error and logs it starts all the same)."""
    stack = [statement]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            stack.extend([*node.orelse, *node.finalbody] + ([] if node.handlers else node.body))
        else:
            stack.extend(ast.iter_child_nodes(node))


def module_level_ifs(statements: list[ast.stmt]) -> Iterable[int]:
    """The ids of the `if` statements among `statements` that run at import (not inside a function or class)."""
    for node in statements:
        if isinstance(node, ast.If):
            yield id(node)
            yield from module_level_ifs(node.body)
            yield from module_level_ifs(node.orelse)
        elif isinstance(node, ast.Try):
            yield from module_level_ifs(node.body + node.orelse + node.finalbody)


def _read(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
