"""The failures a start meets besides unresolved imports, as Python and the libraries word them: a distribution
that does not install, a name a third-party module no longer exports, greenlet under SQLAlchemy 2.1, the DBAPI
module an engine's URL loads, email-validator and python-multipart, a settings validator that rejects the
platform's URL, a StaticFiles folder that is not there. `FailureChecks` is the part of the import walk
(`fixer.model.importwalk`) that checks them; `Failure` and `Prediction` are what the walk reports.
"""

from __future__ import annotations

import ast
import functools
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from fixer import tables
from fixer.model.database import FIXER_NORMALISER
from fixer.model.entrypoints import StartPoint
from fixer.model.evidence import platform_url_read
from fixer.model.settingsenv import decode_failure, env_values
from fixer.model.urls import WRITTEN_NORMALISERS, async_driver, to_async_url

__all__ = ["ALSO_FIXED_BY", "FIXED_BY", "LOG_FILE_HANDLERS", "Failure", "FailureChecks", "ImportFix", "Prediction", "rejects_plain_url"]

# The rules that fix each family (the issue assigns FX020-FX025; FX001/FX004/FX005 are the driver/URL rules).
FIXED_BY = {
    "unresolved-import": "FX020",
    "relative-import": "FX020",
    "moved-name": "FX021",
    "async-import": "FX002",
    "async-engine": "FX002",
    "missing-dependency": "FX023",
    "email-validator": "FX023",
    "multipart": "FX023",
    "greenlet": "FX001",
    "async-driver-url": "FX004",
    "sync-driver": "FX005",
    "async-driver": "FX001",
    "no-wheel": "FX025",
    "no-solution": "FX025",
    "removed-module": "FX039",
    "removed-name": "FX039",
    "new-keyword": "FX048",
    "static-dir": "FX040",
    "log-dir": "FX040",
    "async-driver-params": "FX004",
    "settings-url": "FX042",
    "asyncpg-dsn": "FX043",
    "annotated-default": "FX052",
}
# logging's handlers that open their file when built (unless `delay=True`).
LOG_FILE_HANDLERS = frozenset({"FileHandler", "RotatingFileHandler", "TimedRotatingFileHandler", "WatchedFileHandler"})
# An async engine loading psycopg (3), which is async too: FX005 adds it where a URL is out of FX004's reach.
ALSO_FIXED_BY = {"async-driver-url": ("FX005",)}
_FORM_NAMES = frozenset({"Form", "File", "UploadFile", "OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict"})
_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_route", "websocket", "options", "head"})
_ASYNC_MODULES = ("sqlalchemy.ext.asyncio", "sqlmodel.ext.asyncio")
# The variables hosting platforms (Heroku, Render, Railway, Neon, Vercel) set to a plain postgresql:// URL.
_ALEMBIC_READERS = frozenset({"get_section", "get_main_option", "get_section_option"})
_POSTGRES_DRIVERS = ("psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary", "asyncpg", "pg8000")


@dataclass(frozen=True)
class Failure:
    exception: str  # as Python prints it: ModuleNotFoundError, ImportError, pydantic.errors.PydanticImportError
    message: str  # the first line of the message, without the path in parentheses Python adds
    path: str  # the file whose statement raises, relative to the backend (POSIX)
    line: int
    family: str  # unresolved-import, missing-dependency, circular-import, ... (see FIXED_BY)
    chain: tuple[str, ...] = ()  # the import chain from the entry module to `path`
    detail: str = ""  # what it means, for the report
    cycle: tuple[str, ...] = ()  # circular imports: the modules in the cycle

    @property
    def fixed_by(self) -> str | None:
        return FIXED_BY.get(self.family)

    @property
    def fixers(self) -> tuple[str, ...]:
        """Every rule that fixes this failure where its shape allows (`fixed_by` first)."""
        return ((self.fixed_by,) if self.fixed_by else ()) + ALSO_FIXED_BY.get(self.family, ())

    def __str__(self) -> str:
        return f"{self.exception}: {self.message}"


@dataclass(frozen=True)
class ImportFix:
    """An import that cannot resolve from the start folder, and the name the module it means has from there."""

    path: str
    line: int
    old: str  # the module as written, dots included: "core.config", ".routes"
    new: str  # "src.core.config", "routes"


