"""Run fixer the way a user does: as a separate process."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fixer(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "fixer", *map(str, args)], cwd=cwd, capture_output=True, timeout=300)


def tree(root: Path) -> dict[str, bytes]:
    """Every file below root (no .git), by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def expected_tree(case: Path) -> dict[str, bytes]:
    """A before/after fixture's expected tree: `before`, with the files `after` holds (only those change)."""
    expected = tree(case / "before")
    if (case / "after").is_dir():
        expected.update(tree(case / "after"))
    return expected


def sigint_as_a_terminal_gives_it() -> None:
    """A process started from a terminal takes Ctrl-C. One started in the background by a shell without job
    control inherits SIGINT ignored (as a CI runner's `... &` does), and fixer rightly keeps ignoring it there: a
    test that presses Ctrl-C first gives its process the terminal's disposition. (A `preexec_fn`.)"""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """In this process, for a test that presses Ctrl-C on itself: see `sigint_as_a_terminal_gives_it`."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
