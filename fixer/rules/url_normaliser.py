"""FX004 at run time: where `create_async_engine` takes its URL only when the app starts, the URL is wrapped in
a small `to_async_database_url` function added once to the module, which does to the URL a hosting platform
injects what the rule does to the URLs the project ships. The rule's page is fixer.rules.database_url's."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from fixer.model import Role
from fixer.model.database import ALEMBIC_URL, FIXER_NORMALISER
from fixer.model.evidence import PLATFORM_URL, async_engine_error, cite, platform_sets, platform_url_at, predicted
from fixer.rules.sync_driver_dependency import installs_psycopg
from fixer.rules.base import FixerCodemod
from fixer.rules.database_url import ROOT_CAUSES, RULE_ID, RULE_NAME, STRING_TYPES, last_name, target_names
from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.tree_walk import scan, words

NORMALISER_NAME = FIXER_NORMALISER

NORMALISER_SOURCE = '''\
def to_async_database_url(url: str) -> str:
    """Point a PostgreSQL URL at asyncpg, as hosting platforms inject it as postgresql://...?sslmode=...

    Added by fixer (FX004): asyncpg rejects sslmode and channel_binding, and str(url) would hide the password.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername == "postgresql+asyncpg":
        query = dict(parsed.query)
        sslmode = query.pop("sslmode", None)
        query.pop("channel_binding", None)
        if sslmode is not None:
            query.setdefault("ssl", sslmode)
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False)
'''

# Where the install gives psycopg (3) and not asyncpg: psycopg is async and reads libpq's query as it is.
PSYCOPG_NORMALISER_SOURCE = '''\
def to_async_database_url(url: str) -> str:
    """Point a PostgreSQL URL at psycopg (3), as hosting platforms inject it as postgresql://...?sslmode=...

    Added by fixer (FX004): psycopg 3 is async and takes sslmode and channel_binding as they are.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)
'''


def normaliser_source(driver: str) -> str:
    """The normaliser FX004 adds, for the async driver the install gives (`ProjectModel.async_driver`)."""
    return PSYCOPG_NORMALISER_SOURCE if driver == "psycopg" else NORMALISER_SOURCE


_MAKE_URL_MODULES = frozenset({"sqlalchemy", "sqlalchemy.engine", "sqlalchemy.engine.url"})


def _dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def defined_names(module: cst.Module) -> tuple[set[str], bool]:
    """Top-level names the module binds (defs, classes, assignments, imports) and whether it imports make_url."""
    names: set[str] = set()
    has_make_url = False
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
            continue
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                names.update(n for t in small.targets for n in target_names(t.target))
            elif isinstance(small, cst.AnnAssign):
                names.update(target_names(small.target))
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.evaluated_alias or alias.evaluated_name
                    names.add(bound)
                    if (
                        bound == "make_url"
                        and alias.evaluated_name == "make_url"
                        and not small.relative
                        and _dotted(small.module) in _MAKE_URL_MODULES
                    ):
                        has_make_url = True
            elif isinstance(small, cst.Import):
                names.update((alias.evaluated_alias or alias.evaluated_name).split(".")[0] for alias in small.names)
    return names, has_make_url


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


def _has_header(module: cst.Module) -> bool:
    """A docstring or `__strict__` flag first, as AddImportsVisitor sees it (imports never go above it)."""
    if not module.body or not isinstance(module.body[0], cst.SimpleStatementLine):
        return False
    first = module.body[0].body
    if len(first) != 1:
        return False
    small = first[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == "__strict__"
    )


def _calls(statement: cst.BaseStatement, name: str) -> bool:
    """Whether `statement` (anywhere inside) calls `name(...)`."""
    finder = _Call(name)
    scan(statement, finder)
    return finder.found


class _Call(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        self.found = self.found or (isinstance(node.func, cst.Name) and node.func.value == self.name)


def _imports_from(statements: Sequence[cst.BaseStatement], module: str) -> bool:
    """Whether one of these top-level lines is a `from MODULE import ...` (which AddImportsVisitor extends)."""
    return any(
        isinstance(small, cst.ImportFrom) and not small.relative and _dotted(small.module) == module
        for statement in statements
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


@functools.lru_cache(maxsize=8)
def _helper_function(source: str, indent: str, newline: str) -> cst.BaseStatement:
    """`source` in the module's own indentation and line endings."""
    if indent != "    ":
        source = re.sub(r"^(?:    )+", lambda found: indent * (len(found[0]) // 4), source, flags=re.MULTILINE)
    source = source.replace("\n", newline)
    return cst.parse_statement(source, config=cst.PartialParserConfig(default_indent=indent, default_newline=newline))


def _blank_lines(count: int, lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """`lines` with its leading blank lines replaced by exactly `count` of them (comments kept)."""
    rest = list(lines)
    while rest and rest[0].comment is None:
        rest.pop(0)
    return [cst.EmptyLine()] * count + rest


class RuntimeUrlNormaliser(FixerCodemod):
    """The URL given to create_async_engine at run time must be normalised for asyncpg

    **What it does.** Where `create_async_engine(URL_EXPR, ...)` takes its URL (positional or `url=`) from
    anything but a literal, wraps it as `create_async_engine(to_async_database_url(URL_EXPR), ...)` and adds,
    once, after the module's imports, a small `to_async_database_url` function (SQLAlchemy's `make_url`) that
    switches `postgres://`, `postgresql://` and `postgresql+psycopg2://` to asyncpg, turns `sslmode` into `ssl`
    and drops `channel_binding`. The same for the `create_engine(URL_EXPR)` inside `AsyncEngine(...)`, which
    makes that engine async.

    **Why.** Neon, Heroku and Render inject `DATABASE_URL=postgresql://...?sslmode=require&channel_binding=require`
    into the process environment, and an OS variable beats `.env` in pydantic-settings (URL-WHERE), so fixed
    files are not enough: the deployed app would still fail at startup (URL-PLAIN, URL-POSTGRES,
    URL-PSYCOPG2) or at the first connection (URL-NEON-SSL). The function renders with
    `render_as_string(hide_password=False)`, since `str(url)` masks the password.

    **Example**::

        engine = create_async_engine(settings.DATABASE_URL, echo=False)

    **Use instead**::

        from sqlalchemy.engine import make_url


        def to_async_database_url(url: str) -> str:
            ...


        engine = create_async_engine(to_async_database_url(settings.DATABASE_URL), echo=False)

    **Fix safety.** Idempotent: nothing happens in a module that already binds `to_async_database_url`, or
    to an argument already wrapped. Literal URLs are `DatabaseUrlCodemod`'s; a `create_engine` no `AsyncEngine(...)` wraps is left alone.
    """

    RULE_ID: ClassVar[str] = RULE_ID
    RULE_NAME: ClassVar[str] = RULE_NAME
    DEFECTS: ClassVar[tuple[str, ...]] = ("URL-WHERE", "URL-PLAIN", "URL-POSTGRES", "URL-PSYCOPG2", "URL-NEON-SSL")
    # create_engine too: FX002 turns it into create_async_engine on the same parse, after this check.
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\bcreate_(?:async_)?engine\b|\b(?:async_)?engine_from_config\b")

    def visit_Module(self, node: cst.Module) -> bool:
        from fixer.model import Role

        self._wrapped = False
        path = (self.context.filename or "").replace("\\", "/")
        # A test builds its engine on the URL it tests with (sqlite, a test server): no platform injects it.
        if not self.facts.async_db or self.facts.role(path) is Role.TEST:
            return False
        # The model's view of this module's async engines, in source order, as leave_Call meets them.
        sites = [e for e in sorted(self.facts.flow.engines, key=lambda e: e.line) if e.path == path and e.async_use]
        self._sites = [e for e in sites if e.factory not in CONFIG_FACTORIES]
        # alembic's env.py: `async_engine_from_config(config.get_section(...))` reads the URL env.py put into
        # alembic's config (`config.set_main_option("sqlalchemy.url", URL)`): that value is what to wrap, in the
        # function that builds the engine, else at the module's top level.
        self._alembic = self._alembic_plan(node, [e for e in sites if e.factory in CONFIG_FACTORIES])
        self._scopes: list[str | None] = [None]
        self._made_async: set[int] = set()
        names, self._has_make_url = defined_names(node)
        # The function calls the module's global `make_url`: a module whose own `make_url` is something else
        # would break it, and a module that has the function already needs nothing.
        return NORMALISER_NAME not in names and ("make_url" not in names or self._has_make_url)

    def _judge(self, site) -> tuple[bool, str] | None:
        """(safe, evidence) for wrapping this engine's URL, or None when it must stay as it is."""
        source = site.url
        if site.sqlite:
            return None
        failure = predicted(self.facts, RULE_ID, site.path)
        if failure is not None and installs_psycopg(self.facts, site.path):
            return None  # FX005 adds psycopg, which takes the URL as it is, for every engine at once
        if failure is not None:
            return True, cite(self.facts, failure)
        # What the project's own code, run on the platform's environment, gives this engine (none: not known).
        prediction = self.facts.startup.primary
        reached = [u for p, line, u in (prediction.engine_urls if prediction else ()) if (p, line) == (site.path, site.line)]
        if self.facts.normalised_by_project(site):
            # SHAPE-OWN-NORMALISER: the project's own code, run on the platform URL, decides; never trusted unrun.
            error = async_engine_error(self.facts, reached[0]) if reached else None
            if error is None:
                return None
            return True, f"the project's own URL code gives this engine {reached[0].split('://')[0]}://...: {error}"
        if platform_sets(source.names) and self.facts.role(site.path) is Role.LIVE:
            # The platform's URL is what reaches it in production: the fix is safe where that URL fails, and
            # not needed where the engine takes it (psycopg 3 on SQLAlchemy 2.1 speaks libpq's parameters).
            # A settings attribute of that name that the code assembles itself (a plain class's
            # `DATABASE_URL = f"postgresql+asyncpg://{DB_USER}..."`) never holds the platform's URL: what the code
            # run on the platform's environment gives it is what reaches the engine.
            url = reached[0] if reached else platform_url_at(self.facts, site)
            error = async_engine_error(self.facts, url)
            if error is None:
                return None
            return True, f"the platform URL {PLATFORM_URL} reaches this engine as {url.split('://')[0]}://... : {error}"
        shipped = self.facts.shipped_for(source.names)
        schemes = [s.scheme for s in shipped] + ([source.scheme] if source.scheme else [])
        if schemes and all(scheme.startswith("sqlite") for scheme in schemes):
            return None
        failing = self.facts.failing_inputs(source.names)
        if "str.replace" in source.through:
            # SHAPE-OWN-REPLACE: the project rewrites the URL itself; the URLs it shows are run through those
            # rewrites, and only one they leave failing (`.replace("postgresql+", ...)` on a `postgresql://`
            # with sslmode) calls for the normaliser.
            samples = [f"{s.scheme}://u@h/db" + ("?sslmode=require" if s.libpq_params else "") for s in failing]
            if not samples or self.facts.rewrites_handle(site, samples):
                return None
        if failing:
            return True, "the project shows this input: " + "; ".join(
                f"{s.path}:{s.line} {s.key}={s.scheme}://...{'?sslmode=...' if s.libpq_params else ''}" for s in failing
            )
        if schemes:
            # Every URL the project ships for this engine is already async: nothing fails on what it shows, and
            # only a platform's `postgresql://...?sslmode=` would. Protection, not a fix: unsafe.
            return False, "every URL the project shows for this engine is async; a platform may inject postgresql://...?sslmode="
        return False, "no URL for this engine is shown in the project; a platform may inject postgresql://...?sslmode="

    def _alembic_plan(self, node: cst.Module, sites: list) -> tuple[set[str | None], tuple[bool, str]] | None:
        """The scopes (function names, None for the top level) whose alembic URL assignments reach an async
        engine, and (safe, evidence) for wrapping them; None when nothing is to be wrapped."""
        if not sites:
            return None
        failure = predicted(self.facts, RULE_ID, sites[0].path)
        # A branch the documented `alembic upgrade head` never runs has no failure behind it: left alone.
        if failure is None or installs_psycopg(self.facts, sites[0].path):
            return None
        finder = _AlembicScopes()
        node.visit(finder)
        scopes = finder.engines & finder.assigned or ({None} & finder.assigned)
        return (scopes, (True, cite(self.facts, failure))) if scopes else None

    def enters(self, statement: cst.BaseStatement) -> bool:
        # env.py is small and its config assignments name no engine: walked whole when it has a URL to wrap.
        return self._alembic is not None or not {"create_async_engine", "AsyncEngine"}.isdisjoint(words(statement))

    def visit_Call(self, node: cst.Call) -> bool:
        # `AsyncEngine(create_engine(URL))` (sqlmodel's older docs): the inner engine is async, so its URL is
        # wrapped as create_async_engine's is; with psycopg (3) the helper's URL would load its sync dialect.
        inner = node.args[0].value if node.args else None
        if last_name(node.func) == "AsyncEngine" and isinstance(inner, cst.Call) and last_name(inner.func) == \
                "create_engine" and self.facts.async_driver() != "psycopg":
            self._made_async.add(id(inner))
        return True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._scopes.append(node.name.value)
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._scopes.pop()
        return updated_node

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        target = updated_node.targets[0].target if len(updated_node.targets) == 1 else None
        if not (isinstance(target, cst.Subscript) and _alembic_key(target.slice[0].slice)):
            return updated_node
        value = self._wrap_alembic(original_node, updated_node.value)
        return updated_node if value is None else updated_node.with_changes(value=value)

    def _wrap_alembic(self, original_node: cst.CSTNode, value: cst.BaseExpression) -> cst.BaseExpression | None:
        """`to_async_database_url(value)` for a URL put into alembic's config that an async engine reads."""
        if self._alembic is None or self._scopes[-1] not in self._alembic[0]:
            return None
        if isinstance(value, STRING_TYPES) or (isinstance(value, cst.Call) and last_name(value.func) == NORMALISER_NAME):
            return None  # a literal is DatabaseUrlCodemod's; an already wrapped value stays
        safe, evidence = self._alembic[1]
        wrapped = cst.Call(func=cst.Name(NORMALISER_NAME), args=[cst.Arg(value=value)])
        self._wrapped = True
        self.report(
            Finding(
                rule=RULE_ID,
                category=Category.CONFIG,
                severity=Severity.CRITICAL,
                problem=(
                    "alembic's env.py gives async_engine_from_config a URL from the environment or settings, where "
                    "hosting platforms put `postgresql://...?sslmode=require&channel_binding=require`."
                ),
                root_cause=ROOT_CAUSES["URL-PLAIN"] + " " + ROOT_CAUSES["URL-NEON-SSL"],
                old_code=self.code(original_node),
                new_code=self.code(original_node).replace(self.code(value), f"{NORMALISER_NAME}({self.code(value)})", 1),
                explanation=(
                    "`alembic upgrade head` runs env.py before the server starts: the URL it puts into alembic's "
                    "config now passes through `to_async_database_url`, as the app's own engine URL does."
                ),
                defects=self.DEFECTS,
                fixed=True,
                safe=safe,
                evidence=evidence,
            )
        )
        return wrapped

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        name = last_name(updated_node.func)
        if name in ("set_main_option", "set_section_option") and len(updated_node.args) >= 2 and _alembic_key(
            updated_node.args[-2].value
        ):
            value = self._wrap_alembic(original_node, updated_node.args[-1].value)
            if value is None:
                return updated_node
            args = list(updated_node.args)
            args[-1] = args[-1].with_changes(value=value)
            return updated_node.with_changes(args=args)
        if name != "create_async_engine" and id(original_node) not in self._made_async:
            return updated_node
        site = self._sites.pop(0) if self._sites else None
        args = list(updated_node.args)
        index = next((i for i, arg in enumerate(args) if arg.keyword is not None and arg.keyword.value == "url"), None)
        if index is None and args and args[0].keyword is None and not args[0].star:
            index = 0
        if index is None:
            return updated_node
        value = args[index].value
        if isinstance(value, STRING_TYPES):
            return updated_node  # a literal is rewritten in place by DatabaseUrlCodemod
        if isinstance(value, cst.Call) and last_name(value.func) == NORMALISER_NAME:
            return updated_node
        safe, evidence = (True, "") if site is None else (self._judge(site) or (None, ""))
        if safe is None:
            return updated_node
        args[index] = args[index].with_changes(
            value=cst.Call(func=cst.Name(NORMALISER_NAME), args=[cst.Arg(value=value)])
        )
        new_node = updated_node.with_changes(args=args)
        made = safe or self.facts.unsafe_fixes
        self._wrapped = self._wrapped or made
        self.report(
            Finding(
                rule=RULE_ID,
                category=Category.CONFIG,
                # Unsafe: protection for an input the project does not show, on code that may well work.
                severity=Severity.CRITICAL if safe else Severity.MEDIUM,
                problem=(
                    "create_async_engine takes its URL from the environment or settings, where hosting platforms "
                    "put `postgresql://...?sslmode=require&channel_binding=require`."
                ),
                root_cause=(
                    "An OS environment variable beats `.env` in pydantic-settings, so fixing the files does not fix "
                    "the deployed URL. " + ROOT_CAUSES["URL-PLAIN"] + " " + ROOT_CAUSES["URL-NEON-SSL"]
                ),
                old_code=self.code(original_node),
                new_code=self.code(new_node),
                explanation=(
                    "The URL now passes through `to_async_database_url`, added to this module: it switches the "
                    + ("driver to psycopg (3), which the project installs and which takes `sslmode` as it is"
                       if self.facts.async_driver() == "psycopg" else
                       "driver to asyncpg, turns `sslmode` into `ssl`, drops `channel_binding`")
                    + ", and renders the URL with its password (`str(url)` would mask it as `***`)."
                ),
                defects=self.DEFECTS,
                fixed=made,
                safe=safe,
                evidence=evidence,
            )
        )
        return new_node if made else updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._wrapped:
            return updated_node
        return insert_helper(self.context, updated_node, NORMALISER_NAME,
                             normaliser_source(self.facts.async_driver()), self._has_make_url)


ALEMBIC_FACTORY = "async_engine_from_config"
# The factories that read the URL from alembic's config; the sync one builds an async engine inside
# `AsyncEngine(engine_from_config(...))` (the model's sites keep only async ones).
CONFIG_FACTORIES = frozenset({ALEMBIC_FACTORY, "engine_from_config"})


def _alembic_key(node: cst.BaseSlice | cst.BaseExpression) -> bool:
    """Whether `node` is the string "sqlalchemy.url" (an argument, or a subscript's index)."""
    node = node.value if isinstance(node, cst.Index) else node
    return isinstance(node, cst.SimpleString) and node.evaluated_value == ALEMBIC_URL


class _AlembicScopes(cst.CSTVisitor):
    """Where a module builds async engines from alembic's config, and where it puts the URL into that config
    (function names; None for the top level)."""

    def __init__(self) -> None:
        super().__init__()
        self._scopes: list[str | None] = [None]
        self.engines: set[str | None] = set()
        self.assigned: set[str | None] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Call(self, node: cst.Call) -> None:
        name = last_name(node.func)
        inner = node.args[0].value if node.args else None
        if name == ALEMBIC_FACTORY or (name == "AsyncEngine" and isinstance(inner, cst.Call)
                                       and last_name(inner.func) == "engine_from_config"):
            self.engines.add(self._scopes[-1])
        elif name in ("set_main_option", "set_section_option") and len(node.args) >= 2 and _alembic_key(node.args[-2].value):
            self.assigned.add(self._scopes[-1])

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        if isinstance(target, cst.Subscript) and _alembic_key(target.slice[0].slice):
            self.assigned.add(self._scopes[-1])


def insert_helper(
    context: CodemodContext, updated_node: cst.Module, name: str, source: str, has_make_url: bool
) -> cst.Module:
    """The module with the function `source` (named `name`, built on SQLAlchemy's make_url) added once, where its
    first caller can see it, and make_url imported."""
    body = list(updated_node.body)
    # After the leading import block, where AddImportsVisitor puts make_url's import. A module that imports
    # again further down (after `load_dotenv()`, typically) gets it after its last import before the first
    # statement that calls the function: never between two imports, never after the engine is built.
    leading_end = 1 if _has_header(updated_node) else 0
    while leading_end < len(body) and _is_import_line(body[leading_end]):
        leading_end += 1
    first_use = next((i for i, statement in enumerate(body) if _calls(statement, name)), len(body))
    position = leading_end
    for index in range(leading_end, first_use):
        if _is_import_line(body[index]):
            position = index + 1
    import_line: cst.SimpleStatementLine | None = None
    if not has_make_url:
        if position > leading_end and not _imports_from(body[:position], "sqlalchemy.engine"):
            # AddImportsVisitor would put it in the leading block, far from the function: put it just above.
            import_line = cst.SimpleStatementLine(
                body=[
                    cst.ImportFrom(
                        module=cst.parse_expression("sqlalchemy.engine"),
                        names=[cst.ImportAlias(name=cst.Name("make_url"))],
                    )
                ]
            )
        else:
            AddImportsVisitor.add_needed_import(context, "sqlalchemy.engine", "make_url")
    function = _helper_function(source, updated_node.default_indent, updated_node.default_newline)

    before = 2 if position > 0 or not has_make_url else 0
    function = function.with_changes(leading_lines=_blank_lines(before, ()))
    if position < len(body):
        following = body[position]
        body[position] = following.with_changes(leading_lines=_blank_lines(2, following.leading_lines))
    body.insert(position, function)
    if import_line is not None:
        body.insert(position, import_line)
    return updated_node.with_changes(body=body)
