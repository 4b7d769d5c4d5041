"""`dedup.contamination`: training records that copy, nearly copy or quote a long span of a
record of the evaluation files given with `--against` (the validation loss then lies).

Two kinds of evidence, one finding per training record (the strongest): a whole-record copy
(exact hash, or MinHash similarity at the near-duplicate threshold) and a shared span of words
(word n-grams, `ngrams.py`), which finds a benchmark question wrapped in other instructions.
The evaluation side is small in practice, so it is indexed in memory: LSH bands in the main
process (`observe`), n-gram hashes in each process that runs `extract` (built once per process);
training records stream past, so nothing of the training set is kept except the hits.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.dedup.common import (
    NearParams,
    cluster_id,
    selected_word_hashes,
    sketch_fields,
    sketch_record,
    sketch_refs,
    sketches_from_fields,
    sketches_from_refs,
)
from curate.checks.dedup.near import make_cache, write_caches
from curate.checks.dedup.ngrams import EvalText, NgramIndex, eval_entry
from curate.checks.dedup.stats import similarity_summary
from curate.checks.dedup.store import Sketch, SketchStore
from curate.checks.dedup.text import selected_turns, turn_text
from curate.io.location import location
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
_NGRAMS: dict[tuple[Any, ...], NgramIndex] = {}  # the last n-gram index built in this process
SPAN_CHARS = 300  # characters of the matched span kept in a finding's data (masked); its message quotes fewer
_FIX = "Remove it from training (or from the evaluation set) so validation loss means something."
_KINDS = ("exact", "near", "ngram")  # strongest evidence first


class ContaminationParams(NearParams):
    ngram: int = Field(
        13, ge=0, le=64, description="words per n-gram a training record may share with an evaluation record (0: off)"
    )
    min_span: int = Field(13, ge=1, le=10_000, description="words the longest shared span must have (at least ngram)")
    short_prompt: int = Field(
        8,
        ge=0,
        description="evaluation prompts (user turns) of fewer than ngram words but at least this many count "
        "when a training record holds them whole (0: off)",
    )
    ignore_shared: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="n-grams in more than this share of the evaluation records (and in at least 10) are a "
        "benchmark's prompt template: not indexed",
    )


def _overlap(value: Any) -> tuple[int, int, int, int] | None:
    """An n-gram overlap as stored by the result cache, checked; ValueError when it is not one."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 4 and all(type(v) is int and v >= 0 for v in value):
        return tuple(value)  # type: ignore[return-value]
    raise ValueError("not an n-gram overlap")


def _file_identity(path: str) -> tuple[str, int, int]:
    try:
        st = Path(path).stat()
        return (path, st.st_size, st.st_mtime_ns)
    except OSError:
        return (path, -1, -1)


