"""How every benchmark here measures a command: wall time, CPU time of all its processes, and the
peak resident memory of the whole process tree (curate runs worker processes, so the largest
single process understates what the machine needs).

CPU seconds are what a loaded machine does not inflate; wall seconds are what a user waits.
Linux only (/proc), like the machine the targets are set for.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass


def tree_rss(root: int) -> int:
    """Bytes of RSS summed over `root` and all its descendants."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


@dataclass
class Measured:
    wall: float  # seconds
    cpu: float  # user + system seconds of the command and every process it waited for
    tree_peak: int  # bytes, sampled every `interval` seconds
    single_peak: int  # bytes, the largest single process (getrusage)
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def tree_peak_mb(self) -> float:
        return self.tree_peak / 2**20


def measure(
    cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None, interval: float = 0.1
) -> Measured:
    """Run `cmd` to completion and measure it (stdout captured)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, cwd=cwd
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, cpu, peak, after.ru_maxrss * 1024, proc.returncode, out, err)


def load_average() -> float:
    """The 1-minute load average: print it next to every figure (other jobs inflate wall time)."""
    return os.getloadavg()[0]
