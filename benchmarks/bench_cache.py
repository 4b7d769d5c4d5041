"""The result cache: a 100,000-record file checked cold, again unchanged, and after appending 1,000 records.

    .venv/bin/python benchmarks/bench_cache.py [--records 100000] [--append 1000] [--rules default]
        [--ignore pii] [--uncached]

Runs the real CLI (`python -m curate check FILE --format json`) in a fresh cache directory
(CURATE_CACHE_DIR in a temporary folder), so start-up, reading, the dataset checks and the
report are all in the figures. Checks that the replayed report equals the computed one (and,
with --uncached, that cached and uncached runs agree, at the price of two more full runs).
Data comes from benchmarks/synth.py (deterministic); nothing under ../shared is read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _measure import load_average, measure  # noqa: E402
from synth import write_dataset  # noqa: E402

CURATE = [sys.executable, "-m", "curate", "check"]


class Run(NamedTuple):
    wall: float
    cpu: float  # user + sys of curate and its worker processes: the load-independent figure
    load: float  # 1-minute load average when the run ended (2 CPUs shared with other jobs)
    report: dict


def timed(args: list[str], env: dict[str, str]) -> Run:
    m = measure(args, env)
    if m.returncode not in (0, 1):
        sys.exit(f"curate failed ({m.returncode}): {m.stderr.decode(errors='replace')[-2000:]}")
    return Run(m.wall, m.cpu, load_average(), orjson.loads(m.stdout))


def comparable(report: dict) -> dict:
    """The report minus the dedup check's own cache provenance (signatures sketched / read back)."""
    near = report.get("stats", {}).get("dedup", {}).get("near", {})
    for key in ("from_cache", "sketched"):
        near.pop(key, None)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--append", type=int, default=1_000)
    ap.add_argument("--rules", default="default")
    ap.add_argument("--select", default=None, help="only these rules or families (comma-separated)")
    ap.add_argument("--ignore", default=None, help="skip these rules or families, e.g. pii (the slowest)")
    ap.add_argument("--uncached", action="store_true", help="also time --no-cache runs and compare reports")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-cache-"))
    try:
        data = write_dataset(tmp / "data.jsonl", a.records, seed=1)
        env = {**os.environ, "CURATE_CACHE_DIR": str(tmp / "cache")}
        opts = ["--format", "json", "--rules", a.rules]
        opts += ["--select", a.select] if a.select else []
        opts += ["--ignore", a.ignore] if a.ignore else []
        rows = []
        if a.uncached:
            rows.append(("no cache", timed([*CURATE, str(data), *opts, "--no-cache"], env)))
        cold = timed([*CURATE, str(data), *opts], env)
        rows.append(("first run (fills the cache)", cold))
        warm = timed([*CURATE, str(data), *opts], env)
        rows.append(("second run, unchanged file", warm))
        same = comparable(cold.report) == comparable(warm.report)
        if a.uncached:
            same = same and comparable(rows[0][1].report) == comparable(cold.report)
        grown = tmp / "grown.jsonl"
        shutil.copyfile(data, grown)
        extra = write_dataset(tmp / "extra.jsonl", a.append, seed=2)
        with open(grown, "ab") as f:
            f.write(extra.read_bytes())
        grown_run = timed([*CURATE, str(grown), *opts], env)
        rows.append((f"after appending {a.append:,} records", grown_run))
        if a.uncached:
            grown_nc = timed([*CURATE, str(grown), *opts, "--no-cache"], env)
            rows.append((f"after appending {a.append:,} records, no cache", grown_nc))
            same = same and comparable(grown_run.report) == comparable(grown_nc.report)
        size = sum(p.stat().st_size for p in (tmp / "cache").rglob("*") if p.is_file())
        chosen = (
            f"rules {a.rules}"
            + (f", --select {a.select}" if a.select else "")
            + (f", --ignore {a.ignore}" if a.ignore else "")
        )
        print(
            f"curate result cache: {a.records:,} records ({data.stat().st_size / 1e6:.0f} MB), {chosen}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        print("| run | wall s | CPU s | speed-up (wall) | speed-up (CPU) | load average |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r in rows:
            ratios = f"{cold.wall / r.wall:.1f}x | {cold.cpu / r.cpu:.1f}x"
            print(f"| {name} | {r.wall:.2f} | {r.cpu:.2f} | {ratios} | {r.load:.1f} |")
        print(f"cache on disk: {size / 1e6:.1f} MB; reports identical: {same}")
        if not same:
            out = Path(__file__).parent / "out"
            out.mkdir(exist_ok=True)
            for name, report in (("computed", cold.report), ("replayed", warm.report)):
                (out / f"cache-{name}.json").write_bytes(orjson.dumps(comparable(report), option=orjson.OPT_INDENT_2))
            sys.exit(f"cached and uncached reports differ: see {out}/cache-computed.json and cache-replayed.json")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
