"""What the command line names: any mix of files and folders, or `-` for stdin.

The rules judge a file by the whole project (its requirements, `.env`, entrypoint), so a run covers the
project root found from each path: the nearest folder at or above it that holds a pyproject.toml, a
requirements file or `.git`; but a folder that holds projects below it (a monorepo's top, a folder of
fixtures) is the root itself, and paths in no project share the folder they share. Paths in several projects
make one run per project, each with its own model. Only what was named is reported and changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STDIN = "-"
CONTEXT_KEY = "fixer.targets"  # where the command line keeps the Targets of a run (click's context meta)
_MARKERS = ("pyproject.toml", ".git")


class TargetError(ValueError):
    """The paths cannot be run together (the message says why, for the person)."""


@dataclass(frozen=True)
class Targets:
    root: Path
    files: frozenset[str]  # named files, relative to root, POSIX separators
    folders: tuple[str, ...]  # named folders, relative to root: "" for the root itself, else ending in "/"
    stdin: tuple[str, bytes] | None = None  # (the path it stands for, relative to root; its bytes)
    force_exclude: bool = False  # excludes and .gitignore apply to named files too

    def covers(self, rel: str) -> bool:
        return rel in self.files or any(rel.startswith(folder) for folder in self.folders)


def _holds_projects(folder: Path) -> bool:
    """Whether a project marker sits in `folder`'s subfolders (two levels down) and not in `folder` itself."""
    if _is_project(folder):
        return False
    return any(_is_project(sub) for sub in (*folder.glob("*/"), *folder.glob("*/*/")) if not sub.name.startswith("."))


def projects_below(folder: Path) -> list[Path]:
    """The projects in `folder`'s subfolders (two levels down) when `folder` itself is none."""
    if _is_project(folder):
        return []
    subfolders = (*folder.glob("*/"), *folder.glob("*/*/"))
    return sorted(sub for sub in subfolders if not sub.name.startswith(".") and _is_project(sub))


def _is_project(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in _MARKERS) or any(folder.glob("requirements*.txt"))


def project_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds a pyproject.toml, a requirements file or `.git`."""
    for folder in (start, *start.parents):
        if _is_project(folder):
            return folder
    return start


def resolve(paths: list[str], stdin_filename: str | None = None, force_exclude: bool = False,
            stdin=None) -> list[Targets]:
    """The runs `paths` ask for: one per project root they lie in, in the order they are named. Each project is
    judged by its own model (its own requirements, versions, URLs), as if it had been named alone; a root that
    lies in a folder another run names is part of that run. `stdin` (a binary stream) is read when one of
    the paths is `-`."""
    if not paths:
        paths = [STDIN] if stdin_filename is not None else ["."]
    if STDIN in paths:
        if len(paths) > 1:
            raise TargetError("`-` (read from stdin) cannot be mixed with other paths")
        named = Path(stdin_filename or "stdin.py").absolute()
        if named.is_dir():
            raise TargetError(f"--stdin-filename {stdin_filename} is a folder; name the file the input stands for")
        data = stdin.read() if stdin is not None else b""
        root = project_root(named.parent)
        rel = _relative(named, root)
        return [Targets(root=root, files=frozenset({rel}), folders=(), stdin=(rel, data), force_exclude=force_exclude)]
    absolute = [Path(os.path.abspath(path)) for path in paths]
    for path, shown in zip(absolute, paths):
        if not path.exists():
            raise TargetError(f"{shown} does not exist")
    groups: dict[Path | None, list[Path]] = {}
    for path in absolute:
        groups.setdefault(_own_root(path if path.is_dir() else path.parent), []).append(path)
    # Paths in no project at all share one root: the folder they share, or the project above it.
    loose = groups.pop(None, [])
    if loose:
        groups.setdefault(_common_root(loose), []).extend(loose)
    for root in list(groups):
        home = next((other for other, named in groups.items() if other != root and any(
            folder.is_dir() and root.is_relative_to(folder) for folder in named)), None)
        if home is not None:
            groups[home].extend(groups.pop(root))
    order = sorted(groups, key=lambda root: min(absolute.index(path) for path in groups[root]))
    return [_targets(root, groups[root], force_exclude) for root in order]


def _own_root(folder: Path) -> Path | None:
    """The project `folder` is in: itself when it holds projects below it, else the nearest project folder at or
    above it; None when there is none."""
    if _holds_projects(folder):
        return folder
    found = project_root(folder)
    return found if _is_project(found) else None


def _common_root(absolute: list[Path]) -> Path:
    common = Path(os.path.commonpath([path if path.is_dir() else path.parent for path in absolute]))
    # A folder that holds projects below it (a monorepo's top, a folder of fixtures) is the root itself; any
    # other path belongs to the project above it.
    return common if _holds_projects(common) else project_root(common)


def _targets(root: Path, absolute: list[Path], force_exclude: bool) -> Targets:
    files = frozenset(_relative(path, root) for path in absolute if not path.is_dir())
    folders = tuple(sorted({_folder(path, root) for path in absolute if path.is_dir()}))
    return Targets(root=_shown(root), files=files, folders=folders, force_exclude=force_exclude)


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _folder(path: Path, root: Path) -> str:
    rel = _relative(path, root)
    return "" if rel == "." else rel + "/"


def _shown(root: Path) -> Path:
    """The root as the person would write it: relative to the working folder when inside it."""
    try:
        rel = root.relative_to(Path.cwd())
    except ValueError:
        return root
    return rel if str(rel) != "" else Path(".")
