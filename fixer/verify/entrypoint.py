"""The ASGI app `fixer verify` boots (`MODULE:ATTR` for uvicorn, with the `--app-dir` it needs from the backend
folder), read from the project model's start points (`fixer.model.entrypoints`: README, Dockerfile, compose,
Procfile, `uvicorn.run()` in the code, else the module that builds the app): the first whose module exists
from the backend folder, so an out-of-date command never wins over one that works. Where none does, the first
of `src.main:app`, `app.main:app`, `main:app` whose module exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fixer.model.apps import module_file
from fixer.model.commands import is_app
from fixer.model.entrypoints import StartPoint, start_points

__all__ = ["DEFAULT_CANDIDATES", "Entrypoint", "EntrypointError", "detect_entrypoint", "parse_entrypoint"]

DEFAULT_CANDIDATES = ("src.main:app", "app.main:app", "main:app")


class EntrypointError(ValueError):
    """No app found, or an --entrypoint that is not MODULE:ATTR."""


@dataclass(frozen=True)
class Entrypoint:
    app: str  # MODULE:ATTR
    app_dir: str | None  # uvicorn --app-dir, relative to the backend folder (POSIX); None = the folder itself
    source: str  # where it came from: "--entrypoint", "Procfile", "README.md", "default", ...
    factory: bool = False

    def __str__(self) -> str:
        return self.app


def parse_entrypoint(value: str) -> str:
    value = value.strip()
    if not is_app(value):
        raise EntrypointError(f"--entrypoint must be MODULE:ATTR (e.g. src.main:app), not {value!r}")
    return value


def _app_dir(backend: Path, point: StartPoint) -> str | None | bool:
    """The --app-dir under which the start's module exists (None: the backend folder), False when it exists
    under none of its folders inside the backend."""
    folders = [point.run_from, *point.pythonpath] + (["", "src"] if point.installed else [])
    for rel in folders:
        if rel.startswith(".."):
            continue  # verify starts uvicorn in the backend folder: a start from above it is not this one
        if module_file([(backend / rel).resolve()], point.module) is not None:
            return rel or None
    return False


def detect_entrypoint(backend_dir: str | os.PathLike[str], override: str | None = None) -> Entrypoint:
    """The app to serve for the backend in ``backend_dir`` (see the module doc for the order)."""
    backend = Path(backend_dir).resolve()
    if override:
        app = parse_entrypoint(override)
        # An installed package's module is not found here: fine, uvicorn finds it.
        where = next((rel for rel in ("", "src") if module_file([backend / rel], app.partition(":")[0])), "")
        return Entrypoint(app, where or None, "--entrypoint")
    for point in start_points(backend):
        app_dir = _app_dir(backend, point)
        if app_dir is not False:
            return Entrypoint(point.app, app_dir, point.source, point.factory)
    for app in DEFAULT_CANDIDATES:
        if module_file([backend], app.partition(":")[0]) is not None:
            return Entrypoint(app, None, "default")
    raise EntrypointError(
        f"no app found in {backend}: no uvicorn command in a README, Dockerfile or Procfile, no uvicorn.run(\"...\") "
        f"in the code, and none of {', '.join(DEFAULT_CANDIDATES)} exists; pass --entrypoint MODULE:ATTR"
    )
