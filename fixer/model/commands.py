"""Start commands as a shell runs them: one line (a Dockerfile `CMD`, a compose `command:`, a Procfile entry, a
README code line) split with `shlex` into the commands it runs, following `cd`, `&&`, `;`, `bash -c "..."`,
environment prefixes (`PYTHONPATH=src uvicorn ...`, `export PYTHONPATH=...`) and runner prefixes (`exec`,
`poetry run`, `uv run`, ...), down to the server commands in it:

- `uvicorn MODULE:ATTR` (`--app-dir`, `--factory`), `python -m uvicorn ...`, `hypercorn`, `gunicorn -k
  uvicorn.workers.UvicornWorker MODULE:ATTR` (`--chdir`, `--pythonpath`);
- `fastapi run|dev [PATH]` (a file, or a package folder; none: `[tool.fastapi] entrypoint`, else the files
  fastapi-cli looks for), `--app NAME`;
- `python FILE.py` and `python -m PACKAGE.MODULE`: a script that starts the server itself (`uvicorn.run(...)`,
  found in the file with `ast` by `fixer.model.entrypoints`).

Nothing here looks at files: `fixer.model.entrypoints` resolves what the commands name against the tree.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

__all__ = ["APP", "Command", "commands_in", "is_app", "run_line", "run_script"]

# MODULE:ATTR, each part an identifier Python accepts (PEP 3131: `app.données:app` too).
APP = re.compile(r"^[^\W\d]\w*(?:\.[^\W\d]\w*)*:[^\W\d]\w*(?:\.[^\W\d]\w*)*$")
_SERVERS = frozenset({"uvicorn", "gunicorn", "hypercorn", "fastapi"})
_PYTHONS = re.compile(r"^python(?:3(?:\.\d+)?)?$")
# Words that run the command after them (with the options and VAR=value words they take before it).
_RUNNERS = frozenset({"exec", "nohup", "time", "env", "sudo", "dumb-init", "tini", "--"})
_TOOL_RUNNERS = frozenset({"poetry", "uv", "pipenv", "pdm", "rye", "hatch", "pixi"})
_SHELLS = frozenset({"sh", "bash", "zsh", "/bin/sh", "/bin/bash", "/usr/bin/env"})
# Every word a line's commands act on (`cd`, `export`, a shell or a `.sh` script, python, a server) spells one of
# these; a line without any, once the quotes and backslashes shlex removes are gone, runs nothing `_segment`
# keeps and is not split at all (a README is mostly such lines).
_ACTIVE = re.compile(r"cd|export|sh|python|uvicorn|gunicorn|hypercorn|fastapi")
# Options of uvicorn/gunicorn/hypercorn/fastapi that take a value (so the value is not taken for the app).
_VALUE_OPTIONS = frozenset({
    "--host", "--port", "--uds", "--fd", "--loop", "--http", "--ws", "--lifespan", "--interface", "--env-file",
    "--log-config", "--log-level", "--root-path", "--limit-concurrency", "--backlog", "--limit-max-requests",
    "--timeout-keep-alive", "--timeout-graceful-shutdown", "--ssl-keyfile", "--ssl-certfile", "--ssl-keyfile-password",
    "--ssl-version", "--ssl-cert-reqs", "--ssl-ca-certs", "--ssl-ciphers", "--header", "--forwarded-allow-ips",
    "--workers", "--reload-dir", "--reload-include", "--reload-exclude", "--reload-delay", "--h11-max-incomplete-event-size",
    "--ws-max-size", "--ws-ping-interval", "--ws-ping-timeout", "--proxy-headers-ips",
    "-b", "--bind", "-w", "-k", "--worker-class", "-c", "--config", "-t", "--timeout", "--log-file",
    "--access-logfile", "--error-logfile", "--name", "-n", "--threads", "--graceful-timeout", "--keep-alive",
    "--max-requests", "--max-requests-jitter", "--worker-connections", "--access-log", "--error-log",
    "--entrypoint", "-e",
})


@dataclass(frozen=True)
class Command:
    """One server start in a command line, as written (paths relative to where the line runs, after `cds`)."""

    server: str  # uvicorn, gunicorn, hypercorn, fastapi, python, script (a shell script the line runs)
    app: str | None = None  # MODULE:ATTR
    path: str | None = None  # `fastapi run PATH` (a file or a folder), `python FILE`, `sh FILE`
    module: str | None = None  # `python -m MODULE` (not a server's own module)
    app_dir: str | None = None  # uvicorn --app-dir, gunicorn --chdir: where the module is found
    pythonpath: tuple[str, ...] = ()  # PYTHONPATH set for it (`PYTHONPATH=src uvicorn ...`, gunicorn --pythonpath)
    cds: tuple[str, ...] = ()  # the `cd` steps run before it, in order
    factory: bool = False
    attr: str | None = None  # `fastapi run --app NAME`
    text: str = ""  # the command's own words, joined


def is_app(value: str) -> bool:
    return bool(APP.match(value))


def _tokens(line: str) -> list[str]:
    """The line's words and operators (`&&`, `;`, `|`, `||`, `&`), quotes removed, comments dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote (a line cut from prose): words as they stand
        return line.replace('"', " ").replace("'", " ").split()


def commands_in(line: str, cds: tuple[str, ...] = (), env: dict[str, str] | None = None) -> list[Command]:
    """The server commands a shell line runs, each with the `cd` steps and PYTHONPATH in force before it.
    `cds`/`env`: what earlier lines of the same script did (`env` is updated in place by `export`)."""
    return run_line(line, list(cds), {} if env is None else env)


