"""`dedup.exact`: records identical after a documented normalisation, in any format."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.dedup.common import ExactNormParams, KeepPolicy, cluster_id, exact_hash, pair_hit, rank_order
from curate.model import Hit, Record, Severity


class ExactParams(ExactNormParams):
    keep: KeepPolicy = Field("first", description="which copy is kept: first, last, longest, shortest")


class ExactDuplicate(DatasetCheck):
    id = "dedup.exact"
    needs_text = True  # records without conversation text are never duplicates of each other
    description = (
        "Records identical after normalising Unicode, case and whitespace (any format): the model memorises them."
    )
    default_severity = Severity.WARNING
    Params = ExactParams
    example = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]} twice'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from array import array

        super().__init__(*args, **kwargs)
        self.hashes = array("Q")
        self.sizes = array("q")
        self.refs: list[tuple[str, int, str]] = []
        self._summary: dict[str, Any] = {}

    def extract(self, record: Record) -> tuple[int, int] | None:
        p: ExactParams = self.params  # type: ignore[assignment]
        size = sum(len(t.text) for t in record.conversation.turns)
        if not size and not record.conversation.turns:
            return None  # a record no format understood has no text to compare: not a copy of another one
        return exact_hash(record, p, self.roles), size

    def observe(self, ref: RecordRef, extracted: tuple[int, int] | None) -> None:
        if extracted is None:
            return
        self.hashes.append(extracted[0])
        self.sizes.append(extracted[1])
        self.refs.append((ref.path, ref.line, ref.key))

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, ExactDuplicate)
        self.hashes.extend(other.hashes)
        self.sizes.extend(other.sizes)
        self.refs.extend(other.refs)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        import numpy as np

        n = len(self.refs)
        if not n:
            return []
        p: ExactParams = self.params  # type: ignore[assignment]
        rank = rank_order(p.keep, n, np.frombuffer(self.sizes, dtype=np.int64))
        h = np.frombuffer(self.hashes, dtype=np.uint64)[rank]
        _, first, inverse, counts = np.unique(h, return_index=True, return_inverse=True, return_counts=True)
        dup_r = np.flatnonzero(counts[inverse] > 1)
        out = []
        clusters = 0
        for r in dup_r.tolist():
            kept_r = int(first[inverse[r]])
            if kept_r == r:
                clusters += 1
                continue
            kept = self.refs[int(rank[kept_r])]
            data = {"cluster": cluster_id("exact", kept[2]), "similarity": 1.0, "cluster_size": int(counts[inverse[r]])}
            out.append(
                pair_hit(
                    "exact duplicate of {where}",
                    "Drop this copy; the kept one is {where}.",
                    self.refs[int(rank[r])],
                    kept,
                    data,
                )
            )
        self._summary = {
            "exact": {
                "records": n,
                "clusters": clusters,
                "duplicates": len(out),
                "largest_cluster": int(counts.max()) if clusters else 0,
            }
        }
        return out

    def summary(self) -> dict[str, Any]:
        return self._summary
