"""The result cache: a 100,000-record file checked cold, again unchanged, and after appending 1,000 records.

    .venv/bin/python benchmarks/bench_cache.py [--records 100000] [--append 1000] [--rules default]

Runs the real CLI (`python -m curate check FILE --format json`) in a fresh cache directory
(CURATE_CACHE_DIR in a temporary folder), so start-up, reading, the dataset checks and the
report are all in the figures. Also checks that the cached reports equal the uncached one.
Data comes from benchmarks/synth.py (deterministic); nothing under ../shared is read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from synth import write_dataset  # noqa: E402

CURATE = [sys.executable, "-m", "curate", "check"]


def timed(args: list[str], env: dict[str, str]) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"curate failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    return wall, orjson.loads(proc.stdout)


def comparable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("timing",)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--append", type=int, default=1_000)
    ap.add_argument("--rules", default="default")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-cache-"))
    try:
        data = write_dataset(tmp / "data.jsonl", a.records, seed=1)
        env = {**os.environ, "CURATE_CACHE_DIR": str(tmp / "cache")}
        base = [*CURATE, str(data), "--format", "json", "--rules", a.rules]
        rows = []
        t_nocache, r_nocache = timed([*base, "--no-cache"], env)
        rows.append(("no cache", t_nocache))
        t_cold, r_cold = timed(base, env)
        rows.append(("first run (fills the cache)", t_cold))
        t_warm, r_warm = timed(base, env)
        rows.append(("second run, unchanged file", t_warm))
        same = comparable(r_nocache) == comparable(r_cold) == comparable(r_warm)
        grown = tmp / "grown.jsonl"
        shutil.copyfile(data, grown)
        extra = write_dataset(tmp / "extra.jsonl", a.append, seed=2)
        with open(grown, "ab") as f:
            f.write(extra.read_bytes())
        base_grown = [*CURATE, str(grown), "--format", "json", "--rules", a.rules]
        t_grown, r_grown = timed(base_grown, env)
        rows.append((f"after appending {a.append:,} records", t_grown))
        t_grown_nc, r_grown_nc = timed([*base_grown, "--no-cache"], env)
        rows.append((f"after appending {a.append:,} records, no cache", t_grown_nc))
        same = same and comparable(r_grown) == comparable(r_grown_nc)
        size = sum(p.stat().st_size for p in (tmp / "cache").rglob("*") if p.is_file())
        print(
            f"curate result cache, {a.records:,} records ({data.stat().st_size / 1e6:.0f} MB), rules {a.rules}, "
            f"{os.cpu_count()} CPUs"
        )
        print("| run | seconds | speed-up vs first run |")
        print("|---|---:|---:|")
        for name, t in rows:
            print(f"| {name} | {t:.2f} | {t_cold / t:.1f}x |")
        print(f"cache size on disk: {size / 1e6:.1f} MB; cached reports identical to uncached: {same}")
        if not same:
            sys.exit("cached and uncached reports differ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
