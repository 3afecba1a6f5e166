"""Which files under the root fixer reads: everything git would track, minus environments and build output."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # imported when a .gitignore or an exclude pattern is met: most runs on a backend see neither
    import pathspec

# Never project sources, whatever .gitignore says.
SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", ".mypy_cache",
        ".pytest_cache", ".ruff_cache", "build", "dist", "site-packages", ".eggs",
    }
)


# fixer's own temporary files (fixer.apply.write): a staged fix, and an original kept to put back. Never project files.
TEMP_SUFFIXES = (".fixer-tmp", ".fixer-orig")


def _gitignore(lines) -> pathspec.PathSpec:
    import pathspec

    # A blank line becomes a comment, so that a pattern's index in the spec is its line number less one.
    return pathspec.GitIgnoreSpec.from_lines([line if line.strip() else "#" for line in lines])


def git_top(folder: Path) -> Path | None:
    """The top of the git work tree holding `folder` (where `.git` is, a folder or a worktree's file), or None."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _ignores_above(root: Path, unreadable: list[tuple[str, str]] | None) -> list[_Ignore]:
    """What git reads before `root`'s own .gitignore, weakest first: the global excludes file
    (core.excludesFile), the repository's `info/exclude`, then the .gitignore files of the folders from the
    repository's top down to `root`'s parent. git applies them all to `root` too, so naming a subfolder must
    not bring back what they leave out."""
    resolved = root.resolve()
    top = git_top(resolved)
    if top is None:
        return []
    found = []

    def add(ignore_file: Path, folder: Path) -> None:
        inside = resolved.relative_to(folder).as_posix() + "/"  # root, seen from the file's folder
        inside = "" if inside == "./" else inside
        # As with exclude patterns, a folder named on the command line is read even where a pattern above
        # covers it (a backend inside an ignored folder): those patterns only prune what lies below it.
        on_the_way = [inside[: i + 1] for i, char in enumerate(inside) if char == "/"]
        spec = _spec_of(ignore_file, unreadable, covering=on_the_way)
        found.append(_Ignore("", inside, _shown(ignore_file), spec))

    for repository_wide in (_global_excludes(top), _git_dir(top) / "info" / "exclude"):
        if repository_wide is not None and repository_wide.is_file():
            add(repository_wide, top)
    if top != resolved:
        for folder in reversed(resolved.relative_to(top).parents):  # the top first, down to root's parent
            gitignore = top / folder / ".gitignore"
            if gitignore.is_file():
                add(gitignore, top / folder)
    return found


def _git_dir(top: Path) -> Path:
    """The repository's git folder, where `info/exclude` is: `.git`, or for a worktree (`.git` a file naming
    its own folder) the main repository's, which its `commondir` names."""
    dot_git = top / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        named = dot_git.read_text(encoding="utf-8").partition("gitdir:")[2].strip()
        own = (top / named).resolve()
        common = own / "commondir"
        return (own / common.read_text(encoding="utf-8").strip()).resolve() if common.is_file() else own
    except OSError:
        return dot_git


def _global_excludes(top: Path) -> Path | None:
    """git's core.excludesFile, as git resolves it (its config files, `~` expanded), else its default
    `$XDG_CONFIG_HOME/git/ignore` (`~/.config/git/ignore`)."""
    import subprocess

    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    configs = (_git_dir(top) / "config", Path(os.path.expanduser("~"), ".gitconfig"), Path(config_home, "git", "config"),
               Path("/etc/gitconfig"))
    # Asking git costs a process on every run: only when a config file could set it (or include one that does).
    if any(_mentions(config, (b"excludesfile", b"[include")) for config in configs):
        try:
            done = subprocess.run(["git", "config", "--path", "--get", "core.excludesFile"], cwd=top,
                                  capture_output=True, text=True, timeout=10)
            if done.returncode == 0 and done.stdout.strip():
                return Path(done.stdout.strip())
        except (OSError, subprocess.SubprocessError):  # no git: its default place all the same
            pass
    return Path(config_home, "git", "ignore")


def _mentions(path: Path, words: tuple[bytes, ...]) -> bool:
    try:
        text = path.read_bytes().lower()
    except OSError:
        return False
    return any(word in text for word in words)


class _Ignore(NamedTuple):
    """One .gitignore: it applies to the paths (relative to the root) under `strip`, seen from its folder as
    `add` + the rest of the path."""

    strip: str
    add: str
    shown: str  # where it is, for the person
    spec: pathspec.PathSpec

    def verdict(self, rel: str) -> tuple[bool, int | None] | None:
        """(ignored?, the deciding line) when a pattern of this file matches `rel`, else None."""
        if not rel.startswith(self.strip):
            return None
        seen = self.add + rel[len(self.strip) :]
        check = getattr(self.spec, "check_file", None)  # pathspec >= 0.12.1: which line decides
        if check is None:
            return (True, None) if self.spec.match_file(seen) else None
        result = check(seen)
        return None if result.include is None else (result.include, result.index + 1)


def _shown(path: Path) -> str:
    """`path` as the person would find it from the working folder."""
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive
        return str(path)


def _spec_of(
    path: Path, unreadable: list[tuple[str, str]] | None, rel: str | None = None, covering: Sequence[str] = ()
) -> pathspec.PathSpec:
    """The .gitignore's patterns, less those that cover one of the folders `covering` (each kept as a comment,
    so that a pattern's index stays its line number less one)."""
    try:
        lines = read(str(path)).decode("utf-8", errors="replace").splitlines()
    except Unreadable as error:
        lines = []
        if unreadable is not None:
            unreadable.append((rel or _shown(path), f"{error}, so nothing it lists is left out"))
    if covering:
        lines = ["#" if any(_gitignore([line]).match_file(folder) for folder in covering) else line for line in lines]
    return _gitignore(lines)


def _is_environment(dirpath: str, name: str) -> bool:
    return name in SKIPPED_DIRS or name.endswith(".egg-info") or os.path.exists(os.path.join(dirpath, name, "pyvenv.cfg"))


def discover(
    root: Path,
    exclude: Sequence[tuple[Path, str]] = (),
    unreadable: list[tuple[str, str]] | None = None,
    ignored: list[tuple[str, str]] | None = None,
    keep: Sequence[str] = (),
) -> Iterator[str]:
    """Yield the files below `root` as POSIX paths relative to it, sorted, honouring every .gitignore from the
    repository's top down (as git does: a deeper file's pattern wins) and `exclude`: (folder, gitignore-style
    pattern) pairs, the folder being `root` or one above it. A folder or .gitignore that cannot be read is
    added to `unreadable` as (path, why): the first is passed over and the second read as empty, but neither
    silently. A file a .gitignore leaves out (not a whole folder) is added to `ignored` as (path, which line:
    `.gitignore:3`). The folders in `keep` (relative to root, ending in "/": named on the command line) are
    walked even where a pattern covers them.

    Symbolic links are not followed: a fix written through one could land outside the root.
    """
    # As with ruff, a folder named on the command line (the root, or one in `keep`) is fixed even where an
    # exclude pattern covers it: the patterns only prune what lies below it.
    patterns_by_base: dict[Path, list[str]] = {}
    for folder, pattern in exclude:
        patterns_by_base.setdefault(folder, []).append(pattern)
    prefixes = {}  # the root's path relative to each pattern folder
    for base in patterns_by_base:
        prefix = os.path.relpath(root.resolve(), base.resolve()).replace(os.sep, "/")
        prefixes[base] = "" if prefix == "." else prefix + "/"
    specs: dict[str, list[tuple[str, pathspec.PathSpec]]] = {}

    def excluded_under(named: str) -> list[tuple[str, pathspec.PathSpec]]:
        """(prefix, the patterns that do not cover `named` or a folder above it) per pattern folder."""
        if named not in specs:
            specs[named] = []
            for base, patterns in sorted(patterns_by_base.items()):
                path = prefixes[base] + named
                above = [path[: i + 1] for i, char in enumerate(path) if char == "/"]
                kept = [p for p in patterns if not any(_gitignore([p]).match_file(a) for a in above)]
                specs[named].append((prefixes[base], _gitignore(kept)))
        return specs[named]

    named_folders = sorted({"", *keep}, key=len, reverse=True)  # the deepest first

    def excluded_by_config(rel: str) -> bool:
        named = next(folder for folder in named_folders if rel.startswith(folder))
        return any(spec.match_file(prefix + rel) for prefix, spec in excluded_under(named))

    ignores = _ignores_above(root, unreadable)  # shallowest first; a .gitignore met below is appended

    def unlisted(error: OSError) -> None:
        if unreadable is not None:
            folder = os.path.relpath(error.filename, root).replace(os.sep, "/") + "/"
            unreadable.append((folder, f"cannot list the folder ({error.strerror}); its files are left as they are"))

    def gitignored(rel: str) -> str | None:
        """Which .gitignore line leaves `rel` out, or None."""
        for ignore in reversed(ignores):  # the deepest .gitignore that has a say decides
            verdict = ignore.verdict(rel)
            if verdict is not None:
                left_out, line = verdict
                return (f"{ignore.shown}:{line}" if line else ignore.shown) if left_out else None
        return None

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if ".gitignore" in filenames:
            spec = _spec_of(Path(dirpath, ".gitignore"), unreadable, rel_dir + ".gitignore")
            ignores.append(_Ignore(rel_dir, "", _shown(Path(dirpath, ".gitignore")), spec))

        def pruned(name: str) -> bool:
            rel = f"{rel_dir}{name}/"
            if _is_environment(dirpath, name) or os.path.islink(os.path.join(dirpath, name)):
                return True
            if any(folder.startswith(rel) for folder in keep):
                return False
            return gitignored(rel) is not None or excluded_by_config(rel)

        dirnames[:] = sorted(name for name in dirnames if not pruned(name))
        for name in sorted(filenames):
            rel = rel_dir + name
            if name.endswith(TEMP_SUFFIXES):  # `.env.123.x1y2z3w4.fixer-tmp` would pass for a .env file
                continue
            if os.path.islink(os.path.join(dirpath, name)) or excluded_by_config(rel):
                continue
            why = gitignored(rel)
            if why is None:
                yield rel
            elif ignored is not None:
                ignored.append((rel, why))


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
