"""Run one command as its own process and measure it: wall time, CPU time, peak memory.

- wall: from just before the process is spawned to just after it is reaped (interpreter start included);
- cpu:  user + system time of the process and every descendant it waited for (`wait4`), so the worker
        processes of `-j N` count;
- max_rss_mb: the largest resident set any single process of the tree reached (`wait4`'s ru_maxrss);
- peak_pss_mb: the largest sum, over the whole process tree at one moment, of each process's proportional
        set size (shared pages split between the processes sharing them), sampled every 20 ms from
        /proc/PID/smaps_rollup. This is the memory a `-j N` run really takes; summing RSS would count the
        pages forked workers share with their parent N+1 times.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Sample:
    wall: float
    cpu: float
    max_rss_mb: float
    peak_pss_mb: float | None
    returncode: int
    stdout_sha1: str
    stderr_tail: str

    def as_dict(self) -> dict:
        return asdict(self)


# A lean launcher (`python -S`, nothing imported) starts the command and reports what wait4 says. Linux
# counts the RSS a child had before exec into its peak, and a child forked from this process (LibCST and
# fixer loaded) would start at this process's size; the launcher's own few MB are the floor instead.
_LAUNCHER = """
import os, sys, time
report, argv = int(sys.argv[1]), sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
os.write(report, ("%r %r %r %r %r" % (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status), pid)).encode())
"""


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, poll: float = 0.02) -> Sample:
    import shutil
    import sys

    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fixer-bench-{os.getpid()}.out"
    err_path = out_path.with_suffix(".err")
    program = shutil.which(cmd[0]) or cmd[0]
    read_end, write_end = os.pipe()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(write_end), program, *cmd[1:]],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        sampler = _PssSampler(launcher.pid, poll)
        sampler.start()
        report = b""
        while chunk := os.read(read_end, 4096):
            report += chunk
        os.close(read_end)
        launcher.wait()
        sampler.stop()
    if launcher.returncode != 0 or not report:
        raise RuntimeError(f"launcher failed for {cmd}: {err_path.read_text(errors='replace')[-2000:]}")
    wall, cpu, maxrss_kb, returncode, _ = (float(x) for x in report.split())
    digest = hashlib.sha1()
    with open(out_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    stderr_tail = err_path.read_bytes()[-2000:].decode("utf-8", errors="replace")
    out_path.unlink()
    err_path.unlink()
    return Sample(
        wall=wall,
        cpu=cpu,
        max_rss_mb=maxrss_kb / 1024,  # kilobytes on Linux
        peak_pss_mb=sampler.peak_mb,
        returncode=int(returncode),
        stdout_sha1=digest.hexdigest(),
        stderr_tail=stderr_tail,
    )


class _PssSampler(threading.Thread):
    def __init__(self, pid: int, poll: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.poll = poll
        self.peak_kb = 0
        self.available = os.path.exists(f"/proc/{os.getpid()}/smaps_rollup")
        self._done = threading.Event()

    @property
    def peak_mb(self) -> float | None:
        return self.peak_kb / 1024 if self.available and self.peak_kb else None

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        if not self.available:
            return
        try:
            import psutil
        except ImportError:
            psutil = None
        while not self._done.is_set():
            pids = []  # the command and its descendants, not the launcher (self.pid) itself
            if psutil is not None:
                try:
                    pids = [child.pid for child in psutil.Process(self.pid).children(recursive=True)]
                except psutil.Error:
                    pass
            total = sum(_pss_kb(pid) for pid in pids)
            self.peak_kb = max(self.peak_kb, total)
            self._done.wait(self.poll)


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:  # the process ended between listing and reading
        pass
    return 0
