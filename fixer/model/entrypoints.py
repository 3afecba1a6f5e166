"""Every way the project says it is started: the app (`MODULE:ATTR`), the folder it is started from, and what
else is on `sys.path` (`PYTHONPATH`, `--app-dir`, an installed package).

The commands are read where they are written (`fixer.model.startfiles`: README, Dockerfile, compose,
Procfile, shell scripts, vercel.json, pyproject.toml), in the backend folder, its subfolders and the folders
above it up to the repository's top, and parsed as a shell runs them (`fixer.model.commands`); then resolved
here against the tree: `fastapi run PATH` as fastapi-cli imports a file or a package folder, `python FILE`
and `python -m MODULE` by the `uvicorn.run(...)` the code really calls (found with `ast`, never in a comment
or a docstring). A `uvicorn.run()` in the code is a start too, and where nothing documents one the start is
inferred from the module that builds the app, from the folder that makes its imports resolve.

This module owns start parsing: `fixer verify` picks the one app it boots from these start points.
"""

from __future__ import annotations

import ast
import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fixer.discover.files import discover, git_top
from fixer.model.apps import inferred_app, module_file
from fixer.model.commands import Command, is_app
from fixer.model.sources import Sources
from fixer.model.startfiles import Written, is_start_file, read_start_file, read_text

__all__ = ["StartPoint", "app_attribute", "disagreements", "dotted", "mentions_start", "module_file", "start_points"]

# Deploy files first: they are what really runs; a README may be out of date.
_RANK = {"dockerfile": 0, "procfile": 1, "compose": 2, "vercel": 3, "pyproject": 4, "readme": 5, "code": 6,
         "scripts": 7, "inferred": 8}
# Where fastapi-cli looks when `fastapi run` names no path.
_FASTAPI_DEFAULTS = ("main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py")
_NOT_APP_PARTS = frozenset({"tests", "test", "alembic", "migrations", "scripts", "docs", "examples"})


@dataclass(frozen=True)
class StartPoint:
    app: str  # MODULE:ATTR
    run_from: str  # the folder the server starts in, relative to the backend (POSIX; "" = the backend; may be "..")
    pythonpath: tuple[str, ...] = ()  # more sys.path folders, relative to the backend, after run_from
    source: str = ""  # README.md, Dockerfile, Procfile, docker-compose.yml (web), ../README.md, uvicorn.run() in X
    command: str = ""  # the command as written (or what stands for it)
    installed: bool = False  # the project is pip-installed (its packages import from anywhere)
    names_file: str | None = None  # `fastapi run FILE` / a script path the command names (it may not exist)
    where: tuple[str, int] | None = field(default=None, compare=False)  # (file, line) the command is written at
    factory: bool = field(default=False, compare=False)  # `uvicorn --factory`: ATTR is called for the app

    @property
    def module(self) -> str:
        return self.app.partition(":")[0]

    @property
    def attr(self) -> str:
        return self.app.partition(":")[2] or "app"

    @property
    def in_code(self) -> bool:
        """Read from the code, not from a file that documents the start (a `uvicorn.run()`, an inferred app)."""
        return self.source.startswith(("uvicorn.run()", "inferred"))

    def describe(self) -> str:
        folder = self.run_from or "."
        extra = f", PYTHONPATH={':'.join(self.pythonpath)}" if self.pythonpath else ""
        return f"`{self.command or self.app}` from {folder}/{extra} ({self.source})"


def _rel(backend: Path, target: Path) -> str:
    rel = os.path.relpath(target.resolve(), backend)
    return "" if rel == "." else Path(rel).as_posix()


def _cd(here: Path, target: str) -> Path:
    """Where `cd target` from `here` lands: a README often writes it from the repository root
    (`cd backend/api/src` in backend/api/README.md), so the longest tail of it that exists counts."""
    if target in ("..", "../"):
        return here.parent
    parts = [p for p in Path(target).parts if p not in ("/", "~")]  # `cd /app/src` in a container: its tail here
    for start in range(len(parts)):
        candidate = here.joinpath(*parts[start:])
        if candidate.is_dir():
            return candidate.resolve()
    return here


