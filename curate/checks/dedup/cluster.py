"""LSH buckets, the candidate pairs they give, their verification, and clusters that cannot chain.

Clusters are stars, not connected components: records are visited in keep-priority order;
an unassigned record becomes a centre (the kept record) and takes every still-unassigned
record whose *verified* similarity to the centre itself is at or above the threshold. A
member never recruits further members, so A~B and B~C with A!~C never puts A and C in one
cluster (C stays out, or starts its own cluster), unlike union-find over candidate edges.

Buckets of up to `CROWDED` records give all their pairs here; larger ones are walked instead
(walk.py), so duplicate-heavy data costs linear time. Every function is a plain function over
numpy arrays, row order being keep-priority order: the Ray engine builds the same buckets from
band keys shuffled between its workers (`curate/run/ray_near.py`) and verifies pairs where the
shingles are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CROWDED = 16  # a bucket with more members is crowded: its members are not all paired with each other


@dataclass(frozen=True, slots=True)
class Buckets:
    """LSH buckets with two or more members, over all bands: bucket k holds
    `members[bounds[k]:bounds[k + 1]]`, record indices in ascending (priority) order."""

    members: Any  # int64
    bounds: Any  # int64, len = buckets + 1

    @property
    def sizes(self) -> Any:
        import numpy as np

        return np.diff(self.bounds)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    @classmethod
    def of(cls, members: Any, lengths: Any) -> Buckets:
        """From `band_buckets`' form: members of all buckets in one array, and each bucket's length."""
        import numpy as np

        bounds = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=bounds[1:])
        return cls(np.asarray(members, dtype=np.int64), bounds)

    def subset(self, keep: Any) -> Buckets:
        """The buckets where `keep` (one bool per bucket) is true."""
        sizes = self.sizes[keep]
        return Buckets.of(self.members[_ranges(self.bounds[:-1][keep], sizes)], sizes)


def band_buckets(bands: Any) -> tuple[Any, Any]:
    """The LSH buckets of two or more rows, every band's: one flat array of row numbers (ascending
    within a bucket) and each bucket's length. The Ray engine builds the same from band keys
    shuffled between workers (`curate/run/ray_near.py`), so only these collisions travel."""
    import numpy as np

    n = bands.shape[0]
    members: list[Any] = []
    lengths: list[Any] = []
    for b in range(bands.shape[1]):
        col = bands[:, b]
        order = np.argsort(col, kind="stable")  # equal keys keep row order: members come out ascending
        ks = col[order]
        same = ks[1:] == ks[:-1]
        if not same.any():
            continue
        # runs of equal keys: start where a run begins, extent via cumulative counts
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        runs = np.diff(np.concatenate((starts, [n])))
        shared = runs >= 2
        members.append(order[np.repeat(shared, runs)])
        lengths.append(runs[shared])
    if not members:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(members).astype(np.int64), np.concatenate(lengths).astype(np.int64)


def small_bucket_pairs(buckets: Buckets, n: int, crowded: int = CROWDED) -> Any:
    """Every pair (i < j, as i * n + j) within the buckets of at most `crowded` members, unique."""
    import numpy as np

    sizes = buckets.sizes
    found: list[Any] = []
    for size in np.unique(sizes[sizes <= crowded]).tolist():
        starts = buckets.bounds[:-1][sizes == size]
        block = buckets.members[starts[:, None] + np.arange(size)]  # one row per bucket of this size
        ii, jj = np.triu_indices(size, k=1)
        found.append((block[:, ii] * n + block[:, jj]).ravel())
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(found))


def _ranges(starts: Any, lengths: Any) -> Any:
    """Concatenation of arange(s, s + l) for each (s, l)."""
    import numpy as np

    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)


def verify(pairs: Any, n: int, ids: Any, offsets: Any, shingles: Any) -> tuple[Any, Any, Any]:
    """Exact Jaccard of every candidate pair (LSH alone has many false positives).

    Pair indices are positions in `ids`, which maps them to rows of offsets/shingles."""
    import numpy as np

    i = pairs // n
    j = pairs % n
    sims = np.empty(len(pairs), dtype=np.float32)
    off = offsets.tolist()
    intersect = np.intersect1d
    for k, (a, b) in enumerate(zip(ids[i].tolist(), ids[j].tolist(), strict=False)):
        sa = shingles[off[a] : off[a + 1]]
        sb = shingles[off[b] : off[b + 1]]
        la, lb = len(sa), len(sb)
        if la == 0 or lb == 0:
            sims[k] = 1.0 if la == lb else 0.0
            continue
        inter = len(intersect(sa, sb, assume_unique=True))
        sims[k] = inter / (la + lb - inter)
    return i, j, sims


@dataclass(slots=True)
class Stars:
    centre: Any  # int64 per record: index of its cluster's kept record, -1 when in no cluster
    similarity: Any  # float32 per record: verified similarity to its centre (1.0 for centres)

    @classmethod
    def empty(cls, n: int) -> Stars:
        import numpy as np

        return cls(np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.float32))

    def members(self) -> Any:
        """True for records in a cluster they do not centre."""
        import numpy as np

        return (self.centre != -1) & (self.centre != np.arange(len(self.centre)))


def star_clusters(n: int, i: Any, j: Any, sims: Any, threshold: float, stars: Stars | None = None) -> Stars:
    """Greedy star clustering in index order (index order is keep-priority order).

    Given `stars` from an earlier round, continues it: a centre may take more records, a member
    never becomes a centre, an assigned record is never taken again."""
    import numpy as np

    keep = sims >= threshold
    i, j, s = i[keep], j[keep], sims[keep]
    if stars is None:
        stars = Stars.empty(n)
    if len(i) == 0:
        return stars
    # adjacency in CSR form over both directions
    src = np.concatenate((i, j))
    dst = np.concatenate((j, i))
    ss = np.concatenate((s, s))
    order = np.lexsort((dst, src))
    src, dst, ss = src[order], dst[order], ss[order]
    nodes, first = np.unique(src, return_index=True)
    bounds = np.append(first, len(src)).tolist()
    dst_l, ss_l = dst.tolist(), ss.tolist()
    cen, sim = stars.centre, stars.similarity  # numpy writes are fine at this size (only nodes with edges)
    for k, u in enumerate(nodes.tolist()):
        if cen[u] != -1 and cen[u] != u:
            continue
        members = [(dst_l[e], ss_l[e]) for e in range(bounds[k], bounds[k + 1]) if cen[dst_l[e]] == -1]
        if not members:
            continue
        cen[u] = u
        sim[u] = 1.0
        for v, sv in members:
            cen[v] = u
            sim[v] = sv
    return stars
