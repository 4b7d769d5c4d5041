"""How fast `curate check --jobs 2` stops on SIGINT (once, twice) and SIGTERM, at several moments.

    .venv/bin/python benchmarks/bench_stop.py [--records 60000] [--rules default] [--delays 0,0.5,2,5]

Starts the real CLI on synthetic data (benchmarks/synth.py) with a fresh result cache, waits until
its two workers exist, waits `delay` more seconds, sends the signal(s), and reports the time from
the first signal to the exit, the exit code, how many lines it printed on stderr, and whether any
worker outlived it. A delay past the end of the run shows as exit 0/1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth import write_dataset  # noqa: E402


def children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                out.add(int(entry))
    return out


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def trial(data: Path, cache: Path, rules: str, delay: float, signals: tuple[int, ...]) -> tuple[float, int, int, bool]:
    env = {**os.environ, "CURATE_CACHE_DIR": str(cache)}
    args = [sys.executable, "-m", "curate", "check", str(data), "--jobs", "2", "-f", "json", "--rules", rules]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    workers: set[int] = set()
    while len(workers) < 2 and proc.poll() is None:
        workers = children(proc.pid)
        time.sleep(0.01)
    time.sleep(delay)
    sent = time.monotonic()
    for signum in signals:
        if proc.poll() is None:
            proc.send_signal(signum)
        time.sleep(0.05)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    took = time.monotonic() - sent
    time.sleep(0.2)
    orphans = [p for p in workers if running(p)]
    for p in orphans:
        os.kill(p, signal.SIGKILL)
    return took, proc.returncode, len(err.decode().splitlines()), bool(orphans)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=60_000)
    ap.add_argument("--rules", default="default")
    ap.add_argument("--delays", default="0,0.5,2,5")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-stop-"))
    try:
        data = write_dataset(tmp / "data.jsonl", a.records, seed=1)
        print(f"{a.records:,} records, rules {a.rules}, --jobs 2, load average {os.getloadavg()[0]:.1f}")
        print("| signal | delay after workers start s | stop s | exit | stderr lines | orphans |")
        print("|---|---:|---:|---:|---:|---|")
        cases = {"SIGINT": (signal.SIGINT,), "SIGINT x2": (signal.SIGINT, signal.SIGINT), "SIGTERM": (signal.SIGTERM,)}
        for delay in (float(d) for d in a.delays.split(",")):
            for name, sigs in cases.items():
                took, code, lines, orphans = trial(data, tmp / "cache", a.rules, delay, sigs)
                print(f"| {name} | {delay:g} | {took:.2f} | {code} | {lines} | {'yes' if orphans else 'no'} |")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
