"""Candidate pairs from LSH bands, their verification, and clusters that cannot chain.

Clusters are stars, not connected components: records are visited in keep-priority order;
an unassigned record becomes a centre (the kept record) and takes every still-unassigned
record whose *verified* similarity to the centre itself is at or above the threshold. A
member never recruits further members, so A~B and B~C with A!~C never puts A and C in one
cluster (C stays out, or starts its own cluster), unlike union-find over candidate edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BUCKET_CAP = 100  # in a larger LSH bucket each record is paired with the first CAP only


def candidate_pairs(bands: Any, cap: int = BUCKET_CAP) -> Any:
    """Unique pairs (i < j, as an int64 array i * n + j) that share at least one band key.

    Row order is keep-priority order, so in an oversized bucket the records compared are the
    ones that could be kept."""
    members, lengths = band_buckets(bands)
    return bucket_pairs(members, lengths, bands.shape[0], cap)


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


def bucket_pairs(members: Any, lengths: Any, n: int, cap: int = BUCKET_CAP) -> Any:
    """Unique pairs (i < j, as i * n + j) within buckets (`band_buckets`' form) of rows 0..n-1."""
    import numpy as np

    if not len(lengths):
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    found: list[Any] = []
    two = starts[lengths == 2]
    if len(two):
        a, c = members[two], members[two + 1]
        found.append(np.minimum(a, c) * n + np.maximum(a, c))
    for s, length in zip(starts[lengths > 2].tolist(), lengths[lengths > 2].tolist(), strict=False):
        bucket = np.sort(members[s : s + length])
        head = bucket[:cap]
        ii, jj = np.triu_indices(len(head), k=1)
        found.append(head[ii] * n + head[jj])
        if length > cap:
            rest = bucket[cap:]
            found.append((head[None, :] * n + rest[:, None]).ravel())
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(found).astype(np.int64))


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


@dataclass(frozen=True, slots=True)
class Stars:
    centre: Any  # int64 per record: index of its cluster's kept record, -1 when in no cluster
    similarity: Any  # float32 per record: verified similarity to its centre (1.0 for centres)


def star_clusters(n: int, i: Any, j: Any, sims: Any, threshold: float) -> Stars:
    """Greedy star clustering in index order (index order is keep-priority order)."""
    import numpy as np

    keep = sims >= threshold
    i, j, s = i[keep], j[keep], sims[keep]
    centre = np.full(n, -1, dtype=np.int64)
    sim = np.zeros(n, dtype=np.float32)
    if len(i) == 0:
        return Stars(centre, sim)
    # adjacency in CSR form over both directions
    src = np.concatenate((i, j))
    dst = np.concatenate((j, i))
    ss = np.concatenate((s, s))
    order = np.lexsort((dst, src))
    src, dst, ss = src[order], dst[order], ss[order]
    nodes, first = np.unique(src, return_index=True)
    bounds = np.append(first, len(src)).tolist()
    dst_l, ss_l = dst.tolist(), ss.tolist()
    cen = centre  # numpy writes are fine at this size (only nodes with edges)
    for k, u in enumerate(nodes.tolist()):
        if cen[u] != -1:
            continue
        members = [(dst_l[e], ss_l[e]) for e in range(bounds[k], bounds[k + 1]) if cen[dst_l[e]] == -1]
        if not members:
            continue
        cen[u] = u
        sim[u] = 1.0
        for v, sv in members:
            cen[v] = u
            sim[v] = sv
    return Stars(centre, sim)
