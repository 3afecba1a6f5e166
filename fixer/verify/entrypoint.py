"""Find the ASGI app a backend is served as (`MODULE:ATTR` for uvicorn), the way its own docs and deploy files say.

Looked for, in order: a `uvicorn`/`gunicorn`/`hypercorn`/`fastapi run` command in the README, the Dockerfile,
the Procfile (in the backend folder, then its parent: a monorepo often documents `cd backend && uvicorn ...`
at its root), then `uvicorn.run("MODULE:ATTR")` in the backend's code; else the first of `src.main:app`,
`app.main:app`, `main:app` whose module exists. A command's app only counts when its module exists in the
backend folder (or its `--app-dir`, or `src/` for a src layout), so a URL or an unrelated command never wins.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from fixer.discover import Unreadable, read

__all__ = ["DEFAULT_CANDIDATES", "Entrypoint", "EntrypointError", "detect_entrypoint", "parse_entrypoint"]

DEFAULT_CANDIDATES = ("src.main:app", "app.main:app", "main:app")
_APP = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
_SERVERS = ("uvicorn", "gunicorn", "hypercorn")
_SERVER_WORD = re.compile(r"(?<![\w.\-/])(?:python3?\s+-m\s+)?(uvicorn|gunicorn|hypercorn|fastapi)(?![\w.\-])")
_UVICORN_RUN = re.compile(r"""uvicorn\.run\(\s*(?:app\s*=\s*)?["']([^"']+)["']""")
# Options of uvicorn/gunicorn/hypercorn that take a value (so the value is not taken for the app).
_VALUE_OPTIONS = {
    "--host", "--port", "--uds", "--fd", "--loop", "--http", "--ws", "--lifespan", "--interface", "--env-file",
    "--log-config", "--log-level", "--root-path", "--limit-concurrency", "--backlog", "--limit-max-requests",
    "--timeout-keep-alive", "--timeout-graceful-shutdown", "--ssl-keyfile", "--ssl-certfile", "--ssl-keyfile-password",
    "--ssl-version", "--ssl-cert-reqs", "--ssl-ca-certs", "--ssl-ciphers", "--header", "--forwarded-allow-ips",
    "--workers", "--reload-dir", "--reload-include", "--reload-exclude", "--reload-delay", "--h11-max-incomplete-event-size",
    "-b", "--bind", "-w", "-k", "--worker-class", "-c", "--config", "--chdir", "--pythonpath", "-t", "--log-file",
    "--access-logfile", "--error-logfile", "--name", "-n", "--threads", "--graceful-timeout", "--keep-alive",
}
_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", ".cache", ".tox", "build", "dist", "site-packages"}


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
    if not _APP.match(value):
        raise EntrypointError(f"--entrypoint must be MODULE:ATTR (e.g. src.main:app), not {value!r}")
    return value


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _locate(backend: Path, app: str, app_dir: str | None) -> str | bool:
    """The app_dir under which ``app``'s module exists ('' = the backend folder), or False when it does not."""
    module = app.partition(":")[0]
    tried: list[str] = []
    if app_dir:
        tried.append(app_dir)
    tried += ["", "src"]
    for rel in tried:
        root = (backend / rel).resolve() if rel else backend
        if root.is_dir() and _module_file(root, module) is not None:
            return rel
    return False


def _norm_app_dir(backend: Path, command_dir: Path, value: str | None) -> str | None:
    """An --app-dir / --chdir written relative to where the command runs, made relative to the backend."""
    if not value:
        return None
    target = (command_dir / value).resolve()
    try:
        rel = target.relative_to(backend)
    except ValueError:
        return None
    text = rel.as_posix()
    return None if text in ("", ".") else text


def _commands_in(text: str) -> list[list[str]]:
    """Token lists that follow a server word (uvicorn, gunicorn, hypercorn, fastapi) on a line."""
    found: list[list[str]] = []
    # Line continuations in Dockerfiles and shell snippets.
    text = re.sub(r"\\\s*\n", " ", text)
    for line in text.splitlines():
        for match in _SERVER_WORD.finditer(line):
            rest = line[match.end():]
            # Dockerfile exec form: CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]
            rest = re.sub(r'"\s*,\s*"', " ", rest).replace('"]', " ").replace("`", " ")
            rest = rest.split("&&")[0].split(";")[0].split("|")[0]
            try:
                tokens = shlex.split(rest, comments=False, posix=True)
            except ValueError:
                tokens = rest.replace('"', " ").replace("'", " ").split()
            found.append([match.group(1), *tokens])
    return found


def _app_from_command(tokens: list[str]) -> tuple[str | None, str | None, bool]:
    """(app MODULE:ATTR or a `fastapi run` FILE, app dir, factory) from one command's tokens."""
    server, args = tokens[0], tokens[1:]
    app: str | None = None
    app_dir: str | None = None
    factory = False
    if server == "fastapi":
        if not args or args[0] not in ("run", "dev"):
            return None, None, False
        skip = False
        for arg in args[1:]:
            if skip:  # the value of `--workers 4`, `--port 8000`
                skip = False
                continue
            if arg.startswith("-"):
                skip = arg in _VALUE_OPTIONS
                continue
            if arg.endswith(".py"):
                return arg, None, False
            break
        return None, None, False
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in ("--app-dir", "--chdir"):
            app_dir = args[i + 1] if i + 1 < len(args) else None
            skip = True
            continue
        if arg.startswith(("--app-dir=", "--chdir=")):
            app_dir = arg.split("=", 1)[1]
            continue
        if arg == "--factory":
            factory = True
            continue
        if arg in _VALUE_OPTIONS:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        if app is None and _APP.match(arg):
            app = arg
    return app, app_dir, factory


def _fastapi_file_to_app(backend: Path, command_dir: Path, file: str) -> tuple[str, str | None] | None:
    path = (command_dir / file).resolve()
    try:
        rel = path.relative_to(backend)
    except ValueError:
        return None
    if not path.is_file():
        return None
    parts = list(rel.with_suffix("").parts)
    # `fastapi run` imports the file as part of its package: walk up while there is an __init__.py.
    root_parts = parts[:-1]
    module_parts = [parts[-1]]
    while root_parts and (backend.joinpath(*root_parts) / "__init__.py").is_file():
        module_parts.insert(0, root_parts.pop())
    app_dir = "/".join(root_parts) or None
    return ".".join(module_parts) + ":app", app_dir


def _doc_files(folder: Path) -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for pattern in ("README*", "readme*"):
        files += [(p.name, p) for p in sorted(folder.glob(pattern)) if p.is_file()]
    files += [(p.name, p) for p in sorted(folder.glob("Dockerfile*")) if p.is_file()]
    files += [(p.name, p) for p in sorted(folder.glob("*.Dockerfile")) if p.is_file()]
    if (folder / "Procfile").is_file():
        files.append(("Procfile", folder / "Procfile"))
    seen: set[Path] = set()
    unique = []
    for name, path in files:
        if path not in seen:
            seen.add(path)
            unique.append((name, path))
    return unique


def _python_files(backend: Path, limit: int = 2000) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(backend):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".py"):
                found.append(Path(dirpath) / name)
                if len(found) >= limit:
                    return found
    return found


