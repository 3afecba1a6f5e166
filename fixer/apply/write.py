"""Writing fixes: all of them or none, in place, only inside the root, keeping mode and owner.

Every new file is first staged beside its target (a temporary file in the same folder, flushed to disk, with
the target's mode and owner); only when all are staged are they renamed over their targets, and a rename is
atomic. A failure while staging removes what was staged: no project file has changed. A failure while
renaming (a file made immutable, a folder remounted read-only) puts back the files already renamed: each
original is kept under a hard link (a copy where the file system has none) until the last rename is done.
"""

from __future__ import annotations

import filecmp
import os
import re
import secrets
import signal
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fixer.discover.files import SKIPPED_DIRS, TEMP_SUFFIXES

STAGED, ORIGINAL = TEMP_SUFFIXES
# `.NAME.PID.RANDOM.fixer-tmp` (or -orig); fixer 0.1 wrote `.NAME.RANDOM.fixer-tmp`, without the writer's process ID.
_TEMP_NAME = re.compile(r"\.(?P<target>.+?)\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}(?P<suffix>\.fixer-(?:tmp|orig))")


class WriteError(Exception):
    """A fix could not be written; the message says which file and why, and what state the project is in."""


def apply_changes(root: Path, changes: Sequence[tuple[str, bytes, bytes]]) -> list[str]:
    """Write each (relative path, bytes fixer read, new bytes), all or none; the paths written, in order.

    A file that already holds its new bytes is left alone; one that holds neither (edited while fixer ran)
    stops the whole write. Raises WriteError, with the project as it was, or saying where an original is
    when even putting it back failed.
    """
    root = root.resolve()
    staged: list[_Staged] = []
    try:
        for rel, old, new in changes:
            target = _target(root, rel)
            with _reason_for(rel):
                current = target.read_bytes()
            if current == new:
                continue
            if current != old:
                raise WriteError(f"{rel} changed since fixer read it")
            staged.append(_stage(rel, target, new))
    except WriteError as error:
        _discard(staged)
        raise WriteError(f"{error}; nothing was changed") from error.__cause__
    except BaseException:
        _discard(staged)
        raise
    _commit(root, staged)
    return [item.rel for item in staged]


def remove_stale_temps(root: Path) -> tuple[list[str], list[str]]:
    """Clear what fixer runs that are no longer running left below `root` (a run killed with SIGKILL cannot
    clean up): (removed, kept), paths relative to `root`. Only names in fixer's own pattern are touched.

    Staged fixes are removed. A kept original is removed when its file holds the same bytes (nothing was
    renamed over it); otherwise it may be the only copy of what the file held (a run killed between two
    renames, or a failed putting back), and it is kept for a person.
    """
    removed, kept = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        # fixer writes only beside the files it fixes: never in an environment or a linked folder.
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            match = _TEMP_NAME.fullmatch(name)
            if not match or _running(match["pid"]):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if match["suffix"] == ORIGINAL and not _same_bytes(path, os.path.join(dirpath, match["target"])):
                kept.append(rel)
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            removed.append(rel)
    return sorted(removed), sorted(kept)


def _same_bytes(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b) or filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def _running(pid: str | None) -> bool:
    if pid is None or int(pid) == os.getpid():
        return pid is not None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@dataclass
class _Staged:
    rel: str
    target: Path
    temp: str  # the new bytes, ready to be renamed over the target
    original: str | None = None  # the target's file under another name, to put back


def _reason(error: BaseException) -> str:
    """An OS error in words ("no space left on device"), without Python's class name or errno."""
    words = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return words[:1].lower() + words[1:]


@contextmanager
def _reason_for(rel: str) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise WriteError(f"could not write {rel}: {_reason(error)}") from error


def _target(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if root not in target.parents or os.path.islink(root / rel):
        raise WriteError(f"refusing to write {rel}: it resolves outside {root}")
    return target


def _stage(rel: str, target: Path, data: bytes) -> _Staged:
    with _reason_for(rel):
        info = target.stat()
        item = _Staged(rel, target, _write_temp(target, data, info))
        try:
            item.original = _keep_original(target, info)
        except BaseException:
            os.unlink(item.temp)
            raise
    return item


def _write_temp(target: Path, data: bytes, info: os.stat_result, suffix: str = STAGED) -> str:
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_owner(temp, info)
        os.chmod(temp, stat.S_IMODE(info.st_mode))  # after chown, which clears the set-user-ID bits
    except BaseException:
        os.unlink(temp)
        raise
    return temp


def _keep_owner(path: str, info: os.stat_result) -> None:
    """Give `path` the target's owner and group, or its group alone, as far as this process may."""
    for uid, gid in ((info.st_uid, info.st_gid), (-1, info.st_gid)):
        try:
            os.chown(path, uid, gid)
            return
        except PermissionError:
            continue


def _keep_original(target: Path, info: os.stat_result) -> str:
    """A second name for the target's file, so that it can be put back whole (inode, owner, times) by a rename."""
    for _ in range(100):
        name = str(target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{ORIGINAL}")
        try:
            os.link(target, name)
            return name
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network and FAT file systems): a copy does
            return _write_temp(target, target.read_bytes(), info, ORIGINAL)
    raise FileExistsError(f"no free temporary name beside {target}")


def _discard(staged: Sequence[_Staged]) -> None:
    for item in staged:
        for path in (item.temp, item.original):
            if path is not None:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C or a SIGTERM between two renames would leave some files fixed and others not: such a signal
    waits until the renames (or the putting back) are done, then acts as usual."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _commit(root: Path, staged: Sequence[_Staged]) -> None:
    done: list[_Staged] = []
    with _signals_held():
        for item in staged:
            try:
                os.replace(item.temp, item.target)
            except OSError as error:
                failure = f"could not write {item.rel}: {_reason(error)}"
                raise WriteError(failure + _put_back(root, done, staged)) from error
            done.append(item)
        _discard(staged)  # the staged files are renamed away by now: this drops the originals
    _sync_folders({item.target.parent for item in staged})


def _put_back(root: Path, done: Sequence[_Staged], staged: Sequence[_Staged]) -> str:
    """Rename the originals of `done` back, drop every other temporary file; the rest of the message."""
    lost = []
    for item in reversed(done):
        try:
            os.replace(item.original, item.target)
        except OSError as error:
            kept = os.path.relpath(item.original, root).replace(os.sep, "/")
            lost.append(f"could not put back {item.rel} ({_reason(error)}): its original is {kept}")
            item.original = None  # kept for the person to restore
    _discard(staged[len(done) :])
    if lost:
        return "; " + "; ".join(lost)
    put_back = f" (put back: {', '.join(item.rel for item in done)})" if done else ""
    return f"; nothing was changed{put_back}"


def _sync_folders(folders: set[Path]) -> None:
    """Make the renames themselves durable; a file system that cannot sync a folder has nothing to sync."""
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
