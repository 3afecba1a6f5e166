"""Ctrl-C / SIGTERM during `fixer verify`: an interrupt never leaves a child that no cleanup knows about."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.verify.backend import BackendProcess
from fixer.verify.interrupts import signals_as_interrupt, starting

pytestmark = pytest.mark.slow  # real servers, virtualenvs, signals: the full run, not the edit loop


def test_an_interrupt_outside_a_start_is_raised_at_once() -> None:
    reached = False
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), signals_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        reached = True
    assert not reached


def test_an_interrupt_during_a_start_is_raised_when_the_start_ends() -> None:
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt, match="SIGINT"), signals_as_interrupt():
        with starting():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("recorded the child")
        steps.append("after the start")
    assert steps == ["recorded the child"]


def test_a_second_signal_does_not_cut_the_cleanup_short() -> None:
    cleaned = False
    with pytest.raises(KeyboardInterrupt), signals_as_interrupt():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        finally:
            os.kill(os.getpid(), signal.SIGINT)
            cleaned = True
    assert cleaned


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with signals_as_interrupt():
        pass
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_server_interrupted_as_it_is_forked_is_still_stopped(tmp_path: Path, monkeypatch) -> None:
    forked: list[subprocess.Popen] = []

    class SignalledRightAfterFork(subprocess.Popen):
        """The signal lands before BackendProcess.start has stored the process (as it did once in CI)."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            forked.append(self)
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(subprocess, "Popen", SignalledRightAfterFork)
    process = BackendProcess(tmp_path, sys.executable, entrypoint="app:app")
    with pytest.raises(KeyboardInterrupt), signals_as_interrupt():
        try:
            process.start()
        finally:
            process.stop(grace=1)
    assert len(forked) == 1 and process.proc is forked[0]
    assert forked[0].returncode is not None  # stopped and reaped
