"""Cost of n-gram contamination (`eval-contamination` with `ngram: 13`) on 100k training records.

    nice -n 10 .venv/bin/python benchmarks/bench_contamination.py --records 100000 --questions 5000

Training data: `synth.py` chat records, plus 100 records that wrap an evaluation question in
instructions (the planted contamination). Evaluation file: `--questions` synthetic benchmark
questions (20-60 words) with short answers, written as Parquet (a benchmark's hub file).

Two measurements, each with whole-record matching alone (`ngram: 0`) and with n-grams (default):
1. `curate check TRAIN --against EVAL -s eval-contamination --no-cache` end to end: wall and CPU
   seconds of all processes, peak memory of the process tree, planted copies found.
2. In one process, CPU seconds of the check's `extract` over every record (records read and
   normalised first, not timed): the added CPU per record, without the engine's noise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from _measure import load_average, measure  # noqa: E402
from synth import EN, _text, write_dataset  # noqa: E402

CURATE = [sys.executable, "-m", "curate"]
PLANTED = 100
RULES = "rules:\n  eval-contamination: {{check: dedup.contamination, params: {{ngram: {ngram}}}}}\n"


def write_eval(path: Path, n: int, seed: int = 1) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    questions = [_text(rng, EN, rng.randint(20, 60)) for _ in range(n)]
    answers = [_text(rng, EN, rng.randint(1, 6)) for _ in range(n)]
    pq.write_table(pa.table({"question": questions, "answer": answers}), path)
    return questions


def write_train(path: Path, n: int, questions: list[str], seed: int = 2) -> None:
    write_dataset(path, n - PLANTED, seed=seed)
    rng = random.Random(seed)
    with open(path, "a", encoding="utf-8") as f:
        for q in rng.sample(questions, PLANTED):
            user = f"Please solve carefully: {q.upper()} Answer in French."
            msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": _text(rng, EN, 40)}]
            f.write(json.dumps({"messages": msgs}) + "\n")


def in_process(train: Path, evals: Path) -> dict[str, float]:
    """CPU seconds over every training record of: `extract` with whole-record matching only,
    `NgramIndex.find` alone (on word hashes computed before, as the sketch leaves them), and
    `extract` with both; the records are read and normalised first (not timed), each pass twice,
    the best kept."""
    from curate.check import RunContext
    from curate.checks.dedup.common import selected_word_hashes
    from curate.io.reader import iter_records
    from curate.registry import load_registry

    cls = load_registry().checks["dedup.contamination"]
    ctx = RunContext(against=(str(evals),), paths=(str(train),), use_cache=False)
    whole, both = (cls(cls.Params.model_validate({"ngram": n, "cache": False}), ctx, None) for n in (0, 13))
    records = [r for r in iter_records(str(train)) if r.ok and r.conversation.readable]
    index = both._ngram_index()
    whole.extract(records[0])  # builds the MinHash index: not timed

    hashed = [selected_word_hashes(r, "conversation", None) for r in records]  # as the sketch left them

    def ngrams_only() -> int:
        return sum(1 for w in hashed if index.find(w, 13) is not None)

    out: dict[str, float] = {}
    for name, work in (
        ("whole records", lambda: [whole.extract(r) for r in records]),
        ("n-grams alone", ngrams_only),
        ("both", lambda: [both.extract(r) for r in records]),
    ):
        best = float("inf")
        for _ in range(2):
            start = time.process_time()
            result = work()
            best = min(best, time.process_time() - start)
        out[name] = best
        if name == "n-grams alone":
            out["found"] = result  # type: ignore[assignment]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--questions", type=int, default=5_000)
    ap.add_argument("--skip-cli", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        evals, train = d / "eval.parquet", d / "train.jsonl"
        questions = write_eval(evals, args.questions)
        write_train(train, args.records, questions)
        print(
            f"{args.records:,} training records ({train.stat().st_size / 2**20:.0f} MB), "
            f"{args.questions:,} questions ({evals.stat().st_size / 2**20:.1f} MB Parquet)"
        )
        start = time.process_time()
        from curate.check import RunContext
        from curate.registry import load_registry

        cls = load_registry().checks["dedup.contamination"]
        check = cls(
            cls.Params.model_validate({"cache": False}), RunContext(against=(str(evals),), use_cache=False), None
        )
        index = check._ngram_index()
        print(
            f"n-gram index: {len(index.hashes):,} n-grams of {len(index):,} questions, "
            f"{time.process_time() - start:.2f} CPU s to build, "
            f"{(index.hashes.nbytes + index.rows.nbytes + index.pos.nbytes) / 2**20:.1f} MB of arrays"
        )
        rows = in_process(train, evals)
        per = {k: 1e6 * v / args.records for k, v in rows.items() if k != "found"}
        print(
            f"in process (load {load_average():.1f}): extract, whole records only "
            f"{per['whole records']:.1f} us/record; "
            f"find alone {per['n-grams alone']:.1f} us/record ({rows['found']:.0f} records with a shared span); "
            f"extract with both {per['both']:.1f} us/record (+{per['both'] - per['whole records']:.1f})"
        )
        if args.skip_cli:
            return
        for ngram in (0, 13):
            rules = d / f"rules-{ngram}.yaml"
            rules.write_text(RULES.format(ngram=ngram))
            env = {"CURATE_CACHE_DIR": str(d / f"cache-{ngram}"), "XDG_CACHE_HOME": str(d / f"xdg-{ngram}")}
            cmd = [*CURATE, "check", str(train), "--against", str(evals), "-r", str(rules), "--no-cache", "-f", "json"]
            before = load_average()
            m = measure(cmd, env={**os.environ, **env})
            report = json.loads(m.stdout)
            planted = sum(1 for f in report["findings"] if f["line"] > args.records - PLANTED)
            print(
                f"CLI ngram={ngram}: wall {m.wall:.1f} s, CPU {m.cpu:.1f} s, peak {m.tree_peak_mb:.0f} MB, "
                f"findings {len(report['findings'])}, planted found {planted}/{PLANTED}, "
                f"load {before:.1f} -> {load_average():.1f}"
            )


if __name__ == "__main__":
    main()
