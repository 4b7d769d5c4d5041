"""Compact, mergeable per-record state of the near-duplicate checks.

At 1M records a Python object per record would cost more than the data, so everything is
appended into flat bytearrays / arrays and viewed as numpy arrays only at finalize.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

from curate.check import RecordRef
from curate.checks.dedup.spill import ShingleBuffer


@dataclass(frozen=True, slots=True)
class Sketch:
    """What `extract` returns for one record: small, picklable, no text."""

    text_hash: bytes  # 16 bytes: cache key of the selected text
    exact: int  # 64-bit hash of the exact-normalised text (what dedup.exact compares)
    same: int  # 64-bit hash of the shingle set: equal means similarity 1.0
    words: int
    bands: bytes  # uint64 per band
    shingles: bytes  # sorted unique uint32 shingle hashes
    cached: bool = False

    def fields(self) -> tuple[bytes, int, int, int, bytes, bytes, bool]:
        return (self.text_hash, self.exact, self.same, self.words, self.bands, self.shingles, self.cached)

    @classmethod
    def from_fields(cls, values: Any) -> Sketch:
        """A sketch back from `fields()` as stored (by the result cache): every field checked."""
        text_hash, exact, same, words, bands, shingles, cached = values
        if not all(isinstance(v, bytes) for v in (text_hash, bands, shingles)) or len(shingles) % 4:
            raise ValueError("not a sketch")
        if not all(isinstance(v, int) for v in (exact, same, words)):
            raise ValueError("not a sketch")
        return cls(text_hash, exact, same, words, bands, shingles, bool(cached))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # one sketch per record crosses to the main process (and into the result cache): as the
        # constructor's arguments it pickles ~3x faster than a slotted dataclass's state
        return (Sketch, (self.text_hash, self.exact, self.same, self.words, self.bands, self.shingles, self.cached))


class SketchStore:
    """Sketches of many records in arrival order, plus where each record is."""

    def __init__(self, bands: int) -> None:
        self.nbands = bands
        self.paths: list[str] = []
        self._path_ix: dict[str, int] = {}
        self.path_of = array("H")
        self.line = array("q")
        self.keys: list[str] = []
        self.exact = array("Q")
        self.same = array("Q")
        self.words = array("q")
        self.sh_len = array("q")
        self.text_hash = bytearray()
        self.bands = bytearray()
        self.shingles = ShingleBuffer()  # on disk past 64 MB: verification reads back only what it compares
        self.from_cache = bytearray()  # 1 per record sketched from the cache
        self.light = False  # True: bands, shingles and text hashes are kept elsewhere (see `without_sketches`)

    def __len__(self) -> int:
        return len(self.line)

    def add(self, ref: RecordRef, sk: Sketch) -> None:
        ix = self._path_ix.get(ref.path)
        if ix is None:
            ix = self._path_ix[ref.path] = len(self.paths)
            self.paths.append(ref.path)
        self.path_of.append(ix)
        self.line.append(ref.line)
        self.keys.append(ref.key)
        self.exact.append(sk.exact)
        self.same.append(sk.same)
        self.words.append(sk.words)
        self.sh_len.append(len(sk.shingles) // 4)
        self.text_hash += sk.text_hash
        self.bands += sk.bands
        self.shingles += sk.shingles
        self.from_cache.append(sk.cached)

    def merge(self, other: SketchStore) -> None:
        remap = []
        for p in other.paths:
            ix = self._path_ix.get(p)
            if ix is None:
                ix = self._path_ix[p] = len(self.paths)
                self.paths.append(p)
            remap.append(ix)
        self.path_of.extend(remap[i] for i in other.path_of)
        self.line.extend(other.line)
        self.keys.extend(other.keys)
        for name in ("exact", "same", "words", "sh_len"):
            getattr(self, name).extend(getattr(other, name))
        self.text_hash += other.text_hash
        self.bands += other.bands
        self.shingles += other.shingles
        self.from_cache += other.from_cache

    def without_sketches(self) -> SketchStore:
        """A copy with where each record is and its small hashes, but no bands, shingles or text hashes:
        what the Ray engine gathers on the driver while the sketches stay on the workers."""
        light = SketchStore(self.nbands)
        light.paths, light._path_ix = list(self.paths), dict(self._path_ix)
        light.path_of, light.line, light.keys = array("H", self.path_of), array("q", self.line), list(self.keys)
        light.exact, light.same, light.words = array("Q", self.exact), array("Q", self.same), array("q", self.words)
        light.sh_len, light.from_cache = array("q", self.sh_len), bytearray(self.from_cache)
        light.light = True
        return light

    def numpy(self) -> StoreArrays:
        import numpy as np

        n = len(self)

        def column(values: Any, dtype: Any) -> Any:
            return np.frombuffer(values, dtype=dtype) if n else np.zeros(0, dtype=dtype)

        sh_len = column(self.sh_len, np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        if self.light:  # no sketches here: bands of width 0, no shingles
            offsets = offsets[:1]
            bands = np.zeros((n, 0), dtype=np.uint64)
            text_hash = np.zeros((n, 16), dtype=np.uint8)
        else:
            np.cumsum(sh_len, out=offsets[1:])
            bands = np.frombuffer(self.bands, dtype=np.uint64).reshape(n, self.nbands)
            text_hash = np.frombuffer(self.text_hash, dtype=np.uint8).reshape(n, 16)
        return StoreArrays(
            path_of=column(self.path_of, np.uint16),
            line=column(self.line, np.int64),
            exact=column(self.exact, np.uint64),
            same=column(self.same, np.uint64),
            words=column(self.words, np.int64),
            bands=bands,
            offsets=offsets,
            shingles=self.shingles.array(),
            text_hash=text_hash,
            from_cache=column(self.from_cache, np.uint8),
        )

    def where(self, i: int) -> tuple[str, int, str]:
        return self.paths[self.path_of[i]], self.line[i], self.keys[i]


@dataclass(frozen=True, slots=True)
class StoreArrays:
    path_of: Any
    line: Any
    exact: Any
    same: Any
    words: Any
    bands: Any
    offsets: Any
    shingles: Any
    text_hash: Any
    from_cache: Any

    def shingle_set(self, i: int) -> Any:
        return self.shingles[self.offsets[i] : self.offsets[i + 1]]
