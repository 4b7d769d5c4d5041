"""Star clustering through crowded LSH buckets at linear cost.

Thousands of light edits of a few templates put thousands of records in one bucket; verifying
every pair of it is quadratic (50,000 such records had cost 96 s and 4.2 GB). A crowded bucket
(more than `cluster.CROWDED` members) is walked in keep-priority order instead: each record is
verified only against the bucket's *open* records (kept so far: centres and records alone),
earliest first, until the first match, which is usually the cluster's kept record. Joining each
record to the earliest open record similar enough is exactly what `cluster.star_clusters` does
from all pairs (tests/test_dedup_cluster.py checks the two agree), without the pairs between
members.

Bounds keep adversarial data (records that all collide but match nothing, such as answers that
share a long passage) linear: `CHECKS_PER_RECORD` verifications per record, `OPEN_PER_BUCKET`
open records listed per bucket, and a budget for the whole walk (`WALK_BUDGET_PER_RECORD` per
record of the file) after which a record reads and verifies `CHECKS_AFTER_BUDGET` candidates
only. How often each bound was reached is in the summary (`check_limited`, `list_full`,
`over_budget`); their cost in recall is measured in benchmarks/RESULTS.md (none on the real data
sets we have: the bounds are set above what they need).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from curate.checks.dedup.cluster import CROWDED, Buckets, Stars, small_bucket_pairs, star_clusters

CHECKS_PER_RECORD = 128  # verifications of one record against the open records of its crowded buckets, at most
OPEN_PER_BUCKET = 128  # open (kept) records listed per crowded bucket, at most
WALK_BUDGET_PER_RECORD = 16  # verifications in crowded buckets per record of the file, in all ...
WALK_BUDGET_MIN = 200_000  # ... but at least this many (about 2 s)
CHECKS_AFTER_BUDGET = 4  # once the budget is spent: verifications per record, and open records read per bucket

VerifyPairs = Callable[[Any, int], tuple[Any, Any, Any]]  # (pairs as i * n + j, n) -> (i, j, similarities)
Similarity = Callable[[int, int], float]  # exact Jaccard of two positions


@dataclass(slots=True)
class NearClusters:
    """What `near_clusters` found: the stars, every verified pair, and what the bounds cost."""

    stars: Stars
    i: Any  # verified pairs (positions, i < j) and their similarities
    j: Any
    sims: Any
    crowded_buckets: int = 0
    check_limited: int = 0  # records of crowded buckets that met more open candidates than they could verify
    list_full: int = 0  # open records left out of a crowded bucket's list (it had OPEN_PER_BUCKET)
    over_budget: int = 0  # records walked after the walk's budget of verifications was spent


def near_clusters(
    buckets: Buckets,
    n: int,
    verify_pairs: VerifyPairs,
    similarity: Similarity,
    threshold: float,
    crowded: int = CROWDED,
    checks: int = CHECKS_PER_RECORD,
    open_per_bucket: int = OPEN_PER_BUCKET,
    budget: int | None = None,
) -> NearClusters:
    """Stars over n records (positions in keep-priority order) from their LSH buckets: small buckets
    give all their pairs (verified in one batch), crowded ones are walked (one pair at a time)."""
    import numpy as np

    small = buckets.sizes <= crowded
    i, j, sims = verify_pairs(small_bucket_pairs(buckets, n, crowded), n)
    heavy = buckets.subset(~small)
    if not len(heavy):
        return NearClusters(star_clusters(n, i, j, sims, threshold), i, j, sims)
    walk = CrowdedWalk(n, heavy, i, j, sims, threshold, checks, open_per_bucket, budget)
    stars = walk.run(similarity)
    ci, cj, cs = walk.verified()
    return NearClusters(
        stars,
        np.concatenate((i, ci)),
        np.concatenate((j, cj)),
        np.concatenate((sims, cs)),
        crowded_buckets=len(heavy),
        check_limited=walk.check_limited,
        list_full=walk.list_full,
        over_budget=walk.over_budget,
    )


class CrowdedWalk:
    """Star clustering as a walk in priority order, for when some buckets are crowded.

    Each record joins the earliest earlier record that is not a member of a cluster and is similar
    enough, else it stays open (kept). That is what `star_clusters` computes from all pairs; here
    small-bucket pairs come verified, and in a crowded bucket a record is verified only against
    the bucket's open records, in priority order, until the first match: the cluster's kept record
    is usually the first one tried. Bounds: at most `checks` verifications per record (when it
    meets more open candidates, those sharing most of its buckets), at most `open_per_bucket` open
    records listed per bucket, and `budget` verifications in all, after which a record reads
    CHECKS_AFTER_BUDGET open records per bucket and verifies that many."""

    def __init__(
        self,
        n: int,
        heavy: Buckets,
        i: Any,
        j: Any,
        sims: Any,
        threshold: float,
        checks: int = CHECKS_PER_RECORD,
        open_per_bucket: int = OPEN_PER_BUCKET,
        budget: int | None = None,
    ) -> None:
        import numpy as np

        self.n, self.threshold, self.checks, self.open_per_bucket = n, threshold, checks, open_per_bucket
        self.budget = max(WALK_BUDGET_MIN, WALK_BUDGET_PER_RECORD * n) if budget is None else budget
        self.over_budget = 0  # records walked after the budget was spent
        self.heavy = heavy
        keep = sims >= threshold
        # earlier verified neighbours of each record (small buckets): v -> [(u, sim)] with u < v
        self.small: dict[int, list[tuple[int, float]]] = {}
        for u, v, s in zip(i[keep].tolist(), j[keep].tolist(), sims[keep].tolist(), strict=True):
            self.small.setdefault(v, []).append((u, s))
        self.small_nodes = np.unique(np.concatenate((i[keep], j[keep])))
        self.found: list[tuple[int, int, float]] = []
        self.check_limited = self.list_full = 0

    def run(self, similarity: Any) -> Stars:
        import numpy as np

        heavy, n = self.heavy, self.n
        bucket_of = np.repeat(np.arange(len(heavy), dtype=np.int64), heavy.sizes)
        by_rec = np.argsort(heavy.members, kind="stable")
        recs = heavy.members[by_rec]
        nodes = np.union1d(recs, self.small_nodes)
        starts = np.searchsorted(recs, nodes)
        ends = np.searchsorted(recs, nodes, side="right")
        open_lists: list[list[int]] = [[] for _ in range(len(heavy))]
        stars = Stars.empty(n)
        centre, sim = stars.centre, stars.similarity
        is_member = bytearray(n)
        chunk = 20_000  # Python lists a chunk at a time: 1M records x 32 bands would not fit as lists
        for c0 in range(0, len(nodes), chunk):
            vs = nodes[c0 : c0 + chunk].tolist()
            lo, hi = int(starts[c0]), int(ends[min(c0 + chunk, len(nodes)) - 1])
            bks = bucket_of[by_rec[lo:hi]].tolist()
            bounds = (starts[c0 : c0 + chunk] - lo).tolist(), (ends[c0 : c0 + chunk] - lo).tolist()
            for v, a, b in zip(vs, *bounds, strict=True):
                mine = bks[a:b]
                u, s = self._match(v, mine, open_lists, is_member, similarity)
                if u >= 0:
                    centre[v], sim[v], is_member[v] = u, s, 1
                    if centre[u] == -1:
                        centre[u], sim[u] = u, 1.0
                    continue
                for k in mine:
                    lst = open_lists[k]
                    if len(lst) < self.open_per_bucket:
                        lst.append(v)
                    else:
                        self.list_full += 1
        return stars

    def _match(
        self, v: int, mine: list[int], open_lists: list[list[int]], is_member: bytearray, similarity: Any
    ) -> tuple[int, float]:
        """The earliest open record similar enough to v (and the similarity), or (-1, 0)."""
        best_u, best_s = -1, 0.0
        for u, s in self.small.get(v, ()):
            if not is_member[u] and (best_u < 0 or u < best_u):
                best_u, best_s = u, s
        checks, read = self.checks, self.open_per_bucket
        if len(self.found) >= self.budget and mine:
            checks = read = CHECKS_AFTER_BUDGET
            self.over_budget += 1
        cands: set[int] = set()
        for k in mine:
            cands.update(open_lists[k][:read])
        if not cands:
            return best_u, best_s
        ordered = sorted(cands)
        if best_u >= 0:
            ordered = [u for u in ordered if u < best_u]
        if len(ordered) > checks:
            self.check_limited += 1
            shared: dict[int, int] = {}
            for k in mine:
                for u in open_lists[k][:read]:
                    shared[u] = shared.get(u, 0) + 1
            ordered = sorted(sorted(ordered, key=lambda u: -shared[u])[:checks])
        small = dict(self.small.get(v, ()))
        for u in ordered:
            s = small.get(u)
            if s is None:
                s = similarity(u, v)
                self.found.append((u, v, s))
            if s >= self.threshold:
                return u, s
        return best_u, best_s

    def verified(self) -> tuple[Any, Any, Any]:
        """The pairs verified during the walk (not among the small-bucket pairs)."""
        import numpy as np

        if not self.found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        u, v, s = zip(*self.found, strict=True)
        return np.array(u, dtype=np.int64), np.array(v, dtype=np.int64), np.array(s, dtype=np.float32)
