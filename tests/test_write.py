"""`fixer apply` writes every fix or none: staged beside each target, then renamed in; a failure at any point
leaves the project as it was and says which file and why, in words. Owners survive; stale temps are cleared."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fixer.apply import write
from fixer.apply.write import WriteError, apply_changes
from tests.cli_helpers import ctrl_c_raises
from tests.cli_helpers import fixer, tree

BAD = "from sqlalchemy import AsyncEngine\n"
GOOD = "from sqlalchemy.ext.asyncio import AsyncEngine\n"


def _project(root: Path, big: bool = False) -> dict[str, bytes]:
    """a.py, then b/b.py (in that order, the order fixer writes them): both need a fix."""
    (root / "b").mkdir(parents=True)
    (root / "a.py").write_text(BAD)
    padding = "".join(f"# {'x' * 70}\n" for _ in range(200)) if big else ""  # ~15 KB: four pages and more
    (root / "b" / "b.py").write_text(BAD + padding)
    return tree(root)


def _changes(root: Path) -> list[tuple[str, bytes, bytes]]:
    return [
        (rel, (root / rel).read_bytes(), (root / rel).read_bytes().replace(BAD.encode(), GOOD.encode()))
        for rel in ("a.py", "b/b.py")
    ]


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith((".fixer-tmp", ".fixer-orig"))]


def _can(*command: str) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


ROOT = os.geteuid() == 0
needs_mount_namespace = pytest.mark.skipif(
    not (
        ROOT
        and shutil.which("unshare")
        and _can("unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {tempfile.gettempdir()}")
    ),
    reason="needs root and a private mount namespace (unshare -m) where tmpfs can be mounted",
)


def test_every_file_written_and_no_temp_left(tmp_path: Path) -> None:
    _project(tmp_path)
    assert apply_changes(tmp_path, _changes(tmp_path)) == ["a.py", "b/b.py"]
    assert (tmp_path / "a.py").read_text() == GOOD and (tmp_path / "b" / "b.py").read_text() == GOOD
    assert _temps(tmp_path) == []


def test_a_failed_staging_changes_nothing_and_names_the_file(tmp_path: Path, monkeypatch) -> None:
    before = _project(tmp_path)
    real_fsync = os.fsync
    calls = []

    def fsync(fd: int) -> None:  # the second file's data cannot reach the disk
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(write.os, "fsync", fsync)
    with pytest.raises(WriteError) as caught:
        apply_changes(tmp_path, _changes(tmp_path))
    assert str(caught.value) == "could not write b/b.py: no space left on device; nothing was changed"
    assert tree(tmp_path) == before and _temps(tmp_path) == []


def test_a_rename_failing_midway_puts_back_the_files_already_renamed(tmp_path: Path, monkeypatch) -> None:
    before = _project(tmp_path)
    inode = (tmp_path / "a.py").stat().st_ino
    real_replace = os.replace

    def replace(src, dst) -> None:
        if str(dst).endswith("b.py"):
            raise PermissionError(1, "Operation not permitted")
        real_replace(src, dst)

    monkeypatch.setattr(write.os, "replace", replace)
    with pytest.raises(WriteError) as caught:
        apply_changes(tmp_path, _changes(tmp_path))
    assert str(caught.value) == "could not write b/b.py: operation not permitted; nothing was changed (put back: a.py)"
    assert tree(tmp_path) == before and _temps(tmp_path) == []
    assert (tmp_path / "a.py").stat().st_ino == inode  # the original file itself, not a copy of it


def test_without_hard_links_the_originals_are_copied_and_still_put_back(tmp_path: Path, monkeypatch) -> None:
    before = _project(tmp_path)
    real_replace = os.replace

    def no_link(src, dst) -> None:
        raise OSError(1, "Operation not permitted")

    def replace(src, dst) -> None:
        if str(dst).endswith("b.py"):
            raise OSError(30, "Read-only file system")
        real_replace(src, dst)

    monkeypatch.setattr(write.os, "link", no_link)
    monkeypatch.setattr(write.os, "replace", replace)
    with pytest.raises(WriteError, match="could not write b/b.py: read-only file system; nothing was changed"):
        apply_changes(tmp_path, _changes(tmp_path))
    assert tree(tmp_path) == before and _temps(tmp_path) == []


def test_when_putting_back_fails_the_message_says_where_the_original_is(tmp_path: Path, monkeypatch) -> None:
    _project(tmp_path)
    real_replace = os.replace
    renamed = []

    def replace(src, dst) -> None:
        if str(dst).endswith("b.py") or renamed:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)
        renamed.append(dst)

    monkeypatch.setattr(write.os, "replace", replace)
    with pytest.raises(WriteError) as caught:
        apply_changes(tmp_path, _changes(tmp_path))
    message = str(caught.value)
    assert message.startswith("could not write b/b.py: input/output error; could not put back a.py (input/output error): ")
    kept = message.split("its original is ")[1]
    assert kept.endswith(".fixer-orig") and (tmp_path / kept).read_text() == BAD  # named relative to the root


def test_a_file_changed_since_it_was_read_is_refused(tmp_path: Path) -> None:
    _project(tmp_path)
    changes = _changes(tmp_path)
    (tmp_path / "b" / "b.py").write_text(BAD + "x = 1\n")
    with pytest.raises(WriteError, match=r"^b/b.py changed since fixer read it; nothing was changed$"):
        apply_changes(tmp_path, changes)
    assert (tmp_path / "a.py").read_text() == BAD


def test_mode_is_kept(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "a.py").chmod(0o640)
    apply_changes(tmp_path, _changes(tmp_path))
    assert (tmp_path / "a.py").stat().st_mode & 0o7777 == 0o640


@pytest.mark.skipif(not ROOT, reason="only root can give a file to another user")
def test_owner_and_group_are_kept_when_run_as_root(tmp_path: Path) -> None:
    _project(tmp_path)
    os.chown(tmp_path / "a.py", 65534, 65534)
    (tmp_path / "a.py").chmod(0o664)
    result = fixer("apply", tmp_path)
    assert result.returncode == 0, result.stderr
    info = (tmp_path / "a.py").stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (65534, 65534, 0o664)
    assert (tmp_path / "a.py").read_text() == GOOD


def test_stale_temps_of_a_killed_run_are_removed_and_named(tmp_path: Path) -> None:
    _project(tmp_path)
    dead = _dead_pid()
    stale = [tmp_path / f".a.py.{dead}.k3j_x9q2.fixer-tmp", tmp_path / "b" / ".b.py.abcd1234.fixer-tmp"]
    live = tmp_path / f".a.py.{os.getpid()}.zzzz0000.fixer-tmp"  # a run still going: not stale
    mine = tmp_path / "notes.fixer-tmp"  # not fixer's naming pattern: not fixer's file
    for path in (*stale, live, mine):
        path.write_text("partial")
    redundant = tmp_path / f".a.py.{dead}.0000abcd.fixer-orig"  # the same bytes as a.py: nothing to lose
    os.link(tmp_path / "a.py", redundant)
    only_copy = tmp_path / "b" / f".b.py.{dead}.1111abcd.fixer-orig"  # b.py holds other bytes: maybe the only copy
    only_copy.write_text("what b.py held\n")
    result = fixer("apply", tmp_path)
    assert result.returncode == 0, result.stderr
    assert not any(p.exists() for p in (*stale, redundant)) and live.exists() and mine.exists()
    assert only_copy.read_text() == "what b.py held\n"
    stderr = result.stderr.decode()
    for name in (f".a.py.{dead}.k3j_x9q2.fixer-tmp", "b/.b.py.abcd1234.fixer-tmp", f".a.py.{dead}.0000abcd.fixer-orig"):
        assert f"removed {name}, a temporary file left by an interrupted fixer run" in stderr
    assert f"kept b/.b.py.{dead}.1111abcd.fixer-orig: what its file held before an interrupted fixer run" in stderr


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_cli_failure_is_one_line_in_words_with_exit_2(tmp_path: Path) -> None:
    before = _project(tmp_path)
    script = tmp_path.parent / "fail.py"
    script.write_text(
        "import os, sys\n"
        "from fixer.apply import write\n"
        "real = os.replace\n"
        "def replace(src, dst):\n"
        "    if str(dst).endswith('b.py'):\n"
        "        raise OSError(28, 'No space left on device')\n"
        "    real(src, dst)\n"
        "write.os.replace = replace\n"
        "from fixer.cli.commands import main\n"
        "main(['apply', sys.argv[1]])\n"
    )
    result = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        "fixer: error: could not write b/b.py: no space left on device; nothing was changed (put back: a.py)"
    )
    assert result.stdout == b""  # no "fixed a.py" for a file that was put back
    assert tree(tmp_path) == before


@needs_mount_namespace
def test_a_full_disk_changes_nothing(tmp_path: Path) -> None:
    """A real tmpfs, filled up but for one page: a.py's fix fits, b/b.py's does not."""
    source, out, mount = tmp_path / "src", tmp_path / "out", tmp_path / "mnt"
    before = _project(source, big=True)
    out.mkdir()
    mount.mkdir()
    script = f"""
