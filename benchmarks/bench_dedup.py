"""dedup at scale: chat records of ~300 words with planted copies, through `curate check -s dedup`.

    .venv/bin/python benchmarks/bench_dedup.py --sizes 100000 [1000000] [--warm] [--keep DIR]

Reports wall time, records/s, peak memory of the whole process tree (main + workers, sampled
from /proc every 0.2 s) and how many planted copies were found. Caches go to a fresh
temporary directory, so the first run is cold; --warm runs again to time the signature cache.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CURATE = [sys.executable, "-m", "curate"]
SYL = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "pi", "an", "qu", "es", "zu", "bri", "nol", "ta", "ex", "or"]


def vocabulary(rng: random.Random, n: int = 20000) -> tuple[list[str], list[float]]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYL) for _ in range(rng.randint(1, 4))))
    ordered = sorted(words)
    rng.shuffle(ordered)
    cum, total = [], 0.0
    for rank in range(1, n + 1):  # Zipf-like frequencies, as in real text
        total += 1.0 / rank
        cum.append(total)
    return ordered, cum


def write_dataset(
    path: Path, n: int, seed: int = 0, exact_rate: float = 0.01, edit_rate: float = 0.02
) -> dict[str, int]:
    """n records of ~300 words; some repeat an earlier one exactly or with 2-5% of words replaced."""
    rng = random.Random(seed)
    vocab, cum = vocabulary(rng)
    recent: list[tuple[str, list[str]]] = []
    planted = {"exact": 0, "edited": 0}
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            r = rng.random()
            if recent and r < exact_rate + edit_rate:
                user, answer = rng.choice(recent)
                answer = list(answer)
                if r >= exact_rate:
                    for i in rng.sample(range(len(answer)), int(len(answer) * rng.uniform(0.02, 0.05))):
                        answer[i] = rng.choices(vocab, cum_weights=cum)[0]
                    planted["edited"] += 1
                else:
                    planted["exact"] += 1
            else:
                user = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(20, 50))) + "?"
                answer = rng.choices(vocab, cum_weights=cum, k=rng.randint(220, 300))
                if len(recent) < 5000:
                    recent.append((user, answer))
                else:
                    recent[rng.randrange(5000)] = (user, answer)
            rec = {
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": " ".join(answer) + "."},
                ]
            }
            f.write(json.dumps(rec) + "\n")
    return planted


def tree_rss_mb(pid: int) -> float:
    """Resident memory of pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total / 2**20


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float, subprocess.CompletedProcess[bytes]]:
    """Wall seconds, peak tree RSS (MB), CPU seconds of the process and its workers."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = 0.0
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mb(proc.pid))
            time.sleep(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    t.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak, cpu, subprocess.CompletedProcess(args, proc.returncode, out, err)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--warm", action="store_true", help="run a second time on the warm signature cache")
    ap.add_argument("--keep", help="keep generated data in this directory (reused when present)")
    ap.add_argument("--jobs", type=int, default=0)
    opts = ap.parse_args()
    base = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    base.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.1f} on {os.cpu_count()} cores (other work slows wall time, not CPU time)")
    print(
        "| records | run | wall s | records/s | CPU s | records/CPU-s | peak MB (tree) | exact found / planted |"
        " edited found / planted |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in opts.sizes:
        data = base / f"chat-{n}.jsonl"
        meta = base / f"chat-{n}.json"
        if not data.exists() or not meta.exists():
            meta.write_text(json.dumps(write_dataset(data, n)))
        planted = json.loads(meta.read_text())
        with tempfile.TemporaryDirectory(prefix="bench-dedup-cache-") as cache:
            env = {**os.environ, "CURATE_CACHE_DIR": cache}
            args = [*CURATE, "check", str(data), "-s", "dedup", "-f", "json", "--jobs", str(opts.jobs)]
            for label in ["cold", "warm"] if opts.warm else ["cold"]:
                wall, peak, cpu, proc = run(args, env)
                if proc.returncode not in (0, 1):
                    sys.stderr.write(proc.stderr.decode()[-3000:])
                    raise SystemExit(f"curate exited {proc.returncode}")
                report = json.loads(proc.stdout)
                by_rule = report["summary"]["by_rule"]
                print(
                    f"| {n:,} | {label} | {wall:.1f} | {n / wall:,.0f} | {cpu:.1f} | {n / cpu:,.0f} | {peak:,.0f} | "
                    f"{by_rule.get('exact-duplicate', 0):,} / {planted['exact']:,} | "
                    f"{by_rule.get('near-duplicate', 0):,} / {planted['edited']:,} |",
                    flush=True,
                )
                if report["errors"]:
                    print("errors:", report["errors"][:5])


if __name__ == "__main__":
    main()
