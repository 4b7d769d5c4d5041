"""Schema-only audit speed: N synthetic chat records (~1 KB each), timed end to end.

    .venv/bin/python benchmarks/bench_schema.py                 # 1,000,000 records (~1 GB)
    .venv/bin/python benchmarks/bench_schema.py -n 100000 -j 1  # one process, while developing

Generates the dataset into a temporary directory (never the repo), runs
`curate check --select schema --format json`, and reports wall time, records/s and peak memory:
the sum of RSS over the whole process tree (sampled from /proc every 50 ms, so workers count)
and the largest single process (getrusage). Also times start-up: `curate --help` and a
schema-only run on a 10-record file. Target (issue 2): 1M records < 60 s, < 1 GB, 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _measure import measure  # noqa: E402

CURATE = [sys.executable, "-m", "curate"]
WORDS = (  # noqa: SIM905 - a sentence reads better than a list of 80 strings
    "the customer asked how to reset a password and the assistant explained each step in order please open "
    "settings then security and choose reset we will send a link that expires soon deployments can fail when "
    "health check times out so look at first red line of build log invoice billing plan upgrade downgrade "
    "region bucket storage latency timeout retry quota limit api key rotate token account team member role "
    "permission export report dashboard chart metric alert notification email weekly monthly support ticket"
).split()
SYSTEMS = [
    "You are Acme Cloud's support assistant. Be concise and friendly.",
    "You are a helpful assistant that answers questions about billing.",
    "You are a senior engineer who explains deployment problems step by step.",
]


def sentence(rng: random.Random, n: int) -> str:
    words = rng.choices(WORDS, k=n)
    return " ".join(words).capitalize() + "."


class Sentences:
    """A pool of random sentences by length: generating 1 GB word by word takes minutes."""

    def __init__(self, rng: random.Random, per_length: int = 200) -> None:
        self.rng = rng
        self.pool = {n: [sentence(rng, n) for _ in range(per_length)] for n in range(8, 23)}

    def __call__(self, rng: random.Random, n: int) -> str:
        return rng.choice(self.pool[n])


def record(rng: random.Random, i: int, sentence: Callable[[random.Random, int], str] = sentence) -> dict:
    """A realistic ~1 KB chat record; about 1 in 1,000 carries a planted schema defect."""
    msgs = [{"role": "system", "content": rng.choice(SYSTEMS)}]
    for _ in range(rng.choice((1, 1, 2))):
        msgs.append({"role": "user", "content": " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(2))})
        msgs.append({"role": "assistant", "content": " ".join(sentence(rng, rng.randint(10, 22)) for _ in range(5))})
    rec: dict = {"messages": msgs}
    if i % 50 == 7:  # tool use, as real support bots have
        msgs.insert(
            2,
            {"role": "assistant", "content": None, "tool_calls": [{"id": f"call_{i}", "type": "function",
             "function": {"name": "get_ticket", "arguments": orjson.dumps({"id": i}).decode()}}]},
        )  # fmt: skip
        msgs.insert(3, {"role": "tool", "tool_call_id": f"call_{i}", "content": '{"status": "open"}'})
        rec["tools"] = [{"type": "function", "function": {"name": "get_ticket", "parameters": {"type": "object"}}}]
    defect = i % 1000
    if defect == 1:
        msgs.pop()  # last turn is a user turn
    elif defect == 2:
        msgs[-1]["weight"] = 0.5
    elif defect == 3:
        msgs[1]["content"] += " <|im_end|>"
    elif defect == 4:
        rec["mesages"] = []
    return rec


def generate(path: Path, n: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    pool = Sentences(rng)
    size = 0
    with open(path, "wb") as f:
        chunk = []
        for i in range(n):
            chunk.append(orjson.dumps(record(rng, i, pool)))
            if len(chunk) == 10_000:
                blob = b"\n".join(chunk) + b"\n"
                f.write(blob)
                size += len(blob)
                chunk = []
        if chunk:
            blob = b"\n".join(chunk) + b"\n"
            f.write(blob)
            size += len(blob)
    return size


def best_of(cmd: list[str], cwd: Path, times: int = 5) -> tuple[float, float]:
    """Best wall and best CPU seconds (CPU time is what a loaded machine does not inflate)."""
    runs = [measure(cmd, cwd=str(cwd)) for _ in range(times)]
    return min(r.wall for r in runs), min(r.cpu for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--records", type=int, default=1_000_000)
    ap.add_argument("-j", "--jobs", type=int, default=0, help="curate --jobs (0: one per core, 1: one process)")
    ap.add_argument("--dir", type=Path, default=None, help="where to write the dataset (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated dataset")
    args = ap.parse_args()

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work inflates wall times)")
    work = Path(tempfile.mkdtemp(prefix="curate-bench-", dir=args.dir))
    data = work / "chat.jsonl"
    t0 = time.perf_counter()
    size = generate(data, args.records)
    gen = time.perf_counter() - t0
    print(
        f"generated {args.records:,} records, {size / 1e6:,.0f} MB ({size / args.records:,.0f} B/record) in {gen:.1f} s"
    )

    small = work / "small.jsonl"
    generate(small, 10)
    help_wall, help_cpu = best_of([*CURATE, "--help"], work)
    small_wall, small_cpu = best_of([*CURATE, "check", str(small), "--select", "schema", "--no-cache", "-j", "1"], work)
    print(
        f"start-up (best of 5): curate --help {help_wall:.2f} s wall / {help_cpu:.2f} s CPU; "
        f"schema run on 10 records {small_wall:.2f} s wall / {small_cpu:.2f} s CPU"
    )

    cmd = [*CURATE, "check", str(data), "--select", "schema", "--format", "json", "--no-cache", "-j", str(args.jobs)]
    r = measure(cmd, cwd=str(work))
    if r.returncode not in (0, 1):
        sys.exit(f"curate failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}")
    report = json.loads(r.stdout)
    rate = args.records / r.wall
    print(
        f"check --select schema -j {args.jobs}: {r.wall:.1f} s wall, {r.cpu:.1f} s CPU, {rate:,.0f} records/s "
        f"({args.records / r.cpu:,.0f} records per CPU-second), "
        f"peak RSS {r.tree_peak_mb:,.0f} MB (all processes), "
        f"largest process {r.single_peak / 2**20:,.0f} MB"
    )
    print(f"findings: {report['summary']['findings']:,} {json.dumps(report['summary']['by_rule'])}")
    if args.records >= 1_000_000:
        ok = r.wall < 60 and r.tree_peak < 2**30
        print(f"target 1M < 60 s and < 1 GB: {'met' if ok else 'NOT met'}")
    if args.keep:
        print(f"kept {data}")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
