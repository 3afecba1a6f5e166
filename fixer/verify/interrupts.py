"""Ctrl-C and SIGTERM as KeyboardInterrupt, held back while a child process is being started.

An interrupt raised inside ``subprocess.Popen`` after the fork, or before its caller has stored the object,
leaves a child that no cleanup knows about. ``starting()`` defers the interrupt to the end of that window, when
the owner can stop what it started.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_starting = 0  # depth of nested starting() blocks in the main thread
_held: int | None = None  # a signal received inside starting(), raised when the outermost block ends


def _raise(signum: int) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """SIGTERM (and SIGINT, even if inherited as ignored) raise KeyboardInterrupt, so every cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def noted(signum, frame):  # noqa: ARG001 - a second Ctrl-C must not cut the cleanup short
        pass

    def interrupt(signum, frame):  # noqa: ARG001
        global _held
        for sig in previous:
            signal.signal(sig, noted)
        if _starting:
            _held = signum
        else:
            _raise(signum)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def starting() -> Iterator[None]:
    """Start a child and record it inside this block: an interrupt arriving meanwhile is raised at its end."""
    global _starting, _held
    if threading.current_thread() is not threading.main_thread():  # handlers run in the main thread only
        yield
        return
    _starting += 1
    try:
        yield
    finally:
        _starting -= 1
        if not _starting and _held is not None:
            signum, _held = _held, None
            _raise(signum)