def run_script(lines: list[str], cds: tuple[str, ...] = ()) -> list[Command]:
    """The server commands a script runs, line after line: a `cd` or an `export` holds for the lines after it."""
    here, env = list(cds), {}
    found: list[Command] = []
    for line in lines:
        found += run_line(line, here, env)
    return found


def run_line(line: str, here: list[str], env: dict[str, str]) -> list[Command]:
    """One line as a shell runs it, `here` (the `cd` steps so far) and `env` updated in place."""
    found: list[Command] = []
    if not _ACTIVE.search(line.replace("\\", "").replace('"', "").replace("'", "")):
        return found
    segment: list[str] = []
    for token in [*_tokens(line), ";"]:
        if token in (";", "&&", "||", "|", "&", ";;"):
            if segment:
                found += _segment(segment, here, env)
            segment = []
            if token == "|":
                break  # what a pipe feeds is not a start
            continue
        segment.append(token)
    return found


def _segment(words: list[str], here: list[str], env: dict[str, str]) -> list[Command]:
    """One simple command: `cd` moves `here`, `export` sets `env`, the rest may be a server start."""
    local = dict(env)
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        name, _, value = words[0].partition("=")
        local[name] = value
        words = words[1:]
    while words:
        head = words[0]
        if head in _RUNNERS:
            words = words[1:]
            while words and (words[0].startswith("-") or re.match(r"^[A-Za-z_]\w*=", words[0])):
                if "=" in words[0] and not words[0].startswith("-"):
                    name, _, value = words[0].partition("=")
                    local[name] = value
                words = words[1:]
        elif head in _TOOL_RUNNERS and len(words) > 1 and words[1] == "run":
            words = words[2:]
            while words and words[0].startswith("-"):
                words = words[1:]
        else:
            break
    if not words:
        return []
    head, args = words[0], words[1:]
    if head == "cd":
        if args and not args[0].startswith("-"):
            here.append(args[0])
        return []
    if head == "export":
        for arg in args:
            name, eq, value = arg.partition("=")
            if eq:
                env[name] = value
        return []
    if head in _SHELLS or head.rpartition("/")[2] in ("sh", "bash"):
        if head == "/usr/bin/env" and args:
            return _segment(args, here, env)
        if "-c" in args and args.index("-c") + 1 < len(args):
            inner = args[args.index("-c") + 1]
            return commands_in(inner, tuple(here), dict(local))
        script = next((a for a in args if not a.startswith("-")), None)
        return [Command("script", path=script, cds=tuple(here), text=" ".join(words))] if script else []
    if head.endswith(".sh"):
        return [Command("script", path=head, cds=tuple(here), text=" ".join(words))]
    pythonpath = tuple(p for p in local.get("PYTHONPATH", "").split(":") if p and not p.startswith("$"))
    if _PYTHONS.match(head.rpartition("/")[2]):
        return _python(args, here, pythonpath)
    server = head.rpartition("/")[2]
    if server in _SERVERS:
        command = _server(server, args, here, pythonpath)
        return [command] if command is not None else []
    return []


def _python(args: list[str], here: list[str], pythonpath: tuple[str, ...]) -> list[Command]:
    while args and args[0].startswith("-") and args[0] != "-m":
        args = args[1:]
    if not args:
        return []
    if args[0] == "-m" and len(args) > 1:
        module = args[1]
        if module in _SERVERS:
            command = _server(module, args[2:], here, pythonpath)
            return [command] if command is not None else []
        return [Command("python", module=module, pythonpath=pythonpath, cds=tuple(here),
                        text=" ".join(["python", *args]))]
    if args[0].endswith(".py"):
        return [Command("python", path=args[0], pythonpath=pythonpath, cds=tuple(here), text=" ".join(["python", *args]))]
    return []


def _server(server: str, args: list[str], here: list[str], pythonpath: tuple[str, ...]) -> Command | None:
    text = " ".join([server, *args])
    if server == "fastapi":
        if not args or args[0] not in ("run", "dev"):
            return None
        path = attr = app = None
        skip = False
        for i, arg in enumerate(args[1:], start=1):
            if skip:
                skip = False
                continue
            if arg in ("--app", "--entrypoint") and i + 1 < len(args):
                value = args[i + 1]
                if arg == "--app":
                    attr = value
                elif is_app(value):
                    app = value
                skip = True
                continue
            if arg.startswith("-"):
                skip = arg in _VALUE_OPTIONS and "=" not in arg
                continue
            if path is None:
                path = arg
        return Command("fastapi", app=app, path=path, pythonpath=pythonpath, cds=tuple(here), attr=attr, text=text)
    app = app_dir = None
    paths = list(pythonpath)
    factory = False
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        name, eq, value = arg.partition("=")
        if name in ("--app-dir", "--chdir", "--pythonpath"):
            value = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            skip = not eq
            if name == "--pythonpath":
                paths += [p for p in value.split(",") if p]
            else:
                app_dir = value or None
            continue
        if arg == "--factory":
            factory = True
            continue
        if arg.startswith("-"):
            skip = arg in _VALUE_OPTIONS
            continue
        if app is None and is_app(arg.removesuffix("()")):
            app, factory = arg.removesuffix("()"), factory or arg.endswith("()")  # gunicorn 'main:create_app()'
    if app is None:
        return None
    return Command(server, app=app, app_dir=app_dir, pythonpath=tuple(paths), cds=tuple(here), factory=factory,
                   text=text)
