"""The migration step a documented start runs before the server: `alembic upgrade head && uvicorn ...` in a
Dockerfile, compose file, Procfile, prestart script or README. alembic executes its env.py (with the folder of
alembic.ini first on sys.path), which reads the URL, imports the app's models and creates a sync or async engine:
a failure there stops the start before the server imports anything.
"""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from fixer.discover.compose import NotYaml, network_hosts
from fixer.model.database import EngineSite
from fixer.model.entrypoints import documents
from fixer.model.evidence import platform_url_read
from fixer.model.startfiles import is_start_file

__all__ = ["AppEngine", "Migration", "app_engine", "compose_hosts", "documented_migration", "ini_url",
           "missing_relation", "revision_failure", "script_files"]

# Also the exec form of a compose `command: ["alembic", "upgrade", "head"]` or a Dockerfile's CMD; the
# revision it upgrades to (`head`, `heads`, an id) decides what the revision map must give.
_UPGRADE = re.compile(r"""\balembic["']?(?:\s*,\s*["']|\s+)upgrade\b"""
                      r"""(?:["']?(?:\s*,\s*["']|[ \t]+)(?P<target>[^\s"',\]);&|]+))?""")
# `cd phase-02/backend` in a README's shell block: the commands after it run in that folder.
_CD = re.compile(r"(?m)(?:^|&&|;)\s*cd\s+([\w./-]+)")
_COMPOSE = re.compile(r"(?:docker-)?compose[\w.-]*\.ya?ml", re.I)
_ASYNC_ENV = re.compile(r"\b(?:async_engine_from_config|create_async_engine)\b")


@dataclass(frozen=True)
class Migration:
    folder: str  # alembic.ini's folder, relative to the backend ("" = the backend): alembic runs from there
    env: str  # the env.py alembic executes, relative to the backend
    where: tuple[str, int]  # the file and line that document `alembic upgrade`
    revisions: tuple[str, ...] = ()  # the revision files `upgrade` loads after env.py connects, relative to the backend
    target: str = "head"  # the revision `upgrade` goes to as written ("heads", an id; "" when not read)


@dataclass(frozen=True)
class AppEngine:
    """The app's engine alembic's env.py can connect with: the URL the app reads, converted as the app does."""

    path: str  # its module's file, relative to the backend
    line: int
    target: str  # the module-level name it is bound to
    module: str  # the dotted module env.py imports it from (from alembic.ini's folder)
    names: tuple[str, ...]  # the variables or settings fields its URL reads


def app_engine(migration: Migration, engines: Sequence[EngineSite], order: Collection[str],
               read_text: Callable[[str], str | None]) -> AppEngine | None:
    """The one module-level PostgreSQL engine of env.py's kind (sync or async) that the documented start imports
    (`order`), reading the platform's URL variable, in a package env.py already imports; None when there is none
    or more than one."""
    env_text = read_text(migration.env) or ""
    try:
        imported = _imported_tops(ast.parse(env_text))
    except (SyntaxError, ValueError):
        return None
    kind = "async" if _ASYNC_ENV.search(env_text) else "sync"
    found = []
    for engine in engines:
        if engine.kind != kind or engine.sqlite or engine.sqlite_branch or not engine.target \
                or not engine.target.isidentifier() or engine.path not in order or engine.path == migration.env \
                or not platform_url_read(engine.url.names):
            continue
        module = _module_of(engine.path, migration.folder)
        if module is not None and module.split(".")[0] in imported \
                and _module_level_target(read_text(engine.path) or "", engine.target, engine.line) \
                and not _works_at_import(engine.path, engine.target, migration.folder, read_text):
            found.append(AppEngine(engine.path, engine.line, engine.target, module, engine.url.names))
    return found[0] if len(found) == 1 else None


def _works_at_import(path: str, target: str, folder: str, read_text: Callable[[str], str | None]) -> bool:
    """The engine's module, or a project module it imports at its top, calls the engine or a `metadata` at import
    (`Base.metadata.create_all(engine)`): env.py importing it would create the tables before the migrations."""
    try:
        tree = ast.parse(read_text(path) or "")
    except (SyntaxError, ValueError):
        return True
    seen = {path}
    modules = [(tree, target)]
    for node in tree.body:
        # `from app import models` imports app/__init__.py and, when it is one, the module app/models.py
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module, *(f"{node.module}.{a.name}" for a in node.names)] \
            if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
        for name in names:
            base = posixpath.join(folder, *name.split("."))
            for candidate in (base + ".py", base + "/__init__.py"):
                text = read_text(candidate) if candidate not in seen else None
                if text is not None:
                    seen.add(candidate)
                    try:
                        modules.append((ast.parse(text), target))
                    except (SyntaxError, ValueError):
                        return True
    return any(_calls_at_top(module, name) for module, name in modules)


