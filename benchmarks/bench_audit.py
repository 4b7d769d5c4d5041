"""The whole default audit at 10k / 100k / 1M records, each family alone, peak memory, the cache,
and the same work done the obvious way (one process, every library on every text) for a ratio.

    .venv/bin/python benchmarks/bench_audit.py --sizes 10000 100000 [--families] [--naive] [--no-cache-run]
        [--data /tmp/s1m.jsonl ...] [--first-only] [--out FILE]

Prints a Markdown table (benchmarks/RESULTS.md collects them; the README links it), with the
load average next to each row. Data is generated into a temporary directory with
benchmarks/synth.py (or given with --data: a 1M file takes a while to write); nothing under
../shared is read. Each size runs cold (filling an empty cache, as a user's first run does) and
again unchanged (the cache).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import load_average, measure  # noqa: E402
from synth import write_dataset  # noqa: E402

FAMILIES = ["schema", "tokens", "dedup", "pii", "balance", "quality"]
CURATE = [sys.executable, "-m", "curate"]


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (all processes), peak RSS MB of the whole process tree, exit code."""
    m = measure(args, env)
    if m.returncode not in (0, 1):
        sys.stderr.write(m.stderr.decode(errors="replace")[-2000:])
    return m.wall, m.cpu, m.tree_peak_mb, m.returncode


def naive(path: Path, limit: int) -> tuple[float, float]:
    """One process, presidio + langdetect on every text, datasketch per-token updates, tiktoken per text:
    (wall seconds, CPU seconds)."""
    import orjson
    from datasketch import MinHash, MinHashLSH
    from langdetect import DetectorFactory, detect
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from curate.checks.pii.analyzer import _offline_tldextract
    from curate.tokenizer import get_encoding  # offline vocabulary

    _offline_tldextract()  # presidio's URL recognizer would try to download the public suffix list
    DetectorFactory.seed = 0
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "no_op"}]}
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    enc = get_encoding("o200k_base")
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    t0, c0 = time.perf_counter(), time.process_time()
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            if i >= limit:
                break
            rec = orjson.loads(line)
            texts = [m["content"] for m in rec["messages"]]
            for t in texts:
                analyzer.analyze(t, language="en")
                enc.encode_ordinary(t)
            with contextlib.suppress(Exception):
                detect(" ".join(texts))
            m = MinHash(num_perm=128)
            for w in " ".join(texts).split():
                m.update(w.encode())
            lsh.query(m)
            lsh.insert(str(i), m)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--data", type=Path, nargs="*", default=[], help="existing synth.py files to use for these sizes")
    ap.add_argument("--families", action="store_true", help="also time each family alone")
    ap.add_argument("--naive", action="store_true", help="also time the obvious way on 10k records")
    ap.add_argument("--no-cache-run", action="store_true", help="also time a run with --no-cache")
    ap.add_argument("--rules", default="default", help="rule set for the full audit (default, fast, ...)")
    ap.add_argument("--first-only", action="store_true", help="skip the second run over the unchanged file")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--tmp", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    given = {sum(1 for _ in p.open("rb")): p for p in args.data}

    def row(n: int, mb: float, what: str, measured: tuple[float, float, float, int]) -> None:
        wall, cpu, peak, _ = measured
        rows.append((n, mb, what, wall, cpu, peak, load_average()))
        print(rows[-1], flush=True)

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        for n in args.sizes:
            data = given.get(n) or Path(tmp) / f"chat_{n}.jsonl"
            if n not in given:
                write_dataset(data, n)
            mb = data.stat().st_size / 1e6
            cache_env = {"CURATE_CACHE_DIR": str(Path(tmp) / f"cache_{n}")}
            full = [*CURATE, "check", str(data), "--rules", args.rules, "--format", "json"]
            if args.no_cache_run:
                row(n, mb, f"full audit, --rules {args.rules}, --no-cache", run([*full, "--no-cache"], cache_env))
            row(n, mb, f"full audit, --rules {args.rules}, first run (fills the cache)", run(full, cache_env))
            if not args.first_only:
                row(n, mb, "full audit, second run, unchanged file (cache)", run(full, cache_env))
            if args.families:
                for fam in FAMILIES:
                    cmd = [*CURATE, "check", str(data), "--select", fam, "--format", "json", "--no-cache"]
                    row(n, mb, f"{fam} only, --no-cache", run(cmd))
            shutil.rmtree(Path(tmp) / f"cache_{n}", ignore_errors=True)
        naive_row = None
        if args.naive:
            n = 10_000
            data = Path(tmp) / "naive.jsonl"
            write_dataset(data, n)
            t_naive, c_naive = naive(data, n)
            wall, cpu, _, _ = run([*CURATE, "check", str(data), "--format", "json", "--no-cache"])
            naive_row = (n, t_naive, wall, c_naive, cpu)
            print(naive_row, flush=True)
    lines = [
        f"# Benchmark results\n\nMachine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}. Reproduce: `{' '.join(['.venv/bin/python', *sys.argv])}`\n",
        "| records | MB | run | wall s | records/s | CPU s (all processes) | peak RSS MB (all processes) | load |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, mb, what, wall, cpu, peak, load in rows:
        lines.append(
            f"| {n:,} | {mb:,.0f} | {what} | {wall:,.1f} | {n / wall:,.0f} | {cpu:,.1f} | {peak:,.0f} | {load:.1f} |"
        )
    if naive_row:
        n, t_naive, t_curate, c_naive, c_curate = naive_row
        lines.append(
            f"\nThe obvious way (one process; presidio, langdetect, tiktoken on every text; datasketch "
            f"per-token MinHash + LSH) on {n:,} records: {t_naive:,.1f} s; curate's full audit of the same "
            f"file: {t_curate:,.1f} s; speed-up {t_naive / t_curate:,.1f}x wall. CPU seconds (what a loaded "
            f"machine does not inflate): {c_naive:,.1f} against {c_curate:,.1f} (all processes), "
            f"{c_naive / c_curate:,.1f}x."
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
