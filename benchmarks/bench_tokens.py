"""Records/s of token counting on synthetic chat records (~2.5 KB each), one and two processes.

    .venv/bin/python benchmarks/bench_tokens.py            # 100,000 records
    .venv/bin/python benchmarks/bench_tokens.py --n 1000000 --encoding cl100k_base

Measures curate's own path: record dict -> Conversation -> chat-format counts (encode_ordinary per
message), plus, for comparison, `encode_ordinary_batch` over the same texts.
"""

from __future__ import annotations

import argparse
import random
import time
from concurrent.futures import ProcessPoolExecutor

_VOCAB = (
    "the model data training example answer question user assistant token cost price dataset limit "
    "epoch review quality python function return value error because which would could should about "
    "résumé naïve 東京 données größe 12345 3.14 {json: true} <tag> — “quoted” emoji 🙂"
)
WORDS = _VOCAB.split()


def make_records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)

    def text(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words))

    out = []
    for _ in range(n):
        out.append(
            {
                "messages": [
                    {"role": "system", "content": text(30)},
                    {"role": "user", "content": text(rng.randint(80, 160))},
                    {"role": "assistant", "content": text(rng.randint(150, 250))},
                ]
            }
        )
    return out


def count_chunk(args: tuple[list[dict], str]) -> int:
    from curate.checks.tokens.counting import counter
    from curate.model import Record

    records, encoding = args
    c = counter(encoding)
    total = 0
    for i, data in enumerate(records):
        total += c.conversation(Record("bench", i + 1, data).conversation).tokens
    return total


def batch_chunk(args: tuple[list[dict], str]) -> int:
    from curate.tokenizer import get_encoding

    records, encoding = args
    enc = get_encoding(encoding)
    texts = [m["content"] for r in records for m in r["messages"]]
    return sum(len(t) for t in enc.encode_ordinary_batch(texts))


def timed(fn, chunks: list[tuple[list[dict], str]], processes: int) -> tuple[float, int]:
    start = time.perf_counter()
    if processes == 1:
        cpu = time.process_time()
        total = sum(fn(c) for c in chunks)
        n = sum(len(c[0]) for c in chunks)
        # CPU time says what one free core does, even on a machine shared with other jobs
        print(f"{'':36} (1 process: {n / (time.process_time() - cpu):,.0f} records per CPU-second)")
    else:
        with ProcessPoolExecutor(processes, initializer=_warm, initargs=(chunks[0][1],)) as pool:
            total = sum(pool.map(fn, chunks))
    return time.perf_counter() - start, total


def _warm(encoding: str) -> None:
    from curate.tokenizer import get_encoding

    get_encoding(encoding)


def engine_run(records: list[dict], jobs: int) -> tuple[float, int]:
    """The whole audit path with only the tokens rules: read, parse, normalise, count, stats, cost."""
    import json
    import tempfile
    from pathlib import Path

    from curate.check import RunContext
    from curate.config import load_ruleset, select_rules
    from curate.run.engine import Engine, EngineOptions

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        rules = select_rules(load_ruleset("default").rules, ["tokens"], None)
        start = time.perf_counter()
        report = Engine(rules, RunContext(target="openai/gpt-4o-mini"), EngineOptions(jobs=jobs)).run([str(path)])
        return time.perf_counter() - start, report.stats["tokens"]["tokens_per_example"]["total"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--encoding", default="o200k_base")
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--no-engine", action="store_true", help="Skip the full-audit measurement.")
    args = ap.parse_args()

    t0 = time.perf_counter()
    records = make_records(args.n)
    size = sum(len(str(r)) for r in records[:1000]) / 1000
    print(f"{args.n:,} synthetic records, ~{size / 1000:.1f} KB each, generated in {time.perf_counter() - t0:.1f}s")
    _warm(args.encoding)  # vocabulary load is a one-off cost (~0.4 s), not part of the rate
    chunks = [(records[i : i + args.chunk], args.encoding) for i in range(0, len(records), args.chunk)]
    runs = (("curate count (encode_ordinary)", count_chunk), ("encode_ordinary_batch, texts only", batch_chunk))
    for label, fn in runs:
        for processes in (1, 2):
            secs, tokens = timed(fn, chunks, processes)
            print(
                f"{label:36} {processes} process{'es' if processes > 1 else '  '}: "
                f"{args.n / secs:>9,.0f} records/s  {tokens / secs / 1e6:5.2f} M tokens/s  ({secs:.1f}s)"
            )
    if not args.no_engine:
        for jobs in (1, 2):
            secs, tokens = engine_run(records, jobs)
            print(
                f"{'curate audit, tokens rules only':36} {jobs} process{'es' if jobs > 1 else '  '}: "
                f"{args.n / secs:>9,.0f} records/s  {tokens / secs / 1e6:5.2f} M tokens/s  ({secs:.1f}s)"
            )


if __name__ == "__main__":
    main()
