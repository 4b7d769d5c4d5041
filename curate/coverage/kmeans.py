"""Spherical k-means over unit vectors, and k chosen by the silhouette, in numpy (deterministic).

Small and exact enough for topic coverage: fitted on an evenly spaced sample of at most
`SAMPLE` vectors, then every vector is assigned to its nearest centre. The seed is fixed, so the
same vectors in the same order always give the same topics (shards merged or not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SAMPLE = 4000
SILHOUETTE_SAMPLE = 1500
ITERATIONS = 40
RESTARTS = 3
CANDIDATE_K = (6, 8, 10, 12, 15, 20, 25, 30)  # fewer than 6 topics says little about coverage


@dataclass(frozen=True, slots=True)
class Fit:
    centres: Any  # (k, d) float32 unit vectors
    k: int
    silhouette: float  # mean silhouette of the chosen k on the sample (cosine distance)
    tried: dict[int, float]  # k -> silhouette


def _normalise(x: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def evenly(n: int, m: int) -> Any:
    """At most m indices spread evenly over range(n) (a sample that does not depend on chance)."""
    import numpy as np

    return np.arange(n) if n <= m else np.linspace(0, n - 1, m).round().astype(np.int64)


def kmeans(x: Any, k: int, restarts: int = RESTARTS) -> tuple[Any, Any]:
    """(centres, labels) of spherical k-means: the best of `restarts` k-means++ seedings (seeds
    0, 1, ...), best meaning the highest total similarity of vectors to their centres."""

    best: tuple[float, Any, Any] | None = None
    for seed in range(restarts):
        centres, labels = _kmeans_once(x, k, seed)
        score = float((x * centres[labels]).sum())
        if best is None or score > best[0]:
            best = (score, centres, labels)
    assert best is not None
    return best[1], best[2]


def _kmeans_once(x: Any, k: int, seed: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(x)
    centres = np.empty((k, x.shape[1]), dtype=np.float32)
    centres[0] = x[rng.integers(n)]
    closest = 1.0 - x @ centres[0]
    for c in range(1, k):
        weights = np.maximum(closest, 0.0) ** 2
        total = float(weights.sum())
        pick = int(rng.choice(n, p=weights / total)) if total > 0 else int(rng.integers(n))
        centres[c] = x[pick]
        closest = np.minimum(closest, 1.0 - x @ centres[c])
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(ITERATIONS):
        new = np.argmax(x @ centres.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = x[labels == c]
            if len(members):
                centres[c] = members.sum(axis=0)
        centres = _normalise(centres).astype(np.float32)
    return centres, labels


def silhouette(x: Any, labels: Any, k: int) -> float:
    """Mean silhouette with cosine distance (1 - similarity); -1 when it is not defined."""
    import numpy as np

    if k < 2 or len(np.unique(labels)) < 2:
        return -1.0
    dist = 1.0 - x @ x.T
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.stack([dist[:, labels == c].sum(axis=1) for c in range(k)], axis=1)
    own = labels
    a = sums[np.arange(len(x)), own] / np.maximum(sizes[own] - 1, 1)
    other = sums / np.where(sizes > 0, sizes, np.inf)
    other[np.arange(len(x)), own] = np.inf
    b = other.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    s[sizes[own] <= 1] = 0.0
    return float(s.mean())


def choose(x: Any, k: int | None = None, max_k: int = 30, min_per_topic: int = 10) -> Fit:
    """Topics of unit vectors x: k given, or the candidate k with the best silhouette."""
    import numpy as np

    sample = x[evenly(len(x), SAMPLE)]
    if k is not None:
        k = max(1, min(k, len(sample)))
        centres, _ = kmeans(sample, k)
        return Fit(centres, k, float("nan"), {})
    limit = min(max_k, len(x) // min_per_topic)
    candidates = [c for c in CANDIDATE_K if c <= limit] or ([limit] if limit >= 2 else [])
    if not candidates:
        centres, _ = kmeans(sample, 1)
        return Fit(centres, 1, float("nan"), {})
    probe = evenly(len(sample), SILHOUETTE_SAMPLE)
    tried: dict[int, float] = {}
    fits: dict[int, Any] = {}
    for c in candidates:
        centres, _ = kmeans(sample, c)
        fits[c] = centres
        sub = sample[probe]
        tried[c] = round(silhouette(sub, np.argmax(sub @ centres.T, axis=1), c), 4)
    best = max(candidates, key=lambda c: (tried[c], c))
    return Fit(fits[best], best, tried[best], tried)
