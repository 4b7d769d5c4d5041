"""dedup.semantic + balance.topics at scale (issue 20 target: 100k records < 2 min on 2 cores, < 1 GB).

    .venv/bin/python benchmarks/bench_semantic.py --sizes 100000 [--jobs 2] [--keep DIR]

Writes chat records with topic structure (each of 400 topics draws its content words from its own
slice of the embedding model's English vocabulary, inside a few dozen sentence templates; 2% are
reworded copies of an earlier record: words shuffled, some replaced), then runs
`curate check -r semantic -s semantic-duplicate,topic-coverage --no-cache -f json` and prints wall
seconds, CPU seconds of all processes, the peak memory of the process tree (benchmarks/_measure.py),
the load average before and after, and the planted copies found. Random words are not language:
the similarity figures of docs/semantic.md come from real and hand-written data, not from here.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from _measure import load_average, measure  # noqa: E402

CURATE = [sys.executable, "-m", "curate"]
TEMPLATES = [
    "How do I {a} the {b} when the {c} is {d}?",
    "Explain why {a} {b} matters for {c} and {d}.",
    "Write a short note about {a}, {b} and {c}.",
    "What is the difference between {a} and {b} in {c}?",
    "Give me three ideas for {a} with {b}, {c} and {d}.",
    "Can you summarise how {a} affects {b} for {c}?",
    "List the steps to {a} a {b} using {c}.",
    "Why does my {a} {b} every time I {c} the {d}?",
]


def english_words() -> list[str]:
    from curate.embeddings import embedder

    vocab = embedder().vocabulary()
    return sorted({w.lower() for w in vocab if w.isascii() and w.isalpha() and len(w) >= 4})


def write_dataset(path: Path, n: int, seed: int = 0, copy_rate: float = 0.02) -> dict[int, int]:
    """n records; returns the planted reworded copies: line -> line of the original."""
    rng = random.Random(seed)
    words = english_words()
    rng.shuffle(words)
    topics = [words[i * 20 : i * 20 + 60] for i in range(400)]
    truth: dict[int, int] = {}
    recent: list[tuple[int, list[str], str]] = []
    with open(path, "w", encoding="utf-8") as f:
        for line in range(1, n + 1):
            if recent and rng.random() < copy_rate:
                orig_line, slots, answer = rng.choice(recent)
                slots = slots[:]
                rng.shuffle(slots)
                truth[line] = orig_line
                prompt = rng.choice(TEMPLATES).format(a=slots[0], b=slots[1], c=slots[2], d=slots[3])
            else:
                topic = rng.choice(topics)
                slots = rng.sample(topic, 4)
                prompt = rng.choice(TEMPLATES).format(a=slots[0], b=slots[1], c=slots[2], d=slots[3])
                answer = " ".join(rng.choices(topic, k=rng.randint(20, 120))) + "."
                if len(recent) < 2000:
                    recent.append((line, slots, answer))
                else:
                    recent[rng.randrange(2000)] = (line, slots, answer)
            rec = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}
            f.write(json.dumps(rec) + "\n")
    return truth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            path = folder / f"semantic-{n}.jsonl"
            truth = write_dataset(path, n)
            before = load_average()
            cmd = [*CURATE, "check", str(path), "-r", "semantic", "-s", "semantic-duplicate,topic-coverage"]
            m = measure([*cmd, "--no-cache", "-f", "json", "-j", str(args.jobs), "--fail-on", "never"])
            report = json.loads(m.stdout)
            found = {
                f["line"]: f["data"]["duplicate_of"] for f in report["findings"] if f["rule"] == "semantic-duplicate"
            }
            hit = sum(1 for line, orig in truth.items() if found.get(line) == orig)
            sem = report["stats"]["dedup"]["semantic"]
            cov = report["stats"]["coverage"]
            print(
                f"{n:,} records: wall {m.wall:.1f} s, cpu {m.cpu:.1f} s, peak tree memory {m.tree_peak_mb:.0f} MB, "
                f"load {before:.1f} -> {load_average():.1f}; search {sem['search']}, findings {len(found):,}, "
                f"planted copies {len(truth):,} found {hit:,}; topics {cov['topics']}"
            )


if __name__ == "__main__":
    main()
