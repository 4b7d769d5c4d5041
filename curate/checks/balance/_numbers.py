"""Small numeric summaries kept in compact arrays, mergeable across shards."""

from __future__ import annotations

from array import array
from typing import Any


def percentile(sorted_values: list[int], q: float) -> int:
    if not sorted_values:
        return 0
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return int(sorted_values[i])


def log2_histogram(values: array) -> list[dict[str, int]]:
    """Counts in power-of-two buckets [lo, hi): readable for lengths spanning 10 to 100,000."""
    if not values:
        return []
    counts: dict[int, int] = {}
    for v in values:
        b = max(0, int(v)).bit_length()  # 0 -> 0, 1 -> 1, 2..3 -> 2, 4..7 -> 3
        counts[b] = counts.get(b, 0) + 1
    lo_b, hi_b = min(counts), max(counts)
    out = []
    for b in range(lo_b, hi_b + 1):
        lo = 0 if b == 0 else 1 << (b - 1)
        out.append({"lo": lo, "hi": 1 << b, "count": counts.get(b, 0)})
    return out


def describe(values: array) -> dict[str, Any]:
    s = sorted(values)
    n = len(s)
    return {
        "count": n,
        "min": int(s[0]) if n else 0,
        "mean": round(sum(s) / n, 1) if n else 0,
        "p50": percentile(s, 0.5),
        "p90": percentile(s, 0.9),
        "p99": percentile(s, 0.99),
        "max": int(s[-1]) if n else 0,
    }
