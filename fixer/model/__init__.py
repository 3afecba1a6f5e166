"""The project model: what the whole tree says, built once per run before any rule, read by every rule.

No single file can say whether an edit is right: a URL in `.env` is right or wrong by the engine that reads
it, an `async_sessionmaker` exists or not by the SQLAlchemy that installs, a module matters or not by whether
the app imports it. The model holds those answers:

- `roles`: each Python module's role (live, test, migration, script, library, dead), from the import graph
  rooted at the app (`fixer.model.modules`);
- `versions`: the dependency versions that really install (`fixer.model.versions`);
- `flow`: engines, the URLs that reach them, the URLs the project ships, and the project's own URL helpers
  (`fixer.model.database`);
- the three project-wide answers rules asked from the start (`async_db`, `sqlmodel_exec`, `sync_driver_users`).

`fixer model PATH` prints it. Every field has a default that holds back nothing, so a rule run alone (by
`libcst.tool`, or in a unit test) behaves as it does on a project the model knows nothing about.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from fixer.model import database, datetimes
from fixer.model.database import QUERY_CUT, DatabaseFlow, EngineSite, ShippedUrl
from fixer.model.modules import Role, inside_library
from fixer.model.needs import Installed, Need
from fixer.model.python import PythonVersions
from fixer.model.sources import Sources
from fixer.model.uses import UsePlan
from fixer.model.startup import Startup
from fixer.model.versions import Versions
from fixer.discover.textcheck import TextCheck

__all__ = ["FACT_PATTERNS", "ProjectModel", "Role", "build", "reads"]

_ASYNC_DB = re.compile(
    rb"\b(create_async_engine|AsyncEngine|AsyncSession|async_sessionmaker|async_engine_from_config)\b"
    rb"|async\s+with\s+\w+\.begin\(\)|await\s+\w+\.dispose\(\)"
)
_PSYCOPG2_IMPORT = re.compile(rb"^\s*(?:import|from)\s+psycopg2\b", re.MULTILINE)
_SYNC_ENGINE = re.compile(rb"\b(?:create_engine|engine_from_config)\s*\(")
# Awaited: sqlmodel's sync Session has `.exec` too, and a sync route using it says nothing of AsyncSession.
_EXEC = re.compile(rb"await\s+\(?[\w.]+\)?\.exec\s*\(")
_SETTINGS = re.compile(rb"BaseSettings")
# alembic's env.py setting the URL itself: alembic.ini's `sqlalchemy.url` is then never used.
_ALEMBIC_OVERRIDE = re.compile(rb"set_main_option\(\s*[\"']sqlalchemy\.url")
# Celery's database result backend (`db+postgresql://`) makes a sync engine of its own: psycopg2 by default.
_CELERY_DB = re.compile(rb"db\+postgres")
# The flow reads these too: objects read after a commit, URL helpers of the project's own.
_FLOW_TEXT = re.compile(rb"\.commit\(|\+asyncpg|sslmode")
# `--to-async` reads sqlmodel's `.exec(`, awaited or not.
_ANY_EXEC = re.compile(rb"\.exec\(")
# A file none of these match adds nothing to the model but its import lines: the runner need not keep it.
FACT_PATTERNS: tuple[re.Pattern[bytes], ...] = (
    _ASYNC_DB, _PSYCOPG2_IMPORT, _SYNC_ENGINE, _EXEC, _SETTINGS, _CELERY_DB, _ALEMBIC_OVERRIDE, _FLOW_TEXT, _ANY_EXEC,
    datetimes.RETURNS_NAIVE, datetimes.TABLE_CLASS, datetimes.NAIVE_DEFAULT, database.PG_VARIABLE,
)
_FACTS = TextCheck(FACT_PATTERNS)
_NOT_RUN = (Role.LIBRARY, Role.DEAD)
# Schemes create_async_engine takes for PostgreSQL; every other database is another rule's business.
_ASYNC_SCHEMES = frozenset({"postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg_async"})


@dataclass(frozen=True)
class ProjectModel:
    async_db: bool = False  # the code uses, or is half-way moved to, SQLAlchemy's asyncio layer
    sqlmodel_exec: bool = False  # some session calls sqlmodel's `.exec`, which only sqlmodel's AsyncSession has
    sync_driver_users: tuple[str, ...] = ()  # files that still need psycopg2 (direct imports, sync engines)
    roles: Mapping[str, Role] = field(default_factory=dict)  # path -> role; a path missing is live
    versions: Versions = field(default_factory=Versions)
    flow: DatabaseFlow = field(default_factory=DatabaseFlow)
    first_party: frozenset[str] = field(default_factory=frozenset)  # top-level names the project's modules have
    alembic_ini_url_unused: bool = False  # env.py sets sqlalchemy.url itself
    has_app: bool = False  # some module builds the FastAPI app, or the project documents one: a backend
    python: PythonVersions = field(default_factory=PythonVersions)  # the CPython the project says it runs on
    needs: tuple[Need, ...] = ()  # distributions the live code imports or loads (fixer.model.needs)
    installed: Installed = field(default_factory=Installed)  # what installs, with what it pulls in
    # Requirements files the project documents installing alone (`pip install -r`), with where (fixer.model.installs).
    documented_installs: Mapping[str, str] = field(default_factory=dict)
    # Distributions the deploy runtime supplies (boto3 on AWS Lambda) -> the runtime and what shows it.
    runtime_supplied: Mapping[str, str] = field(default_factory=dict)
    # Module-level functions the running code defines only as `async def` (a name also defined by a plain `def`
    # somewhere is left out): a call to one of them without `await` runs nothing.
    async_functions: frozenset[str] = field(default_factory=frozenset)
    sync_functions: frozenset[str] = field(default_factory=frozenset)  # likewise, only ever a plain `def`
    # The project's functions returning a naive now (name, "utcnow" | "now"), and the files giving one to a
    # field's default (`fixer.model.datetimes`).
    naive_now: tuple[tuple[str, str], ...] = ()
    naive_now_users: frozenset[str] = field(default_factory=frozenset)
    stored_fields: datetimes.StoredFields = field(default_factory=datetimes.StoredFields)  # what tables store
    unsafe_fixes: bool = False  # write fixes whose failing input the project does not show
    to_async: bool = False  # `--to-async`: convert an all-sync project to the asyncio layer (the migration)
    uses: UsePlan = field(default_factory=UsePlan)  # the session-use conversion plan (FX010-FX019)
    # What starting the server does: each documented start walked, failures predicted in order (the runner
    # fills it once the rest of the model is built: `fixer.model.startup.analyse`).
    startup: Startup = field(default_factory=Startup)

    # -- modules ------------------------------------------------------------------------------------

    def role(self, path: str) -> Role:
        return self.roles.get(path, Role.LIVE)

    def runs(self, path: str) -> bool:
        """Code a rule may edit: run by the server, a migration, a script or a test; not library source, not
        a module nothing imports."""
        return self.role(path) not in _NOT_RUN

    @property
    def python_version(self) -> str | None:
        """The CPython minor version ("3.12") the project runs on, as its own files say; None when they do not."""
        runs_on = self.python.runs_on
        return runs_on[0] if runs_on else None

    # -- third-party modules ------------------------------------------------------------------------

    def exports(self, module: str, name: str) -> bool | None:
        """Whether `from module import name` works on the version of module's distribution that installs (the
        documented start's install first, as the prediction has it; the newest release when nothing says);
        None when the tables do not know the module."""
        from fixer import tables

        dist = tables.distribution_of(module.partition(".")[0])
        if dist is None:
            return None
        install = self.startup.install
        version = (install.version(dist) if install is not None else None) or self.versions.version(dist)
        if version is None:
            known = tables.releases(dist)
            version = known[-1] if known else None
        names = tables.exports(dist, version, module) if version is not None else None
        return None if names is None else name in names

    def install_versions(self, dist: str) -> list[Version]:
        """The versions of `dist` the documented start's install gives: the lock's alone when that install syncs
        a lock (`uv sync`, `poetry install`: a fresh install that ignores the lock is not the start's, and a fix
        only it needs has no predicted failure behind it); else every install route's."""
        install = self.startup.install
        if install is not None and install.lock is not None:
            version = install.version(dist)
            if version is not None:
                return [version]
        return self.versions.installable(dist)

    # -- URLs and engines ---------------------------------------------------------------------------

    def async_driver(self) -> str:
        """The async PostgreSQL driver the URLs the fixes write name: psycopg (3) where the documented start's
        install gives it and not asyncpg, else asyncpg (`fixer.model.urls.async_driver`)."""
        from fixer.model.urls import async_driver

        install = self.startup.install
        return async_driver(install.has if install is not None else self.installed.has)

    def engines_reading(self, name: str) -> list[EngineSite]:
        """Engines whose URL is read under `name` (settings fields and environment variables match in any case,
        as pydantic-settings matches them)."""
        key = name.upper()
        return [e for e in self.flow.engines if key in (n.upper() for n in e.url.names) and self.runs(e.path)]

    def url_consumers(self, name: str) -> set[str]:
        """'sync' and/or 'async': the kinds of engine a URL read under `name` reaches (empty: unknown)."""
        return {e.kind for e in self.engines_reading(name)}

    def normalised_by_project(self, engine: EngineSite) -> bool:
        """The URL reaches the engine through one of the project's own URL helpers."""
        return any(step in self.flow.url_helpers for step in engine.url.through)

    def rewrites_handle(self, engine: EngineSite, urls: Iterable[str]) -> bool:
        """Whether the project's own `.replace(...)` rewrites in the engine's module turn each URL into one an
        async engine takes (an async driver, no libpq parameters)."""
        rewrites = [r for r in self.flow.rewrites if r.path == engine.path]
        for url in urls:
            for rewrite in rewrites:
                url = url.replace(rewrite.old, rewrite.new)
            if QUERY_CUT in engine.url.through:
                url = url.split("?")[0]
            if not _async_scheme(url) or re.search(r"[?&](?:sslmode|channel_binding)=", url):
                return False
        return True

    def leave_url_alone(self, names: Iterable[str], old: str, new: str) -> str | None:
        """Why a URL read under `names` must stay as `old` rather than become `new`, or None to go ahead.

        The URL is right or wrong by what the project's code does with it: a sync engine wants it sync; a
        project helper already makes it what the async engine needs; and the project's own `.replace(...)`
        would turn `new` into something no driver accepts (`postgresql+asyncpg+asyncpg://`)."""
        engines = [engine for name in names for engine in self.engines_reading(name)]
        if not engines:
            return None
        if all(engine.kind == "sync" for engine in engines):
            where = ", ".join(sorted({f"{e.path}:{e.line}" for e in engines}))
            return f"only a sync engine reads it ({where})"
        if any(self.normalised_by_project(engine) for engine in engines if engine.kind == "async"):
            helpers = sorted({s for e in engines for s in e.url.through if s in self.flow.url_helpers})
            return f"the project's own {', '.join(helpers)} turns it into what the async engine needs"
        # The async engines' own rewrites (a sync engine's `.replace("+asyncpg", "")` is not on their way).
        rewrites = [
            r for r in self.flow.rewrites
            if any(r.path == e.path for e in engines if e.kind == "async" and "str.replace" in e.url.through)
        ]
        if rewrites:
            def run(url: str) -> str:
                for rewrite in rewrites:
                    url = url.replace(rewrite.old, rewrite.new)
                return url

            if _async_scheme(run(old)):
                return f"the project's own replace() at {rewrites[0].path}:{rewrites[0].line} already makes it async"
            if not _async_scheme(run(new)):
                return f"the project's own replace() at {rewrites[0].path}:{rewrites[0].line} would make it {run(new).split('://')[0]}://"
        return None

    def shipped_for(self, names: Iterable[str]) -> list[ShippedUrl]:
        keys = {name.upper() for name in names}
        return [s for s in self.flow.shipped if s.key.upper() in keys]

    def failing_inputs(self, names: Iterable[str]) -> list[ShippedUrl]:
        """URLs the project ships under `names` (any name, when none is known) that an async engine cannot take
        as they are: the evidence that makes a URL fix safe."""
        names = list(names)
        shipped = self.shipped_for(names) if names else list(self.flow.shipped)
        return [s for s in shipped if not _async_scheme(s.scheme + "://") or s.libpq_params]

    def drivers_named(self) -> set[str]:
        """PostgreSQL drivers the project's URLs name (`postgresql+asyncpg://` -> asyncpg), shipped or in code."""
        schemes = [s.scheme for s in self.flow.shipped] + [e.url.scheme or "" for e in self.flow.engines]
        schemes += [r.new.split("://")[0] for r in self.flow.rewrites]  # url.replace("postgresql://", "postgresql+asyncpg://")
        return {scheme.partition("+")[2] for scheme in schemes if scheme.startswith("postgresql+")}

    # -- printing -----------------------------------------------------------------------------------

    def describe(self) -> dict:
        out = asdict(self)
        out["roles"] = {path: role.value for path, role in sorted(self.roles.items())}
        out["first_party"] = sorted(self.first_party)
        out["flow"]["url_helpers"] = sorted(self.flow.url_helpers)
        out["installed"]["dists"] = sorted(self.installed.dists)
        out["async_functions"] = sorted(self.async_functions)
        out["sync_functions"] = sorted(self.sync_functions)
        out["uses"]["undecided"] = [str(u) for u in self.uses.undecided]
        out["python_version"] = self.python_version
        # Each start first, with where it is written: what every startup prediction below starts from.
        out["starts"] = [{"app": p.app, "run_from": p.run_from or ".", "pythonpath": list(p.pythonpath),
                          "command": p.command, "source": p.source,
                          "where": f"{p.where[0]}:{p.where[1]}" if p.where else None}
                         for p in self.startup.starts]
        return {"starts": out.pop("starts"), **out}


