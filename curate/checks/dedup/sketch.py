"""Shingles, MinHash signatures (datasketch) and LSH band keys for one text.

Speed matters (1M records): words are hashed with zlib.crc32 through `map` (C speed, stable
across processes, unlike hash()), n-grams are combined with numpy, and datasketch applies its
permutations to the whole batch at once with permutations shared across records.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ALGO_VERSION = 3  # bump when shingling or band keys change: old caches are then ignored


@dataclass(frozen=True, slots=True)
class SketchParams:
    shingle: int  # words per shingle
    num_perm: int
    bands: int
    rows: int
    seed: int

    def cache_tag(self) -> str:
        import datasketch

        shape = f"w{self.shingle}-p{self.num_perm}-b{self.bands}x{self.rows}-s{self.seed}"
        return f"a{ALGO_VERSION}-ds{datasketch.__version__}-{shape}"


def choose_bands(threshold: float, num_perm: int, target_recall: float = 0.98) -> tuple[int, int]:
    """Most rows per band (fewest false candidates) that still finds a pair at the threshold
    with probability >= target_recall: P = 1 - (1 - t^r)^b."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        if 1 - (1 - threshold**rows) ** bands >= target_recall:
            best = (bands, rows)
    return best


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    return 1 - (1 - similarity**rows) ** bands


@lru_cache(maxsize=8)
def _template(num_perm: int, seed: int) -> dict[str, Any]:
    """Permutations generated once per process and shared by every signature (datasketch
    would otherwise draw them again for each MinHash)."""
    from datasketch import MinHash

    mh = MinHash(num_perm=num_perm, seed=seed)
    kwargs: dict[str, Any] = {"permutations": mh.permutations}
    if hasattr(mh, "scheme"):  # datasketch >= 2.0 wants the scheme named with given permutations
        kwargs["scheme"] = mh.scheme
    return kwargs


@lru_cache(maxsize=8)
def _band_mix(rows: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(0x5EED + rows)
    return rng.integers(1, 1 << 63, size=rows, dtype=np.uint64) | np.uint64(1)


def _fmix64(h: Any) -> Any:
    """MurmurHash3's 64-bit finaliser, in place on a fresh uint64 array."""
    h ^= h >> _C.S33
    h *= _C.M1
    h ^= h >> _C.S33
    h *= _C.M2
    h ^= h >> _C.S33
    return h


class _Consts:
    """numpy scalars built on first use (numpy is not imported at module load)."""

    def __getattr__(self, name: str) -> Any:
        import numpy as np

        values = {"S33": 33, "M1": 0xFF51AFD7ED558CCD, "M2": 0xC4CEB9FE1A85EC53, "PRIME": 0x100000001B3, "SHIFT32": 32}
        for k, v in values.items():
            setattr(self, k, np.uint64(v))
        return getattr(self, name)


_C = _Consts()


def shingle_hashes(tokens: list[str], n: int) -> Any:
    """Sorted unique uint32 hashes of the word n-grams (the whole text when shorter than n)."""
    import numpy as np

    if not tokens:
        return np.zeros(0, dtype=np.uint32)
    w = np.fromiter(map(zlib.crc32, map(str.encode, tokens)), dtype=np.uint64, count=len(tokens))
    k = min(n, len(w))
    m = len(w) - k + 1
    # uint64 arrays wrap silently on overflow (only numpy scalars warn): no errstate needed
    acc = w[:m].copy()
    for i in range(1, k):
        acc *= _C.PRIME
        acc += w[i : i + m]
    acc = _fmix64(acc)
    acc >>= _C.SHIFT32
    return np.unique(acc.astype(np.uint32))


def signature(shingles: Any, params: SketchParams) -> Any:
    """The MinHash signature (uint32 array) of a shingle set, computed by datasketch.

    One MinHash per process is cleared and reused: constructing one per record re-validates the
    shared permutations each time, which cost more than hashing a short text."""
    mh = _minhash(params.num_perm, params.seed)
    mh.clear()
    mh.update_batch(shingles.tolist())
    return mh.hashvalues


@lru_cache(maxsize=8)
def _minhash(num_perm: int, seed: int) -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=seed, hashfunc=int, **_template(num_perm, seed))


def band_keys(sig: Any, params: SketchParams) -> Any:
    """One uint64 per band: a mix of that band's rows; equal keys make a candidate pair."""
    import numpy as np

    used = sig[: params.bands * params.rows].astype(np.uint64).reshape(params.bands, params.rows)
    return _fmix64((used * _band_mix(params.rows)).sum(axis=1, dtype=np.uint64))


def jaccard(a: Any, b: Any) -> float:
    """Exact Jaccard similarity of two sorted unique shingle arrays."""
    import numpy as np

    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) == len(b) else 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