def app_attribute(file: Path) -> str:
    """The attribute fastapi-cli serves from a module: `app`, else `api`, else the first name bound to
    `FastAPI(...)` (or to a call of a function of the module, a factory)."""
    tree = _parse(file)
    if tree is None:
        return "app"
    bound: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound += [t.id for t in targets if isinstance(t, ast.Name)]
    for name in ("app", "api", *bound):
        if name in bound:
            return name
    return "app"


def _parse(file: Path, needs: str | None = None) -> ast.Module | None:
    """The file's tree; None when it cannot be read or parsed, or when its text lacks `needs` (a name every
    node the caller looks for spells: a README's `python some_tool.py` is then read, never parsed)."""
    text = read_text(file) if file.is_file() else None
    if text is None or (needs is not None and needs not in text):
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def mentions_start(data: bytes) -> bool:
    """The byte-level check before any start analysis reads a Python file: a `uvicorn.run()` or an app built
    (`FastAPI(...)`, a `create_app()` factory) needs one of these names in the file."""
    return b"uvicorn" in data or b"FastAPI" in data or b"create_app" in data


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of names and attributes (what `ast.unparse` gives them), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def uvicorn_runs(tree: ast.Module) -> list[tuple[ast.Call, str | None, str | None, str | None]]:
    """Each `uvicorn.run(...)` call in the code (`from uvicorn import run` too): (call, "MODULE:ATTR" when the
    app is a string or a variable given one string, the variable name when it is an object, app_dir=)."""
    names = {"uvicorn.run"}
    calls = []
    strings: dict[str, set[str]] = {}  # variable -> the string constants assigned to it anywhere in the module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "uvicorn":
            names |= {a.asname or a.name for a in node.names if a.name == "run"}
        elif isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    strings.setdefault(target.id, set()).add(node.value.value)
    found = []
    for node in calls:
        if dotted(node.func) not in names:
            continue
        target = next((k.value for k in node.keywords if k.arg == "app"), node.args[0] if node.args else None)
        app_dir = next((k.value.value for k in node.keywords if k.arg == "app_dir" and isinstance(k.value, ast.Constant)
                        and isinstance(k.value.value, str)), None)
        if isinstance(target, ast.Name) and len(strings.get(target.id, ())) == 1:
            # `app_name = "src.main.app.server:app"; uvicorn.run(app=app_name)`: the string it names, not an object.
            target = ast.Constant(next(iter(strings[target.id])))
        if isinstance(target, ast.Constant) and isinstance(target.value, str) and is_app(target.value):
            found.append((node, target.value, None, app_dir))
        elif isinstance(target, ast.Name):
            found.append((node, None, target.id, app_dir))
    return found


# ---------------------------------------------------------------------------------------------------------
# A written command, resolved against the tree.


def _resolve(backend: Path, written: Written) -> StartPoint | None:
    command = written.command
    folder = written.folder
    for step in command.cds:
        folder = _cd(folder, step)
    pythonpath = [*written.pythonpath, *(folder / p for p in command.pythonpath)]
    names_file = None
    factory = command.factory
    text = command.text
    if command.server in ("uvicorn", "gunicorn", "hypercorn"):
        app = command.app
        if command.app_dir and command.server == "gunicorn":
            folder = (folder / command.app_dir).resolve()  # --chdir: the folder it runs in
        elif command.app_dir:
            pythonpath.insert(0, (folder / command.app_dir).resolve())
        if written.kind in ("readme", "compose") and module_file([folder, *pythonpath], app.partition(":")[0]) is None:
            # A README's command with its `cd` in another block, or written from the repository root: the folder
            # (of the file, then the backend) where its module is, as the person following it ends up running it.
            folder = next((f for f in (written.folder, backend) if module_file([f], app.partition(":")[0])), folder)
    elif command.server == "fastapi":
        resolved = _fastapi(backend, folder, command, written)
        if resolved is None:
            return None
        app, folder, names_file = resolved
    elif command.server in ("python", "vercel"):
        resolved = _script(folder, command)
        if resolved is None:
            return None
        app, folder, file, app_dir = resolved
        names_file = _rel(backend, file)
        if app_dir:
            pythonpath.insert(0, (folder / app_dir).resolve())
    else:
        return None
    return StartPoint(app, _rel(backend, folder), tuple(_rel(backend, p) for p in pythonpath), written.source, text,
                      names_file=names_file, where=written.where, factory=factory)


