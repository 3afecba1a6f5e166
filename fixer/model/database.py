"""Where the project makes its engines, which URL reaches which engine, and what the project already does to
those URLs itself.

Read with the standard library's `ast` (read-only, several times cheaper than LibCST) from the files the text
checks selected, and from the non-Python files that ship URLs (`.env*`, compose files, alembic.ini, README).
A URL is followed by the name it is read under: a settings attribute (`settings.DATABASE_URL`) or an
environment variable (`os.getenv("DATABASE_URL")`), which is also the key `.env` and compose files set.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fixer.model.sources import Sources

# The run-time normaliser FX004 adds: fixer's own, so not a sign that the project handles its URLs itself (a
# run on a half-applied tree must reach the same end as a run on the untouched one).
FIXER_NORMALISER = "to_async_database_url"
# What `through` records for a URL the project rebuilds in place (no helper function): normalised all the same.
INLINE_NORMALISER = "<inline>"
QUERY_CUT = "str.split"  # `url.split("?")[0]`
SYNC_FACTORIES = frozenset({"create_engine", "engine_from_config"})
ASYNC_FACTORIES = frozenset({"create_async_engine", "async_engine_from_config"})
_ENV_READERS = frozenset({"getenv", "get", "environ"})
_URL_TEXT = re.compile(r"^(?:postgres(?:ql)?(?:\+\w+)?|sqlite(?:\+\w+)?)://")
# Text a project's own URL helper holds: it already fixes the driver or the libpq parameters.
_NORMALISER_TEXT = re.compile(r"\+asyncpg|sslmode|channel_binding")
# A `.replace(old, new)` on URLs: it names a scheme or a driver (`.replace("+asyncpg", "")` counts too).
# The libpq parameters too: `.replace("?sslmode=require", "")` is how a project readies a URL for asyncpg.
_DRIVER_TEXT = re.compile(r"postgres|asyncpg|psycopg|sslmode|channel_binding")
# alembic's config key for the URL (alembic.ini, `config.set_main_option`), and the calls that read it back.
ALEMBIC_URL = "sqlalchemy.url"
_ALEMBIC_READERS = frozenset({"get_section", "get_main_option", "get_section_option"})
# The standard library's and SQLAlchemy's URL plumbing: parsed and rebuilt, a URL keeps its scheme (and so the
# DBAPI it loads) unless the scheme or driver is set by keyword, which these readers then treat as a rebuild.
_SCHEME_KEEPING_FUNCTIONS = frozenset({"urlparse", "urlsplit", "urlunparse", "urlunsplit", "make_url", "str"})
_SCHEME_KEEPING_METHODS = frozenset({"_replace", "set", "update_query_dict", "difference_update_query", "geturl",
                                     "render_as_string", "update_query_pairs", "update_query_string"})
_FACTORY_TEXT = re.compile(rb"create_(?:async_)?engine|engine_from_config")  # SYNC_FACTORIES, ASYNC_FACTORIES
_SHIPPED = re.compile(
    r"""(?P<key>[A-Za-z_][A-Za-z0-9_.]*)["']?\s*[=:]\s*["']?(?P<url>(?:postgres(?:ql)?(?:\+\w+)?|sqlite(?:\+\w+)?)://[^\s"'`]*)"""
)


@dataclass(frozen=True)
class UrlSource:
    """What an engine's URL argument is made of."""

    names: tuple[str, ...] = ()  # settings attributes or environment variables read
    literal: str | None = None  # a URL written in the code (a default, or the argument itself)
    through: tuple[str, ...] = ()  # the project's own functions (or `str.replace`) the URL passes through

    @property
    def scheme(self) -> str | None:
        return self.literal.split("://", 1)[0] if self.literal and "://" in self.literal else None


@dataclass(frozen=True)
class EngineSite:
    path: str
    line: int
    factory: str  # create_engine, create_async_engine, ...
    target: str | None  # the name it is assigned to
    async_use: bool  # async by its factory, or used the async way (annotated AsyncEngine, `async with e.begin()`)
    url: UrlSource
    sqlite: bool = False  # under `if ...sqlite...:`, or with sqlite's `check_same_thread`: not a PostgreSQL engine
    # `AsyncEngine(create_engine(url))`: the sync factory's engine is made async at once, so its URL must name an
    # async driver (SQLAlchemy refuses a sync one) just as create_async_engine's does.
    wrapped: bool = False
    sqlite_branch: bool = False  # under `if ...sqlite...:` (or the `else:` of `if not ...sqlite...:`) alone

    @property
    def kind(self) -> str:
        return "async" if self.async_use else "sync"


@dataclass(frozen=True)
class ShippedUrl:
    """A URL the project shows in a file: the input it expects its code to get."""

    path: str
    line: int
    key: str  # DATABASE_URL, sqlalchemy.url, or the settings field name
    scheme: str  # postgresql, postgresql+asyncpg, sqlite, ...
    libpq_params: bool  # sslmode= or channel_binding=


@dataclass(frozen=True)
class UrlRewrite:
    """The project's own code rewriting URLs: `url.replace("postgresql://", "postgresql+asyncpg://")`."""

    path: str
    line: int
    old: str
    new: str


@dataclass(frozen=True)
class ExpiredRead:
    """An object read after `await session.commit()` expired it, with no refresh between (ENG-EXPIRE): with
    expire_on_commit=True the read needs a lazy load, and an async session raises MissingGreenlet."""

    path: str
    line: int
    name: str


@dataclass(frozen=True)
class DatabaseFlow:
    engines: tuple[EngineSite, ...] = ()
    shipped: tuple[ShippedUrl, ...] = ()
    rewrites: tuple[UrlRewrite, ...] = ()
    url_helpers: frozenset[str] = field(default_factory=frozenset)  # the project's own URL-normalising functions
    expired_reads: tuple[ExpiredRead, ...] = ()
    # What shows the project runs on PostgreSQL besides a driver it installs ("" when nothing): a URL whose
    # default is SQLite then still gets the platform's PostgreSQL URL on a deploy.
    postgres_shown: str = ""


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return None


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Module(ast.NodeVisitor):
    def __init__(self, path: str, text: str, tree: ast.Module) -> None:
        self.path = path
        self.text = text
        # Every value each name is given anywhere in the module: a URL is often set, then rewritten in `if`
        # branches (`DATABASE_URL = DATABASE_URL.replace(...)`), and each branch may reach the engine.
        self.assigned: dict[str, list[ast.AST]] = {}
        self._returns: dict[str, list[ast.AST]] = {}  # what each function of the module returns
        alembic: list[ast.AST] = []  # after every name's values, as the URL of alembic's config
        for node in ast.walk(tree):
            target = value = None
            if isinstance(node, ast.Assign):
                if len(node.targets) == 1:
                    target, value = _dotted(node.targets[0]), node.value
                # alembic's env.py: `section["sqlalchemy.url"] = URL`
                if isinstance(node.targets[0], ast.Subscript) and _string(node.targets[0].slice) == ALEMBIC_URL:
                    alembic.append(node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = _dotted(node.target), node.value
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._returns[node.name] = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
            elif (  # `config.set_main_option("sqlalchemy.url", URL)`
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("set_main_option", "set_section_option")
                and len(node.args) >= 2
                and _string(node.args[-2]) == ALEMBIC_URL
            ):
                alembic.append(node.args[-1])
            if target:
                self.assigned.setdefault(target, []).append(value)
        if alembic:
            self.assigned.setdefault(ALEMBIC_URL, []).extend(alembic)
        self.engines: list[EngineSite] = []
        self.rewrites: list[UrlRewrite] = []
        self.helpers: set[str] = set()
        self.defaults: list[ShippedUrl] = []
        self.expired: list[ExpiredRead] = []
        self._annotations: dict[str, str] = {}
        self._sqlite_branch = 0
        self._mentions_sqlite = re.search("sqlite", text, re.IGNORECASE) is not None
        self._commits = ".commit(" in text
        self._functions: list[str] = []  # the enclosing functions' names
        self._function_nodes: list[ast.AST] = []
        self._texts: list[bool] = []  # per enclosing function: does it build a `+asyncpg` value
        self._comparing = 0
        self._docstrings: set[int] = set()
        self._wrapped: dict[int, ast.Call] = {}
        self._replaced: set[int] = set()
        self.visit(tree)

    def source(self, node: ast.AST | None, depth: int = 0) -> UrlSource:
        if node is None or depth > 8:
            return UrlSource()
        literal = _string(node)
        if literal is not None:
            return UrlSource(literal=literal)
        if isinstance(node, ast.JoinedStr):
            head = _string(node.values[0]) if node.values else None
            if head and _NORMALISER_TEXT.search(head) and len(node.values) > 1:
                # f"postgresql+asyncpg://{parsed.netloc}{parsed.path}": the project builds the async URL itself
                return UrlSource(literal=head, through=(INLINE_NORMALISER,))
            return UrlSource(literal=head)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr in ("split", "partition")
        ):  # url.split("?")[0]: the query string (sslmode, channel_binding) cut off
            inner = self.source(node.value.func.value, depth + 1)
            return UrlSource(inner.names, inner.literal, (*inner.through, QUERY_CUT))
        if isinstance(node, ast.Subscript):  # os.environ["DATABASE_URL"]
            key = _string(node.slice)
            return UrlSource(names=(key,)) if key else UrlSource()
        if isinstance(node, ast.Name):
            values = self.assigned.get(node.id)
            if not values:
                return UrlSource(names=(node.id,))
            return _merge(self.source(value, depth + 1) for value in values)
        if isinstance(node, ast.Attribute):
            return UrlSource(names=(node.attr,))
        if isinstance(node, ast.BoolOp):  # os.getenv("A") or "postgresql://..."
            parts = [self.source(value, depth + 1) for value in node.values]
            return _merge(parts)
        if isinstance(node, ast.Call):
            callee = _dotted(node.func) or ""
            last = callee.rpartition(".")[2]
            if last in _ENV_READERS and node.args and _string(node.args[0]):
                default = self.source(node.args[1], depth + 1) if len(node.args) > 1 else UrlSource()
                return UrlSource(names=(_string(node.args[0]),), literal=default.literal)  # type: ignore[arg-type]
            if isinstance(node.func, ast.Attribute) and node.func.attr == "replace":
                inner = self.source(node.func.value, depth + 1)
                return UrlSource(inner.names, inner.literal, (*inner.through, "str.replace"))
            if any(_NORMALISER_TEXT.search(text) for text in _own_strings(node)):
                # urlunparse(("postgresql+asyncpg", ...)), f"...{...}".replace("sslmode", "ssl"): built in place
                inner = _merge(self.source(arg, depth + 1) for arg in ast.walk(node) if isinstance(arg, (ast.Name, ast.Attribute)))
                return UrlSource(inner.names, inner.literal, (*inner.through, INLINE_NORMALISER))
            if isinstance(node.func, ast.Attribute) and last in _ALEMBIC_READERS:
                # engine_from_config(config.get_section(...)): what env.py set, else alembic.ini's own value
                values = self.assigned.get(ALEMBIC_URL)
                if values:
                    return _merge(self.source(value, depth + 1) for value in values)
                return UrlSource(names=(ALEMBIC_URL,))
            driver = next((k.value for k in node.keywords if k.arg in ("scheme", "drivername")), None)
            if isinstance(node.func, ast.Attribute) and last in _SCHEME_KEEPING_METHODS and driver is not None:
                # make_url(url).set(drivername="postgresql+psycopg2"): the project names the driver itself
                inner = self.source(node.func.value, depth + 1)
                return UrlSource(inner.names, inner.literal, (*inner.through, INLINE_NORMALISER))
            if isinstance(node.func, ast.Attribute) and last in _SCHEME_KEEPING_METHODS and not any(
                k.arg in ("scheme", "drivername") for k in node.keywords
            ):  # urlparse(url)._replace(query=...), make_url(url).set(query=...): the driver stays what it was
                return self.source(node.func.value, depth + 1)
            if isinstance(node.func, ast.Name) and not node.args and self._returns.get(last):
                inner = _merge(self.source(value, depth + 1) for value in self._returns[last])  # get_url()
                return UrlSource(inner.names, inner.literal, (*inner.through, last))
            if node.args:
                inner = self.source(node.args[0], depth + 1)
                if last in _SCHEME_KEEPING_FUNCTIONS:
                    return inner
                return UrlSource(inner.names, inner.literal, (*inner.through, last))
            if isinstance(node.func, ast.Attribute):  # get_settings().database_url()
                return UrlSource(names=(node.func.attr,))
        return UrlSource()

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        target = _dotted(node.target)
        if target:
            self._annotations[target] = ast.unparse(node.annotation)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {(_dotted(base) or "").rpartition(".")[2] for base in node.bases}
        if any("Settings" in base for base in bases):
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    default = statement.value
                    if isinstance(default, ast.Call) and default.args:  # Field("postgresql://...")
                        default = default.args[0]
                    url = _string(default)
                    if url and _URL_TEXT.match(url):
                        self.defaults.append(_shipped(self.path, statement.lineno, statement.target.id, url))
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        if self._commits:
            self._expired_reads(node)
        self.visit_FunctionDef(node)

    def _expired_reads(self, function: ast.AsyncFunctionDef) -> None:
        """Objects a session added or fetched, then read after `await s.commit()` without `await s.refresh(x)`."""
        events = sorted(
            (n for n in ast.walk(function) if isinstance(n, (ast.Call, ast.Attribute, ast.Return)) and n is not function),
            key=lambda n: (n.lineno, n.col_offset),
        )
        tracked: set[str] = set()  # objects the session holds
        expired: set[str] = set()
        for assign in ast.walk(function):  # `todo = await session.get(Todo, id)`: held by the session too
            if (
                isinstance(assign, ast.Assign)
                and isinstance(assign.value, ast.Await)
                and isinstance(assign.value.value, ast.Call)
                and isinstance(assign.value.value.func, ast.Attribute)
                and assign.value.value.func.attr == "get"
                and isinstance(assign.targets[0], ast.Name)
            ):
                tracked.add(assign.targets[0].id)
        for node in events:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                method = node.func.attr
                first = node.args[0] if node.args else None
                if method == "add" and isinstance(first, ast.Name):
                    tracked.add(first.id)
                elif method == "commit":
                    expired |= tracked
                elif method == "refresh" and isinstance(first, ast.Name):
                    expired.discard(first.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                if isinstance(node.value, ast.Name) and node.value.id in expired:
                    self.expired.append(ExpiredRead(self.path, node.lineno, node.value.id))
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and node.value.id in expired:
                # FastAPI serialises what a route returns: every attribute is read.
                self.expired.append(ExpiredRead(self.path, node.lineno, node.value.id))
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        first = node.body[0] if node.body else None
        if isinstance(first, ast.Expr) and _string(first.value) is not None:
            self._docstrings.add(id(first.value))
        self._functions.append(node.name)
        self._function_nodes.append(node)
        self._texts.append(False)
        self.generic_visit(node)
        self._functions.pop()
        self._function_nodes.pop()
        # The project's own URL helper gives the async driver (`+asyncpg` in a value it builds, not only in a
        # test such as `if drivername != "postgresql+asyncpg": return url`): one that only tidies URLs already
        # on asyncpg returns the platform's `postgresql://` as it came, and does not make it work.
        if self._texts.pop() and node.name != FIXER_NORMALISER:
            self.helpers.add(node.name)

    def visit_Compare(self, node: ast.Compare) -> None:
        self._comparing += 1
        self.generic_visit(node)
        self._comparing -= 1

    def visit_Constant(self, node: ast.Constant) -> None:
        if self._texts and not self._comparing and id(node) not in self._replaced and isinstance(node.value, str) \
                and "+asyncpg" in node.value:
            self._texts[-1] = True

    def visit_If(self, node: ast.If) -> None:
        sqlite = self._mentions_sqlite and "sqlite" in ast.unparse(node.test).lower()
        # `if not url.startswith("sqlite"):` puts the sqlite engine in its `else:`.
        negated = isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        self.visit(node.test)
        for branch, counts in ((node.body, sqlite and not negated), (node.orelse, sqlite and negated)):
            self._sqlite_branch += counts
            for statement in branch:
                self.visit(statement)
            self._sqlite_branch -= counts

    def visit_Call(self, node: ast.Call) -> None:
        callee = _dotted(node.func) or ""
        last = callee.rpartition(".")[2]
        if isinstance(node.func, ast.Attribute) and last == "replace" and len(node.args) >= 2:
            old, new = _string(node.args[0]), _string(node.args[1])
            if old is not None and new is not None and _DRIVER_TEXT.search(old + " " + new):
                self.rewrites.append(UrlRewrite(self.path, node.lineno, old, new))
            self._replaced.add(id(node.args[0]))  # `.replace("+asyncpg", "")` takes the driver out
        if last == "AsyncEngine" and node.args and isinstance(node.args[0], ast.Call):
            self._wrapped[id(node.args[0])] = node  # AsyncEngine(create_engine(url)): the sync factory made async
        if last in SYNC_FACTORIES or last in ASYNC_FACTORIES:
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "url"), None)
            wrapper = self._wrapped.get(id(node))
            target = self._target_of(wrapper if wrapper is not None else node)
            self.engines.append(
                EngineSite(
                    path=self.path,
                    line=node.lineno,
                    factory=last,
                    target=target,
                    async_use=last in ASYNC_FACTORIES or wrapper is not None or self._used_async(target),
                    url=self.source(arg),
                    sqlite=bool(self._sqlite_branch) or _sqlite_argument(node),
                    sqlite_branch=bool(self._sqlite_branch),
                    wrapped=wrapper is not None,
                )
            )
        self.generic_visit(node)

    def _target_of(self, call: ast.Call) -> str | None:
        for name, values in self.assigned.items():
            if any(value is call for value in values):
                return name
        return None

    def _used_async(self, target: str | None) -> bool:
        if target is None:
            return False
        if "Async" in self._annotations.get(target, ""):
            return True
        name = re.escape(target.rpartition(".")[2])
        # A local name is used where it lives: alembic's env.py builds a sync `connectable` in one function and
        # an async one, under the same name, in another.
        # One the function returns or declares global is used elsewhere too.
        scope = self._function_nodes[-1] if self._function_nodes and "." not in target else None
        if scope is not None and any(
                (isinstance(n, ast.Global) and target in n.names)
                or (isinstance(n, ast.Return) and n.value is not None and target in {
                    m.id for m in ast.walk(n.value) if isinstance(m, ast.Name)}) for n in ast.walk(scope)):
            scope = None
        text = (ast.get_source_segment(self.text, scope) or self.text) if scope is not None else self.text
        return bool(
            re.search(
                rf"(?:AsyncSession|async_sessionmaker)\(\s*(?:bind\s*=\s*)?{name}\b|async\s+with\s+{name}\.(?:begin|connect)\("
                rf"|await\s+{name}\.dispose\(",
                text,
            )
        )


