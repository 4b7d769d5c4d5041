"""The similarity distribution users read to choose a threshold."""

from __future__ import annotations

from typing import Any

BIN = 0.05
CUTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def similarity_summary(nearest: Any, records: int) -> dict[str, Any]:
    """Histogram of each record's highest verified similarity to any other record.

    Records with no LSH candidate count as `no_candidate`; below ~0.3 LSH finds few pairs, so
    low bins are lower bounds. `records_at_or_above[t]` is how many records have a match of at
    least t: what a threshold of t would put in clusters (one per cluster is then kept).
    """
    import numpy as np

    nearest = np.asarray(nearest, dtype=np.float64)
    found = nearest[nearest > 0]
    edges = np.round(np.arange(0, 1 + BIN / 2, BIN), 2)
    counts, _ = np.histogram(np.minimum(found, 1.0), bins=edges)
    return {
        "nearest_similarity": {
            "bins": [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:], strict=False)],
            "counts": counts.tolist(),
            "no_candidate": int(records - len(found)),
        },
        "records_at_or_above": {f"{t:.1f}": int((found >= t - 1e-6).sum()) for t in CUTS},
    }