@dataclass(frozen=True)
class Prediction:
    start: StartPoint
    failures: tuple[Failure, ...]
    required_env: tuple[str, ...] = ()  # settings fields without default read at import: set them
    order: tuple[str, ...] = ()  # project modules in the order the start imports them (paths)
    sys_path_edits: tuple[tuple[str, int, str, bool], ...] = ()  # (file, line, folder, exists)
    import_fixes: tuple[ImportFix, ...] = ()  # `from X import` lines to rewrite for this start (FX020)
    # Project modules imported inside the functions that create the tables (before create_all runs).
    late_order: tuple[str, ...] = ()
    # Modules the project's newer Python parses but this interpreter cannot (path, line, message): not walked.
    unchecked: tuple[tuple[str, int, str], ...] = ()
    # The environment variables to set before the start imports (not defects): (variable, file, line, Class.field).
    required_settings: tuple[tuple[str, str, int, str], ...] = ()
    tables_at: int | None = None  # how many of `order` are imported when a startup hook first runs create_all
    # What each engine's URL argument becomes, the project's own code run on the platform URL: (path, line, URL).
    engine_urls: tuple[tuple[str, int, str], ...] = ()
    # Failures the walk cannot rule out (path, line, the error, why): a module an installed distribution whose
    # requirements fixer does not know may or may not bring. "Imports cleanly" is not said where these stand.
    uncertain: tuple[tuple[str, int, str, str], ...] = ()
    # What the first connection raises when no startup hook connects: the first request that uses the database,
    # once the start is up (a project's URL code that corrupts the platform URL, URL-OWN-CLEANER-CORRUPTS).
    first_connect: tuple[Failure, ...] = ()



