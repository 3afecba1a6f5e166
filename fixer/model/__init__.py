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

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from fixer.model.database import DatabaseFlow, EngineSite, ShippedUrl
from fixer.model.modules import Role
from fixer.model.versions import Versions

__all__ = ["FACT_PATTERNS", "ProjectModel", "Role", "build"]

_ASYNC_DB = re.compile(
    rb"\b(create_async_engine|AsyncEngine|AsyncSession|async_sessionmaker|async_engine_from_config)\b"
    rb"|async\s+with\s+\w+\.begin\(\)|await\s+\w+\.dispose\(\)"
)
_PSYCOPG2_IMPORT = re.compile(rb"^\s*(?:import|from)\s+psycopg2\b", re.MULTILINE)
_SYNC_ENGINE = re.compile(rb"\b(?:create_engine|engine_from_config)\s*\(")
_EXEC = re.compile(rb"\.exec\s*\(")
_SETTINGS = re.compile(rb"BaseSettings")
# A file none of these match adds nothing to the model but its import lines: the runner need not keep it.
FACT_PATTERNS: tuple[re.Pattern[bytes], ...] = (_ASYNC_DB, _PSYCOPG2_IMPORT, _SYNC_ENGINE, _EXEC, _SETTINGS)
_ASYNC_SCHEMES = ("postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg_async", "sqlite+aiosqlite")


@dataclass(frozen=True)
class ProjectModel:
    async_db: bool = False  # the code uses, or is half-way moved to, SQLAlchemy's asyncio layer
    sqlmodel_exec: bool = False  # some session calls sqlmodel's `.exec`, which only sqlmodel's AsyncSession has
    sync_driver_users: tuple[str, ...] = ()  # files that still need psycopg2 (direct imports, sync engines)
    roles: Mapping[str, Role] = field(default_factory=dict)  # path -> role; a path missing is live
    versions: Versions = field(default_factory=Versions)
    flow: DatabaseFlow = field(default_factory=DatabaseFlow)
    first_party: frozenset[str] = field(default_factory=frozenset)  # top-level names the project's modules have
    unsafe_fixes: bool = False  # write fixes whose failing input the project does not show

    # -- modules ------------------------------------------------------------------------------------

    def role(self, path: str) -> Role:
        return self.roles.get(path, Role.LIVE)

    def runs(self, path: str) -> bool:
        """Code a rule may edit: run by the server, a migration, a script or a test; not library source, not
        a module nothing imports."""
        return self.role(path) not in (Role.LIBRARY, Role.DEAD)

    # -- URLs and engines ---------------------------------------------------------------------------

    def engines_reading(self, name: str) -> list[EngineSite]:
        return [e for e in self.flow.engines if name in e.url.names]

    def url_consumers(self, name: str) -> set[str]:
        """'sync' and/or 'async': the kinds of engine a URL read under `name` reaches (empty: unknown)."""
        return {e.kind for e in self.engines_reading(name) if self.runs(e.path)}

    def rewritten_by_project(self, name: str | None = None) -> list:
        """The project's own `.replace(...)` of URL schemes (on the URL read under `name`, or anywhere)."""
        return [
            r for r in self.flow.rewrites
            if name is None or any(name in e.url.names and "str.replace" in e.url.through for e in self.flow.engines)
        ]

    def normalised_by_project(self, engine: EngineSite) -> bool:
        return any(step in self.flow.url_helpers or step == "str.replace" for step in engine.url.through)

    def shipped_for(self, name: str | None) -> list[ShippedUrl]:
        return [s for s in self.flow.shipped if name is None or s.key == name]

    def shows_sync_url(self, name: str | None) -> list[ShippedUrl]:
        """URLs the project ships (under `name`, or anywhere when None) that an async engine cannot take as
        they are: the evidence that makes a URL fix safe."""
        return [
            s for s in self.shipped_for(name)
            if s.scheme in ("postgres", "postgresql", "postgresql+psycopg2")
            or (s.scheme.startswith("postgresql+asyncpg") and s.libpq_params)
        ]

    # -- printing -----------------------------------------------------------------------------------

    def describe(self) -> dict:
        out = asdict(self)
        out["roles"] = {path: role.value for path, role in sorted(self.roles.items())}
        out["first_party"] = sorted(self.first_party)
        out["flow"]["url_helpers"] = sorted(self.flow.url_helpers)
        out["flow"]["settings_fields"] = sorted(self.flow.settings_fields)
        return out


def build(
    python: Sequence[tuple[str, bytes]],
    imports_of: Mapping[str, object],
    read_text: Callable[[str], str | None],
    paths: Iterable[str],
    entry_modules: Iterable[str] = (),
    unsafe_fixes: bool = False,
) -> ProjectModel:
    """The model of a tree: `python` the candidate files with their bytes, `imports_of` every Python file's
    `ModuleInfo` (import lines only), `read_text` reads any other file by its relative path."""
    from fixer.model import database, versions
    from fixer.model.modules import ModuleGraph

    paths = list(paths)
    graph = ModuleGraph(imports_of.values(), entry_modules)  # type: ignore[arg-type]
    roles = graph.roles()
    flow = database.read_python(python)
    shipped = list(flow.shipped)
    for path in paths:
        if database.is_url_file(path):
            text = read_text(path)
            if text:
                shipped += database.read_shipped(path, text)
    flow = DatabaseFlow(flow.engines, tuple(shipped), flow.rewrites, flow.url_helpers, flow.settings_fields)

    async_db = sqlmodel_exec = False
    for path, source in python:
        async_db = async_db or bool(_ASYNC_DB.search(source))
        sqlmodel_exec = sqlmodel_exec or bool(_EXEC.search(source))
    sync_users = set()
    for path, source in python:
        if roles.get(path, Role.LIVE) in (Role.LIBRARY, Role.DEAD):
            continue
        if _PSYCOPG2_IMPORT.search(source):
            sync_users.add(path)
    for engine in flow.engines:
        if engine.kind == "sync" and roles.get(engine.path, Role.LIVE) not in (Role.LIBRARY, Role.DEAD, Role.TEST):
            if not (engine.url.scheme or "").startswith("sqlite"):
                sync_users.add(engine.path)
    first_party = frozenset(m.name.split(".")[0] for m in graph.modules.values() if m.name)
    return ProjectModel(
        async_db=async_db,
        sqlmodel_exec=sqlmodel_exec,
        sync_driver_users=tuple(sorted(sync_users)),
        roles=roles,
        versions=versions.resolve(versions.collect(read_text, paths)),
        flow=flow,
        first_party=first_party,
        unsafe_fixes=unsafe_fixes,
    )


def gather(python_files: Iterable[tuple[str, bytes]]) -> ProjectModel:
    """The model one file gives on its own (a codemod run without a project, e.g. by libcst.tool)."""
    from fixer.model.modules import read_module

    files = list(python_files)
    return build(files, {p: read_module(p, s) for p, s in files}, lambda _: None, [])