def reads(path: str, source: bytes) -> bool:
    """Whether the model reads a Python file's text (`build`'s `python`): some analysis's text check matches, and
    the file is not library source (vendored SQLAlchemy defines engines; it does not make the project's). Every
    other file gives the model its import lines alone (`fixer.model.modules.read_module`)."""
    return not inside_library(path) and (_FACTS(source) or database.may_add(source))


def _async_scheme(url: str) -> bool:
    scheme = url.split("://", 1)[0]
    return scheme in _ASYNC_SCHEMES or not scheme.startswith("postgres")


def build(
    python: Sequence[tuple[str, bytes]],
    imports_of: Mapping[str, object],
    read_text: Callable[[str], str | None],
    paths: Iterable[str],
    entry_modules: Iterable[str] = (),
    unsafe_fixes: bool = False,
    to_async: bool = False,
    sources: Sources | None = None,
    root_name: str = "",
) -> ProjectModel:
    """The model of a tree: `python` the candidate files with their bytes, `imports_of` every Python file's
    `ModuleInfo` (import lines only), `read_text` reads any other file by its relative path; `sources` the
    run's (holding `python`'s bytes), when the runner shares it with the start analyses; `root_name` the root
    folder's own name (a root package is importable under it)."""
    from fixer.model import installs, needs, python as python_versions, runtimes, uses, versions
    from fixer.model.freshinstall import project_python_version
    from fixer.model.migrations import script_files
    from fixer.model.modules import graph_of
    paths = list(paths)
    graph = graph_of(imports_of.values(), entry_modules, root_name)  # type: ignore[arg-type]
    roles = graph.roles()
    # alembic's scripts run as the migration whatever their folder's name, though nothing imports them.
    scripts = script_files(paths, read_text)
    roles = {**roles, **{p: Role.MIGRATION for p in scripts if roles.get(p) is Role.DEAD}}
    # Each file parsed once for the flow and the use layer; the trees the use layer asks for again are kept
    # until it is done, the others dropped as soon as the flow has read them.
    sources = sources or Sources(read_text, dict(python))
    pinned = set(uses.reads(graph, roles))
    sources.pin(pinned)
    flow = database.read_python(python, sources)
    shipped = list(flow.shipped)
    for path in paths:
        if database.is_url_file(path):
            text = read_text(path)
            if text:
                shipped += database.read_shipped(path, text)
    flow = dataclasses.replace(flow, shipped=tuple(shipped))

    # Library source defines the async API and dead code runs nowhere: neither says what the project uses.
    running = [(path, source) for path, source in python if roles.get(path, Role.LIVE) not in _NOT_RUN]
    flow = dataclasses.replace(flow, postgres_shown=database.postgres_shown(read_text, paths, running))
    async_db = any(_ASYNC_DB.search(source) for _, source in running)
    sqlmodel_exec = any(_EXEC.search(source) for _, source in running)
    half_async = async_db or "asyncpg" in {e.url.scheme.partition("+")[2] for e in flow.engines if e.url.scheme}
    # The versions a fresh install gives on the project's own CPython: pip skips the releases whose Requires-Python
    # refuses it (sqlmodel 0.0.50 needs 3.11; on 3.10 a fresh install gives 0.0.48) and the lines whose markers
    # do not hold there.
    runs_on = project_python_version(read_text, paths)
    resolved = versions.resolve(versions.collect(read_text, paths, runs_on), runs_on)
    # SQLAlchemy's asyncio layer (AsyncSession, run_sync) exists from 1.4: on an older one there is no rewrite.
    has_asyncio = resolved.supports("sqlalchemy", ">=1.4")
    if to_async and not half_async and has_asyncio:
        flow = _engines_made_async(flow, roles)
        async_db = True
        sqlmodel_exec = sqlmodel_exec or any(_ANY_EXEC.search(source) for _, source in running)
    sync_users = {path for path, source in running if _PSYCOPG2_IMPORT.search(source) or _CELERY_DB.search(source)}
    for engine in flow.engines:
        if engine.kind == "sync" and roles.get(engine.path, Role.LIVE) not in (*_NOT_RUN, Role.TEST):
            if not (engine.url.scheme or "").startswith("sqlite"):
                sync_users.add(engine.path)
    first_party = frozenset(m.name.split(".")[0] for m in graph.modules.values() if m.name)
    run_modules = [m for m in graph.modules.values() if roles.get(m.path, Role.LIVE) not in _NOT_RUN]
    async_defs = {name for m in run_modules for name in m.async_defs}
    sync_defs = {name for m in run_modules for name in m.sync_defs}
    aiosqlite = {e.path for e in flow.engines if e.url.scheme == "sqlite+aiosqlite"}
    for shipped_url in flow.shipped:
        if shipped_url.scheme == "sqlite+aiosqlite":
            aiosqlite |= {e.path for e in flow.engines if shipped_url.key.upper() in (n.upper() for n in e.url.names)}
    plan = uses.build(
        running, roles, graph, flow.engines, active=(half_async or to_async) and has_asyncio,
        unsafe_fixes=unsafe_fixes, sources=sources,
    )
    naive_now = datetimes.naive_now_functions(running, sources)
    stored = datetimes.stored_fields(running, sources)
    sources.release(pinned)
    return ProjectModel(
        async_db=async_db,
        sqlmodel_exec=sqlmodel_exec or plan.calls_exec,
        sync_driver_users=tuple(sorted(sync_users)),
        roles=roles,
        versions=resolved,
        flow=flow,
        first_party=first_party,
        alembic_ini_url_unused=any(_ALEMBIC_OVERRIDE.search(source) for _, source in running),
        has_app=bool(graph.roots()),
        python=python_versions.collect(read_text, paths),
        needs=needs.collect(graph, roles, aiosqlite, read_text),
        installed=needs.installed(resolved),
        documented_installs=installs.documented(read_text, paths),
        runtime_supplied=runtimes.supplied(read_text, paths, resolved.declared),
        async_functions=frozenset(async_defs - sync_defs),
        sync_functions=frozenset(sync_defs - async_defs),
        naive_now=naive_now,
        naive_now_users=datetimes.naive_now_users(read_text, paths, (name for name, _ in naive_now)),
        stored_fields=stored,
        unsafe_fixes=unsafe_fixes,
        to_async=to_async,
        uses=plan,
    )


def _engines_made_async(flow: DatabaseFlow, roles: Mapping[str, Role]) -> DatabaseFlow:
    """`--to-async`: every engine the server runs becomes async (migrations keep theirs, sqlite is not ours)."""
    engines = tuple(
        dataclasses.replace(e, async_use=True)
        if not e.sqlite and roles.get(e.path, Role.LIVE) in (Role.LIVE, Role.SCRIPT) else e
        for e in flow.engines
    )
    return dataclasses.replace(flow, engines=engines)


def gather(python_files: Iterable[tuple[str, bytes]]) -> ProjectModel:
    """The model one file gives on its own (a codemod run without a project, e.g. by libcst.tool)."""
    from fixer.model.modules import read_module

    files = list(python_files)
    return build(files, {p: read_module(p, s) for p, s in files}, lambda _: None, [])
