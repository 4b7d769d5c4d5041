"""`curate diff`: a 100,000-record file against a copy with 1% of its records edited, cold and warm.

    nice -n 10 .venv/bin/python benchmarks/bench_diff.py [--records 100000] [--changed 0.01] [--rules default]
        [--no-git] [--scale]

Runs the real CLI (`python -m curate diff OLD NEW --format json`) in a fresh cache directory.
Rows: the first diff (cold cache: OLD computed, NEW's unchanged records replayed from the per-record
cache), the same diff again (warm: both sides replay), with --scale a plain `curate check` of OLD, and
the same two files as two commits of a git repository (`curate diff data.jsonl --rev HEAD~1`),
cold and warm. Checks the diff finds exactly the edited records. Data from benchmarks/synth.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _measure import load_average, measure  # noqa: E402
from synth import write_dataset  # noqa: E402

CURATE = [sys.executable, "-m", "curate"]


def edited_copy(src: Path, dest: Path, every: int) -> int:
    """`src` with every `every`-th record's last message changed; returns how many were edited."""
    edited = 0
    with open(src, "rb") as f, open(dest, "wb") as out:
        for i, line in enumerate(f):
            if i % every == every - 1:
                try:
                    rec = orjson.loads(line)
                    rec["messages"][-1]["content"] += " (revised after review)"
                    line = orjson.dumps(rec) + b"\n"
                    edited += 1
                except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
                    pass
            out.write(line)
    return edited


def run(
    name: str, args: list[str], env: dict[str, str], cwd: str | None = None
) -> tuple[str, dict, float, float, float, float]:
    m = measure(args, env, cwd=cwd)
    if m.returncode != 0:
        sys.exit(f"{name}: curate failed ({m.returncode}): {m.stderr.decode(errors='replace')[-2000:]}")
    doc = orjson.loads(m.stdout) if m.stdout.strip().startswith(b"{") else {}
    return name, doc, m.wall, m.cpu, load_average(), m.tree_peak_mb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--rules", default="default")
    ap.add_argument("--no-git", action="store_true", help="skip the git-revision rows")
    ap.add_argument("--scale", action="store_true", help="also time a plain cold `curate check OLD`")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-diff-"))
    try:
        old = write_dataset(tmp / "old.jsonl", a.records, seed=1)
        new = tmp / "new.jsonl"
        edited = edited_copy(old, new, round(1 / a.changed))
        env = {**os.environ, "CURATE_CACHE_DIR": str(tmp / "cache")}
        diff = [*CURATE, "diff", str(old), str(new), "--format", "json", "--rules", a.rules]
        rows = [run("diff, cold cache", diff, env), run("diff again, warm cache", diff, env)]
        if a.scale:
            check_env = {**env, "CURATE_CACHE_DIR": str(tmp / "cache-check")}
            check = [*CURATE, "check", str(old), "-f", "json", "--fail-on", "never"]
            rows.append(run("for scale: `curate check OLD`, cold", check, check_env))
        if not a.no_git:
            repo = tmp / "repo"
            repo.mkdir()
            git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
            shutil.copyfile(old, repo / "data.jsonl")
            subprocess.run([*git, "init", "-q"], check=True)
            subprocess.run([*git, "add", "data.jsonl"], check=True)
            subprocess.run([*git, "commit", "-qm", "old"], check=True)
            shutil.copyfile(new, repo / "data.jsonl")
            subprocess.run([*git, "commit", "-qam", "new"], check=True)
            git_env = {**env, "CURATE_CACHE_DIR": str(tmp / "cache-git")}
            by_rev = [*CURATE, "diff", "data.jsonl", "--rev", "HEAD~1", "--format", "json", "--rules", a.rules]
            rows.append(run("git: `diff data.jsonl --rev HEAD~1`, cold", by_rev, git_env, cwd=str(repo)))
            rows.append(run("git: the same, warm", by_rev, git_env, cwd=str(repo)))
        print(
            f"curate diff: {a.records:,} records ({old.stat().st_size / 1e6:.0f} MB) against a copy with {edited:,} "
            f"edited, rules {a.rules}, {os.cpu_count()} CPUs"
        )
        print("| run | wall s | CPU s | peak MB (all processes) | load average |")
        print("|---|---:|---:|---:|---:|")
        for name, _, wall, cpu, load, peak in rows:
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {peak:,.0f} | {load:.1f} |")
        for name, doc, *_ in rows:
            r = doc.get("records")
            if r and (r["changed"], r["added"], r["removed"]) != (edited, 0, 0):
                sys.exit(f"{name}: expected {edited} changed records, got {r}")
        print(f"every diff found exactly the {edited:,} edited records (0 added, 0 removed)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
