"""Shingles, MinHash signatures (datasketch) and LSH band keys for one text.

Speed matters (1M records): words are hashed over the text's bytes with numpy (wordhash.py;
stable across processes, unlike hash()); n-grams are combined with numpy; the MinHash applies
datasketch's own permutations (scheme, `a`, `b`) to the whole shingle array in one numpy
expression, checked once per process to equal datasketch's `update_batch` bit for bit (else
`update_batch` itself is used).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ALGO_VERSION = 5  # bump when shingling or band keys change: old caches are then ignored


@dataclass(frozen=True, slots=True)
class SketchParams:
    shingle: int  # words per shingle
    num_perm: int
    bands: int
    rows: int
    seed: int

    def cache_tag(self) -> str:
        from importlib.metadata import version  # `import datasketch` pulls in scipy: ~1 s the main process never needs

        shape = f"w{self.shingle}-p{self.num_perm}-b{self.bands}x{self.rows}-s{self.seed}"
        return f"a{ALGO_VERSION}-ds{version('datasketch')}-{shape}"


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
    """numpy scalars of one dtype, built on first use (numpy is not imported at module load)."""

    def __init__(self, dtype: str, **values: int) -> None:
        self._dtype, self._values = dtype, values

    def __getattr__(self, name: str) -> Any:
        import numpy as np

        if name.startswith("_"):
            raise AttributeError(name)
        for k, v in self._values.items():
            setattr(self, k, np.dtype(self._dtype).type(v))
        return getattr(self, name)


_C = _Consts("uint64", S33=33, M1=0xFF51AFD7ED558CCD, M2=0xC4CEB9FE1A85EC53, PRIME=0x100000001B3, SHIFT32=32)
_C32 = _Consts("uint32", S16=16, S13=13, M1=0x85EBCA6B, M2=0xC2B2AE35)  # MurmurHash3's 32-bit finaliser


def shingles_of(w: Any, n: int) -> Any:
    """Sorted unique uint32 hashes of the word n-grams (the whole text when shorter than n),
    from the word hashes of a text (wordhash.texts_word_hashes)."""
    import numpy as np

    if not len(w):
        return np.zeros(0, dtype=np.uint32)
    acc = ngram_hashes(w, min(n, len(w)))
    acc >>= _C.SHIFT32
    return sorted_unique(acc.astype(np.uint32))


def ngram_hashes(w: Any, n: int, prefix: Any = None) -> Any:
    """64-bit hashes of the word n-grams of word hashes `w`, in text order (one per start position;
    none when `w` is shorter than n): fmix64 of the polynomial sum_j w[i+j] * P^(n-1-j) mod 2^64.

    The polynomial comes from one prefix sum, S[k] = sum_{j<k} w[j] * P^-j (P odd, so invertible
    mod 2^64): h[i] = (S[i+n] - S[i]) * P^(i+n-1), a handful of array operations for any n where
    Horner's rule takes 2n. `prefix` (`word_prefix(w)`) is shared by several n."""
    m = len(w) - n + 1
    if m <= 0:
        return w[:0].copy()
    s = word_prefix(w) if prefix is None else prefix
    fw, _ = _prime_powers(_table_size(len(w)))
    return _fmix64((s[n:] - s[:m]) * fw[n - 1 : n - 1 + m])


def word_prefix(w: Any) -> Any:
    """S[k] = sum_{j<k} w[j] * P^-j mod 2^64, for `ngram_hashes`."""
    import numpy as np

    _, bw = _prime_powers(_table_size(len(w)))
    out = np.empty(len(w) + 1, dtype=np.uint64)
    out[0] = 0
    np.cumsum(w * bw[: len(w)], out=out[1:])  # uint64 wraps: the arithmetic is mod 2^64
    return out


def _table_size(n: int) -> int:
    return 1 << max(10, (max(n, 1) - 1).bit_length())


