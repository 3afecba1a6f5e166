"""Every way the project says it is started: the app (`MODULE:ATTR`), the folder it is started from, and what
else is on `sys.path` (`PYTHONPATH`, `--app-dir`, an installed package).

Read from README commands (a `cd X &&` before them counts), Dockerfile `CMD`/`ENTRYPOINT` with its `WORKDIR`,
`COPY` and `ENV PYTHONPATH`, Procfile, docker-compose `command:`/`working_dir:`, `vercel.json`,
`[project.scripts]`, and `uvicorn.run("main:app")` in code (run as `python that_file.py`: its folder is
`sys.path[0]`). Unlike `fixer.verify.entrypoint`, which picks the one app to boot and forgives a command
that only works from another folder, this keeps every start as written, so that each can be checked.
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fixer.config import read_toml
from fixer.discover import Unreadable, discover, read
from fixer.verify.entrypoint import _APP, _UVICORN_RUN, _app_from_command, _commands_in, _doc_files

__all__ = ["StartPoint", "disagreements", "start_points"]


@dataclass(frozen=True)
class StartPoint:
    app: str  # MODULE:ATTR
    run_from: str  # the folder the server starts in, relative to the backend (POSIX; "" = the backend; may be "..")
    pythonpath: tuple[str, ...] = ()  # more sys.path folders, relative to the backend, after run_from
    source: str = ""  # README.md, Dockerfile, Procfile, docker-compose.yml, vercel.json, --entrypoint, ...
    command: str = ""  # the command as written (or what stands for it)
    installed: bool = False  # the project is pip-installed (its packages import from anywhere)
    names_file: str | None = None  # `fastapi run FILE` / a script path the command names (it may not exist)
    where: tuple[str, int] | None = field(default=None, compare=False)  # (file, line) the command is written at

    @property
    def module(self) -> str:
        return self.app.partition(":")[0]

    @property
    def attr(self) -> str:
        return self.app.partition(":")[2] or "app"

    def describe(self) -> str:
        folder = self.run_from or "."
        extra = f", PYTHONPATH={':'.join(self.pythonpath)}" if self.pythonpath else ""
        return f"`{self.command or self.app}` from {folder}/{extra} ({self.source})"


def _rel(backend: Path, target: Path) -> str:
    rel = os.path.relpath(target.resolve(), backend)
    return "" if rel == "." else Path(rel).as_posix()


_CD_LINE = re.compile(r"^\s*(?:\$\s*)?cd\s+([^\s&;|]+)\s*$")


def _read(path: Path) -> str | None:
    try:
        return read(os.fspath(path)).decode("utf-8", errors="replace")
    except Unreadable:
        return None


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _cd(here: Path, target: str) -> Path:
    """Where `cd target` from `here` lands: a README often writes it from the repository root
    (`cd backend/api/src` in backend/api/README.md), so the longest tail of it that exists counts."""
    parts = Path(target).parts
    for start in range(len(parts)):
        candidate = here.joinpath(*parts[start:])
        if candidate.is_dir():
            return candidate.resolve()
    return here


def _module_exists(folder: Path, app: str) -> bool:
    base = folder.joinpath(*app.partition(":")[0].split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _from_command(backend: Path, folder: Path, tokens: list[str], line: str, source: str, where, pythonpath=(),
                  run_dir: Path | None = None, documented: bool = False) -> StartPoint | None:
    app, app_dir, _ = _app_from_command(tokens)
    if app is None:
        return None
    start = run_dir or folder
    before = line.split(tokens[0])[0]
    cd = re.search(r"\bcd\s+([^\s&;]+)\s*(?:&&|;)\s*$", before)
    if cd:
        start = _cd(start, cd.group(1))
    tokens = tokens[: next((i for i, t in enumerate(tokens) if t.startswith("#")), len(tokens))]  # a shell comment
    paths = list(pythonpath)
    if tokens[0] == "fastapi":
        # The file as the command names it, else where the person running it would have to be for it to exist.
        start = next((f for f in (start, folder, backend) if (f / app).is_file()), start)
        file = (start / app).resolve()
        parts = list(Path(app).with_suffix("").parts)
        root_parts, module_parts = parts[:-1], [parts[-1]]
        while root_parts and (start.joinpath(*root_parts) / "__init__.py").is_file():
            module_parts.insert(0, root_parts.pop())
        app_root = start.joinpath(*root_parts) if root_parts else start
        return StartPoint(".".join(module_parts) + ":app", _rel(backend, app_root), tuple(paths), source,
                          " ".join(tokens), names_file=_rel(backend, file), where=where)
    if app_dir:
        paths.insert(0, _rel(backend, start / app_dir))
    elif documented and not _module_exists(start, app):
        # A README's command with its `cd` in another block, or written from the repository root: the folder
        # (of the file, then the backend) where its module is, as the person following it ends up running it.
        start = next((f for f in (folder, backend) if _module_exists(f, app)), start)
    command = " ".join(tokens)
    return StartPoint(app, _rel(backend, start), tuple(paths), source, command, where=where)


def _dockerfile(backend: Path, path: Path, text: str, name: str) -> list[StartPoint]:
    """CMD/ENTRYPOINT with the WORKDIR it runs in, mapped back to the build context through the COPY lines."""
    context = path.parent
    workdir = "/"
    copies: list[tuple[str, str]] = []  # (container path, context path)
    env_path: list[str] = []
    found: list[StartPoint] = []
    joined = re.sub(r"\\\s*\n", " ", text)
    for raw in joined.splitlines():
        line = raw.strip()
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            workdir, copies, env_path = "/", [], []
        elif word == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, rest.strip().strip('"')))
        elif word in ("COPY", "ADD"):
            args = [a for a in _args(rest) if not a.startswith("--")]
            if len(args) >= 2:
                dest = posixpath.normpath(posixpath.join(workdir, args[-1]))
                for src in args[:-1]:
                    src = posixpath.normpath(src)
                    # A folder's contents land in dest (`COPY src/ ./src/`, `COPY . .`); files say nothing of folders.
                    if (context / src).is_dir():
                        copies.append((dest, src))
        elif word == "ENV":
            match = re.search(r"PYTHONPATH[= ]\s*\"?([^\"\s]+)", rest)
            if match:
                env_path = [p for p in match.group(1).split(":") if p and not p.startswith("$")]
        elif word in ("CMD", "ENTRYPOINT"):
            for tokens in _commands_in(rest):
                run_dir = _to_context(context, copies, workdir)
                pythonpath = [_rel(backend, _to_context(context, copies, posixpath.join(workdir, p))) for p in env_path]
                point = _from_command(backend, run_dir, tokens, rest, name, (name, _line_of(text, rest)),
                                      tuple(pythonpath), run_dir)
                if point is not None:
                    found.append(point)
    return found


def _args(rest: str) -> list[str]:
    rest = rest.strip()
    if rest.startswith("["):
        try:
            return [str(a) for a in json.loads(rest)]
        except ValueError:
            pass
    try:
        return shlex.split(rest)
    except ValueError:
        return rest.split()


def _to_context(context: Path, copies: list[tuple[str, str]], container: str) -> Path:
    """The build-context folder a container folder holds (the context itself when no COPY says otherwise)."""
    container = posixpath.normpath(container)
    for dest, src in reversed(copies):
        if container == dest or container.startswith(dest.rstrip("/") + "/"):
            tail = container[len(dest):].lstrip("/")
            return (context / src / tail).resolve()
        if dest.startswith(container.rstrip("/") + "/"):
            # COPY ./app /code/app, WORKDIR /code: /code holds what is around ./app
            below = dest[len(container):].strip("/")
            if src.rstrip("/").endswith(below):
                return (context / src[: len(src.rstrip("/")) - len(below)]).resolve()
    return context.resolve()


def _compose(backend: Path, path: Path, text: str) -> list[StartPoint]:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        yaml = None
    found: list[StartPoint] = []
    services = {}
    if yaml is not None:
        try:
            services = (yaml.safe_load(text) or {}).get("services") or {}
        except Exception:
            services = {}
    for name, service in services.items() if isinstance(services, dict) else ():
        if not isinstance(service, dict) or not service.get("command"):
            continue
        command = service["command"]
        command = " ".join(map(str, command)) if isinstance(command, list) else str(command)
        build = service.get("build")
        context = build.get("context", ".") if isinstance(build, dict) else build
        if not isinstance(context, str):
            continue  # an image built elsewhere (or by another compose file): the folder it runs in is unknown
        run_dir = (path.parent / context).resolve()
        for tokens in _commands_in(command):
            point = _from_command(backend, run_dir, tokens, command, f"{path.name} ({name})",
                                  (path.name, _line_of(text, command.split()[0])), (), run_dir, documented=True)
            if point is not None:
                found.append(point)
    return found


def _vercel(backend: Path, path: Path, text: str) -> list[StartPoint]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    files = [b.get("src") for b in data.get("builds", []) if isinstance(b, dict)]
    found = []
    for file in files:
        if isinstance(file, str) and file.endswith(".py"):
            module = file[:-3].replace("/", ".")
            found.append(StartPoint(f"{module}:app", _rel(backend, path.parent), (), path.name, f"vercel {file}",
                                    names_file=_rel(backend, path.parent / file), where=(path.name, _line_of(text, file))))
    return found


def _scripts(backend: Path) -> list[StartPoint]:
    pyproject = backend / "pyproject.toml"
    text = _read(pyproject) if pyproject.is_file() else None
    if not text:
        return []
    try:
        doc = read_toml(text)
    except Exception:
        return []
    scripts = (doc.get("project") or {}).get("scripts") or (doc.get("tool", {}).get("poetry") or {}).get("scripts") or {}
    found = []
    for name, target in scripts.items():
        if isinstance(target, str) and _APP.match(target.strip()):
            found.append(StartPoint(target.strip(), "", (), "pyproject.toml [project.scripts]", name, installed=True,
                                    where=("pyproject.toml", _line_of(text, name))))
    return found


def _uvicorn_runs(backend: Path, python: Sequence[str] | None) -> list[StartPoint]:
    """`uvicorn.run("module:app")` in the project's Python files (`python`: the run's discovered ones, relative to
    the backend; the tree is discovered here only when the caller has not done it)."""
    found = []
    if python is None:
        python = [rel for rel in discover(backend) if rel.endswith(".py")]
    for path in (backend / rel for rel in python):
        text = _read(path)
        if not text or "uvicorn.run" not in text:
            continue
        for match in _UVICORN_RUN.finditer(text):
            if _APP.match(match.group(1)):
                rel = path.relative_to(backend).as_posix()
                found.append(StartPoint(match.group(1), _rel(backend, path.parent), (), f"uvicorn.run() in {rel}",
                                        f"python {path.name}", where=(rel, _line_of(text, match.group(0)))))
    return found


def start_points(backend_dir: str | os.PathLike[str], entrypoint: str | None = None,
                 run_from: str | None = None, python: Sequence[str] | None = None) -> list[StartPoint]:
    """Every documented start, most authoritative first (a deploy file before a README); with `entrypoint` or
    `run_from` (the CLI's --entrypoint / --run-from), only that one."""
    backend = Path(backend_dir).resolve()
    if entrypoint or run_from:
        documented = start_points(backend, python=python) if not (entrypoint and run_from) else []
        app = entrypoint or (documented[0].app if documented else "main:app")
        folder = _rel(backend, (Path.cwd() / run_from)) if run_from else (documented[0].run_from if documented and not entrypoint else "")
        return [StartPoint(app, folder, (), "--entrypoint/--run-from", app)]
    found: list[StartPoint] = []
    for folder in (backend, backend.parent):
        for name, path in _doc_files(folder):
            text = _read(path)
            if not text:
                continue
            label = name if folder == backend else f"../{name}"
            if name.lower().startswith("dockerfile") or name.lower().endswith(".dockerfile"):
                found += [StartPoint(p.app, p.run_from, p.pythonpath, label, p.command, p.installed, p.names_file, p.where)
                          for p in _dockerfile(backend, path, text, label)]
                continue
            joined = re.sub(r"\\\s*\n", " ", text)
            here = folder  # a `cd X` on a line of its own moves the commands after it, to the end of the block
            for line in joined.splitlines():
                if line.lstrip().startswith("```"):
                    here = folder
                cd = _CD_LINE.match(line)
                if cd:
                    here = _cd(here, cd.group(1))
                    continue
                for tokens in _commands_in(line):
                    point = _from_command(backend, folder, tokens, line, label, (label, _line_of(text, line.strip())),
                                          (), here, documented=True)
                    if point is not None:
                        found.append(point)
        for pattern in ("docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml"):
            for path in sorted(folder.glob(pattern)):
                text = _read(path)
                if text:
                    found += _compose(backend, path, text)
        if (folder / "vercel.json").is_file():
            found += _vercel(backend, folder / "vercel.json", _read(folder / "vercel.json") or "")
    found += _uvicorn_runs(backend, python)
    found += _scripts(backend)
    # Deploy files first: they are what really runs; a README may be out of date.
    rank = {"Dockerfile": 0, "Procfile": 1, "docker-compose": 2, "compose": 2, "vercel": 3}
    found.sort(key=lambda p: next((v for k, v in rank.items() if p.source.lstrip("./").startswith(k)), 5))
    unique: dict[tuple, StartPoint] = {}
    for point in found:
        unique.setdefault((point.app, point.run_from, point.pythonpath), point)
    if _installed(backend):
        return [dataclasses.replace(point, installed=True) for point in unique.values()]
    return list(unique.values())


def _installed(backend: Path) -> bool:
    """The project installs itself (`pip install .`, `uv sync`: a build system and no requirements.txt to install
    from instead): its packages import from any folder."""
    text = _read(backend / "pyproject.toml") if (backend / "pyproject.toml").is_file() else None
    if not text or "[build-system]" not in text:
        return False
    requirements = _read(backend / "requirements.txt") if (backend / "requirements.txt").is_file() else None
    return not (requirements and any(l.strip() and not l.lstrip().startswith("#") for l in requirements.splitlines()))


def disagreements(points: list[StartPoint]) -> str | None:
    """'README.md says `uvicorn main:app` from ./, Dockerfile `uvicorn src.main:app` from ./' when the sources
    start the app differently, else None."""
    if len({(p.app, p.run_from, p.pythonpath) for p in points}) < 2:
        return None
    return "the start commands disagree: " + "; ".join(p.describe() for p in points)