def _fastapi(backend: Path, folder: Path, command: Command, written: Written) -> tuple[str, Path, str | None] | None:
    """`fastapi run|dev [PATH]` as fastapi-cli imports it: the file (or package folder) by the name it has
    under the topmost folder without an `__init__.py`, which goes first on sys.path."""
    if command.app:  # [tool.fastapi] entrypoint, `--entrypoint MODULE:ATTR`: imported from where it runs
        return command.app, folder, None
    if command.path:
        # The path as the command names it, else where the person running it would have to be for it to exist.
        base = next((f for f in (folder, written.folder, backend) if (f / command.path).exists()), folder)
        target = (base / command.path).resolve()
    else:
        entry = _pyproject_entry(folder)
        if entry is not None:
            return entry, folder, None
        target = next(((folder / d).resolve() for d in _FASTAPI_DEFAULTS if (folder / d).is_file()), None)
        if target is None:
            return None
    module_path = target.parent if target.name == "__init__.py" else target
    parts = [module_path.stem if module_path.suffix == ".py" else module_path.name]
    root = module_path.parent
    while (root / "__init__.py").is_file():
        parts.insert(0, root.name)
        root = root.parent
    file = module_path / "__init__.py" if module_path.is_dir() else module_path
    attr = command.attr or app_attribute(file)
    return ".".join(parts) + ":" + attr, root, _rel(backend, target)


def _pyproject_entry(folder: Path) -> str | None:
    for candidate in (folder, *folder.parents[:2]):
        pyproject = candidate / "pyproject.toml"
        text = read_text(pyproject) if pyproject.is_file() else None
        if text and "[tool.fastapi]" in text:
            from fixer.discover.config import read_toml

            try:
                entry = (read_toml(text).get("tool") or {}).get("fastapi", {}).get("entrypoint")
            except Exception:
                return None
            return entry if isinstance(entry, str) and is_app(entry) else None
    return None


def _script(folder: Path, command: Command) -> tuple[str, Path, Path, str | None] | None:
    """`python FILE` / `python -m MODULE` / a vercel build: the app the file serves. A script that calls
    `uvicorn.run("MODULE:ATTR")` starts that module from the script's folder (sys.path[0]); `uvicorn.run(app)`
    serves the script's own `app`."""
    if command.module:
        file = module_file([folder], command.module)
        if file is None:
            package = folder.joinpath(*command.module.split(".")) / "__main__.py"
            file = package if package.is_file() else None
        if file is None:
            return None
        own, search = command.module, folder
    else:
        file = (folder / (command.path or "")).resolve()
        if not file.is_file():
            return None
        own, search = file.stem, file.parent
    if command.server == "vercel":
        # Vercel's Python runtime imports the file by its path from the project folder, and serves its `app`.
        module = ".".join(file.relative_to(folder).with_suffix("").parts)
        return f"{module}:{app_attribute(file)}", folder, file, None
    tree = _parse(file, "uvicorn")
    for _, app, name, app_dir in uvicorn_runs(tree) if tree is not None else []:
        return app or f"{own}:{name}", search, file, app_dir
    return None


# ---------------------------------------------------------------------------------------------------------
# Where the commands are written.


def documents(backend: Path, paths: Sequence[str]) -> list[tuple[Path, str, str, int]]:
    """(file, label, where name, distance): the backend's own files (subfolders' deploy files too), then the
    files of each folder above it up to the repository's top."""
    found: list[tuple[Path, str, str, int]] = []
    for rel in paths:
        name = rel.rpartition("/")[2]
        if not is_start_file(name) or ("/" in rel and (name.lower().startswith("readme") or name == "pyproject.toml")):
            continue
        if set(rel.split("/")[:-1]) & _NOT_APP_PARTS:
            continue
        found.append((backend / rel, rel, rel, rel.count("/")))
    top = git_top(backend)
    above = list(backend.parents)
    above = above[: above.index(top) + 1] if top is not None and top in above else above[:1]
    for depth, folder in enumerate(above[:3], start=1):
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.is_file() and is_start_file(path.name) and path.name != "pyproject.toml":
                label = "../" * depth + path.name
                found.append((path, label, label, depth))
    return found