class FailureChecks:
    """The checks of what module-level code does besides imports; mixed into the import walk, whose state
    (`have`, `flow`, `fail`, `run_dir`, ...) they read."""

    def third_party(self, name: str, where: tuple[Path, int]) -> None:
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__" or not self.have.known:
            return
        provided = self.have.provides(top)
        if provided is False:
            dist = tables.distribution_of(top)
            self.third_party_failed.add(top)
            self.fail(f"dist:{top}", "ModuleNotFoundError", f"No module named '{top}'", where, "missing-dependency",
                      f"`{top}` comes from the distribution {dist}, which the project's dependency files do not install")
            return
        if provided is None:
            outside = self.outside_backend(top)
            if outside is not None:
                self.third_party_failed.add(top)
                self.fail(f"dist:{top}", "ModuleNotFoundError", f"No module named '{top}'", where, "missing-module",
                          f"`{top}` is the repository's own {outside}, outside the backend folder the start imports "
                          f"from, and no dependency installs it: a deploy of this folder does not have it")
                return
        loaded = next((pair for pair in tables.loaded_at_import(name) if self.have.provides(pair[1]) is False), None)
        if provided and loaded is not None:
            self.third_party_failed.add(top)
            self.fail(f"dist:{loaded[1]}", "ModuleNotFoundError", f"No module named '{loaded[1]}'", where,
                      "missing-dependency", f"`{name}` imports {loaded[1]} when it loads, from the distribution "
                      f"{loaded[0]}, which the project's dependency files do not install")
            return
        if provided and name != top:
            dist = self.dist_of(top)
            version = self.have.version(dist) if dist else None
            if version is not None and self.removed(dist, version, name, where):
                return
        if provided and any(name == m or name.startswith(m + ".") for m in _ASYNC_MODULES):
            self.greenlet(where)

    def outside_backend(self, top: str) -> str | None:
        """Where the repository holds a module `top` above the backend folder (its path from the backend), when no
        distribution is known by that name: the folders up to the git top, or three levels without one."""
        folders = []
        for parent in self.backend.resolve().parents if not (self.backend / ".git").exists() else ():
            folders.append(parent)
            if (parent / ".git").exists():
                break
        else:
            folders = folders[:3]
        backend = self.backend.resolve()
        for folder in folders:
            for found in (folder / top, folder / f"{top}.py"):
                if found == backend or found in backend.parents:
                    continue  # the backend's own package, imported from the wrong folder: not a missing module
                if found.is_file() or found.is_dir() and any(found.glob("**/*.py")):
                    return os.path.relpath(found, self.backend)
        return None

    def import_fails(self, statements: list[ast.stmt]) -> bool:
        """Whether a block of plain imports (a `try:` body) raises ImportError on this install: it imports a
        third-party module no installed distribution provides."""
        if not self.have.known or not statements:
            return False
        tops = []
        for node in statements:
            if isinstance(node, ast.Import):
                tops += [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops.append(node.module.split(".")[0])
            elif not isinstance(node, ast.Pass):
                return False  # other code may raise ImportError too, or not: not known here
        return any(top not in sys.stdlib_module_names and self._is_third(top) and self.have.provides(top) is False
                   for top in tops)

    @staticmethod
    def catches_import_error(handler: ast.ExceptHandler) -> bool:
        names = [] if handler.type is None else [ast.unparse(t).rpartition(".")[2] for t in (
            handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type])]
        return not names or bool({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"} & set(names))

    def greenlet(self, where: tuple[Path, int]) -> None:
        # from 2.1 SQLAlchemy's metadata brings greenlet only with the asyncio extra (the tables read it)
        version = self.have.version("sqlalchemy")
        if version is not None and not tables.message("sqlalchemy", version, "greenlet-required") \
                and not self.have.has("greenlet"):
            self.fail("dist:greenlet", "ImportError", tables.message("sqlalchemy", version, "greenlet-error"), where,
                      "greenlet",
                      f"SQLAlchemy {version} no longer installs greenlet, and sqlalchemy.ext.asyncio imports it")

    def from_third(self, module: str, names: list[str], where: tuple[Path, int]) -> None:
        top = module.split(".")[0]
        if top in self.third_party_failed or not self.have.known:
            return
        dist = self.dist_of(top)
        version = self.have.version(dist) if dist else None
        if dist is None or version is None:
            return
        if self.removed(dist, version, module, where):
            return
        exported = tables.exports(dist, version, module)
        if not exported:
            return
        for name in names:
            if name.startswith("_") or tables.may_export(dist, version, module, name):  # public names only
                continue
            moved = tables.moved(dist, version, module, name)
            if moved:
                kind, _, message = moved.partition(": ")
                message = _moved_message(message.splitlines()[0], version)
                self.fail(f"name:{module}:{name}", f"pydantic.errors.{kind}" if dist == "pydantic" else kind,
                          message, where, "moved-name", f"{dist} {version} installs")
            elif not self._may_be_submodule(dist, version, f"{module}.{name}"):
                family = "async-import" if dist in ("sqlalchemy", "sqlmodel") else "missing-name"
                # An older release had it: the release that installs removed it (FastMCP from mcp.server in mcp 2).
                last = tables.last_exporting(dist, module, name, version) if family == "missing-name" else None
                self.fail(f"name:{module}:{name}", "ImportError", f"cannot import name '{name}' from '{module}'",
                          where, "removed-name" if last else family, f"{dist} {version} installs; it has no `{module}.{name}`"
                          + (f"; the last release that has it is {dist} {last}" if last else ""))

    def dist_of(self, top: str) -> str | None:
        """The distribution an import name comes from: the tables', else one installed under that name (mcp)."""
        return tables.distribution_of(top) or (top if self.have.has(top) else None)

    def removed(self, dist: str, version: Version, module: str, where: tuple[Path, int]) -> bool:
        """A module the installed release no longer has (`mcp.server.fastmcp` in mcp 2): the import fails."""
        error = tables.import_error(dist, version, module)
        if not error or not error.startswith(("ModuleNotFoundError", "ImportError")):
            return False
        kind, _, message = error.partition(": ")
        last = tables.last_importing(dist, module, version)
        self.fail(f"mod:{module}", kind, message.splitlines()[0], where, "removed-module",
                  f"{dist} {version} installs, which has no `{module}`"
                  + (f"; the last release that has it is {dist} {last}" if last else ""))
        return True

    @staticmethod
    def _may_be_submodule(dist: str, version: Version, module: str) -> bool:
        """`from pkg import sub` imports a submodule the exports table need not list (classes are CamelCase)."""
        name = module.rpartition(".")[2]
        if not name.islower():
            return False
        names = tables.exports(dist, version, module)
        return names is None or bool(names)

    # -- executing a module

    def email(self, where: tuple[Path, int]) -> None:
        if self.have.known and self.have.provides("email_validator") is False:
            # pydantic's own words, as the installed release has them (2.12 quotes the extra)
            message = tables.message("pydantic", self.have.version("pydantic"), "email-validator")
            self.fail("dist:email_validator", "ImportError", message, where, "email-validator",
                      "a pydantic model has an EmailStr field: pydantic needs the email-validator distribution")

    def route(self, module, node: ast.FunctionDef | ast.AsyncFunctionDef, where, guarded: bool) -> None:
        """FastAPI reads a route's parameters when it is declared (at import): `Annotated` markers, and
        python-multipart for form parameters."""
        if guarded:
            return
        routed = any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in _ROUTE_METHODS
                     for d in node.decorator_list)
        if not routed:
            return
        self.annotated_defaults(module, node, where)
        if not self.have.known:
            return
        arguments = node.args.args + node.args.kwonlyargs
        text = " ".join(ast.unparse(a.annotation) for a in arguments if a.annotation)
        text += " " + " ".join(ast.unparse(d) for d in node.args.defaults + [d for d in node.args.kw_defaults if d])
        words = set(text.replace("[", " ").replace("]", " ").replace("(", " ").replace(",", " ").replace(".", " ").split())
        # FastAPI checks it as the route is declared from 0.60.2 (the releases whose source holds the message)
        message = tables.message("fastapi", self.have.version("fastapi"), "multipart-error")
        if words & _FORM_NAMES and message and self.have.provides("multipart") is False \
                and self.have.provides("python_multipart") is not True:
            self.fail("dist:multipart", "RuntimeError", message.splitlines()[0].strip(), where, "multipart",
                      "a route takes form data (Form, File, UploadFile, OAuth2PasswordRequestForm): FastAPI needs "
                      "python-multipart when the route is declared")

    def settings_rejects_url(self, name: str, where: tuple[Path, int], call: ast.Call) -> None:
        pydantic = self.have.version("pydantic")
        if pydantic is None:
            return
        built = self.value_at(call, where)  # the validators run on the platform URL; None: not known, as it reads
        if built is not None and not hasattr(built, "exception"):
            return
        kind = "pydantic_core._pydantic_core.ValidationError" if pydantic.major >= 2 else \
            "pydantic.error_wrappers.ValidationError"
        self.fail(f"validator:{name}", kind, f"1 validation error for {name}", where, "settings-url",
                  "a validator of the settings class rejects the plain postgresql:// URL hosting platforms give")

    def settings_decode(self, name: str, decoded: tuple, where: tuple[Path, int]) -> None:
        """`Settings()` on a collection field whose value, as the start's environment gives it, is not JSON."""
        pydantic = self.have.version("pydantic")
        if pydantic is None or pydantic.major < 2:
            return  # pydantic 1's BaseSettings words it otherwise (and pydantic-settings is what is modelled)
        fields, env_file, case_sensitive = decoded
        values = env_values(self.backend, self.run_dir, env_file)
        for field in fields:
            found = decode_failure(field, values, case_sensitive)
            if found is None:
                continue
            # The form, never the value: a list of keys or tokens is a secret too.
            items = len([part for part in found.value.split(",") if part.strip()])
            form = f"comma-separated text ({items} items)" if items > 1 else "plain text"
            detail = (f"{found.path}:{found.line} sets {found.key} to {form}, not JSON; {name}.{field.name} is a "
                      f"collection, which pydantic-settings reads as JSON (`[\"a\", \"b\"]`)")
            if field.union:
                self.fail(f"settings-decode:{name}", "pydantic_core._pydantic_core.ValidationError",
                          f"1 validation error for {name}", where, "settings-decode",
                          detail + ": the text is passed on as it is, and no validator of the class converts it")
            else:
                version = self.have.version("pydantic-settings")
                # SettingsError lives in pydantic_settings.exceptions from 2.9, in pydantic_settings.sources before.
                module = "exceptions" if tables.message("pydantic-settings", version, "settings-error-in-exceptions") \
                    else "sources"
                self.fail(f"settings-decode:{name}", f"pydantic_settings.{module}.SettingsError",
                          f'error parsing value for field "{field.name}" from source "{found.source}"', where,
                          "settings-decode", detail)
            return  # pydantic-settings stops at the first field it cannot read

    def engine(self, call: ast.Call, asynchronous: bool, where: tuple[Path, int]) -> None:
        """create_engine loads the DBAPI module its URL names at once. The platform gives `postgresql://`."""
        url = _literal_url(call)
        path = self.rel(where[0])
        site = next((e for e in self.flow.engines if e.path == path and e.line in (call.lineno, where[1])), None)
        asynchronous = asynchronous or (site is not None and site.wrapped)
        argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "url"), None)
        if url is None and argument is not None and self.unparsable_url(argument, where):
            return
        # The project's own code between the environment and the engine, run on the platform URL: what it
        # gives is what the driver gets (its helpers, validators and `.replace` included).
        evaluated = None if url is not None or argument is None else self.url_reaching(*self.argument_bound(argument, where))
        if evaluated is None and url is None and argument is not None and self._alembic_section(argument):
            evaluated = self.alembic_url(call, where)  # alembic's env.py: the URL it put into alembic's config
        if evaluated is not None:
            self.engine_urls.append((path, where[1], evaluated))
        if evaluated is not None and not (site is not None and site.url.scheme and not site.url.scheme.startswith(
                "postgres") and evaluated.startswith("postgres") and not any(self.have.has(d) for d in _POSTGRES_DRIVERS)):
            url = evaluated
        elif url is None:
            if argument is None:
                return
            names = site.url.names if site is not None else (ast.unparse(argument),)
            if site is not None and any(step in self.flow.url_helpers for step in site.url.through):
                return  # the project's own helper makes the URL what the engine needs, or not: not known here
            if not platform_url_read(names):  # SYNC_DATABASE_URL is the project's own, not a platform's
                # Not the variable hosting platforms set: the default the project gives that field or variable
                # (`reports_db: str = "postgresql://..."`, in the code or its example files) is what the engine
                # gets; without one, what it holds is the project's own choice.
                if site is None or site.url.through:
                    return
                shipped = {u.scheme for u in self.flow.shipped if u.key.upper() in {n.upper() for n in names}}
                if site.url.scheme is not None:
                    url = site.url.literal
                elif len(shipped) == 1:
                    url = shipped.pop() + "://"
                else:
                    return
            elif self.computed_attribute(names):
                return  # a property that builds the URL (PostgresDsn.build(scheme=...)): no variable holds it
            else:
                url = self.database_url
                default = site.url.scheme if site is not None else None
                if url is not None and default and not default.startswith("postgres") and not any(
                    u.key.upper() in {n.upper() for n in names} for u in self.flow.shipped
                ) and not any(self.have.has(d) for d in _POSTGRES_DRIVERS) and not self.flow.postgres_shown:
                    url = None  # a SQLite default and nothing of PostgreSQL: a SQLite app, not a platform's
        if url is None:
            # What the project ships under that name (.env.example, compose) is the URL it expects; a plain
            # postgresql:// only when it ships none, as platforms give (FX004 holds the same view).
            shipped = [u.scheme for u in self.flow.shipped if u.key.upper() in {n.upper() for n in names}]
            default = site.url.scheme if site is not None else None
            if not shipped and default and not default.startswith("postgres"):
                shipped = [default]  # `os.getenv("DATABASE_URL", "sqlite:///...")`: a SQLite app, none of a platform's
            url = (shipped[0] if shipped and len(set(shipped)) == 1 else "postgresql") + "://"
        if _literal_url(call) is None and evaluated is None:
            for rewrite in self.flow.rewrites:
                if rewrite.path == path:
                    url = url.replace(rewrite.old, rewrite.new)
            for step in site.url.through if site is not None else ():  # the normalisers fixer writes, as they convert
                if step in WRITTEN_NORMALISERS:
                    # fixer's async normaliser names the driver the install gives, as FX004 writes it
                    convert = functools.partial(to_async_url, driver=async_driver(self.have.has)) \
                        if step == FIXER_NORMALISER else WRITTEN_NORMALISERS[step]
                    url = convert(url + "host/db" if url.endswith("://") else url) or url
        scheme = url.split("://", 1)[0]
        if asynchronous and scheme == "sqlite":  # ENG-SQLITE-ASYNC: sqlite's default driver is the sync pysqlite
            self.fail("async:pysqlite", "sqlalchemy.exc.InvalidRequestError",
                      "The asyncio extension requires an async driver to be used. The loaded 'pysqlite' is not async.",
                      where, "sqlite-async", "create_async_engine got a sqlite:/// URL: it needs sqlite+aiosqlite:///"
                      " and the aiosqlite package")
            return
        if not scheme.startswith("postgres") or not self.have.known:
            return
        driver = scheme.partition("+")[2]
        sqlalchemy = self.have.version("sqlalchemy")
        if sqlalchemy is None:
            return
        if not driver:  # the dialect's default DBAPI, as the release's source sets it (psycopg from 2.1)
            driver = tables.message("sqlalchemy", sqlalchemy, "postgresql-default-driver")
        module = {"psycopg2": "psycopg2", "psycopg": "psycopg", "asyncpg": "asyncpg", "psycopg_async": "psycopg"}.get(driver)
        if module is None:
            return
        if module == "asyncpg":
            family = "async-driver"
        else:
            family = "async-driver-url" if asynchronous else "sync-driver"
            if not asynchronous and site is not None and site.async_use:
                family = "async-engine"  # `create_engine` building what the code uses as an async engine
        provided = self.have.provides(module)
        if provided is None:
            self.doubt(f"ModuleNotFoundError: No module named '{module}'", where,
                       f"the engine's URL ({scheme}://) loads {module}; whether "
                       f"it comes with {', '.join(self.have.may_bring(module))} is not known")
        if provided is False:
            self.fail(f"dist:{module}", "ModuleNotFoundError", f"No module named '{module}'", where, family,
                      f"the engine's URL ({scheme}://) loads {module}, which does not install")
        elif asynchronous and (module == "psycopg2" or (driver == "psycopg" and site is not None and site.wrapped)):
            # create_engine loads psycopg's sync dialect, which AsyncEngine(...) refuses as it does psycopg2
            self.fail(f"async:{module}", "sqlalchemy.exc.InvalidRequestError",
                      f"The asyncio extension requires an async driver to be used. The loaded '{module}' is not async.",
                      where, "async-driver-url", "AsyncEngine(create_engine(...)) got a sync driver's URL"
                      if site is not None and site.wrapped else "create_async_engine got a postgresql:// URL")
        elif evaluated is not None and url == evaluated:
            self.driver_connect(url, module, where, through_sqlalchemy=True)

    def _alembic_section(self, argument: ast.expr) -> bool:
        """Whether an engine's configuration is alembic's: `config.get_section(...)` itself, or a name the
        function being walked assigned from it (`configuration = config.get_section(...) or {}`)."""
        def reads(node: ast.AST) -> bool:
            return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _ALEMBIC_READERS
                       for n in ast.walk(node))
        if isinstance(argument, ast.Call):
            return reads(argument)
        if not isinstance(argument, ast.Name) or not self.running:
            return False
        return any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == argument.id for t in n.targets)
                   and reads(n.value) for n in ast.walk(self.running[-1]))

    def computed_attribute(self, names: Iterable[str]) -> bool:
        """Whether a settings attribute the engine reads is a property or computed field of a class the start
        imports: what it returns is built in code, not read from the environment under that name."""
        wanted = {name.rsplit(".", 1)[-1] for name in names}
        for module in list(self.modules.values()):
            tree = self.shared_tree(module.file) if module.file is not None else None
            for node in ast.walk(tree) if tree is not None else ():
                if isinstance(node, ast.ClassDef) and any(
                        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in wanted and any(
                            ast.unparse(d).endswith(("property", "computed_field")) for d in item.decorator_list)
                        for item in node.body):
                    return True
        return False

    def made_dir(self, call: ast.Call, where: tuple[Path, int]) -> None:
        """A folder the code creates (`os.makedirs(os.path.dirname(LOG_FILE))`, `Path("logs").mkdir()`), as an
        absolute path; None where its value is not worked out, and then no folder is predicted missing."""
        func = call.func
        if not isinstance(func, ast.Attribute) or ast.unparse(func.value) == "os":
            folder = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg in ("name", "path")), None)
        elif isinstance(func.value, ast.Call) and ast.unparse(func.value.func) in ("Path", "pathlib.Path") \
                and len(func.value.args) == 1:
            folder = func.value.args[0]
        else:
            folder = None  # a Path built elsewhere (`LOG_DIR.mkdir()`): the evaluator does not build Path objects
        value = self.value_at(folder, where)
        self.made_dirs.add(os.path.normpath(os.path.join(self.run_dir, value)) if isinstance(value, str) and value
                           else None)

    def made(self, folder: str) -> bool:
        """Whether the code ran so far creates `folder` (relative to the start folder), or a folder not worked out."""
        wanted = os.path.normpath(os.path.join(self.run_dir, folder))
        return any(made is None or made == wanted or made.startswith(wanted + os.sep) for made in self.made_dirs)

    def keywords_accepted(self, module: str, name: str, call: ast.Call, where: tuple[Path, int]) -> None:
        """A third-party function called as the app loads (a table model's `Field(...)`) with a keyword the release
        that installs does not take yet raises TypeError there (sqlmodel's `ondelete` came in 0.0.21)."""
        dist = self.dist_of(module.split(".")[0])
        version = self.have.version(dist) if dist else None
        accepted = tables.keywords(dist, version, module, name) if version is not None else None
        if accepted is None or "**" in accepted:
            return
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg not in accepted:
                first = tables.first_accepting(dist, module, name, keyword.arg, version)
                self.fail(f"kw:{module}.{name}:{keyword.arg}", "TypeError",
                          f"{name}() got an unexpected keyword argument '{keyword.arg}'", where, "new-keyword",
                          f"{dist} {version} installs, whose {name}() has no `{keyword.arg}`"
                          + (f"; it came in {dist} {first}" if first else ""))
                return

    def static_files(self, call: ast.Call, where: tuple[Path, int]) -> None:
        directory = next((k.value for k in call.keywords if k.arg == "directory"), call.args[0] if call.args else None)
        check = next((k.value for k in call.keywords if k.arg == "check_dir"), None)
        if not isinstance(directory, ast.Constant) or not isinstance(directory.value, str):
            return
        if isinstance(check, ast.Constant) and check.value is False:
            return
        if not self.made(directory.value) and not (self.run_dir / directory.value).is_dir():
            self.fail(f"dir:{directory.value}", "RuntimeError", f"Directory '{directory.value}' does not exist", where,
                      "static-dir", f"StaticFiles checks its directory relative to the start folder ({self.start.run_from or '.'}/)")


    def log_file(self, call: ast.Call, where: tuple[Path, int]) -> None:
        """A logging file handler opens its file when built: a folder that is not there (a `logs/` the repository
        ignores) stops the start with FileNotFoundError, naming the absolute path."""
        delay = next((k.value for k in call.keywords if k.arg == "delay"), None)
        if isinstance(delay, ast.Constant) and delay.value:
            return
        name = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "filename"), None)
        value = name.value if isinstance(name, ast.Constant) else self.value_at(name, where) if name else None
        if not isinstance(value, str) or not value or os.path.isabs(value):
            return
        folder = os.path.dirname(value)
        if not folder or self.made(folder) or (self.run_dir / folder).is_dir():
            return
        path = os.path.join(os.path.abspath(self.run_dir), value)
        self.fail(f"dir:{folder}", "FileNotFoundError", f"[Errno 2] No such file or directory: '{path}'", where,
                  "log-dir", f"the log file's folder {folder}/ is not in the tree the start runs in "
                  f"({self.start.run_from or '.'}/): the repository does not ship it")


