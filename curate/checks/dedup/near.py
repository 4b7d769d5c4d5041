"""`dedup.near`: near-duplicates by MinHash + LSH, every candidate verified by exact Jaccard."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal, Protocol

from pydantic import Field

from curate.check import DatasetCheck, RecordRef, RunContext, RunState
from curate.checks.dedup.cache import SignatureCache
from curate.checks.dedup.cluster import Buckets, band_buckets, verify
from curate.checks.dedup.common import (
    KeepPolicy,
    NearParams,
    cluster_id,
    pair_hit,
    rank_order,
    sketch_fields,
    sketch_record,
    sketch_refs,
    sketches_from_fields,
    sketches_from_refs,
)
from curate.checks.dedup.sketch import jaccard
from curate.checks.dedup.stats import similarity_summary
from curate.checks.dedup.store import Sketch, SketchStore, StoreArrays
from curate.checks.dedup.varying import Varying, applies, shared_lines
from curate.checks.dedup.walk import near_clusters
from curate.model import Hit, Record, Severity


class NearCheckParams(NearParams):
    keep: KeepPolicy = Field("first", description="which record of a cluster is kept: first, last, longest, shortest")
    report_exact: bool = Field(False, description="also report copies identical after normalisation (dedup.exact does)")
    ignore_shared_lines: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description="compare only what varies: leave out lines found in more than this share of the records "
        "(template text, a shared system prompt or tool list), counted on the first shared_sample records of each file",
    )
    shared_sample: int = Field(2000, ge=10, le=100_000, description="records per file that ignore_shared_lines counts")
    turns: Literal["auto", "all", "last"] = Field(
        "auto",
        description="which exchanges count: all; last (the last prompt turn and its answer); auto (all, but only "
        "the final answer in a tree-shaped file, e.g. OpenAssistant paths, judged on its first shared_sample records)",
    )

    def varying(self) -> Varying | None:
        v = Varying(self.ignore_shared_lines, self.shared_sample, self.turns == "last", self.turns == "auto")
        return v if v.active else None


def make_cache(p: NearParams, ctx: RunContext | None = None) -> SignatureCache | None:
    """The signature cache of these parameters; None when the rule or the run (`--no-cache`) turns it off."""
    if not p.cache or (ctx is not None and not ctx.use_cache):
        return None
    return SignatureCache(f"{p.sketch_params().cache_tag()}-m{p.min_words}-{p.text}{_varying_tag(p)}", p.cache_dir)


def _varying_tag(p: NearParams) -> str:
    """Signatures of what varies live in their own cache file (its keys differ anyway)."""
    v = p.varying() if isinstance(p, NearCheckParams) else None
    if v is None or not (v.shared_share is not None or v.last_exchange):
        return ""  # tree-shaped files' sketches have keys of their own (their compared text differs)
    return f"-v{v.shared_share}-{v.sample}-{int(v.last_exchange)}"


def write_caches(
    cache: SignatureCache | None, store: SketchStore, arrays: Any, skip: set[str] = frozenset()
) -> list[str]:
    """Rewrite a path's cache when some of its records were not in it; returns problems."""
    import numpy as np

    problems: list[str] = []
    if cache is None or not len(store):
        return problems
    for ix, path in enumerate(store.paths):
        if path in skip:
            continue
        rows = np.flatnonzero(arrays.path_of == ix)
        if len(rows) and arrays.from_cache[rows].all():
            continue
        cache.verify(path)  # records were sketched again: note it if the file they came from was damaged
        try:
            cache.write(path, arrays, rows, store.nbands)
        except OSError as exc:
            problems.append(f"signature cache not written for {path}: {exc.strerror or type(exc).__name__}")
    return problems


class PairIndex(Protocol):
    """Where the bands and shingles are: candidate pairs and their verification over records' positions.

    Local runs hold them in the check's store (`LocalIndex`); the Ray engine keeps them on the workers
    that sketched the records and supplies its own index, so only collisions and similarities travel."""

    def buckets(self, ids: Any) -> tuple[Any, Any]:
        """LSH buckets of two or more positions in `ids` (records), as `cluster.band_buckets` gives them."""
        ...

    def verify(self, pairs: Any, n: int, ids: Any) -> tuple[Any, Any, Any]:
        """`cluster.verify`'s (i, j, exact Jaccard) of pairs of positions (i * n + j)."""
        ...

    def similarity(self, a: int, b: int, ids: Any) -> float:
        """Exact Jaccard of positions a and b: one pair, asked for while crowded buckets are walked."""
        ...