def _inside(backend: Path, point: StartPoint) -> bool:
    """The start's module is a file of the backend (a command written above it may be another backend's)."""
    folders = [(backend / point.run_from).resolve(), *((backend / p).resolve() for p in point.pythonpath)]
    file = module_file(folders, point.module)
    return file is not None and file.resolve().is_relative_to(backend)


def _from_code(backend: Path, python: Sequence[str], sources: Sources) -> list[tuple[StartPoint, str]]:
    """`uvicorn.run(...)` in code that runs (the module's body, `if __name__ == "__main__":`, a function)."""
    found = []
    for rel in python:
        if set(rel.split("/")[:-1]) & {"tests", "test"}:
            continue
        path = backend / rel
        text = sources.text(rel)
        tree = sources.tree(rel, text) if text and "uvicorn" in text else None
        for call, app, name, app_dir in uvicorn_runs(tree) if tree is not None else []:
            folder = path.parent
            if app is None:
                app = f"{Path(rel).stem}:{name}"
            elif not app_dir:
                # Nothing says how the file is run: from the folder its app string imports from (`python -m
                # backend.main` from src/ for `uvicorn.run("backend.main:app")` in src/backend/main.py).
                folder = next((f for f in (folder, *folder.parents) if f.is_relative_to(backend.parent)
                               and module_file([f], app.partition(":")[0])), folder)
            pythonpath = (_rel(backend, path.parent / app_dir),) if app_dir else ()
            found.append((StartPoint(app, _rel(backend, folder), pythonpath, f"uvicorn.run() in {rel}",
                                     f"python {path.name}" if folder == path.parent else
                                     f"python -m {'.'.join(path.relative_to(folder).with_suffix('').parts)}",
                                     where=(rel, call.lineno)), "code"))
    return found


def _scripts(backend: Path) -> list[tuple[StartPoint, str]]:
    text = read_text(backend / "pyproject.toml") if (backend / "pyproject.toml").is_file() else None
    if not text:
        return []
    from fixer.discover.config import read_toml

    try:
        doc = read_toml(text)
    except Exception:
        return []
    scripts = (doc.get("project") or {}).get("scripts") or (doc.get("tool", {}).get("poetry") or {}).get("scripts") or {}
    return [(StartPoint(target.strip(), "", (), "pyproject.toml [project.scripts]", name, installed=True,
                        where=("pyproject.toml", next((n for n, l in enumerate(text.splitlines(), 1) if name in l), 1))),
             "scripts")
            for name, target in scripts.items()
            if isinstance(target, str) and is_app(target.strip()) and _may_serve(backend, target.strip())]


def _may_serve(backend: Path, target: str) -> bool:
    """A script may start the server unless its module is a file of the backend that neither runs a server nor
    builds an app: a command-line tool (`appcli = "app.cli.main:cli"` creating users) is no start, and what it
    meets is not what the server meets."""
    file = module_file(installed_roots(backend), target.partition(":")[0])
    if file is None:
        return True
    try:
        return mentions_start(file.read_bytes())
    except OSError:
        return True


