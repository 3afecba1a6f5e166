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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fixer.discover.compose import NotYaml, network_hosts
from fixer.model.entrypoints import documents
from fixer.model.startfiles import is_start_file

__all__ = ["Migration", "compose_hosts", "documented_migration", "ini_url", "revision_failure", "script_files"]

# Also the exec form of a compose `command: ["alembic", "upgrade", "head"]` or a Dockerfile's CMD; the
# revision it upgrades to (`head`, `heads`, an id) decides what the revision map must give.
_UPGRADE = re.compile(r"""\balembic["']?(?:\s*,\s*["']|\s+)upgrade\b"""
                      r"""(?:["']?(?:\s*,\s*["']|[ \t]+)(?P<target>[^\s"',\]);&|]+))?""")
# `cd phase-02/backend` in a README's shell block: the commands after it run in that folder.
_CD = re.compile(r"(?m)(?:^|&&|;)\s*cd\s+([\w./-]+)")
_COMPOSE = re.compile(r"(?:docker-)?compose[\w.-]*\.ya?ml", re.I)


@dataclass(frozen=True)
class Migration:
    folder: str  # alembic.ini's folder, relative to the backend ("" = the backend): alembic runs from there
    env: str  # the env.py alembic executes, relative to the backend
    where: tuple[str, int]  # the file and line that document `alembic upgrade`
    revisions: tuple[str, ...] = ()  # the revision files `upgrade` loads after env.py connects, relative to the backend
    target: str = "head"  # the revision `upgrade` goes to as written ("heads", an id; "" when not read)


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
