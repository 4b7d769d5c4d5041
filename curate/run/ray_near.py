"""Near-duplicate candidates and their verification on Ray, without gathering sketches on the driver.

Each block's sketches (bands and shingles, ~1.4 KB a record) stay in the object store next to
the worker that computed them. Candidates: every block task sends each band key to one of P
reducers (by hash); a reducer sorts what it got and returns only the buckets of two or more
records, as positions, in `cluster.band_buckets`' form; the driver clusters them as a local run
does (`walk.near_clusters`: all pairs of small buckets verified in one batch, crowded buckets
walked one pair at a time). Verification: the candidate pairs are grouped by the
block of their first record and each group is verified by a task that fetches the few blocks it
needs (`cluster.verify`); only similarities come back. What the driver holds is what a local run
holds apart from the sketches: per record its place, key and a few integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import ray

from curate.checks.dedup.cluster import verify

_MIX = np.uint64(0x9E3779B97F4A7C15)  # spreads (band, key) over reducers


@ray.remote
def _band_task(sketches: list[Any], which: int, positions: Any, parts: int) -> Any:
    """This block's (band, key, position) triples for the records still in play, one group per reducer."""
    arrays = sketches[which].numpy()
    rows = np.flatnonzero(positions >= 0)
    nbands = arrays.bands.shape[1]
    keys = arrays.bands[rows].ravel()
    band = np.tile(np.arange(nbands, dtype=np.uint64), len(rows))
    member = np.repeat(positions[rows], nbands)
    part = (keys ^ (band * _MIX)) % np.uint64(parts)
    out = []
    for p in range(parts):
        sel = part == p
        out.append((band[sel], keys[sel], member[sel]))
    return out if parts > 1 else out[0]


@ray.remote
def _collide_task(*groups: tuple[Any, Any, Any]) -> tuple[Any, Any]:
    """One reducer: the buckets of two or more records among the triples it was sent
    (`cluster.band_buckets`' form: members ascending within a bucket, and each bucket's length)."""
    band = np.concatenate([g[0] for g in groups]) if groups else np.zeros(0, dtype=np.uint64)
    keys = np.concatenate([g[1] for g in groups]) if groups else np.zeros(0, dtype=np.uint64)
    member = np.concatenate([g[2] for g in groups]) if groups else np.zeros(0, dtype=np.int64)
    if len(member) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort((member, keys, band))
    band, keys, member = band[order], keys[order], member[order]
    same = (band[1:] == band[:-1]) & (keys[1:] == keys[:-1])
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    runs = np.diff(np.concatenate((starts, [len(member)])))
    shared = runs >= 2
    return member[np.repeat(shared, runs)].astype(np.int64), runs[shared].astype(np.int64)


@ray.remote
def _verify_task(which: int, first: Any, second: Any, *blocks: list[Any]) -> Any:
    """Exact Jaccard of pairs whose records are rows of `blocks` (`first`/`second`: (block, row) pairs,
    block as an index into `blocks`)."""
    arrays = [b[which].numpy() for b in blocks]
    sizes = np.array([len(a.line) for a in arrays], dtype=np.int64)
    base = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    shingle_base = np.concatenate(([0], np.cumsum([len(a.shingles) for a in arrays])[:-1]))
    shingles = np.concatenate([a.shingles for a in arrays])
    offsets = np.concatenate([a.offsets[:-1] + shingle_base[k] for k, a in enumerate(arrays)] + [[len(shingles)]])
    m = int(sizes.sum())
    left = base[first[0]] + first[1]
    right = base[second[0]] + second[1]
    _, _, sims = verify(left * m + right, m, np.arange(m), offsets.astype(np.int64), shingles)
    return sims


class RayPairIndex:
    """`near.PairIndex` over sketches held in Ray's object store, one object per block."""

    def __init__(self, blocks: list[Any], which: int, sizes: list[int]) -> None:
        self.blocks = blocks  # per block: ref to the list of its near-duplicate checks' sketch stores
        self.which = which  # this check's place in those lists
        self.starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self.sizes = np.array(sizes, dtype=np.int64)
        self.total = int(self.sizes.sum())

    def buckets(self, ids: Any) -> tuple[Any, Any]:
        n = len(ids)
        if n < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        positions = np.full(self.total, -1, dtype=np.int64)
        positions[ids] = np.arange(n, dtype=np.int64)
        live = [b for b in range(len(self.blocks)) if self.sizes[b]]
        parts = max(1, min(len(live), int(ray.cluster_resources().get("CPU", 1))))
        sent = []
        for b in live:
            start = self.starts[b]
            refs = _band_task.options(num_returns=parts).remote(
                self.blocks[b], self.which, positions[start : start + self.sizes[b]], parts
            )
            sent.append(refs if parts > 1 else [refs])
        found = ray.get([_collide_task.remote(*[refs[p] for refs in sent]) for p in range(parts)])
        return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])

    def similarity(self, a: int, b: int, ids: Any) -> float:
        # one task per pair: only crowded buckets (duplicate-heavy data) are walked pair by pair
        n = max(a, b) + 1
        return float(self.verify(np.array([a * n + b], dtype=np.int64), n, ids)[2][0])

    def verify(self, pairs: Any, n: int, ids: Any) -> tuple[Any, Any, Any]:
        i = pairs // n
        j = pairs % n
        sims = np.empty(len(pairs), dtype=np.float32)
        if not len(pairs):
            return i, j, sims
        ga, gb = ids[i], ids[j]
        ba = np.searchsorted(self.starts, ga, side="right") - 1
        bb = np.searchsorted(self.starts, gb, side="right") - 1
        order = np.argsort(ba, kind="stable")
        cuts = np.flatnonzero(np.diff(ba[order])) + 1
        waiting = []
        for sel in np.split(order, cuts):
            needed, where = np.unique(np.concatenate(([ba[sel[0]]], bb[sel])), return_inverse=True)
            first = (np.full(len(sel), where[0]), ga[sel] - self.starts[ba[sel]])
            second = (where[1:], gb[sel] - self.starts[bb[sel]])
            ref = _verify_task.remote(self.which, first, second, *[self.blocks[k] for k in needed.tolist()])
            waiting.append((sel, ref))
        for (sel, _), got in zip(waiting, ray.get([ref for _, ref in waiting]), strict=True):
            sims[sel] = got
        return i, j, sims