def _calls_at_top(tree: ast.Module, engine: str) -> bool:
    """A call on `engine` or on a `.metadata` in a statement that runs at import (not a function or class body)."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
                owner = sub.func.value
                if isinstance(owner, ast.Name) and owner.id == engine \
                        or isinstance(owner, ast.Attribute) and owner.attr == "metadata":
                    return True
    return False


def _module_of(path: str, folder: str) -> str | None:
    """The dotted module env.py imports `path` as, from alembic.ini's folder (alembic's `prepend_sys_path`)."""
    if folder:
        if not path.startswith(folder + "/"):
            return None
        path = path[len(folder) + 1:]
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def _imported_tops(tree: ast.Module) -> set[str]:
    tops = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            tops.add(node.module.split(".")[0])
    return tops


def _module_level_target(text: str, target: str, line: int) -> bool:
    """The engine made on `line` is assigned to `target` at the top of its module (an import gets that engine)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) and node.value is not None else []
        if any(isinstance(t, ast.Name) and t.id == target for t in targets) \
                and node.lineno <= line <= (node.end_lineno or node.lineno):
            return True
    return False


def documented_migration(backend: Path, paths: Sequence[str],
                         read_text: Callable[[str], str | None]) -> Migration | None:
    """The alembic step the project's start documents (in the files that document its start, up to the
    repository's top, or a shell script of the backend), with the env.py it runs; None when the project has no
    alembic.ini or nothing documents `alembic upgrade`."""
    inis = sorted((p for p in paths if posixpath.basename(p) == "alembic.ini"), key=lambda p: p.count("/"))
    if not inis:
        return None
    ini = inis[0]
    folder = posixpath.dirname(ini)
    ini_text = read_text(ini) or ""
    scripts = posixpath.normpath(posixpath.join(folder, _script_location(ini_text)))
    env = posixpath.normpath(posixpath.join(scripts, "env.py"))
    if env not in paths:
        return None
    revisions = _revisions(paths, folder, scripts, ini_text)
    written = [(path, where) for path, _, where, _ in documents(backend, paths)]
    written += [(backend / p, p) for p in paths if p.endswith(".sh")]
    for path, where in written:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        match = _UPGRADE.search(text)
        if match:
            return Migration(folder, env, (where, text.count("\n", 0, match.start()) + 1), revisions, _target(match))
    for path, where in _above(backend):
        text = path.read_text(encoding="utf-8", errors="replace")
        match = _upgrade_after_cd(text, path.parent, {backend.resolve(), (backend / folder).resolve()})
        if match:
            return Migration(folder, env, (where, text.count("\n", 0, match.start()) + 1), revisions, _target(match))
    return None


def script_files(paths: Sequence[str], read_text: Callable[[str], str | None]) -> set[str]:
    """The Python files of each alembic.ini's `script_location` (its env.py and revisions): alembic runs them
    whatever their folder is called (`migraions/`, `db/schema/`), so nothing importing them leaves them dead."""
    found: set[str] = set()
    for ini in (p for p in paths if posixpath.basename(p) == "alembic.ini"):
        scripts = posixpath.normpath(posixpath.join(posixpath.dirname(ini), _script_location(read_text(ini) or "")))
        prefix = "" if scripts == "." else scripts + "/"
        if prefix + "env.py" in paths:
            found.update(p for p in paths if p.endswith(".py") and p.startswith(prefix))
    return found


def _target(match: re.Match[str]) -> str:
    """The revision an `alembic upgrade` match names; "" for an option or a shell variable fixer does not read."""
    target = match.group("target") or ""
    return "" if target.startswith(("-", "$")) else target


def _above(backend: Path) -> list[tuple[Path, str]]:
    """The start files of the folders above the backend that `documents` does not read (a copy of the
    repository without its `.git` hides its top), up to three levels: a README at the repository's top
    that goes into the backend (`cd phase-02/backend`) before `alembic upgrade head` documents this backend's step."""
    found = []
    for depth, folder in enumerate(list(backend.resolve().parents)[:3], start=1):
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.is_file() and is_start_file(path.name) and path.name != "pyproject.toml":
                found.append((path, "../" * depth + path.name))
    return found


def _upgrade_after_cd(text: str, here: Path, targets: set[Path]) -> re.Match[str] | None:
    """The `alembic upgrade` that runs in one of `targets`: after a `cd` into it, with no other `cd` between
    them."""
    inside = False
    for match in sorted([*_CD.finditer(text), *_UPGRADE.finditer(text)], key=lambda m: m.start()):
        if match.re is _CD:
            inside = (here / match.group(1)).resolve() in targets
        elif inside:
            return match
    return None


