"""Which files under the root fixer reads: everything git would track, minus environments and build output."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a .gitignore or an exclude pattern is met: most runs on a backend see neither
    import pathspec

# Never project sources, whatever .gitignore says.
SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", ".mypy_cache",
        ".pytest_cache", ".ruff_cache", "build", "dist", "site-packages", ".eggs",
    }
)


# fixer's own temporary files (fixer.write): a staged fix, and an original kept to put back. Never project files.
TEMP_SUFFIXES = (".fixer-tmp", ".fixer-orig")


def _gitignore(lines) -> pathspec.PathSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _is_environment(dirpath: str, name: str) -> bool:
    return name in SKIPPED_DIRS or name.endswith(".egg-info") or os.path.exists(os.path.join(dirpath, name, "pyvenv.cfg"))


def discover(
    root: Path, exclude: Sequence[tuple[Path, str]] = (), unreadable: list[tuple[str, str]] | None = None
) -> Iterator[str]:
    """Yield the files below `root` as POSIX paths relative to it, sorted, honouring every .gitignore on the way
    and `exclude`: (folder, gitignore-style pattern) pairs, the folder being `root` or one above it. A folder
    or .gitignore that cannot be read is added to `unreadable` as (path, why): the first is passed over
    and the second read as empty, but neither silently.

    Symbolic links are not followed: a fix written through one could land outside the root.
    """
    excluded: list[tuple[str, pathspec.PathSpec]] = []  # (root's path relative to the pattern's folder, patterns)
    for base in sorted({folder for folder, _ in exclude}):
        prefix = os.path.relpath(root.resolve(), base.resolve()).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        # As with ruff, a folder named on the command line is fixed even where an exclude pattern covers it:
        # the patterns only prune what lies below it.
        above = [prefix[: i + 1] for i, char in enumerate(prefix) if char == "/"]
        patterns = [
            pattern
            for folder, pattern in exclude
            if folder == base and not any(_gitignore([pattern]).match_file(a) for a in above)
        ]
        excluded.append((prefix, _gitignore(patterns)))
    ignores: list[tuple[str, pathspec.PathSpec]] = []  # (folder relative to root, its .gitignore)

    def unlisted(error: OSError) -> None:
        if unreadable is not None:
            folder = os.path.relpath(error.filename, root).replace(os.sep, "/") + "/"
            unreadable.append((folder, f"cannot list the folder ({error.strerror}); its files are left as they are"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if ".gitignore" in filenames:
            try:
                lines = read(os.path.join(dirpath, ".gitignore")).decode("utf-8", errors="replace").splitlines()
            except Unreadable as error:
                lines = []
                if unreadable is not None:
                    unreadable.append((rel_dir + ".gitignore", f"{error}, so nothing it lists is left out"))
            ignores.append((rel_dir, _gitignore(lines)))

        def ignored(rel: str) -> bool:
            return any(rel.startswith(base) and spec.match_file(rel[len(base) :]) for base, spec in ignores) or any(
                spec.match_file(prefix + rel) for prefix, spec in excluded
            )

        dirnames[:] = sorted(
            name
            for name in dirnames
            if not _is_environment(dirpath, name)
            and not os.path.islink(os.path.join(dirpath, name))
            and not ignored(f"{rel_dir}{name}/")
        )
        for name in sorted(filenames):
            rel = rel_dir + name
            if name.endswith(TEMP_SUFFIXES):  # `.env.123.x1y2z3w4.fixer-tmp` would pass for a .env file
                continue
            if not os.path.islink(os.path.join(dirpath, name)) and not ignored(rel):
                yield rel


class Unreadable(Exception):
    """A discovered file that cannot be read; the message says why, in words."""


def read(path: str) -> bytes:
    """The bytes of a file `discover` yielded, or Unreadable. A FIFO or a device is refused, not waited on:
    opening a FIFO for reading blocks until something writes to it, so the open does not wait (O_NONBLOCK)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise Unreadable(f"cannot read it ({error.strerror})") from None
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Unreadable("cannot read it (not a regular file)")
        try:
            return handle.read()
        except OSError as error:
            raise Unreadable(f"cannot read it ({error.strerror})") from None
