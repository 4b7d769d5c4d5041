"""dedup at scale: chat records of ~300 words with planted copies, through `curate check -s dedup`.

    .venv/bin/python benchmarks/bench_dedup.py --sizes 100000 [1000000] [--warm] [--keep DIR]

Reports wall time, CPU time of all processes, records/s, peak memory of the whole process
tree (main + workers; benchmarks/_measure.py), the load average before and after, and recall
and precision against the planted ground truth: a finding (exact-duplicate or near-duplicate)
is correct when it names the record its line was copied from. Caches go to a fresh temporary
directory, so the first run is cold; --warm runs again to time the caches.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import load_average, measure  # noqa: E402

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
) -> dict[str, object]:
    """n records of ~300 words; some repeat an earlier one exactly or with 2-5% of words replaced.

    Returns the counts and the ground truth: line of each copy -> line of its original."""
    rng = random.Random(seed)
    vocab, cum = vocabulary(rng)
    recent: list[tuple[str, list[str], int]] = []
    planted: dict[str, object] = {"exact": 0, "edited": 0}
    truth: dict[str, int] = {}
    with open(path, "w", encoding="utf-8") as f:
        for line in range(1, n + 1):
            r = rng.random()
            if recent and r < exact_rate + edit_rate:
                user, answer, orig = rng.choice(recent)
                truth[str(line)] = orig
                answer = list(answer)
                if r >= exact_rate:
                    for i in rng.sample(range(len(answer)), int(len(answer) * rng.uniform(0.02, 0.05))):
                        answer[i] = rng.choices(vocab, cum_weights=cum)[0]
                    planted["edited"] += 1  # type: ignore[operator]
                else:
                    planted["exact"] += 1  # type: ignore[operator]
            else:
                user = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(20, 50))) + "?"
                answer = rng.choices(vocab, cum_weights=cum, k=rng.randint(220, 300))
                if len(recent) < 5000:
                    recent.append((user, answer, line))
                else:
                    recent[rng.randrange(5000)] = (user, answer, line)
            rec = {
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": " ".join(answer) + "."},
                ]
            }
            f.write(json.dumps(rec) + "\n")
    planted["truth"] = truth
    return planted


def accuracy(report: dict, truth: dict[str, int]) -> tuple[float, float]:
    """Recall and precision of exact + near findings against the planted copies."""
    found = {
        f["line"]: f["data"]["duplicate_of"]
        for f in report["findings"]
        if f["rule"] in ("exact-duplicate", "near-duplicate")
    }
    correct = sum(1 for line, orig in found.items() if truth.get(str(line)) == orig)
    return correct / max(len(truth), 1), correct / max(len(found), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--warm", action="store_true", help="run a second time on the warm signature cache")
    ap.add_argument("--keep", help="keep generated data in this directory (reused when present)")
    ap.add_argument("--jobs", type=int, default=0)
    opts = ap.parse_args()
    base = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; the load average (1 min) is printed before and after each run")
    print(
        "| records | run | wall s | records/s | CPU s (all processes) | records/CPU-s | peak MB (tree) |"
        " exact found / planted | edited found / planted | recall | precision | load before / after |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|")
    for n in opts.sizes:
        data = base / f"chat-{n}.jsonl"
        meta = base / f"chat-{n}.json"
        if not data.exists() or not meta.exists() or "truth" not in json.loads(meta.read_text()):
            meta.write_text(json.dumps(write_dataset(data, n)))
        planted = json.loads(meta.read_text())
        with tempfile.TemporaryDirectory(prefix="bench-dedup-cache-") as cache:
            args = [*CURATE, "check", str(data), "-s", "dedup", "-f", "json", "--jobs", str(opts.jobs)]
            for label in ["cold", "warm"] if opts.warm else ["cold"]:
                load = load_average()
                m = measure(args, env={"CURATE_CACHE_DIR": cache})
                if m.returncode not in (0, 1):
                    sys.stderr.write(m.stderr.decode()[-3000:])
                    raise SystemExit(f"curate exited {m.returncode}")
                report = json.loads(m.stdout)
                by_rule = report["summary"]["by_rule"]
                recall, precision = accuracy(report, planted["truth"])
                print(
                    f"| {n:,} | {label} | {m.wall:.1f} | {n / m.wall:,.0f} | {m.cpu:.1f} | {n / m.cpu:,.0f} | "
                    f"{m.tree_peak_mb:,.0f} | {by_rule.get('exact-duplicate', 0):,} / {planted['exact']:,} | "
                    f"{by_rule.get('near-duplicate', 0):,} / {planted['edited']:,} | {recall:.4f} | {precision:.4f} | "
                    f"{load:.1f} / {load_average():.1f} |",
                    flush=True,
                )
                if report["errors"]:
                    print("errors:", report["errors"][:5])


if __name__ == "__main__":
    main()
