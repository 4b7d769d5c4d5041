"""`dedup.contamination`: training records that copy or nearly copy a record of the
evaluation files given with `--against` (the validation loss then lies).

The evaluation side is small in practice, so it is indexed in memory (one dict entry per LSH
band per record); training records stream past it in `observe`, so nothing of the training
set is kept except the hits.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.dedup.common import (
    NearParams,
    cluster_id,
    sketch_fields,
    sketch_record,
    sketch_refs,
    sketches_from_fields,
    sketches_from_refs,
)
from curate.checks.dedup.near import make_cache, write_caches
from curate.checks.dedup.stats import similarity_summary
from curate.checks.dedup.store import Sketch, SketchStore
from curate.model import Hit, Record, Severity

_BAND_SALT = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


class _Index:
    def __init__(self, store: SketchStore) -> None:
        import numpy as np

        self.store = store
        self.arrays = store.numpy()
        self.exact: dict[int, int] = {}
        for i, h in enumerate(self.arrays.exact.tolist()):
            self.exact.setdefault(h, i)
        self.bands: dict[int, list[int]] = {}
        nb = store.nbands
        salts = [(b * _BAND_SALT) & _MASK for b in range(nb)]
        for i, row in enumerate(self.arrays.bands.tolist() if len(store) else []):
            for b in range(nb):
                self.bands.setdefault(row[b] ^ salts[b], []).append(i)
        self.salts = np.array(salts, dtype=np.uint64)


_LOADED: dict[tuple[Any, ...], _Index] = {}  # the last index built in this process (see `_index_key`)


def _file_identity(path: str) -> tuple[str, int, int]:
    try:
        st = Path(path).stat()
        return (path, st.st_size, st.st_mtime_ns)
    except OSError:
        return (path, -1, -1)


class Contamination(DatasetCheck):
    id = "dedup.contamination"
    needs_text = True  # records without conversation text are never duplicates of each other
    description = "Training records that duplicate a record of the evaluation files (--against): validation loss lies."
    default_severity = Severity.ERROR
    Params = NearParams
    example = "curate check train.jsonl --against eval.jsonl, where a training record copies an eval record."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p: NearParams = self.params  # type: ignore[assignment]
        self.sp = p.sketch_params()
        self.cache = make_cache(p, self.ctx)
        self.found: list[tuple[str, int, str, int, float, str]] = []  # path, line, key, against row, sim, kind
        self.nearest = array("f")
        self._index: _Index | None = None
        self._summary: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_index"] = None  # rebuilt lazily in each worker or shard
        return state

    def _index_key(self) -> tuple[Any, ...]:
        """What the index depends on: the evaluation files as they are now, the training paths, the
        parameters. Engines that observe each block into a fresh instance (Ray) build it once per
        worker process, not once per block."""
        return (
            tuple(_file_identity(p) for p in self.ctx.against),
            self.ctx.paths,
            self.params.model_dump_json(),
            self.roles,
        )

    def _load(self) -> _Index:
        if self._index is not None:
            return self._index
        if self.cache is not None:  # its signature cache tells which sketches to write: not shared
            self._index = self._build()
            return self._index
        key = self._index_key()
        self._index = _LOADED.get(key)
        if self._index is None:
            self._index = self._build()
            _LOADED.clear()
            _LOADED[key] = self._index
        return self._index

    def _build(self) -> _Index:
        from curate.io.reader import iter_records

        store = SketchStore(self.sp.bands)
        train = {str(Path(p).resolve()) for p in self.ctx.paths if p != "-"}
        for path in self.ctx.against:
            if path != "-" and str(Path(path).resolve()) in train:
                continue  # the same file on both sides would match itself
            for record in iter_records(path):
                if record.ok and record.conversation.readable:
                    ref = RecordRef(record.path, record.line, record.key, record.format, {})
                    store.add(ref, sketch_record(record, self.params, self.roles, self.cache))  # type: ignore[arg-type]
        return _Index(store)

    def extract(self, record: Record) -> Sketch | None:
        if not self.ctx.against:
            return None
        return sketch_record(record, self.params, self.roles, self.cache)  # type: ignore[arg-type]

    def cache_extracts(self, values: Sequence[Any]) -> Any:
        # keys into the signature cache, which dedup.near fills with the same sketches (same
        # parameters, as in the default rules); without it a grown file's blocks are computed again
        return sketch_refs(values) if self.cache is not None else sketch_fields(values)

    def restore_extracts(self, stored: Any, path: str) -> Sequence[Any] | None:
        return sketches_from_refs(self.cache, path, stored) if self.cache is not None else sketches_from_fields(stored)

    def warnings(self) -> list[str]:
        return self.cache.warnings() if self.cache is not None else []

    def observe(self, ref: RecordRef, extracted: Sketch | None) -> None:
        import numpy as np

        if extracted is None:
            return
        idx = self._load()
        p: NearParams = self.params  # type: ignore[assignment]
        row = idx.exact.get(extracted.exact)
        if row is not None:
            self.found.append((ref.path, ref.line, ref.key, row, 1.0, "exact"))
            self.nearest.append(1.0)
            return
        keys = (np.frombuffer(extracted.bands, dtype=np.uint64) ^ idx.salts).tolist()
        cands: set[int] = set()
        for k in keys:
            hit = idx.bands.get(k)
            if hit:
                cands.update(hit)
        best, best_row = 0.0, -1
        if cands:
            mine = np.frombuffer(extracted.shingles, dtype=np.uint32)
            for c in sorted(cands):
                other = idx.arrays.shingle_set(c)
                if len(mine) == 0 or len(other) == 0:
                    sim = 1.0 if len(mine) == len(other) else 0.0
                else:
                    inter = len(np.intersect1d(mine, other, assume_unique=True))
                    sim = inter / (len(mine) + len(other) - inter)
                if sim > best:
                    best, best_row = sim, c
        self.nearest.append(best)
        if best >= p.threshold:
            self.found.append((ref.path, ref.line, ref.key, best_row, best, "near"))

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, Contamination)
        self.found.extend(other.found)
        self.nearest.extend(other.nearest)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        if not self.ctx.against:
            return []
        idx = self._load()
        p: NearParams = self.params  # type: ignore[assignment]
        problems = write_caches(self.cache, idx.store, idx.arrays)
        ranked = sorted(self.found, key=lambda f: (f[4], f[0], f[1]))
        out = []
        for order, (path, line, key, row, sim, kind) in enumerate(ranked):
            apath, aline, akey = idx.store.where(row)
            where = f"{apath}:{aline}"
            data = {
                "kind": kind,
                "cluster": cluster_id("eval", akey),
                "duplicate_of": aline,
                "duplicate_of_path": apath,
                "similarity": round(sim, 4),
                "margin": round(sim - p.threshold, 4),
                "review_order": order,
            }
            what = "exact copy" if kind == "exact" else f"near-duplicate (similarity {sim:.2f})"
            out.append(
                Hit(
                    f"{what} of evaluation record {where}",
                    data=data,
                    line=line,
                    key=key,
                    path=path,
                    identity=akey,
                    fix="Remove it from training (or from the evaluation set) so validation loss means something.",
                )
            )
        self._summary = {
            "contamination": {
                "against": list(self.ctx.against),
                "against_records": len(idx.store),
                "threshold": p.threshold,
                "contaminated": len(out),
                "exact": sum(1 for f in self.found if f[5] == "exact"),
                "near": sum(1 for f in self.found if f[5] == "near"),
                **similarity_summary(self.nearest, len(self.nearest)),
                **({"problems": problems} if problems else {}),
            }
        }
        return out

    def summary(self) -> dict[str, Any]:
        return self._summary