def start_points(backend_dir: str | os.PathLike[str], entrypoint: str | None = None,
                 run_from: str | None = None, paths: Sequence[str] | None = None,
                 sources: Sources | None = None) -> list[StartPoint]:
    """Every start of the backend, most authoritative first (a deploy file before a README, a documented start
    before one read from the code, an inferred one last); with `entrypoint` or `run_from` (the CLI's
    --entrypoint / --run-from), only that one. `paths`: the run's discovered files, relative to the backend;
    `sources`: the run's, holding (at least) every Python file `mentions_start` picks: no other is read."""
    backend = Path(backend_dir).resolve()
    if paths is None:
        paths = list(discover(backend))
    if entrypoint or run_from:
        documented = start_points(backend, paths=paths, sources=sources) if not (entrypoint and run_from) else []
        app = entrypoint or (documented[0].app if documented else "main:app")
        folder = _rel(backend, (Path.cwd() / run_from)) if run_from else (documented[0].run_from if documented and not entrypoint else "")
        return [StartPoint(app, folder, (), "--entrypoint/--run-from", app)]
    found: list[tuple[tuple[int, int], StartPoint]] = []
    for path, label, where_name, distance in documents(backend, paths):
        for written in read_start_file(path, label, where_name):
            point = _resolve(backend, written)
            if point is None or ("/" in label and not _inside(backend, point)):
                continue  # a subfolder's or a parent's command for another program
            found.append(((_RANK[written.kind], distance), point))
    python = [p for p in paths if p.endswith(".py") and (sources is None or sources.holds(p))]
    sources = sources or Sources(lambda rel: read_text(backend / rel))
    found += [((_RANK[kind], 0), point) for point, kind in _from_code(backend, python, sources) + _scripts(backend)]
    inferred = inferred_app(backend, python, sources) if not found else None
    if inferred is not None:
        app, root, rel, line = inferred
        found.append(((_RANK["inferred"], 0), StartPoint(app, _rel(backend, root), (), f"inferred: {rel} builds the app",
                                                         f"uvicorn {app}", where=(rel, line))))
    found.sort(key=lambda item: item[0])
    unique: dict[tuple, StartPoint] = {}
    for _, point in found:
        unique.setdefault((point.app, point.run_from, point.pythonpath), point)
    if _installed(backend):
        return [dataclasses.replace(point, installed=True) for point in unique.values()]
    return list(unique.values())


def _installed(backend: Path) -> bool:
    """The project installs itself (`pip install .`, `uv sync`: a build system and no requirements.txt to install
    from instead): its packages import from any folder."""
    text = read_text(backend / "pyproject.toml") if (backend / "pyproject.toml").is_file() else None
    if not text or "[build-system]" not in text:
        return False
    requirements = read_text(backend / "requirements.txt") if (backend / "requirements.txt").is_file() else None
    return not (requirements and any(l.strip() and not l.lstrip().startswith("#") for l in requirements.splitlines()))


def installed_roots(backend: Path) -> list[Path]:
    """The folders an installed project's packages import from: the ones its setuptools configuration names
    (`[tool.setuptools.packages.find] where`, `package-dir`'s root), else the backend and its `src/` (the
    layouts build backends find by themselves). `where = ["."]` with `include = ["src*"]` installs `src` as a
    package: `src/agents/` is then `src.agents`, not a top-level `agents` shadowing a library."""
    text = read_text(backend / "pyproject.toml") if (backend / "pyproject.toml").is_file() else None
    if text and "setuptools" in text:
        from fixer.discover.config import read_toml

        try:
            setuptools = read_toml(text).get("tool", {}).get("setuptools", {})
        except Exception:
            setuptools = {}
        find = (setuptools.get("packages") or {}).get("find") if isinstance(setuptools.get("packages"), dict) else None
        where = find.get("where") if isinstance(find, dict) else None
        root = (setuptools.get("package-dir") or {}).get("") if isinstance(setuptools.get("package-dir"), dict) else None
        folders = where if isinstance(where, list) else [root] if isinstance(root, str) else None
        if folders and all(isinstance(f, str) for f in folders):
            return [(backend / f).resolve() for f in folders]
    return [backend, backend / "src"]


def disagreements(points: list[StartPoint]) -> str | None:
    """'README.md says `uvicorn main:app` from ./, Dockerfile `uvicorn src.main:app` from ./' when the documented
    sources start the app differently, else None. A `uvicorn.run()` in the code (an `if __name__ == "__main__":`
    block) is another way to run the app, not a conflicting start."""
    documented = [p for p in points if not p.in_code]
    if len({(p.app, p.run_from, p.pythonpath) for p in documented}) < 2:
        return None
    return "the start commands disagree: " + "; ".join(p.describe() for p in documented)
