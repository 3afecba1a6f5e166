"""The places a start command is written, each read as its own format: README code (fenced blocks, indented
lines, inline `code`, a line that is a command), Dockerfile `CMD`/`ENTRYPOINT` with `WORKDIR`, `COPY` and
`ENV PYTHONPATH` mapped back to the build context, compose `command:`/`entrypoint:` with `working_dir:`,
`build:`, `volumes:` and `environment:`, Procfile entries, shell scripts those run, `vercel.json`, and
`pyproject.toml` (`[tool.fastapi] entrypoint`, `[project.scripts]`).

Each yields `Written` records: a parsed command (`fixer.model.commands`), the folder its line runs in, and
where it is written. `fixer.model.entrypoints` turns them into start points.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fixer.discover.files import Unreadable, read
from fixer.model.commands import Command, commands_in, run_line, run_script

__all__ = ["Written", "is_start_file", "read_start_file", "read_text"]

_README = re.compile(r"^readme[\w.-]*$", re.I)
_DOCKERFILE = re.compile(r"^(?:dockerfile[\w.-]*|[\w.-]+\.dockerfile|containerfile)$", re.I)
_COMPOSE = re.compile(r"^(?:docker-)?compose[\w.-]*\.ya?ml$", re.I)
# Shell code blocks of a README (```bash, ```console, or none); a ```python block runs nothing.
_SHELL_FENCES = frozenset({"", "bash", "sh", "shell", "console", "zsh", "terminal", "cmd", "powershell", "ps1",
                           "text", "txt", "dockerfile", "bat", "shell-session", "shellsession"})
_COMMAND_WORDS = re.compile(r"^(?:uvicorn|gunicorn|hypercorn|fastapi|python3?(?:\.\d+)?|cd|poetry|uv|pipenv|pdm|"
                            r"exec|[A-Z_]+=\S*)(?:\s|$)")
_PROMPT = re.compile(r"^\s*(?:[$>#%]|PS\s?[^>]*>|\(\.?venv\)\s*\$?)\s+")


@dataclass(frozen=True)
class Written:
    command: Command
    folder: Path  # where the line runs, before its own `cd` steps
    source: str  # the file, relative to the backend ("../README.md"), with the compose service
    kind: str  # dockerfile, procfile, compose, vercel, pyproject, readme, script
    where: tuple[str, int]  # (file relative to the backend, line)
    pythonpath: tuple[Path, ...] = ()  # folders the file itself puts on sys.path (Dockerfile/compose PYTHONPATH)


def read_text(path: Path) -> str | None:
    try:
        return read(os.fspath(path)).decode("utf-8", errors="replace")
    except (Unreadable, OSError):
        return None


def is_start_file(name: str) -> bool:
    return bool(_README.match(name) or _DOCKERFILE.match(name) or _COMPOSE.match(name)) or name in (
        "Procfile", "vercel.json", "pyproject.toml")


def read_start_file(path: Path, label: str, where_name: str) -> list[Written]:
    """Every server command `path` writes (`label`: how the source is named; `where_name`: the file relative to
    the backend, for `where`)."""
    text = read_text(path)
    if not text:
        return []
    name = path.name
    if _DOCKERFILE.match(name):
        return list(_dockerfile(path, text, label, where_name))
    if _COMPOSE.match(name):
        return list(_compose(path, text, label, where_name))
    if name == "Procfile":
        return list(_procfile(path, text, label, where_name))
    if name == "vercel.json":
        return list(_vercel(path, text, label, where_name))
    if name == "pyproject.toml":
        return list(_pyproject(path, text, label, where_name))
    return list(_readme(path, text, label, where_name))


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, logical line): backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        out.append((start, pending + raw))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def _readme(path: Path, text: str, label: str, where_name: str) -> Iterator[Written]:
    """A person follows a README top to bottom: a `cd X` line moves every command after it."""
    cds: list[str] = []
    env: dict[str, str] = {}
    fence: str | None = None  # the open code block's language, None outside one
    for number, line in _lines(text):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = None if fence is not None else stripped.lstrip("`~").strip().split(" ")[0].lower()
            continue
        if fence is not None:
            if fence not in _SHELL_FENCES:
                continue
            pieces = [_PROMPT.sub("", line).strip()]
        else:
            pieces = [span for span in re.findall(r"`([^`]+)`", line)]
            bare = _PROMPT.sub("", re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)).strip()
            if not pieces and _COMMAND_WORDS.match(bare):
                pieces = [bare]
        for piece in pieces:
            # In a code block a `cd` holds for the lines after it, as in a terminal; in prose only `cd X` alone.
            here = cds if fence is not None else list(cds)
            for command in run_line(piece, here, env):
                yield Written(command, path.parent, label, "readme", (where_name, number))
            cds = here if fence is not None else _cds_after(piece, cds)


def _cds_after(line: str, cds: list[str]) -> list[str]:
    """The `cd` steps in force after a line that is only `cd X` (a `cd X && cmd` line moves only its own cmd)."""
    words = line.split()
    if len(words) == 2 and words[0] == "cd":
        return [*cds, words[1]]
    return cds


def _procfile(path: Path, text: str, label: str, where_name: str) -> Iterator[Written]:
    for number, line in _lines(text):
        name, colon, command = line.partition(":")
        if not colon or line.lstrip().startswith("#"):
            continue
        for found in commands_in(command):
            yield Written(found, path.parent, label, "procfile", (where_name, number))


def _instruction_args(rest: str) -> list[str] | None:
    """A Dockerfile exec form (`["uvicorn", "main:app"]`) as a list; None for the shell form."""
    rest = rest.strip()
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            return None
        return [str(v) for v in value] if isinstance(value, list) else None
    return None


def _shell_line(rest: str) -> str:
    args = _instruction_args(rest)
    return shlex.join(args) if args is not None else rest


@dataclass
class _Image:
    """What a Dockerfile's last stage lays out: container folder -> build-context folder, the workdir, env."""

    context: Path
    copies: list[tuple[str, str]]
    workdir: str = "/"
    pythonpath: tuple[str, ...] = ()

    def host(self, container: str) -> Path:
        """The build-context folder a container folder holds (the context itself when no COPY says otherwise)."""
        container = posixpath.normpath(posixpath.join(self.workdir, container))
        for dest, src in reversed(self.copies):
            if container == dest or container.startswith(dest.rstrip("/") + "/"):
                tail = container[len(dest):].lstrip("/")
                return (self.context / src / tail).resolve()
            if dest.startswith(container.rstrip("/") + "/"):
                # COPY ./app /code/app, WORKDIR /code: /code holds what is around ./app
                below = dest[len(container):].strip("/")
                if src.rstrip("/").endswith(below):
                    return (self.context / src[: len(src.rstrip("/")) - len(below)]).resolve()
        return self.context.resolve()


