"""Schema-only audit speed and memory by source kind: gzip, zstd and Parquet against plain JSONL.

    .venv/bin/python benchmarks/bench_sources.py                       # 1,000,000 and 500,000 records
    .venv/bin/python benchmarks/bench_sources.py -n 200000 -n 400000   # two smaller sizes (loaded machine)

For each size, writes `benchmarks/synth.py` chat records as plain JSONL, then the same records as
`.jsonl.gz`, `.jsonl.zst` and `.parquet` (row groups of 10,000), into a temporary directory (never
the repo), and runs `curate check F --select schema --no-cache --format json` on each. Reports wall
and CPU seconds (all processes), records per CPU second, the ratio to plain JSONL in the same run
(target >= 0.8), and the peak RSS of the process tree. Peak memory must not grow with the size
(two sizes). The 1-minute load average is printed beside the figures: on a shared machine compare
CPU seconds and ratios, not wall time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import load_average, measure  # noqa: E402
from synth import write_dataset  # noqa: E402

CURATE = [sys.executable, "-m", "curate"]


def derived(plain: Path) -> dict[str, Path]:
    """The same records in each container and table kind, written from the plain file in a stream."""
    import pyarrow as pa
    import pyarrow.json as pajson
    import pyarrow.parquet as pq
    import zstandard

    out = {"plain": plain}
    gz = plain.with_suffix(".jsonl.gz")
    with open(plain, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    out["gzip"] = gz
    zst = plain.with_suffix(".jsonl.zst")
    with open(plain, "rb") as src, open(zst, "wb") as raw:
        zstandard.ZstdCompressor(level=3).copy_stream(src, raw)
    out["zstd"] = zst
    parquet = plain.with_suffix(".parquet")
    reader = pajson.open_json(plain, read_options=pajson.ReadOptions(block_size=8 << 20))
    with pq.ParquetWriter(parquet, reader.schema) as writer:
        for batch in reader:
            writer.write_table(pa.Table.from_batches([batch]), row_group_size=10_000)
    out["parquet"] = parquet
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, action="append", help="records (repeat for several sizes)")
    ap.add_argument("-j", "--jobs", type=int, default=0)
    ap.add_argument("--kinds", default="plain,gzip,zstd,parquet", help="comma-separated subset (plain comes first)")
    args = ap.parse_args()
    sizes = args.n or [1_000_000, 500_000]
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-sources-"))
    rows = []
    try:
        for n in sizes:
            plain = write_dataset(tmp / f"chat-{n}.jsonl", n)
            files = derived(plain)
            base = None
            kinds = args.kinds.split(",")
            for kind, path in files.items():
                if kind not in kinds:
                    continue
                cmd = [*CURATE, "check", str(path), "--select", "schema", "--no-cache", "-f", "json"]
                if args.jobs:
                    cmd += ["-j", str(args.jobs)]
                load = load_average()
                m = measure(cmd)
                if m.returncode not in (0, 1):
                    sys.exit(f"{kind}: exit {m.returncode}: {m.stderr.decode()[-2000:]}")
                records = sum(d["records"] for d in json.loads(m.stdout)["datasets"])
                per_cpu = records / m.cpu
                base = per_cpu if kind == "plain" else base
                row = {
                    "records": n,
                    "kind": kind,
                    "MB": round(path.stat().st_size / 2**20, 1),
                    "wall_s": round(m.wall, 1),
                    "cpu_s": round(m.cpu, 1),
                    "records_per_cpu_s": round(per_cpu),
                    "vs_plain": round(per_cpu / base, 2) if base else None,
                    "peak_MB": round(m.tree_peak_mb),
                    "load": round(load, 1),
                    "read": records,
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
            for path in files.values():
                path.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| records | kind | file MB | wall s | CPU s | records/CPU s | vs plain | peak MB | load |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['records']:,} | {r['kind']} | {r['MB']} | {r['wall_s']} | {r['cpu_s']} | "
            f"{r['records_per_cpu_s']:,} | {r['vs_plain']} | {r['peak_MB']} | {r['load']} |"
        )


if __name__ == "__main__":
    main()