def _moved_message(message: str, version: Version) -> str:
    """The table's message (recorded once, from pydantic 2.0) as `version` prints it: pydantic puts its own
    major.minor in the docs URL, under the docs root its source names (pydantic.dev/docs/validation/ from 2.14).
    (The exports table keeps one message per name: tools/gen_tables.py should record it per version.)"""
    short = f"{version.major}.{version.minor}"
    docs = tables.message("pydantic", version, "migration-docs")
    return message.replace("https://docs.pydantic.dev/2.0/", f"{docs}{short}/") if docs else message



def rejects_plain_url(node: ast.ClassDef) -> bool:
    """A field validator of a URL field that raises unless the URL names an async driver (`+asyncpg`)."""
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decorators = " ".join(ast.unparse(d) for d in item.decorator_list)
        if "validator" not in decorators or not any(w in decorators.lower() for w in ("url", "dsn", "uri")):
            continue
        body = ast.unparse(item)
        returns_rewritten = any(isinstance(n, ast.Call) and ast.unparse(n.func).endswith("replace") for n in ast.walk(item))
        if "raise" in body and "+asyncpg" in body and not returns_rewritten:
            return True
    return False


def _literal_url(call: ast.Call) -> str | None:
    argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "url"), None)
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value if "://" in argument.value else None
    return None