def _revisions(paths: Sequence[str], folder: str, scripts: str, text: str) -> tuple[str, ...]:
    """The revision files alembic loads to find `head`: each `.py` directly in the ini's `version_locations`
    (separated by spaces or commas), else in the scripts' `versions/` folder."""
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
        written = parser.get("alembic", "version_locations")
    except (configparser.Error, ValueError):
        written = ""
    locations = [posixpath.normpath(posixpath.join(folder, w.replace("%(here)s", ".")))
                 for w in re.split(r"[\s,]+", written.strip()) if w and ":" not in w]
    locations = locations or [posixpath.normpath(posixpath.join(scripts, "versions"))]
    return tuple(sorted(p for p in paths if p.endswith(".py") and posixpath.dirname(p) in locations
                        and not posixpath.basename(p).startswith("__")))


def revision_failure(revisions: Sequence[str], read_text: Callable[[str], str | None], target: str = "head"
                     ) -> tuple[str, str, str, int, str, str] | None:
    """What `alembic upgrade <target>` raises building its revision map from the revision files, as alembic builds
    it (exception, message, file, line, family, detail): a `down_revision` naming no revision is a KeyError; two
    heads (two branches, or one revision id written in two files) stop `head` from naming one (`heads` and an
    explicit revision name what they mean). None when the map is whole, or when a file's ids are not plain
    literals."""
    # (file, revision, down revisions, the lines of `down_revision` and of `revision`)
    found: list[tuple[str, str, tuple[str, ...], int, int]] = []
    for path in revisions:
        ids = _revision_ids(read_text(path) or "")
        if ids is None:
            return None
        if ids[0] is not None:
            found.append((path, *ids))
    latest = {entry[1]: index for index, entry in enumerate(found)}
    heads = set(range(len(found)))
    for index in latest.values():
        path, revision, downs, line, _ = found[index]
        for down in downs:
            if down not in latest:
                return ("KeyError", repr(down), path, line, "migration-revisions",
                        f"{path} follows revision {down!r}, which no revision file defines: alembic cannot build its "
                        "revision map")
            heads.discard(latest[down])
    if len(heads) < 2 or target != "head":
        return None
    first = min(heads, key=lambda i: found[i][0])
    shown = sorted(found[i][0] for i in heads)
    twice = sorted({found[i][1] for i in heads if sum(1 for f in found if f[1] == found[i][1]) > 1})
    return ("alembic.util.exc.CommandError",
            "Multiple head revisions are present for given argument 'head'; please specify a specific target "
            "revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads",
            found[first][0], found[first][4], "migration-revisions",
            f"the revision files end in {len(heads)} heads ({', '.join(shown)})"
            + (f"; revision id {', '.join(map(repr, twice))} is written in more than one file" if twice else "")
            + ": `alembic upgrade head` needs one")


# alembic operations and the positions of the tables they need to exist (create_foreign_key: both).
_NEEDS_TABLE = {"add_column": (0,), "drop_column": (0,), "alter_column": (0,), "create_index": (1,),
                "create_unique_constraint": (1,), "create_check_constraint": (1,), "create_primary_key": (1,),
                "create_foreign_key": (1, 2), "drop_constraint": (1,), "drop_table": (0,), "rename_table": (0,),
                "batch_alter_table": (0,)}