def _sqlite_argument(node: ast.AST) -> bool:
    """Whether an engine call passes sqlite's `check_same_thread` whatever its URL: not where the argument is
    chosen by a test of the URL (`{...} if "sqlite" in url else {}`), which is an engine for PostgreSQL too."""
    if isinstance(node, ast.IfExp) and "sqlite" in ast.unparse(node.test).lower():
        return False
    if (isinstance(node, ast.Constant) and node.value == "check_same_thread") or (
            isinstance(node, ast.keyword) and node.arg == "check_same_thread"):
        return True
    return any(_sqlite_argument(child) for child in ast.iter_child_nodes(node))


def _own_strings(node: ast.AST) -> Iterable[str]:
    """The string constants of an expression, except the defaults of the environment reads inside it: in
    `helper(os.getenv("DATABASE_URL", "postgresql+asyncpg://..."))` the `+asyncpg` is what the project expects
    to get, not something it builds."""
    if isinstance(node, ast.Call) and (_dotted(node.func) or "").rpartition(".")[2] in _ENV_READERS:
        return
    text = _string(node)
    if text is not None:
        yield text
    for child in ast.iter_child_nodes(node):
        yield from _own_strings(child)


def _merge(parts: Iterable[UrlSource]) -> UrlSource:
    names: dict[str, None] = {}
    literal = None
    through: dict[str, None] = {}
    for part in parts:
        names.update(dict.fromkeys(part.names))
        literal = literal or part.literal
        through.update(dict.fromkeys(part.through))
    return UrlSource(tuple(names), literal, tuple(through))


