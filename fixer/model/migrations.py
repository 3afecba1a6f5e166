"""The migration step a documented start runs before the server: `alembic upgrade head && uvicorn ...` in a
Dockerfile, compose file, Procfile, prestart script or README. alembic executes its env.py (with the folder of
alembic.ini first on sys.path), which reads the URL, imports the app's models and creates a sync or async engine:
a failure there stops the start before the server imports anything.
"""

from __future__ import annotations

import configparser
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fixer.model.entrypoints import documents

__all__ = ["Migration", "documented_migration"]

_UPGRADE = re.compile(r"\balembic\s+upgrade\b")


@dataclass(frozen=True)
class Migration:
    folder: str  # alembic.ini's folder, relative to the backend ("" = the backend): alembic runs from there
    env: str  # the env.py alembic executes, relative to the backend
    where: tuple[str, int]  # the file and line that document `alembic upgrade`


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
    env = posixpath.normpath(posixpath.join(folder, _script_location(read_text(ini) or ""), "env.py"))
    if env not in paths:
        return None
    written = [(path, where) for path, _, where, _ in documents(backend, paths)]
    written += [(backend / p, p) for p in paths if p.endswith(".sh")]
    for path, where in written:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        match = _UPGRADE.search(text)
        if match:
            return Migration(folder, env, (where, text.count("\n", 0, match.start()) + 1))
    return None


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
