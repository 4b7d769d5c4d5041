"""CPU per record of each check of the default rules, in one process (no pool, no cache).

    .venv/bin/python benchmarks/bench_checks.py [--records 5000] [--data FILE] [--rules default] [--top 25]

A sampling profiler's shares depend on the machine's load; CPU seconds of each check measured
with `time.process_time` around its own call do not (much). Records come from
benchmarks/synth.py (or --data); parsing and normalising are counted once as "read". Prints
microseconds of CPU per record, largest first, and the total.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth import write_dataset  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--rules", default="default")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    from curate.check import RunContext
    from curate.config import load_ruleset
    from curate.io.reader import ReadOptions, iter_raw
    from curate.run.runner import Runner

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp) / "synth.jsonl"
        if args.data is None:
            write_dataset(data, args.records)
        runner = Runner(load_ruleset(args.rules).rules, RunContext(use_cache=False), ReadOptions(), None)
        items = [item for i, item in enumerate(iter_raw(str(data), ReadOptions())) if i < args.records]
    cost: dict[str, float] = {}
    clock = time.process_time
    t0 = clock()
    records = [runner.record(str(data), item) for item in items]
    for r in records:
        r.conversation  # noqa: B018 - normalising is part of reading
    cost["read (parse, normalise)"] = clock() - t0
    for record in records:  # a first pass loads models and fills per-process caches
        runner.run_record(record)
        break
    for record in records:
        for rule, check in runner.record_checks:
            t = clock()
            if check.applies(record):  # type: ignore[attr-defined]
                for _ in check.check(record):  # type: ignore[attr-defined]
                    pass
            cost[rule.check] = cost.get(rule.check, 0.0) + clock() - t
        for rule, check in runner.dataset_checks:
            t = clock()
            if record.ok and (not check.needs_text or record.conversation.readable):  # type: ignore[attr-defined]
                check.extract(record)  # type: ignore[attr-defined]
            cost[rule.check] = cost.get(rule.check, 0.0) + clock() - t
    n = len(records)
    total = sum(cost.values())
    print(f"{n:,} records, {total / n * 1e6:,.0f} us CPU per record in checks and reading (one process)")
    for name, sec in sorted(cost.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{sec / n * 1e6:9,.1f} us  {100 * sec / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