def documented_entrypoint(backend: Path) -> Entrypoint | None:
    """The app a command in the backend's (or its parent's) README, Dockerfile or Procfile serves, if any."""
    folders = [(backend, "")]
    if backend.parent != backend:
        folders.append((backend.parent, "../"))
    for folder, prefix in folders:
        for name, path in _doc_files(folder):
            try:
                text = read(os.fspath(path)).decode("utf-8", errors="replace")
            except Unreadable:
                continue
            for tokens in _commands_in(text):
                app, app_dir, factory = _app_from_command(tokens)
                if app is None:
                    continue
                if tokens[0] == "fastapi":
                    converted = _fastapi_file_to_app(backend, folder, app)
                    if converted is None:
                        # `cd backend && fastapi run main.py` written at the parent: try from the backend too.
                        converted = _fastapi_file_to_app(backend, backend, app)
                    if converted is None:
                        continue
                    app, app_dir = converted
                    found = _locate(backend, app, app_dir)
                    if found is False:
                        continue
                else:
                    rel_dir = _norm_app_dir(backend, folder, app_dir) or _norm_app_dir(backend, backend, app_dir)
                    found = _locate(backend, app, rel_dir)
                    if found is False:
                        continue
                return Entrypoint(app, found or None, prefix + name, factory)
    return None


def detect_entrypoint(backend_dir: str | os.PathLike[str], override: str | None = None) -> Entrypoint:
    """The app to serve for the backend in ``backend_dir`` (see the module doc for the order)."""
    backend = Path(backend_dir).resolve()
    if override:
        app = parse_entrypoint(override)
        where = _locate(backend, app, None)  # an installed package's module is not found here: fine
        return Entrypoint(app, where if isinstance(where, str) and where else None, "--entrypoint")

    documented = documented_entrypoint(backend)
    if documented is not None:
        return documented

    for path in _python_files(backend):
        try:
            text = read(os.fspath(path)).decode("utf-8", errors="replace")
        except Unreadable:
            continue
        for match in _UVICORN_RUN.finditer(text):
            app = match.group(1)
            if not _APP.match(app):
                continue
            found = _locate(backend, app, None)
            if found is False:
                # uvicorn.run("main:app") in src/run.py, run from src/: relative to the file's folder.
                here = path.parent.relative_to(backend).as_posix()
                found = _locate(backend, app, here if here != "." else None)
            if found is not False:
                return Entrypoint(app, found or None, f"uvicorn.run() in {path.relative_to(backend).as_posix()}")

    for app in DEFAULT_CANDIDATES:
        if _module_file(backend, app.partition(":")[0]) is not None:
            return Entrypoint(app, None, "default")
    raise EntrypointError(
        f"no app found in {backend}: no uvicorn command in a README, Dockerfile or Procfile, no uvicorn.run(\"...\") "
        f"in the code, and none of {', '.join(DEFAULT_CANDIDATES)} exists; pass --entrypoint MODULE:ATTR"
    )
