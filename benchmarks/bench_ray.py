"""`--engine ray` on a local Ray against the local engine: same file, same run, CPU seconds of every process.

    .venv/bin/python benchmarks/bench_ray.py [--records 20000] [--dups 0.02] [--data FILE]

Ray's workers are children of its raylet, not of `curate`, and are not waited for, so
`getrusage(RUSAGE_CHILDREN)` misses them: CPU here is sampled from /proc over the whole process
tree every 0.1 s (the last value seen for each process: a process living under 0.1 s is missed).
Both runs use no cache (Ray runs never do). Also checks that the two JSON reports are equal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import load_average  # noqa: E402
from synth import write_dataset  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return out


def _cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _rss(pid: int) -> int:
    """Private resident bytes (RssAnon): Ray's object store is shared memory that the driver maps,
    so VmRSS counts every page of every object it ever read, live or freed."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run(cmd: list[str]) -> tuple[float, float, int, int, bytes]:
    """Wall seconds, CPU seconds of the process tree, peak private RSS of `curate` itself, exit code, stdout."""
    seen: dict[int, float] = {}
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss(proc.pid))
            for pid in _tree(proc.pid):
                cpu = _cpu(pid)
                if cpu is not None:
                    seen[pid] = max(seen.get(pid, 0.0), cpu)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return wall, sum(seen.values()), peak, proc.returncode, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--dups", type=float, default=0.02)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or write_dataset(Path(tmp) / "synth.jsonl", args.records, dup_rate=args.dups)
        curate = [sys.executable, "-m", "curate", "check", str(data), "-f", "json", "--fail-on", "never"]
        print("| engine | records | wall s | CPU s (all processes) | driver peak private MB | load before |")
        print("|---|---:|---:|---:|---:|---:|")
        reports = {}
        for name, extra in (("local (2 workers)", ["--no-cache"]), ("ray (local Ray)", ["--engine", "ray"])):
            load = load_average()
            wall, cpu, peak, code, out = run([*curate, *extra])
            reports[name] = out
            row = f"| {name} | {args.records:,} | {wall:.1f} | {cpu:.1f} | {peak / 2**20:.0f} | {load:.1f} |"
            print(row + ("" if code == 0 else " failed"))
        same = len(set(reports.values())) == 1
        print(f"\nreports equal: {same}")


if __name__ == "__main__":
    main()