def _context_of(dockerfile: Path, sources: list[str]) -> Path:
    """The build context: the Dockerfile's folder, or the nearest folder above it where what it copies exists
    (`docker/Dockerfile` built from the project's top)."""
    folders = [src for src in sources if src not in (".", "./") and not src.startswith(("/", "$", "http"))]
    for candidate in (dockerfile.parent, *list(dockerfile.parent.parents)[:3]):
        if all((candidate / src).exists() for src in folders):
            return candidate
    return dockerfile.parent


def _read_image(dockerfile: Path, text: str | None = None, context: Path | None = None) -> tuple[_Image, list[tuple[int, str, str]]]:
    """The last stage's layout, and its CMD/ENTRYPOINT lines as (line, instruction, shell line)."""
    text = text if text is not None else read_text(dockerfile) or ""
    steps: list[tuple[int, str, str]] = []
    for number, line in _lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        word, _, rest = stripped.partition(" ")
        steps.append((number, word.upper(), rest.strip()))
    last_from = max((i for i, (_, word, _) in enumerate(steps) if word == "FROM"), default=0)
    stage = steps[last_from:]
    sources = [a for _, word, rest in stage if word in ("COPY", "ADD") and "--from" not in rest
               for a in _copy_args(rest)[:-1]]
    image = _Image(context or _context_of(dockerfile, sources), [])
    runs: list[tuple[int, str, str]] = []
    for number, word, rest in stage:
        if word == "WORKDIR":
            image.workdir = posixpath.normpath(posixpath.join(image.workdir, rest.strip().strip('"')))
        elif word in ("COPY", "ADD") and "--from" not in rest:
            args = _copy_args(rest)
            if len(args) >= 2:
                dest = posixpath.normpath(posixpath.join(image.workdir, args[-1]))
                for src in args[:-1]:
                    # A folder's contents land in dest (`COPY src/ ./src/`, `COPY . .`); files say nothing of folders.
                    if (image.context / src).is_dir():
                        image.copies.append((dest, posixpath.normpath(src)))
        elif word == "ENV":
            value = _env_value(rest, "PYTHONPATH")
            if value is not None:
                image.pythonpath = tuple(p for p in value.split(":") if p and not p.startswith("$"))
        elif word in ("CMD", "ENTRYPOINT"):
            runs.append((number, word, rest))
    return image, runs


def _copy_args(rest: str) -> list[str]:
    args = _instruction_args(rest)
    if args is None:
        try:
            args = shlex.split(rest)
        except ValueError:
            args = rest.split()
    return [a for a in args if not a.startswith("--")]


def _env_value(rest: str, name: str) -> str | None:
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    if words and "=" not in words[0]:  # the legacy `ENV NAME value`
        return " ".join(words[1:]) if words[0] == name else None
    for word in words:
        key, eq, value = word.partition("=")
        if eq and key == name:
            return value
    return None


