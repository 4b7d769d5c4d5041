"""PII audit speed: `curate check` with only the pii rules on generated chat records.

    .venv/bin/python benchmarks/bench_pii.py [--n 100000] [--jobs 2] [--ner-sample 300]

Writes N chat records of ~500 characters (5% with planted PII, 20% with id/date/version noise)
to a temporary file, runs the pattern-only audit end to end in a subprocess (reading, parsing,
workers, findings, JSON report; no cache), and then measures what NER (PERSON/LOCATION through
spaCy) costs per record on a sample, when the optional model is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from curate.checks.pii.synth import chat_record, faker

BASELINE = """rules:
  blank-line: {check: schema.blank_line}
"""
RULES = """rules:
  personal-data: {check: pii.entities}
  secret-in-text: {check: pii.secrets}
"""


def write_data(path: Path, n: int, seed: int = 5) -> float:
    r, fake = random.Random(seed), faker(seed)
    chars = 0
    with path.open("w", encoding="utf-8") as f:
        for _ in range(n):
            rec = chat_record(r, fake)
            chars += sum(len(m["content"]) for m in rec["messages"])
            f.write(json.dumps(rec) + "\n")
    return chars / n


def bench_check(path: Path, rules: Path, jobs: int) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (the process and its workers), and the JSON report."""
    env = {**os.environ, "CURATE_CACHE_DIR": str(path.parent / "cache")}
    cmd = [sys.executable, "-m", "curate", "check", str(path), "-r", str(rules), "--format", "json", "--no-cache"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([*cmd, "-j", str(jobs)], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, json.loads(proc.stdout)


def bench_ner(n: int) -> None:
    from curate.checks.pii.analyzer import Detector, build_analyzer, ner_status

    ok, why = ner_status()
    if not ok:
        print(f"NER: not measured ({why})")
        return
    r, fake = random.Random(9), faker(9)
    records = [[m["content"] for m in chat_record(r, fake)["messages"]] for _ in range(n)]
    det = Detector(frozenset({"PERSON", "LOCATION"}), ner="auto")
    build_analyzer(True)
    det.detect("warm up with Jane in Paris")
    t = time.process_time()
    found = sum(len(spans) for rec in records for spans in det.detect_many(rec))  # as extract does
    el = time.process_time() - t  # CPU time: the machine may be shared
    texts = [t for rec in records for t in rec]
    per_core = n / el
    print(
        f"NER (PERSON, LOCATION, {why}): {n} records in {el:.1f} s = {per_core:.0f} records/s per core "
        f"({len(texts) / el:.0f} texts/s, {found} names); "
        f"100,000 records on 2 cores ~ {100_000 / per_core / 2 / 60:.1f} min"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--ner-sample", type=int, default=300, help="records for the NER measurement (0: skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path, rules = Path(d) / "chat.jsonl", Path(d) / "pii.yaml"
        rules.write_text(RULES)
        t = time.perf_counter()
        avg = write_data(path, args.n)
        print(f"wrote {args.n:,} records, {avg:.0f} characters of text each, in {time.perf_counter() - t:.1f} s")
        base = Path(d) / "base.yaml"
        base.write_text(BASELINE)
        bel, bcpu, _ = bench_check(path, base, args.jobs)
        print(f"baseline (read, parse, normalise; one trivial rule): {bel:.1f} s wall, {bcpu:.1f} CPU s")
        el, cpu, report = bench_check(path, rules, args.jobs)
        stats = report["stats"].get("pii", {})
        print(
            f"curate check (pii.entities + pii.secrets, pattern recognizers, -j {args.jobs}): {args.n:,} records "
            f"in {el:.1f} s wall = {args.n / el:,.0f} records/s; {cpu:.1f} CPU s in all processes "
            f"(load average now {os.getloadavg()[0]:.1f}); {len(report['findings']):,} findings in "
            f"{stats.get('records_with_pii', 0):,} + {stats.get('records_with_secrets', 0):,} records"
        )
    if args.ner_sample:
        bench_ner(args.ner_sample)


if __name__ == "__main__":
    main()
