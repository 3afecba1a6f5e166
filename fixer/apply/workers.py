"""Worker processes that hold one task at a time, so that whatever kills one names the task it was on.

LibCST's native parser can crash the process on input that it tokenizes fine (deeply nested code: a
segmentation fault). A pool that hands out tasks in batches can only report itself broken, and loses every
result still in flight; here the dead worker's task is reported through `died`, a new worker takes its
place, and every other task still runs.

Ctrl-C reaches every process in the terminal's process group. Workers ignore it: the main process alone
decides, and stops them quietly (SIGTERM) on its way out, so no worker prints a traceback mid-task.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M")


def run(
    work: Callable[[T], R],
    tasks: Sequence[T],
    workers: int,
    died: Callable[[T, str], R],
    meanwhile: Callable[[], M],
    done: Callable[[R], None],
) -> M:
    """`done(work(task))` for every task, in worker processes, in no particular order; `done(died(task, why))`
    for a task whose worker died. `meanwhile` runs in this process while the first tasks are worked on."""
    import multiprocessing
    from multiprocessing.connection import wait

    # fork keeps the already-imported codemods; spawn would re-import LibCST in every worker.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin" else None
    context = multiprocessing.get_context(method)
    queue = list(reversed(tasks))  # popped from the end: in the order given
    idle: list[_Worker] = []
    busy: dict[Any, _Worker] = {}  # by the worker's pipe and by its process sentinel

    def hand_out() -> None:
        while queue and idle:
            worker = idle.pop()
            worker.give(queue.pop())
            busy[worker.conn] = busy[worker.process.sentinel] = worker

    try:
        idle += [_Worker(context, work) for _ in range(min(workers, len(tasks)))]
        hand_out()
        other = meanwhile()
        while busy:
            for ready in wait(list(busy)):
                worker = busy.get(ready)
                if worker is None:  # its pipe and its sentinel were both ready: already handled
                    continue
                del busy[worker.conn], busy[worker.process.sentinel]
                result = worker.take()
                if result is not _DEAD:
                    done(result)
                    idle.append(worker)
                    continue
                done(died(worker.task, worker.cause()))
                worker.stop()
                if queue:
                    idle.append(_Worker(context, work))
            hand_out()
        return other
    finally:
        for worker in {*idle, *busy.values()}:
            worker.stop()


_DEAD = object()


class _Worker:
    def __init__(self, context: Any, work: Callable[[Any], Any]) -> None:
        self.conn, child = context.Pipe()
        # Blocked across the fork, so that no Ctrl-C lands in the worker before it has set it aside.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
        try:
            self.process = context.Process(target=_serve, args=(child, work), daemon=True)
            self.process.start()
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        child.close()
        self.task: Any = None

    def give(self, task: Any) -> None:
        self.task = task
        self.conn.send(task)

    def take(self) -> Any:
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join()
            return _DEAD

    def cause(self) -> str:
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with code {code}"

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():  # idle, or interrupted mid-task: nothing it holds is worth waiting for
            self.process.terminate()
        self.process.join()


def _serve(conn: Any, work: Callable[[Any], Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the main process is gone or done
            return
        conn.send(work(task))
