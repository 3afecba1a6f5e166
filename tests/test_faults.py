"""Faults in one file, or in one worker, cost that file and nothing else: the run goes on and says which."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from fixer.apply import workers
from tests.cli_helpers import fixer, sigint_as_a_terminal_gives_it

BAD_IMPORT = "from sqlalchemy import AsyncEngine\n"
GOOD_IMPORT = "from sqlalchemy.ext.asyncio import AsyncEngine\n"
# Ordinary code, so that the tree is worth worker processes (the runner keeps small runs in one process).
FILLER = "".join(f"\n\ndef helper_{n}(items: list[int]) -> int:\n    return sum(i * {n} for i in items)\n" for n in range(60))


def _tree(root: Path, files: int = 6) -> None:
    for n in range(files):
        (root / f"good_{n}.py").write_text(BAD_IMPORT + FILLER)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_nested_too_deep_for_the_parser_is_skipped_and_the_rest_fixed(tmp_path: Path, jobs: str) -> None:
    # Valid for LibCST's tokenizer, fatal to its native parser (SIGSEGV): CPython's parser refuses it first.
    (tmp_path / "deep.py").write_text(BAD_IMPORT + "DATA = " + "(" * 1500 + "1" + ")" * 1500 + "\n")
    _tree(tmp_path)
    result = fixer("apply", "-j", jobs, "--root-relative", tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr  # the skipped file is left for a person
    assert "skipped deep.py: cannot parse: too many nested parentheses; left as it is" in stderr
    assert all((tmp_path / f"good_{n}.py").read_text().startswith(GOOD_IMPORT) for n in range(6))
    assert (tmp_path / "deep.py").read_text().startswith(BAD_IMPORT)
    assert "Traceback" not in stderr


def test_a_worker_that_dies_on_a_file_is_named_with_its_signal_and_every_other_file_fixed(tmp_path: Path) -> None:
    # No bracket in sight for the cheap check: LibCST's parser crashes the worker on it (SIGSEGV).
    (tmp_path / "chain.py").write_text(BAD_IMPORT + "FLAG = (" + "not " * 30_000 + "True)\n")
    _tree(tmp_path)
    result = fixer("dry-run", "-j", "2", "--root-relative", tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "skipped chain.py: the process fixing it was killed by SIGSEGV; left as it is" in stderr
    assert result.stdout.count(b"+from sqlalchemy.ext.asyncio import AsyncEngine") == 6
    assert "Traceback" not in stderr and "BrokenProcessPool" not in stderr


def _square_or_die(task: int) -> int:
    if task in (3, 7):
        os.kill(os.getpid(), signal.SIGKILL if task == 3 else signal.SIGUSR1)
    return task * task


def test_the_pool_replaces_a_dead_worker_and_names_the_task_it_held() -> None:
    results: list[object] = []
    other = workers.run(
        _square_or_die, list(range(10)), 2, died=lambda task, why: (task, why), meanwhile=lambda: "meanwhile",
        done=results.append,
    )
    assert other == "meanwhile"
    assert sorted(r for r in results if isinstance(r, int)) == [n * n for n in range(10) if n not in (3, 7)]
    assert sorted(r for r in results if isinstance(r, tuple)) == [(3, "killed by SIGKILL"), (7, "killed by SIGUSR1")]


def _workers_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["parsing", "writing"])
def test_ctrl_c_during_a_parallel_apply_exits_130_quietly_and_every_file_stays_whole(tmp_path: Path, phase: str) -> None:
    import subprocess
    import sys
    import time

    old = BAD_IMPORT + FILLER
    new = GOOD_IMPORT + FILLER
    for n in range(300):
        (tmp_path / f"m{n:03d}.py").write_text(old)
    # A session of its own: Ctrl-C in a terminal signals the whole process group, workers included.
    proc = subprocess.Popen(
        [sys.executable, "-m", "fixer", "apply", "-j", "2", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, preexec_fn=sigint_as_a_terminal_gives_it,
    )
    try:
        if phase == "parsing":
            deadline = time.monotonic() + 120
            while not _workers_of(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.2)
        else:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith(b"fixed ")  # the first file is written
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stderr = err.decode()
    if phase == "writing" and proc.returncode == 0:
        # apply writes all or nothing, then reports: the signal came once everything was written and said.
        assert "Fixed 300 issue(s) in 300 file(s)" in stderr, stderr
        assert all((tmp_path / f"m{n:03d}.py").read_text() == new for n in range(300))
        return
    assert proc.returncode == 130, stderr
    if "interrupted as it finished" in stderr:  # the signal came between the last word and the exit
        assert phase == "writing" and all((tmp_path / f"m{n:03d}.py").read_text() == new for n in range(300))
        return
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr and "Aborted!" not in stderr
    contents = [(tmp_path / f"m{n:03d}.py").read_text() for n in range(300)]
    assert all(text in (old, new) for text in contents)
    assert [p.name for p in tmp_path.iterdir() if "fixer-tmp" in p.name] == []
    if phase == "parsing":
        assert "fixer: interrupted; nothing was written." in stderr and contents.count(new) == 0
    else:
        written = contents.count(new)
        assert written >= 1
        assert f"fixer: interrupted; {written} of 300 file(s) to fix were written, the other {300 - written}" in stderr or (
            written == 300 and "fixer: interrupted; all 300 file(s) to fix were written." in stderr
        )


def test_a_file_without_read_permission_is_named_as_skipped_and_the_rest_fixed(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    (tmp_path / "good.py").write_text(BAD_IMPORT)
    (tmp_path / "secret.py").write_text(BAD_IMPORT)
    (tmp_path / "requirements.txt").write_text("psycopg2-binary==2.9.9\n")
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://db/app\n")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "db.py").write_text(BAD_IMPORT)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".gitignore").write_text("generated.py\n")
    (tmp_path / "app" / "generated.py").write_text(BAD_IMPORT)
    for name in ("secret.py", "requirements.txt", ".env", "locked", "app/.gitignore"):
        (tmp_path / name).chmod(0o000)
    command = [sys.executable, "-m", "fixer", "apply", "-j", "1", "--root-relative", str(tmp_path)]
    if os.geteuid() == 0:
        # chmod 000 stops everyone but root, through the capabilities to override file permissions: fixer
        # runs without them, so that the kernel refuses the read as it would for any user.
        assert shutil.which("setpriv"), "util-linux's setpriv is needed to run this test as root"
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    result = subprocess.run(command, capture_output=True, timeout=300)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    for name in ("secret.py", "requirements.txt", ".env"):
        assert f"skipped {name}: cannot read it (Permission denied); left as it is" in stderr
    assert "skipped locked/: cannot list the folder (Permission denied); its files are left as they are" in stderr
    assert "skipped app/.gitignore: cannot read it (Permission denied), so nothing it lists is left out" in stderr
    assert (tmp_path / "good.py").read_text() == GOOD_IMPORT
    assert (tmp_path / "app" / "generated.py").read_text() == GOOD_IMPORT
    assert "Traceback" not in stderr and "PermissionError" not in stderr
    (tmp_path / "locked").chmod(0o755)  # for pytest to clean up


def test_a_fifo_named_like_a_source_file_is_skipped_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    os.mkfifo(tmp_path / "requirements.txt")
    (tmp_path / "good.py").write_text(BAD_IMPORT)
    result = fixer("apply", "-j", "1", "--root-relative", tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "skipped pipe.py: cannot read it (not a regular file); left as it is" in stderr
    assert "skipped requirements.txt: cannot read it (not a regular file); left as it is" in stderr
    assert (tmp_path / "good.py").read_text() == GOOD_IMPORT