def _dockerfile(path: Path, text: str, label: str, where_name: str) -> Iterator[Written]:
    image, runs = _read_image(path, text)
    pythonpath = tuple(image.host(p) for p in image.pythonpath)
    run_dir = image.host(".")
    entry = next(((n, rest) for n, word, rest in reversed(runs) if word == "ENTRYPOINT"), None)
    cmd = next(((n, rest) for n, word, rest in reversed(runs) if word == "CMD"), None)
    lines = []
    if entry is not None and cmd is not None and _instruction_args(entry[1]) is not None \
            and _instruction_args(cmd[1]) is not None:
        lines.append((entry[0], _shell_line(entry[1]) + " " + _shell_line(cmd[1])))
    lines += [(item[0], _shell_line(item[1])) for item in (entry, cmd) if item is not None]
    seen: set[Command] = set()
    for number, line in lines:
        for command in _following_scripts(commands_in(line), image):
            if command not in seen:
                seen.add(command)
                yield Written(command, run_dir, label, "dockerfile", (where_name, number), pythonpath)


def _following_scripts(commands: list[Command], image: _Image) -> list[Command]:
    """A script the container runs (`CMD ["./start.sh"]`): the server commands in it, as run from the workdir."""
    out: list[Command] = []
    for command in commands:
        if command.server != "script" or not command.path:
            out.append(command)
            continue
        script = image.host(posixpath.dirname(command.path) or ".") / posixpath.basename(command.path)
        text = read_text(script) if script.is_file() else None
        lines = [line for _, line in _lines(text or "")]
        out += [c for c in run_script(lines, command.cds) if c.server != "script"]
    return out


def _compose(path: Path, text: str, label: str, where_name: str) -> Iterator[Written]:
    from fixer.discover.compose import NotYaml, load

    try:
        document = load(text)
    except NotYaml:
        return
    services = (document.get("services") if isinstance(document, dict) else None) or {}
    if not isinstance(services, dict):
        return
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        context_rel = build.get("context", ".") if isinstance(build, dict) else build
        dockerfile_rel = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        if not isinstance(context_rel, str):
            continue  # an image built elsewhere: the folder it runs in is unknown
        context = (path.parent / context_rel).resolve()
        dockerfile = context / str(dockerfile_rel)
        image = _read_image(dockerfile, context=context)[0] if dockerfile.is_file() else _Image(context, [])
        for volume in service.get("volumes") or []:
            host, _, container = str(volume).partition(":")
            if host.startswith((".", "/")) and container:
                image.copies.append((posixpath.normpath(container.split(":")[0]), os.path.relpath(
                    (path.parent / host).resolve(), context)))
        workdir = service.get("working_dir")
        if isinstance(workdir, str):
            image.workdir = posixpath.normpath(posixpath.join(image.workdir, workdir))
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(str(e).partition("=")[::2] for e in environment)
        pythonpath = image.pythonpath
        if isinstance(environment, dict) and environment.get("PYTHONPATH"):
            pythonpath = tuple(p for p in str(environment["PYTHONPATH"]).split(":") if p and not p.startswith("$"))
        lines = []
        for key in ("entrypoint", "command"):
            value = service.get(key)
            if value:
                lines.append(shlex.join(map(str, value)) if isinstance(value, list) else str(value))
        if len(lines) == 2:
            lines.insert(0, " ".join(lines))
        for line in lines:
            for command in _following_scripts(commands_in(line), image):
                first = line.split()[0] if line.split() else line
                number = next((n for n, l in enumerate(text.splitlines(), 1) if first in l and
                               any(w in l for w in ("command", "entrypoint", "- "))), 1)
                yield Written(command, image.host("."), f"{label} ({name})", "compose", (where_name, number),
                              tuple(image.host(p) for p in pythonpath))


def _vercel(path: Path, text: str, label: str, where_name: str) -> Iterator[Written]:
    try:
        data = json.loads(text)
    except ValueError:
        return
    for build in data.get("builds", []) if isinstance(data, dict) else []:
        file = build.get("src") if isinstance(build, dict) else None
        if isinstance(file, str) and file.endswith(".py"):
            number = next((n for n, l in enumerate(text.splitlines(), 1) if file in l), 1)
            yield Written(Command("vercel", path=file, text=f"vercel {file}"), path.parent, label, "vercel",
                          (where_name, number))


def _pyproject(path: Path, text: str, label: str, where_name: str) -> Iterator[Written]:
    from fixer.discover.config import read_toml

    try:
        doc = read_toml(text)
    except Exception:
        return
    tool = doc.get("tool") or {}
    entry = (tool.get("fastapi") or {}).get("entrypoint") if isinstance(tool.get("fastapi"), dict) else None
    if isinstance(entry, str):
        number = next((n for n, l in enumerate(text.splitlines(), 1) if "entrypoint" in l), 1)
        yield Written(Command("fastapi", app=entry, text=f"fastapi run ({label} [tool.fastapi] entrypoint)"),
                      path.parent, f"{label} [tool.fastapi]", "pyproject", (where_name, number))
