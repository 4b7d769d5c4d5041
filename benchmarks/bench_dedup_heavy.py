"""Linear cost on any data (issue 18 section 4): the dedup family on a duplicate-heavy file against a
duplicate-free file of the same size, measured in the same run.

    .venv/bin/python benchmarks/bench_dedup_heavy.py --records 50000 [--templates 48] [--keep DIR]

The duplicate-heavy file is made of light edits (2-5% of words replaced, in the prompt and the answer)
of a few templates, so LSH buckets hold thousands of records; the duplicate-free file has records of
the same length drawn from the same vocabulary. Both run `curate check FILE -s dedup -f json` with a
fresh cache folder (a cold run). Printed: wall and CPU seconds (all processes), peak memory of the
process tree, the heavy/free ratios (target: at most 2x), the near-duplicate findings and the load
average before and after each run.
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
from _measure import Measured, load_average, measure  # noqa: E402
from bench_dedup import vocabulary  # noqa: E402

CURATE = [sys.executable, "-m", "curate"]


def _edit(words: list[str], rng: random.Random, vocab: list[str], cum: list[float]) -> list[str]:
    out = list(words)
    for i in rng.sample(range(len(out)), max(1, int(len(out) * rng.uniform(0.02, 0.05)))):
        out[i] = rng.choices(vocab, cum_weights=cum)[0]
    return out


def _record(user: list[str], answer: list[str]) -> str:
    msgs = [{"role": "user", "content": " ".join(user) + "?"}, {"role": "assistant", "content": " ".join(answer) + "."}]
    return json.dumps({"messages": msgs}) + "\n"


def write_files(base: Path, n: int, templates: int, seed: int = 0) -> tuple[Path, Path, Path]:
    """(duplicate-heavy, duplicate-free, shared-boilerplate) files of n records each, ~300 words per record.

    In the third, every answer ends with the same 180-word passage after ~120 words of its own:
    records collide in LSH everywhere but are not near-duplicates (Jaccard ~0.45): the case that
    makes the bounds of the crowded-bucket walk matter."""
    heavy, free, shared = base / f"heavy-{n}-{templates}.jsonl", base / f"free-{n}.jsonl", base / f"shared-{n}.jsonl"
    rng = random.Random(seed)
    vocab, cum = vocabulary(rng)

    def text() -> tuple[list[str], list[str]]:
        user = rng.choices(vocab, cum_weights=cum, k=rng.randint(20, 50))
        return user, rng.choices(vocab, cum_weights=cum, k=rng.randint(220, 300))

    if not heavy.exists():
        pool = [text() for _ in range(templates)]
        with open(heavy, "w", encoding="utf-8") as f:
            for _ in range(n):
                user, answer = rng.choice(pool)
                f.write(_record(_edit(user, rng, vocab, cum), _edit(answer, rng, vocab, cum)))
    if not free.exists():
        with open(free, "w", encoding="utf-8") as f:
            for _ in range(n):
                f.write(_record(*text()))
    if not shared.exists():
        passage = rng.choices(vocab, cum_weights=cum, k=180)
        with open(shared, "w", encoding="utf-8") as f:
            for _ in range(n):
                user, answer = text()
                f.write(_record(user, answer[: rng.randint(110, 130)] + passage))
    return heavy, free, shared


def run(path: Path, jobs: int) -> tuple[Measured, dict, float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-heavy-cache-") as cache:
        args = [*CURATE, "check", str(path), "-s", "dedup", "-f", "json", "--jobs", str(jobs)]
        before = load_average()
        m = measure(args, env={"CURATE_CACHE_DIR": cache})
        after = load_average()
    if m.returncode not in (0, 1):
        sys.stderr.write(m.stderr.decode()[-3000:])
        raise SystemExit(f"curate exited {m.returncode}")
    return m, json.loads(m.stdout), before, after


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--templates", type=int, default=48)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--keep", help="keep generated data in this directory (reused when present)")
    opts = ap.parse_args()
    base = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="bench-heavy-"))
    base.mkdir(parents=True, exist_ok=True)
    heavy, free, shared = write_files(base, opts.records, opts.templates)
    print(
        f"{os.cpu_count()} cores; {opts.records:,} records per file; heavy = light edits of {opts.templates} templates"
    )
    print(
        "| file | wall s | CPU s (all processes) | peak MB (tree) | near-duplicate findings | pairs verified |"
        " bounds reached (check_limited / list_full / over_budget) | load before / after |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    rows = {}
    for label, path in (("duplicate-free", free), ("duplicate-heavy", heavy), ("shared boilerplate", shared)):
        m, report, before, after = run(path, opts.jobs)
        near = report["stats"].get("dedup", {}).get("near", {})
        rows[label] = m
        print(
            f"| {label} | {m.wall:.1f} | {m.cpu:.1f} | {m.tree_peak_mb:,.0f} | "
            f"{report['summary']['by_rule'].get('near-duplicate', 0):,} | {near.get('candidate_pairs', 0):,} | "
            f"{near.get('check_limited', 0):,} / {near.get('list_full', 0):,} / {near.get('over_budget', 0):,} | "
            f"{before:.1f} / {after:.1f} |",
            flush=True,
        )
    f = rows["duplicate-free"]
    print()
    for label in ("duplicate-heavy", "shared boilerplate"):
        h = rows[label]
        print(
            f"{label} / duplicate-free: wall {h.wall / f.wall:.2f}x, CPU {h.cpu / f.cpu:.2f}x, "
            f"peak memory {h.tree_peak / f.tree_peak:.2f}x (target: at most 2x each)"
        )


if __name__ == "__main__":
    main()