class Contamination(DatasetCheck):
    id = "dedup.contamination"
    needs_text = True  # records without conversation text are never duplicates of each other
    description = (
        "Training records that copy a record of the evaluation files (--against) or hold a long span of one "
        "(a wrapped benchmark question): validation loss lies."
    )
    default_severity = Severity.ERROR
    Params = ContaminationParams
    example = (
        "curate check train.jsonl --against eval.jsonl, where a training record copies an eval record "
        "or wraps its question: 'Please solve carefully: <question> Answer in French.'"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p: ContaminationParams = self.params  # type: ignore[assignment]
        self.sp = p.sketch_params()
        self.cache = make_cache(p, self.ctx)
        # path, line, key, against row, similarity, kind; then the shared span when there is one (its
        # against row, words, start, covered words: `ngrams.Overlap`)
        self.found: list[tuple[Any, ...]] = []
        self.nearest = array("f")
        self._index: _Index | None = None
        self._ngrams: NgramIndex | None = None
        self._summary: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_index"] = state["_ngrams"] = None  # rebuilt lazily in each worker or shard
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

    def _eval_records(self) -> Iterator[Record]:
        """The evaluation records, in the order both indexes number them."""
        from curate.io.reader import iter_records

        train = {str(Path(p).resolve()) for p in self.ctx.paths if p != "-"}
        for path in self.ctx.against:
            if path != "-" and str(Path(path).resolve()) in train:
                continue  # the same file on both sides would match itself
            for record in iter_records(path):
                if record.ok and record.conversation.readable:
                    yield record

    def _build(self) -> _Index:
        store = SketchStore(self.sp.bands)
        for record in self._eval_records():
            ref = RecordRef(record.path, record.line, record.key, record.format, {})
            store.add(ref, sketch_record(record, self.params, self.roles, self.cache))  # type: ignore[arg-type]
        return _Index(store)

    def _ngram_index(self) -> NgramIndex:
        """The evaluation records' n-grams, built once per process (workers, shards, Ray, the driver)."""
        if self._ngrams is not None:
            return self._ngrams
        key = self._index_key()
        self._ngrams = _NGRAMS.get(key)
        if self._ngrams is None:
            p: ContaminationParams = self.params  # type: ignore[assignment]
            texts = (
                EvalText(
                    r.path,
                    r.line,
                    r.key,
                    tuple((t.role, turn_text(t)) for t in selected_turns(r, p.text, self.roles)),
                )
                for r in self._eval_records()
            )
            self._ngrams = NgramIndex(
                map(eval_entry, texts), p.ngram, p.short_prompt, p.ignore_shared, frozenset({"user"})
            )
            _NGRAMS.clear()
            _NGRAMS[key] = self._ngrams
        return self._ngrams

    def extract(self, record: Record) -> tuple[Sketch, tuple[int, int, int, int] | None] | None:
        if not self.ctx.against:
            return None
        p: ContaminationParams = self.params  # type: ignore[assignment]
        sketch = sketch_record(record, p, self.roles, self.cache)
        if not p.ngram:
            return sketch, None
        found = self._ngram_index().find(selected_word_hashes(record, p.text, self.roles), p.min_span)
        return sketch, found.fields() if found is not None else None

    def cache_extracts(self, values: Sequence[Any]) -> Any:
        # sketches as keys into the signature cache, which dedup.near fills with the same sketches
        # (same parameters, as in the default rules; without it a grown file's blocks are computed
        # again), and the n-gram overlaps (numbers) as they are
        sketches = [v[0] if v is not None else None for v in values]
        kept = sketch_refs(sketches) if self.cache is not None else sketch_fields(sketches)
        return [kept, [v[1] if v is not None else None for v in values]]

    def restore_extracts(self, stored: Any, path: str) -> Sequence[Any] | None:
        if not isinstance(stored, (list, tuple)) or len(stored) != 2 or not isinstance(stored[1], (list, tuple)):
            return None
        kept, overlaps = stored
        if not isinstance(kept, (list, tuple)) or len(kept) != len(overlaps):
            return None
        sketches = sketches_from_refs(self.cache, path, kept) if self.cache is not None else sketches_from_fields(kept)
        if sketches is None:
            return None
        try:
            return [None if s is None else (s, _overlap(o)) for s, o in zip(sketches, overlaps, strict=True)]
        except ValueError:
            return None

    def warnings(self) -> list[str]:
        return self.cache.warnings() if self.cache is not None else []

    def observe(self, ref: RecordRef, extracted: tuple[Sketch, tuple[int, int, int, int] | None] | None) -> None:
        if extracted is None:
            return
        sketch, overlap = extracted
        extra = tuple(overlap) if overlap is not None else ()  # the shared span, also beside a whole copy
        copy = self._whole_record(sketch)
        if copy is not None:
            self.found.append((ref.path, ref.line, ref.key, *copy, *extra))
        elif overlap is not None:
            self.found.append((ref.path, ref.line, ref.key, overlap[0], 0.0, "ngram", *extra))

    def _whole_record(self, extracted: Sketch) -> tuple[int, float, str] | None:
        """(evaluation row, similarity, kind) of the exact or near copy, if the record is one."""
        import numpy as np

        idx = self._load()
        p: NearParams = self.params  # type: ignore[assignment]
        row = idx.exact.get(extracted.exact)
        if row is not None:
            self.nearest.append(1.0)
            return row, 1.0, "exact"
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
        return (best_row, best, "near") if best >= p.threshold else None

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, Contamination)
        self.found.extend(other.found)
        self.nearest.extend(other.nearest)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        if not self.ctx.against:
            return []
        idx = self._load()
        p: ContaminationParams = self.params  # type: ignore[assignment]
        problems = write_caches(self.cache, idx.store, idx.arrays)
        ngrams = self._ngram_index() if p.ngram else None
        scored = []
        for f in self.found:
            path, line, key, row, sim, kind, *extra = f
            if extra and (ngrams is None or len(extra) != 4 or not 0 <= extra[0] < len(ngrams)):
                extra = []  # a state from other parameters or evaluation files
            if kind == "ngram":
                if not extra:
                    continue
                sim = extra[3] / max(1, int(ngrams.words[row]))  # type: ignore[union-attr]
            scored.append((sim, path, line, key, row, kind, extra))
        scored.sort(key=lambda f: (f[0], f[1], f[2]))
        out = []
        for order, (sim, path, line, key, row, kind, extra) in enumerate(scored):
            if kind == "ngram":
                out.append(self._span_hit(ngrams, (path, line, key), extra, order))  # type: ignore[arg-type]
                continue
            apath, aline, akey = idx.store.where(row)
            data = {
                "kind": kind,
                "cluster": cluster_id("eval", akey),
                "duplicate_of": aline,
                "duplicate_of_path": apath,
                "similarity": round(sim, 4),
                "margin": round(sim - p.threshold, 4),
                "review_order": order,
            }
            if extra and extra[0] == row:  # the same record also shares a span: show it too
                data.update(self._span_data(ngrams, extra))  # type: ignore[arg-type]
            what = "exact copy" if kind == "exact" else f"near-duplicate (similarity {sim:.2f})"
            also = f", sharing a span of {data['span_words']} words" if "span_words" in data else ""
            out.append(
                Hit(
                    f"{what} of evaluation record {location(apath, aline)}{also}",
                    data=data,
                    line=line,
                    key=key,
                    path=path,
                    identity=akey,
                    fix=_FIX,
                )
            )
        kinds = {k: sum(1 for f in scored if f[5] == k) for k in _KINDS}
        self._summary = {
            "contamination": {
                "against": list(self.ctx.against),
                "against_records": len(idx.store),
                "threshold": p.threshold,
                "contaminated": len(out),
                **kinds,
                **({"ngram_index": ngrams.summary(p.min_span)} if ngrams is not None else {}),
                **similarity_summary(self.nearest, len(self.nearest)),
                **({"problems": problems} if problems else {}),
            }
        }
        return out

    def _span_data(self, ngrams: NgramIndex, extra: list[int]) -> dict[str, Any]:
        """The shared span of an evaluation record: its text (masked), words, role and coverage."""
        row, span, start, covered = extra
        role, text = ngrams.span_text(row, start, span, SPAN_CHARS)
        share = covered / max(1, int(ngrams.words[row]))
        return {"span": text, "span_words": span, "span_role": role, "coverage": round(share, 4)}

    def _span_hit(self, ngrams: NgramIndex, rec: tuple[str, int, str], extra: list[int], order: int) -> Hit:
        """The finding for a training record that holds a long span of an evaluation record."""
        path, line, key = rec
        target = ngrams.records[extra[0]]
        shared = self._span_data(ngrams, extra)
        data = {
            "kind": "ngram",
            "cluster": cluster_id("eval", target.key),
            "duplicate_of": target.line,
            "duplicate_of_path": target.path,
            **shared,
            "review_order": order,
        }
        text = shared["span"]
        quoted = text if len(text) <= 120 else text[:119] + "…"
        return Hit(
            f"holds {shared['span_words']} words of evaluation record {location(target.path, target.line)} "
            f'({shared["coverage"]:.0%} of its words, from its {shared["span_role"] or "text"} turn): "{quoted}"',
            data=data,
            line=line,
            key=key,
            path=path,
            identity=target.key,
            fix=_FIX,
        )

    def summary(self) -> dict[str, Any]:
        return self._summary