set -e
mount -t tmpfs -o size=256k tmpfs {mount}
cp -a {source}/. {mount}/
head -c 4096 /dev/zero > {mount}/spare
head -c 1048576 /dev/zero > {mount}/fill 2>/dev/null || true
rm {mount}/spare
set +e
{sys.executable} -m fixer apply {mount} 2>{out}.stderr
echo $? > {out}.rc
rm {mount}/fill
cp -a {mount}/. {out}/
"""
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=300)
    assert Path(f"{out}.rc").read_text().strip() == "2"
    assert Path(f"{out}.stderr").read_text().splitlines()[-1] == (
        "fixer: error: could not write b/b.py: no space left on device; nothing was changed"
    )
    assert tree(out) == before


@needs_mount_namespace
def test_a_read_only_folder_changes_nothing(tmp_path: Path) -> None:
    before = _project(tmp_path)
    script = f"mount --bind -o ro {tmp_path}/b {tmp_path}/b && exec {sys.executable} -m fixer apply {tmp_path}"
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        "fixer: error: could not write b/b.py: read-only file system; nothing was changed"
    )
    assert tree(tmp_path) == before and _temps(tmp_path) == []


@pytest.mark.skipif(not (ROOT and shutil.which("chattr")), reason="needs root and chattr")
def test_an_immutable_file_makes_the_rename_fail_and_the_rest_is_put_back(tmp_path: Path) -> None:
    before = _project(tmp_path)
    target = tmp_path / "b" / "b.py"
    if not _can("chattr", "+i", str(target)):
        pytest.skip("this file system has no immutable flag")
    try:
        result = fixer("apply", tmp_path)
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        "fixer: error: could not write b/b.py: operation not permitted; nothing was changed (put back: a.py)"
    )
    assert tree(tmp_path) == before and _temps(tmp_path) == []


def test_ctrl_c_during_the_renames_waits_until_they_are_done(tmp_path: Path, monkeypatch) -> None:
    import signal

    _project(tmp_path)
    real_replace = os.replace

    def replace(src, dst) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # as if Ctrl-C came right between two renames
        real_replace(src, dst)

    monkeypatch.setattr(write.os, "replace", replace)
    with ctrl_c_raises(), pytest.raises(KeyboardInterrupt):
        apply_changes(tmp_path, _changes(tmp_path))
    assert (tmp_path / "a.py").read_text() == GOOD and (tmp_path / "b" / "b.py").read_text() == GOOD
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("hook", ["fsync", "replace"])
def test_a_killed_apply_leaves_whole_files_and_the_next_run_finishes(tmp_path: Path, hook: str) -> None:
    """SIGKILL while staging (at the second file's fsync) or between two renames: every file is its old or its
    new self, and the next run removes the temporary files left behind and fixes what is left to fix."""
    before = _project(tmp_path)
    script = tmp_path.parent / f"kill-{hook}.py"
    script.write_text(
        "import os, signal, sys\n"
        "from fixer.apply import write\n"
        f"real = write.os.{hook}\n"
        "calls = []\n"
        "def hooked(*args):\n"
        "    calls.append(args)\n"
        "    if len(calls) == 2:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(*args)\n"
        f"write.os.{hook} = hooked\n"
        "from fixer.cli.commands import main\n"
        "main(['apply', sys.argv[1]])\n"
    )
    killed = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, timeout=300)
    assert killed.returncode == -9
    left = _temps(tmp_path)  # what the killed run could not clean up
    after = {rel: data for rel, data in tree(tmp_path).items() if tmp_path / rel not in left}
    for rel, data in after.items():
        assert data in (before[rel], before[rel].replace(BAD.encode(), GOOD.encode())), rel
    assert left
    finish = fixer("apply", tmp_path)
    assert finish.returncode == 0, finish.stderr
    assert "a temporary file left by an interrupted fixer run" in finish.stderr.decode()
    assert (tmp_path / "a.py").read_text() == GOOD and (tmp_path / "b" / "b.py").read_text() == GOOD
    # Killed between the renames, a.py's original is its only copy: kept and named, never removed unasked.
    kept = [p.read_text() for p in _temps(tmp_path)]
    assert kept == ([BAD] if hook == "replace" else [])
