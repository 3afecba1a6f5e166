"""What happens when the server starts, for each start of the backend (`fixer.model.entrypoints`): the import
walk's prediction (`fixer.model.importwalk`, with what a fresh install gives: `fixer.model.freshinstall`), and
the project-wide checks that need the import order: routers never included, tables never imported, and a
start command that would make more import lines right than rewriting them.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fixer.model.database import DatabaseFlow, postgres_shown
from fixer.model.entrypoints import StartPoint
from fixer.model.failures import Failure, ImportFix, Prediction
from fixer.model.conflicts import Conflict
from fixer.model.freshinstall import Installed, declared_at, installed, project_python_version, unbuildable, unsatisfiable
from fixer.model.importwalk import predict, predict_script
from fixer.model.migrations import (AppEngine, Migration, app_engine, documented_migration, missing_relation,
                                   revision_failure)
from fixer.model.routers import Included, included_routers
from fixer.model.sources import Sources
from fixer.model.serverloop import server_loop_failure
from fixer.model.tables import NeverCreated, documents_above, never_created, table_classes

__all__ = ["Failure", "ImportFix", "Installed", "Prediction", "Startup", "analyse", "first_result", "installed",
           "predict", "predicted_first_error"]


@dataclass(frozen=True)
class Unused:
    """A router never included, or a table model never imported before create_all."""

    path: str
    line: int
    name: str
    why: str
    # Something the app loads names it (its class, its table): without it, a missing table breaks nothing.
    used: bool = True


@dataclass(frozen=True)
class Startup:
    predictions: tuple[Prediction, ...] = ()  # the first is the start fixer checks first (a deploy file's)
    disagreement: str | None = None  # the documented starts differ (app, folder or PYTHONPATH)
    # The starts whose predicted first results differ (FX036), a `uvicorn.run()` block only when it matters.
    differing: tuple[Prediction, ...] = ()
    python: str = ""  # the CPython judged against
    routers_unincluded: tuple[Unused, ...] = ()
    tables_unimported: tuple[Unused, ...] = ()
    tables_never_created: NeverCreated | None = None  # the start serves, but nothing makes its tables
    # The start command to change instead of the imports, when that is the smaller change (FX020 reports it).
    start_fix: StartPoint | None = None
    imports_kept: int = 0  # the import lines that start command makes right without an edit
    starts: tuple[StartPoint, ...] = ()  # every start found, most authoritative first (fixer.model.entrypoints)
    install: Installed | None = None  # what the first start's documented install gives (a Dockerfile's lock ...)
    conflicts: tuple[Conflict, ...] = ()  # declarations that install cannot satisfy together: nothing installs
    migration: Migration | None = None  # the `alembic upgrade` step the documented start runs before the server
    migration_engine: AppEngine | None = None  # the app's engine env.py can connect with (FX054)

    @property
    def primary(self) -> Prediction | None:
        return self.predictions[0] if self.predictions else None


_ROUTER = re.compile(r"^(\w+)\s*(?::[^=\n]+)?=\s*(?:fastapi\.)?APIRouter\(", re.M)
_SKIP_PARTS = frozenset({"tests", "test", "alembic", "migrations", "scripts"})


def analyse(backend: str | os.PathLike[str], paths: Iterable[str], read_text: Callable[[str], str | None],
            flow: DatabaseFlow | None = None, entrypoint: str | None = None, run_from: str | None = None,
            database_url: str | None = None, points: Sequence[StartPoint] | None = None,
            sources: Sources | None = None, router_files: Collection[str] | None = None) -> Startup:
    """Every start of the backend walked (`points`, else the model's start points, or the one
    --entrypoint/--run-from name), with the project-wide checks that need the import order: routers never
    included, tables never imported. Each module is parsed once for every walk (`sources`: the run's).
    `router_files`: the only Python files whose text may hold `APIRouter(` (the runner's scan of every file's
    bytes knows them); None: any file may, and each is read to see."""
    from fixer.model.entrypoints import disagreements, start_points

    root = Path(backend).resolve()
    paths = list(paths)
    if points is None:
        points = start_points(root, entrypoint, run_from, paths, sources)
    if not points:
        return Startup()
    points = list(points)
    start_file = points[0].where[0] if points[0].where else None  # its install is the one that start runs on
    python = project_python_version(read_text, paths, start_file)
    have = installed(read_text, paths, python, start_file=start_file)
    sources = sources or Sources(read_text)
    sources.pin(p for p in paths if p.endswith(".py"))  # only the modules the walks import are ever parsed
    if flow is not None and not flow.postgres_shown:
        # A flow read from the Python files alone (the model adds the variables its running code reads): the
        # Dockerfile's PostgreSQL client says a SQLite default is not what the deploy runs on.
        flow = dataclasses.replace(flow, postgres_shown=postgres_shown(read_text, paths, ()))
    # The install comes first: declarations no release satisfies together stop the resolver, and a pin whose
    # build fails leaves nothing to start.
    unsolved = tuple(unsatisfiable(read_text, paths, python, start_file))
    builds = tuple(
        Failure("error", conflict.message, conflict.where, conflict.line, "no-solution",
                detail=f"every release of {conflict.dist} that the project allows requires {conflict.other}"
                       f"{conflict.requires}; no release of {conflict.other} satisfies that and {conflict.other_declared}")
        for conflict in unsolved
    ) + tuple(
        Failure("error", f"Failed to build `{dist}=={version}`: no wheel for CPython {python}, and its source "
                "distribution needs a compiler", where, line, "no-wheel",
                detail=f"{dist} {version} publishes no manylinux wheel for CPython {python}; later releases do")
        for dist, version, where, line in unbuildable(have, python, read_text, paths, start_file)
    )
    # Then the server, which asks for its event loop before it imports the app.
    uvicorn_at = declared_at(read_text, paths, start_file, "uvicorn")
    predictions = tuple(dataclasses.replace(prediction, failures=builds + tuple(
        f for f in (server_loop_failure(prediction.start, have, python, uvicorn_at),) if f is not None
    ) + prediction.failures) for prediction in (
        predict(root, point, have, paths, flow, database_url, python, sources) for point in points[:4]))
    primary = predictions[0]
    alternative = _smaller_start(root, primary, have, paths, flow, database_url, python, sources) \
        or _documented_fit(primary, predictions[1:])
    migration = documented_migration(root, paths, read_text)
    if migration is not None:
        # `alembic upgrade head && uvicorn ...`: env.py runs first, with the same environment (the platform URL).
        step = dataclasses.replace(primary.start, run_from=migration.folder, pythonpath=())
        migrating = predict_script(root, step, migration.env, have, paths, flow, database_url, python, sources,
                                   migration.revisions)
        broken = revision_failure(migration.revisions, read_text, migration.target)
        if broken is None and migration.target in ("head", "heads") \
                and "create_all" not in (read_text(migration.env) or ""):  # env.py making tables first: not read here
            broken = missing_relation(migration.revisions, read_text)  # the revisions run on an empty database
        if broken is not None:  # the revision map is built once env.py has connected and its revisions loaded
            exception, message, where, line, family, detail = broken
            migrating = (*migrating, Failure(exception, message, where, line, family, detail=detail))
    never = never_created(paths, sources, primary, documents_above(root))
    if never is not None and migration is not None:
        # The documented start runs migrations: they are the project's way to make its tables (FX045 reports).
        never = dataclasses.replace(never, app_path="", module="", hook="")
    included = included_routers(sources, primary.order, paths)
    sources.release(p for p in paths if p.endswith(".py"))
    kept = len(primary.import_fixes)
    start_fix = alternative.start if alternative is not None else None
    if alternative is not None:
        # The imports are right for another start: FX020 leaves them and names that start. Once it is changed,
        # what comes next is what that start meets.
        first = next(f for f in primary.failures if f.family in ("relative-import", "unresolved-import"))
        primary = dataclasses.replace(primary, import_fixes=(), failures=(first, *alternative.failures))
        predictions = (primary, *predictions[1:])
    if migration is not None:
        seen = {(f.exception, f.message, f.path, f.line) for f in migrating}
        later = tuple(f for f in primary.failures if (f.exception, f.message, f.path, f.line) not in seen)
        installing = tuple(f for f in later if f.family in ("no-solution", "no-wheel"))  # the install fails before alembic runs
        primary = dataclasses.replace(primary, failures=(*installing, *migrating,
                                                         *(f for f in later if f not in installing)))
        predictions = (primary, *predictions[1:])
    imported = set(primary.order)
    texts = {p: read_text(p) or "" for p in imported}
    return Startup(
        starts=tuple(points),
        install=have,
        conflicts=unsolved,
        predictions=predictions,
        disagreement=disagreements(list(points)),
        differing=_differing(predictions),
        python=python,
        routers_unincluded=tuple(_routers(paths if router_files is None else [p for p in paths if p in router_files],
                                          read_text, imported, texts, included)),
        tables_unimported=tuple(_tables(paths, read_text, primary)),
        tables_never_created=never,
        start_fix=start_fix,
        imports_kept=kept if start_fix is not None else 0,
        migration=migration,
        migration_engine=app_engine(migration, flow.engines if flow is not None else (), primary.order, read_text)
        if migration is not None else None,
    )


def first_result(prediction: Prediction) -> str:
    return str(prediction.failures[0]) if prediction.failures else "imports cleanly"


def _differing(predictions: tuple[Prediction, ...]) -> tuple[Prediction, ...]:
    """The starts whose first results differ; () when every start meets the same first result. A
    `uvicorn.run()` under `if __name__ == "__main__":` counts only when nothing else documents a start or
    when its first result is not the documented start's."""
    documented = [p for p in predictions if not p.start.in_code]
    considered = documented + [
        p for p in predictions
        if p not in documented and (not documented or first_result(p) != first_result(documented[0]))
    ]
    if len({first_result(p) for p in considered}) < 2:
        return ()
    return tuple(considered)


def _documented_fit(primary: Prediction, others: tuple[Prediction, ...]) -> Prediction | None:
    """Another documented start (a `uvicorn.run()` block, a second README command) the imports are written for:
    following it changes one command line instead of many import lines."""
    if len(primary.import_fixes) < 2:
        return None
    for other in others:
        if len(other.import_fixes) + 1 < len(primary.import_fixes) and not any(
            f.family in ("start-command", "missing-app", "unresolved-import", "relative-import") for f in other.failures
        ):
            return other
    return None


def _smaller_start(root: Path, primary: Prediction, have: Installed, paths: list[str], flow: DatabaseFlow | None,
                   database_url: str | None, python: str = "", sources: Sources | None = None) -> Prediction | None:
    """The start from the entry module's top package (`uvicorn src.main:app` from the folder above `src/`, for
    an app started as `main:app` from inside it) when it makes more import lines right than the one command line
    it changes; None when rewriting the imports is the smaller change. Above a folder without `__init__.py` the
    package is a namespace one: each folder up to the backend's is tried, the nearest first."""
    start = primary.start
    if len(primary.import_fixes) < 2:
        return None
    start_folder = (root / start.run_from).resolve()
    parts = start.module.split(".")
    entry = start_folder.joinpath(*parts)
    if not (entry.with_suffix(".py").is_file() or (entry / "__init__.py").is_file()):
        return None
    folder = start_folder
    while (folder / "__init__.py").is_file():  # the packages the entry module is part of
        parts.insert(0, folder.name)
        folder = folder.parent
    candidates = [(folder, parts)]
    if folder == start_folder:  # no package: the folders above, each a namespace package of the next
        candidates = []
        while folder != root and folder.is_relative_to(root):
            parts = [folder.name, *parts]
            folder = folder.parent
            candidates.append((folder, parts))
    for folder, parts in candidates:
        alternative = _started_from(root, primary, folder, parts, have, paths, flow, database_url, python, sources)
        if alternative is not None:
            return alternative
    return None


def _started_from(root: Path, primary: Prediction, folder: Path, parts: list[str], have: Installed,
                  paths: list[str], flow: DatabaseFlow | None, database_url: str | None, python: str,
                  sources: Sources | None) -> Prediction | None:
    """The start of the same app as `.`.join(parts) from `folder`, when it makes more import lines right than the
    one command line it changes."""
    start = primary.start
    try:
        run_from = folder.relative_to(root).as_posix()
    except ValueError:
        return None
    app = ".".join(parts) + ":" + start.attr
    command = start.command.replace(start.app, app, 1) if start.app in start.command \
        else f"python -m {'.'.join(parts)}" if start.command.startswith("python ") else app
    other = StartPoint(app, "" if run_from == "." else run_from, start.pythonpath, start.source, command,
                       where=start.where)
    alternative = predict(root, other, have, paths, flow, database_url, python, sources)
    if len(alternative.import_fixes) + 1 < len(primary.import_fixes) and not any(
        f.family == "start-command" for f in alternative.failures
    ):
        return alternative
    return None


def _candidate(path: str) -> bool:
    parts = path.split("/")
    return path.endswith(".py") and not (_SKIP_PARTS & set(parts[:-1])) and not parts[-1].startswith("test_")


def _routers(paths: list[str], read_text, imported: set[str], texts: dict[str, str],
             included: Included) -> Iterable[Unused]:
    for path in paths:
        if not _candidate(path):
            continue
        text = read_text(path) if path not in texts else texts[path]
        if not text or "APIRouter(" not in text:
            continue
        for match in _ROUTER.finditer(text):
            name = match.group(1)
            line = text.count("\n", 0, match.start()) + 1
            if path not in imported:
                yield Unused(path, line, name, "the app never imports this module, so its routes never exist")
            elif not included.includes(path, name):
                yield Unused(path, line, name, "no include_router() call of the imported modules names it")


def _tables(paths: list[str], read_text, primary: Prediction) -> Iterable[Unused]:
    # A module a startup hook imports after create_all has run gets no table from it.
    imported = set(primary.order[:primary.tables_at] if primary.tables_at is not None else primary.order)
    imported |= set(primary.late_order)
    texts = {p: read_text(p) or "" for p in imported}
    if not any("create_all" in t for t in texts.values()):
        return
    tops = {_top(p, primary.start.run_from) for p in imported}
    defined = {table for p in imported for _, _, table in table_classes(texts[p])}
    loaded = [read_text(p) or "" for p in {*primary.order, *primary.late_order}]
    for path in paths:
        if not _candidate(path) or path in imported:
            continue
        top = _top(path, primary.start.run_from)
        if top not in tops and "/" in top:
            continue  # another program's package (an MCP server, a worker): not the app's tables
        text = read_text(path)
        if not text or "table" not in text or "create_all" in text or "__main__" in text:
            continue  # a script that creates its own tables is not the app's business
        for line, name, table in table_classes(text):
            if table in defined:
                continue  # importing it would raise "Table '...' is already defined for this MetaData instance"
            used = path in primary.order or any(
                re.search(rf"\b(?:{re.escape(name)}|{re.escape(table)})\b", t) for t in loaded)
            yield Unused(path, line, name,
                         "the app never imports this module before create_all(), so the table is never created",
                         used)


def _top(path: str, run_from: str) -> str:
    """The top-level package (with a trailing /) or module a path belongs to, seen from the start folder."""
    prefix = run_from.strip("/").removeprefix(".").strip("/")
    rel = path[len(prefix) + 1:] if prefix and path.startswith(prefix + "/") else path
    first, slash, _ = rel.partition("/")
    return first + slash


_VERIFY_URL = "postgresql://"  # `fixer verify` gives the app the plain form hosting platforms inject


def predicted_first_error(backend: str | os.PathLike[str], entrypoint: str | None = None,
                          app_dir: str | None = None) -> str:
    """The first failure the static walk predicts for starting `entrypoint` (MODULE:ATTR) from the backend folder
    with `app_dir` first on sys.path (as `fixer verify` starts it), or "none" when it imports cleanly."""
    from fixer.discover.files import discover, read
    from fixer.model import database

    root = Path(backend).resolve()
    paths = list(discover(root, []))

    def read_text(rel: str) -> str | None:
        try:
            return read(os.fspath(root / rel)).decode("utf-8-sig")
        except Exception:
            return None

    flow = database.read_python((p, read(os.fspath(root / p))) for p in paths if p.endswith(".py"))
    found = analyse(root, paths, read_text, flow, entrypoint, None, _VERIFY_URL)
    prediction = found.primary
    if prediction is None:
        return "none"
    if app_dir:
        start = StartPoint(prediction.start.app, app_dir, (), prediction.start.source, prediction.start.command)
        prediction = predict(root, start, installed(read_text, paths, found.python), paths, flow, _VERIFY_URL,
                             found.python)
    return str(prediction.failures[0]) if prediction.failures else "none"