def _shipped(path: str, line: int, key: str, url: str) -> ShippedUrl:
    return ShippedUrl(
        path=path,
        line=line,
        key=key,
        scheme=url.split("://", 1)[0],
        libpq_params=bool(re.search(r"[?&](?:sslmode|channel_binding)=", url)),
    )


def may_add(source: bytes) -> bool:
    """Whether a file could add anything to the flow; a file it rejects is never parsed for it. Each test is the
    literal text one of `_Module`'s findings needs: an engine factory's name, a `.replace(...)` of driver text,
    a `+asyncpg` value, a settings class, a `.commit(`."""
    return (
        (b"engine" in source and _FACTORY_TEXT.search(source) is not None)
        or b"+asyncpg" in source
        or b".commit(" in source
        or (b"Settings" in source and (b"postgres" in source or b"sqlite" in source))
        or (b"replace" in source and any(word in source for word in (b"postgres", b"asyncpg", b"psycopg")))
    )


def read_python(python: Iterable[tuple[str, bytes]], sources: Sources | None = None) -> DatabaseFlow:
    """The flow of the Python files: only those `may_add` passes are parsed, through `sources` when given (the
    model's other analyses then get the same trees)."""
    engines: list[EngineSite] = []
    rewrites: list[UrlRewrite] = []
    helpers: set[str] = set()
    shipped: list[ShippedUrl] = []
    expired: list[ExpiredRead] = []
    for path, source in python:
        if not may_add(source):
            continue
        try:
            text = source.decode("utf-8-sig")
            tree = sources.tree(path, text) if sources is not None else ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        if tree is None:
            continue
        module = _Module(path, text, tree)
        engines += module.engines
        rewrites += module.rewrites
        helpers |= module.helpers
        shipped += module.defaults
        expired += module.expired
    return DatabaseFlow(
        engines=tuple(engines),
        shipped=tuple(shipped),
        rewrites=tuple(rewrites),
        url_helpers=frozenset(helpers | {INLINE_NORMALISER}),
        expired_reads=tuple(expired),
    )


