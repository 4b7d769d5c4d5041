"""`dedup.semantic`: records that ask the same thing in other words (paraphrases MinHash misses).

Static embeddings (curate/embeddings.py: wordllama's table, verified by sha256, never
downloaded), pairs at or above a cosine threshold (checks/dedup/neighbours.py), and the same star
clusters as `dedup.near`: a member is within the threshold of its kept record itself, so
clusters never chain. Texts identical after normalisation are left to `dedup.exact` and
`dedup.prompt`. Without the weights the check says so in a run notice and finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.dedup.cluster import star_clusters
from curate.checks.dedup.common import KeepPolicy, TextParams, cluster_id, pair_hit, rank_order, selected_exact_hash
from curate.checks.dedup.neighbours import similar_pairs
from curate.checks.dedup.stats import similarity_summary
from curate.checks.dedup.text import TextScope
from curate.checks.embedded import check_vectors, embed_record, missing_notice
from curate.embeddings import MODEL
from curate.model import Hit, Record, Severity


class SemanticParams(TextParams):
    text: TextScope = Field(
        "conversation", description="which turns are compared: conversation (all but system), user, assistant, all"
    )
    threshold: float = Field(
        0.85, gt=0.0, le=1.0, description="cosine similarity of the embeddings that counts as the same request"
    )
    neighbours: int = Field(10, ge=1, le=100, description="nearest records looked at per record on large datasets")
    max_tokens: int = Field(256, ge=8, le=4096, description="pieces embedded per record (longer texts are cut)")
    min_tokens: int = Field(4, ge=1, description="shorter texts are not compared (a greeting looks like any greeting)")
    keep: KeepPolicy = Field("first", description="which record of a cluster is kept: first, last, longest, shortest")


class SemanticDuplicate(DatasetCheck):
    id = "dedup.semantic"
    needs_text = True
    description = "Records that ask the same thing in other words (paraphrases): the model sees one request twice."
    default_severity = Severity.WARNING
    Params = SemanticParams
    example = "'Where is the Eiffel Tower?' and 'In which city can I visit the tower Gustave Eiffel built?'"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refs: list[tuple[str, int, str]] = []
        self.vectors: list[Any] = []
        self.exact: list[int] = []
        self.tokens: list[int] = []
        self._summary: dict[str, Any] = {}

    def notices(self) -> list[str]:
        return missing_notice(self.id)

    def extract(self, record: Record) -> tuple[Any, int, int] | None:
        p: SemanticParams = self.params  # type: ignore[assignment]
        emb = embed_record(record, p.text, self.roles, p.max_tokens)
        if emb is None or emb.tokens < p.min_tokens:
            return None
        return emb.vector, selected_exact_hash(record, p.text, self.roles), emb.tokens

    def observe(self, ref: RecordRef, extracted: tuple[Any, int, int] | None) -> None:
        if extracted is None:
            return
        vector, exact, tokens = extracted
        self.refs.append((ref.path, ref.line, ref.key))
        self.vectors.append(vector)
        self.exact.append(exact)
        self.tokens.append(tokens)

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, SemanticDuplicate)
        self.refs.extend(other.refs)
        self.vectors.extend(other.vectors)
        self.exact.extend(other.exact)
        self.tokens.extend(other.tokens)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        import numpy as np

        p: SemanticParams = self.params  # type: ignore[assignment]
        check_vectors(self.vectors, self.refs, self.exact, self.tokens)
        n = len(self.refs)
        if n == 0:
            self._summary = {"semantic": {"model": MODEL, "threshold": p.threshold, "records": 0}}
            return []
        rank = rank_order(p.keep, n, np.asarray(self.tokens, dtype=np.int64))
        exact_r = np.asarray(self.exact, dtype=np.uint64)[rank]
        # identical texts collapse to their highest-priority member (dedup.exact / dedup.prompt report them)
        _, first, inverse = np.unique(exact_r, return_index=True, return_inverse=True)
        reps = np.sort(first)
        rep_pos = np.empty(n, dtype=np.int64)
        rep_pos[reps] = np.arange(len(reps))
        ids = rank[reps]  # representative -> record
        x = np.stack([self.vectors[r] for r in ids.tolist()]).astype(np.float32)
        found = similar_pairs(x, p.threshold, p.neighbours)
        stars = star_clusters(len(reps), found.i, found.j, found.similarity, p.threshold)
        hits: list[tuple[float, Hit]] = []
        clusters: dict[int, int] = {}
        for g in range(len(reps)):
            c = int(stars.centre[g])
            if c == -1 or c == g:
                continue
            rec, kept, sim = int(ids[g]), int(ids[c]), float(stars.similarity[g])
            clusters[kept] = clusters.get(kept, 0) + 1
            hits.append((sim, self._hit(rec, kept, sim, p.threshold)))
        hits.sort(key=lambda h: (h[0], h[1].path or "", h[1].line or 0))  # nearest the threshold first
        out = []
        for order, (_, hit) in enumerate(hits):
            hit.data["review_order"] = order
            out.append(hit)
        nearest = found.nearest[rep_pos[first[inverse]]]  # a copy of a representative shares its nearest
        self._summary = {
            "semantic": {
                "model": MODEL,
                "threshold": p.threshold,
                "text": p.text,
                "records": n,
                "distinct_texts": len(reps),
                "search": found.method,
                "pairs_at_threshold": len(found.i),
                "clusters": len(clusters),
                "duplicates": sum(clusters.values()),
                "reported": len(out),
                "largest_cluster": max(clusters.values(), default=0) + (1 if clusters else 0),
                **similarity_summary(nearest, n),
            }
        }
        return out

    def _hit(self, rec: int, kept: int, sim: float, threshold: float) -> Hit:
        kref = self.refs[kept]
        data = {
            "cluster": cluster_id("semantic", kref[2]),
            "similarity": round(sim, 4),
            "margin": round(sim - threshold, 4),
        }
        return pair_hit(
            f"asks what {{where}} asks, in other words (semantic similarity {sim:.2f})",
            "Keep one of the two, or make them ask different things; the kept record is {where}.",
            self.refs[rec],
            kref,
            data,
        )

    def summary(self) -> dict[str, Any]:
        return self._summary