class LocalIndex:
    """Bands and shingles held in this process (`StoreArrays`)."""

    def __init__(self, arrays: StoreArrays) -> None:
        self.arrays = arrays

    def buckets(self, ids: Any) -> tuple[Any, Any]:
        return band_buckets(self.arrays.bands[ids])

    def verify(self, pairs: Any, n: int, ids: Any) -> tuple[Any, Any, Any]:
        return verify(pairs, n, ids, self.arrays.offsets, self.arrays.shingles)

    def similarity(self, a: int, b: int, ids: Any) -> float:
        return jaccard(self.arrays.shingle_set(int(ids[a])), self.arrays.shingle_set(int(ids[b])))


class NearDuplicate(DatasetCheck):
    id = "dedup.near"
    needs_text = True  # records without conversation text are never duplicates of each other
    # Not in the result cache: a sketch is ~1.4 KB (mostly shingle hashes), and inserting 100k of
    # them into its SQLite file cost the main process ~20 s at 100k records, more than the whole
    # check. The signature cache (cache.py here) keeps the same sketches in one memory-mapped
    # file written in one pass, so a warm run re-reads them by text hash instead.
    cache_extract: ClassVar[bool] = False
    description = "Near-duplicate records (light edits, typos, reformatting): the model memorises them."
    default_severity = Severity.WARNING
    Params = NearCheckParams
    example = "Two records whose answers differ in a few words, a typo and punctuation."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p: NearCheckParams = self.params  # type: ignore[assignment]
        self.sp = p.sketch_params()
        self.store = SketchStore(self.sp.bands)
        self.cache = make_cache(p, self.ctx)
        self.index: PairIndex | None = None  # set by an engine that keeps bands and shingles elsewhere (Ray)
        self.vary = p.varying()
        self._applied: dict[str, tuple[frozenset[int], bool]] = {}
        self._summary: dict[str, Any] = {}

    def extract(self, record: Record) -> Sketch:
        applied = None
        if self.vary is not None:  # what the options do to this record's file: decided once per file
            applied = self._applied.get(record.path)
            if applied is None:
                p: NearCheckParams = self.params  # type: ignore[assignment]
                applied = self._applied[record.path] = applies(record.path, p.text, self.roles, self.vary)
        return sketch_record(record, self.params, self.roles, self.cache, self.vary, applied)  # type: ignore[arg-type]

    def cache_extracts(self, values: Sequence[Any]) -> Any:
        return sketch_refs(values) if self.cache is not None else sketch_fields(values)

    def restore_extracts(self, stored: Any, path: str) -> Sequence[Any] | None:
        return sketches_from_refs(self.cache, path, stored) if self.cache is not None else sketches_from_fields(stored)

    def warnings(self) -> list[str]:
        return self.cache.warnings() if self.cache is not None else []

    def observe(self, ref: RecordRef, extracted: Sketch) -> None:
        self.store.add(ref, extracted)

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, NearDuplicate)
        self.store.merge(other.store)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        import numpy as np

        p: NearCheckParams = self.params  # type: ignore[assignment]
        store = self.store
        n = len(store)
        a = store.numpy()
        problems = write_caches(self.cache, store, a) if self.index is None else []
        index = self.index if self.index is not None else LocalIndex(a)
        rank = rank_order(p.keep, n, a.words)  # rank position -> record
        same_r = a.same[rank]
        # identical shingle sets collapse to their highest-priority member before LSH
        _, first, inverse = np.unique(same_r, return_index=True, return_inverse=True)
        reps = np.sort(first)  # rank positions of representatives, in priority order
        rep_pos = np.empty(n, dtype=np.int64)
        rep_pos[reps] = np.arange(len(reps))
        group_rep = first[inverse]  # rank position of each record's representative
        ids = rank[reps]  # representative -> record
        members, lengths = index.buckets(ids)
        found = near_clusters(
            Buckets.of(members, lengths),
            len(reps),
            lambda pairs, m: index.verify(pairs, m, ids),
            lambda x, y: index.similarity(x, y, ids),
            p.threshold,
        )
        i, j, sims, stars = found.i, found.j, found.sims, found.stars

        best = np.zeros(len(reps), dtype=np.float32)
        if len(sims):
            np.maximum.at(best, i, sims)
            np.maximum.at(best, j, sims)
        group_size = np.bincount(inverse)
        best[group_size[inverse[reps]] > 1] = 1.0

        hits: list[tuple[float, Hit]] = []
        clusters: dict[int, int] = {}
        for r in range(n):
            g = rep_pos[group_rep[r]]
            c = int(stars.centre[g])
            if c == -1 or c == g:
                if group_rep[r] == r:
                    continue  # a kept record (or in no cluster)
                kept_r, sim = int(group_rep[r]), 1.0
            else:
                kept_r, sim = int(reps[c]), float(stars.similarity[g])
            rec, kept = int(rank[r]), int(rank[kept_r])
            clusters[kept] = clusters.get(kept, 0) + 1
            if not p.report_exact and a.exact[rec] == a.exact[kept]:
                continue
            hits.append((sim, self._hit(rec, kept, sim, p.threshold)))
        hits.sort(key=lambda h: (h[0], h[1].path or "", h[1].line or 0))
        out = []
        for order, (_, hit) in enumerate(hits):
            hit.data["review_order"] = order
            out.append(hit)
        self._summary = {
            "near": {
                "threshold": p.threshold,
                "shingle_words": p.shingle,
                "num_perm": self.sp.num_perm,
                "bands": self.sp.bands,
                "rows_per_band": self.sp.rows,
                "records": n,
                "sketched": int(n - a.from_cache.sum()),
                "from_cache": int(a.from_cache.sum()),
                "candidate_pairs": len(sims),
                "verified_pairs": int((sims >= p.threshold).sum()),
                "false_candidates": int((sims < p.threshold).sum()),
                "clusters": len(clusters),
                "duplicates": sum(clusters.values()),
                "reported": len(out),
                "crowded_buckets": found.crowded_buckets,
                "check_limited": found.check_limited,
                "list_full": found.list_full,
                "over_budget": found.over_budget,
                "largest_cluster": max(clusters.values(), default=0) + (1 if clusters else 0),
                **similarity_summary(best[rep_pos[group_rep]], n),
                **self._varying_summary(),
                **({"problems": problems} if problems else {}),
            }
        }
        return out

    def _varying_summary(self) -> dict[str, Any]:
        """What the comparison left out (shared lines counted again here: cached per process)."""
        v = self.vary
        if v is None:
            return {}
        p: NearCheckParams = self.params  # type: ignore[assignment]
        trees = [path for path in self.store.paths if applies(path, p.text, self.roles, v)[1]]
        if not (trees or v.last_exchange or v.shared_share is not None):
            return {}  # the default on data that are neither templated nor tree-shaped: nothing to say
        compared = "last exchange" if v.last_exchange else "all turns"
        if trees:
            compared += "; the final answer in tree-shaped files"
        out: dict[str, Any] = {"compared": compared, "tree_shaped_files": len(trees)}
        if v.shared_share is not None:
            ignored = sum(len(shared_lines(path, p.text, self.roles, v)) for path in self.store.paths)
            out["shared_lines_ignored"] = ignored
        return out

    def _hit(self, rec: int, kept: int, sim: float, threshold: float) -> Hit:
        kref = self.store.where(kept)
        data = {
            "cluster": cluster_id("near", kref[2]),
            "similarity": round(sim, 4),
            "margin": round(sim - threshold, 4),
        }
        return pair_hit(
            f"near-duplicate of {{where}} (similarity {sim:.2f})",
            "Drop this record or make it distinct; the kept copy is {where}.",
            self.store.where(rec),
            kref,
            data,
        )

    def summary(self) -> dict[str, Any]:
        return self._summary