def is_url_file(path: str) -> bool:
    name = posixpath.basename(path)
    return (
        name == ".env"
        or name.startswith(".env.")
        or name.endswith(".env")
        or name == "alembic.ini"
        or (name.startswith(("docker-compose", "compose")) and name.endswith((".yml", ".yaml")))
        or (name.lower().startswith("readme") and name.lower().endswith((".md", ".rst", ".txt")))
    )


def read_shipped(path: str, text: str) -> list[ShippedUrl]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _SHIPPED.finditer(line):
            key = match["key"].rpartition(".")[2] if match["key"] != "sqlalchemy.url" else match["key"]
            out.append(_shipped(path, number, key, match["url"]))
    return out


# A Dockerfile installing PostgreSQL's client or libpq, and variables named for PostgreSQL that the code reads.
_PG_PACKAGES = re.compile(r"\b(?:apt-get|apt|apk|yum|dnf)\b[^\n]*?\binstall\b[^\n]*?\b(postgresql-client|libpq-dev|libpq5|postgresql-dev)\b")
PG_VARIABLE = re.compile(rb"""["']((?:NEON|POSTGRES(?:QL)?|PG)_(?:DATABASE_)?(?:URL|URI|DSN|HOST|USER|PASSWORD|DB|DATABASE))["']""")


def postgres_shown(read_text: Callable[[str], str | None], paths: Iterable[str], running: Iterable[tuple[str, bytes]]) -> str:
    """What shows the project runs on PostgreSQL, whatever driver it lists: its Dockerfile installs PostgreSQL's
    client library, or its code reads a variable named for PostgreSQL (NEON_DATABASE_URL); "" when nothing."""
    for path in paths:
        name = posixpath.basename(path)
        if name.startswith("Dockerfile") or name.endswith(".Dockerfile"):
            match = _PG_PACKAGES.search((read_text(path) or "").replace("\\\n", " "))
            if match:
                return f"{path} installs {match.group(1)}"
    for path, source in running:
        match = PG_VARIABLE.search(source)
        if match:
            return f"{path} reads {match.group(1).decode()}"
    return ""