@lru_cache(maxsize=8)
def _prime_powers(size: int) -> tuple[Any, Any]:
    """P^j and P^-j mod 2^64 for j < size (P = _C.PRIME)."""
    import numpy as np

    prime = int(_C.PRIME)
    inv = pow(prime, -1, 1 << 64)
    fw = np.empty(size, dtype=np.uint64)
    bw = np.empty(size, dtype=np.uint64)
    fw[0] = bw[0] = 1
    filled = 1
    while filled < size:  # doubling: each step extends both tables with one vector multiply
        step = min(filled, size - filled)
        fw[filled : filled + step] = fw[:step] * np.uint64(pow(prime, filled, 1 << 64))
        bw[filled : filled + step] = bw[:step] * np.uint64(pow(inv, filled, 1 << 64))
        filled += step
    return fw, bw


def sorted_unique(x: Any) -> Any:
    """np.unique for a small 1-d array, ~3x faster: numpy 2's unique hashes before it sorts."""
    import numpy as np

    if len(x) < 2:
        return x.copy()
    x = np.sort(x)
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def signature(shingles: Any, params: SketchParams) -> Any:
    """The MinHash signature (uint32 array) of a shingle set under datasketch's permutations.

    datasketch's `update_batch` first builds a Python list of the hashed values (half its cost
    on a 300-word text); the same arithmetic on the numpy array directly gives the identical
    signature in half the time. Each process checks that identity once against datasketch."""
    perm = _permutations(params.num_perm, params.seed)
    if perm is None:  # a datasketch whose arithmetic we do not reproduce: let it do the work
        mh = _minhash(params.num_perm, params.seed)
        mh.clear()
        mh.update_batch(shingles.tolist())
        return mh.hashvalues
    return _affine_min(shingles, *perm)


def _fmix32(h: Any) -> Any:
    """MurmurHash3's 32-bit finaliser (datasketch's pre-mix for the affine32 scheme)."""
    h = h ^ (h >> _C32.S16)
    h *= _C32.M1
    h ^= h >> _C32.S13
    h *= _C32.M2
    h ^= h >> _C32.S16
    return h


def _affine_min(shingles: Any, a: Any, b: Any) -> Any:
    """min over shingles of a_k * fmix32(h) + b_k mod 2^32, for each permutation k."""
    import numpy as np

    if not len(shingles):
        return np.full(len(a), 0xFFFFFFFF, dtype=np.uint32)
    out = a * _fmix32(shingles)  # (num_perm, 1) * (n,) -> (num_perm, n), wrapping uint32
    out += b
    return out.min(axis=1)


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[Any, Any] | None:
    """datasketch's (a, b) as column vectors when its scheme is affine32 and our arithmetic
    reproduces its `update_batch` on a sample; None otherwise."""
    import numpy as np

    t = _template(num_perm, seed)
    if t.get("scheme") != "affine32":
        return None
    a, b = (np.asarray(x, dtype=np.uint32).reshape(-1, 1) for x in t["permutations"])
    sample = np.unique(np.random.default_rng(seed).integers(0, 1 << 32, 64, dtype=np.uint64).astype(np.uint32))
    ref = _datasketch_signature(sample, num_perm, seed)
    ours = _affine_min(sample, a, b)
    if ours.dtype != ref.dtype or not np.array_equal(ours, ref):
        return None
    return a, b


@lru_cache(maxsize=8)
def _minhash(num_perm: int, seed: int) -> Any:
    """One MinHash per process, cleared and reused: constructing one per record re-validates
    the shared permutations each time."""
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=seed, hashfunc=int, **_template(num_perm, seed))


def _datasketch_signature(shingles: Any, num_perm: int, seed: int) -> Any:
    """datasketch's own MinHash.update_batch result for these shingles (the reference)."""
    mh = _minhash(num_perm, seed)
    mh.clear()
    mh.update_batch(shingles.tolist())
    out = mh.hashvalues.copy()
    mh.clear()
    return out


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
