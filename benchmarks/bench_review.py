"""How `curate review` behaves on 100,000 flagged records: open, first paint, keys, a decision.

    .venv/bin/python benchmarks/bench_review.py [N]

Every record has an invalid role (`human`), so every record is flagged. Prints seconds.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path


async def main(n: int) -> None:
    from curate.config import load_ruleset, select_rules
    from curate.review import ReviewSession
    from curate.tui.app import ReviewApp

    tmp = Path(tempfile.mkdtemp())
    path = tmp / "big.jsonl"
    row = '{"messages": [{"role": "human", "content": "question %d"}, {"role": "assistant", "content": "answer %d"}]}\n'
    path.write_text("".join(row % (i, i) for i in range(n)))
    rules = select_rules(load_ruleset("default").rules, ["invalid-role"], None)
    t = time.perf_counter()
    session = ReviewSession.open(path, rules)
    print(f"audit + session, {n:,} records, {len(session.items):,} flagged: {time.perf_counter() - t:.2f} s")
    app = ReviewApp(session)
    t = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        print(f"first paint: {time.perf_counter() - t:.2f} s; widgets: {len(list(app.query('*')))}")
        t = time.perf_counter()
        for _ in range(50):
            await pilot.press("j")
        print(f"50 x j: {(time.perf_counter() - t) / 50 * 1000:.1f} ms per key")
        t = time.perf_counter()
        await pilot.press("G")
        print(f"G (to record {session.current.line:,}): {(time.perf_counter() - t) * 1000:.1f} ms")
        t = time.perf_counter()
        for _ in range(10):
            await pilot.press("a")
        print(f"10 x a (accept + save): {(time.perf_counter() - t) / 10 * 1000:.1f} ms per decision")
        t = time.perf_counter()
        session.bulk_accept()
        print(f"bulk accept of {n:,}: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        await pilot.press("u")
        print(f"undo of the bulk accept: {(time.perf_counter() - t):.2f} s")
    session.bulk_accept()
    t = time.perf_counter()
    again = ReviewSession(path, [f for i in session.items for f in i.original], session.store)
    print(f"resume with {len(again.log.decisions):,} decisions (load + index): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