def missing_relation(revisions: Sequence[str], read_text: Callable[[str], str | None]
                     ) -> tuple[str, str, str, int, str, str] | None:
    """What `alembic upgrade head` raises on an empty database when a revision, in the order alembic runs them,
    works on a table no earlier revision creates (an `add_column`, or a foreign key to a table the app makes
    with create_all, which runs only once the server starts): PostgreSQL's `relation "..." does not exist`.
    None when every table the operations name is created first, or when fixer cannot read a revision (ids or
    table names that are not plain literals, another schema, raw SQL that creates tables)."""
    ordered = _chain(revisions, read_text)
    if ordered is None:
        return None
    created: set[str] = set()
    trees = {}
    for path in ordered:
        try:
            trees[path] = ast.parse(read_text(path) or "")
        except (SyntaxError, ValueError):
            return None
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("create_all", "create")
           and not (isinstance(n.func.value, ast.Name) and n.func.value.id == "op")
           for tree in trees.values() for n in ast.walk(tree)):
        return None  # a revision that creates tables from metadata or a Table object: what exists is not read here
    # Every string the revisions write (explicit constraint names among them), and the tables raw SQL touches:
    # a constraint named anywhere, or on such a table, may exist.
    written = {n.value for tree in trees.values() for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    named: dict[str, set[str]] = {}  # PostgreSQL's own names for the constraints create_table made
    for path in ordered:
        tree = trees[path]
        upgrade = next((f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "upgrade"), None)
        if upgrade is None:
            continue
        calls = sorted((n for n in ast.walk(upgrade) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                        and isinstance(n.func.value, ast.Name) and n.func.value.id == "op"),
                       key=lambda n: (n.lineno, n.col_offset))
        for call in calls:
            step = _table_step(call)
            if step is None:
                return None
            needs, makes, drops = step
            missing = next((t for t in needs if t not in created and t not in makes), None)
            if missing is not None:
                return ("sqlalchemy.exc.ProgrammingError", f'relation "{missing}" does not exist', path, call.lineno,
                        "migration-revisions",
                        f"`op.{call.func.attr}` in {path} needs the table `{missing}`, which no revision before it "
                        "creates: on an empty database `alembic upgrade head` stops there (the app's own create_all "
                        "runs only once the server starts, after the migration)")
            if call.func.attr == "drop_constraint" and len(call.args) > 1:
                constraint, table = call.args[0].value if isinstance(call.args[0], ast.Constant) else None, needs[0]
                others = sum(constraint == n.value for tree in trees.values() for n in ast.walk(tree)
                             if isinstance(n, ast.Constant))
                if isinstance(constraint, str) and table in named and constraint not in named[table] and others == 1 \
                        and not any(table in s for s in written if re.search(r"\balter\s+table\b", s, re.I)):
                    return ("sqlalchemy.exc.ProgrammingError",
                            f'constraint "{constraint}" of relation "{table}" does not exist', path, call.lineno,
                            "migration-revisions",
                            f"`op.drop_constraint` in {path} drops `{constraint}`, which the revision that creates "
                            f"`{table}` never makes (PostgreSQL names its constraints {', '.join(sorted(named[table]))}): "
                            "`alembic upgrade head` stops there")
            if call.func.attr == "create_table" and makes:
                named[makes[0]] = _default_names(call)
            created |= set(makes)
            created -= set(drops)
    return None


def _table_step(call: ast.Call) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
    """(tables it needs, tables it creates, tables it drops) for one `op.X(...)`; None when fixer cannot tell
    (a name that is not a literal, a `schema=`, raw SQL that may create a table)."""
    name = call.func.attr
    if any(k.arg == "schema" or k.arg is None for k in call.keywords):
        return None

    def literal(index: int) -> str | None:
        node = call.args[index] if index < len(call.args) else None
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    if name == "execute":
        text = literal(0)
        return None if text is None or re.search(r"\bcreate\s+table\b", text, re.I) else ((), (), ())
    if name == "create_table":
        table = literal(0)
        if table is None:
            return None
        return tuple(dict.fromkeys(_references(call))), (table,), ()
    if name not in _NEEDS_TABLE:
        return (), (), ()
    tables = [literal(i) for i in _NEEDS_TABLE[name]]
    if name == "create_foreign_key" and len(call.args) < 3:
        tables = [next((k.value.value for k in call.keywords if k.arg == key and isinstance(k.value, ast.Constant)), None)
                  for key in ("source_table", "referent_table")]
    if None in tables:
        return None
    made = (literal(1),) if name == "rename_table" and literal(1) else ()
    dropped = tuple(tables) if name in ("drop_table", "rename_table") else ()
    return tuple(tables), made, dropped


def _default_names(call: ast.Call) -> set[str]:
    """The names PostgreSQL gives the constraints of a `create_table` that names none itself: `<table>_pkey`,
    `<table>_<column>_fkey`, `<table>_<column>_key`; one written with `name=` keeps it."""
    table = call.args[0].value
    names = {f"{table}_pkey"}
    for node in ast.walk(call):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        given = next((k.value.value for k in node.keywords if k.arg == "name" and isinstance(k.value, ast.Constant)), None)
        if isinstance(given, str):
            names.add(given)
        if func == "Column" and node.args and isinstance(node.args[0], ast.Constant):
            column = node.args[0].value
            if any(isinstance(a, ast.Call) and getattr(a.func, "attr", getattr(a.func, "id", "")) == "ForeignKey"
                   for a in node.args):
                names.add(f"{table}_{column}_fkey")
            if any(k.arg == "unique" for k in node.keywords):
                names.add(f"{table}_{column}_key")
        elif func in ("ForeignKeyConstraint", "UniqueConstraint") and node.args:
            first = node.args[0]
            columns = [e.value for e in first.elts if isinstance(e, ast.Constant)] \
                if isinstance(first, (ast.List, ast.Tuple)) else [a.value for a in node.args if isinstance(a, ast.Constant)]
            if columns:
                names.add(f"{table}_{'_'.join(map(str, columns))}_{'fkey' if func == 'ForeignKeyConstraint' else 'key'}")
    return names


def _references(call: ast.Call) -> list[str]:
    """The tables a `create_table`'s foreign keys point at: `ForeignKey("user.id")`,
    `ForeignKeyConstraint([...], ["user.id"])`, other than the table itself."""
    table = call.args[0].value
    found = []
    for node in ast.walk(call):
        if isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            targets = node.args[:1] if func == "ForeignKey" else \
                [e for e in node.args[1].elts] if func == "ForeignKeyConstraint" and len(node.args) > 1 \
                and isinstance(node.args[1], (ast.List, ast.Tuple)) else []
            for target in targets:
                if isinstance(target, ast.Constant) and isinstance(target.value, str) and target.value.count(".") == 1:
                    referenced = target.value.split(".")[0]
                    if referenced != table:
                        found.append(referenced)
    return found


def _chain(revisions: Sequence[str], read_text: Callable[[str], str | None]) -> list[str] | None:
    """The revision files in the order `upgrade head` runs them (each after the ones it revises); None when the
    ids are not plain literals or the map is not whole."""
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for path in revisions:
        ids = _revision_ids(read_text(path) or "")
        if ids is None:
            return None
        if ids[0] is not None:
            found[ids[0]] = (path, ids[1])
    ordered: list[str] = []
    done: set[str] = set()
    while len(done) < len(found):
        ready = sorted(r for r, (_, downs) in found.items() if r not in done and all(d in done for d in downs))
        if not ready or any(d not in found for _, downs in found.values() for d in downs):
            return None
        for revision in ready:
            done.add(revision)
            ordered.append(found[revision][0])
    return ordered


def _revision_ids(text: str) -> tuple[str | None, tuple[str, ...], int, int] | None:
    """A revision file's `revision`, its `down_revision`s and the lines of the two assignments; None when either
    is not a literal (alembic would read a value fixer cannot)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    values: dict[str, tuple[object, int]] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) and node.value is not None else None
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                values[target.id] = (ast.literal_eval(node.value), node.lineno)
            except ValueError:
                return None
    revision, own = values.get("revision", (None, 0))
    down, line = values.get("down_revision", (None, 0))
    downs = (down,) if isinstance(down, str) else tuple(down) if isinstance(down, (tuple, list)) else ()
    if not isinstance(revision, (str, type(None))) or not all(isinstance(d, str) for d in downs):
        return None
    return revision, downs, line or 1, own or 1


def _script_location(text: str) -> str:
    """alembic.ini's `script_location` (`%(here)s/alembic` is the ini's own folder), "alembic" by default."""
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
        location = parser.get("alembic", "script_location")
    except (configparser.Error, ValueError):
        return "alembic"
    location = location.strip().replace("%(here)s", ".").replace("\\", "/")
    return location if ":" not in location else "alembic"  # `package:folder` names a package, not a path


def ini_url(text: str, here: Path, section: str = "alembic") -> str | None:
    """The `sqlalchemy.url` of alembic.ini's section, as alembic's own parser reads it (`%(here)s` is the ini's
    folder, `%%` a percent sign): what `engine_from_config(config.get_section(...))` connects to when env.py
    puts no URL of its own into the config; None when the ini has none or only alembic's template."""
    parser = configparser.ConfigParser(defaults={"here": str(here)})
    try:
        parser.read_string(text)
        url = parser.get(section, "sqlalchemy.url")
    except (configparser.Error, ValueError):
        return None
    return url.strip() if "://" in url and not url.startswith("driver://") else None


def compose_hosts(backend: Path) -> dict[str, tuple[str, str]]:
    """The host names the project's compose files give their services' network (`db`, a `hostname:`), each
    with its service and file (relative to the backend): the backend's own compose files and those of the
    folders above it (a repository whose compose file sits beside the backend's folder)."""
    here = sorted((p, p.name) for p in backend.iterdir() if p.is_file()) if backend.is_dir() else []
    files = [(path, where) for path, where in (*here, *_above(backend)) if _COMPOSE.fullmatch(path.name)]
    hosts: dict[str, tuple[str, str]] = {}
    for path, where in files:
        try:
            found = network_hosts(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, NotYaml):
            continue
        for host, service in found.items():
            hosts.setdefault(host, (service, where))
    return hosts
