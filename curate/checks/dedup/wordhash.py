"""64-bit hashes of the near-duplicate tokens of a text, computed over its bytes with numpy.

Splitting a 300-word text into Python strings and hashing each one cost more than the MinHash
itself. Here a token is a run of bytes between separators, and its hash a polynomial over its
bytes, from one prefix sum: for token bytes c_s..c_{e-1},
    h = sum_j v(c_j) * B^(e-1-j) mod 2^64 = (S[e] - S[s]) * B^(e-1),  S[k] = sum_{j<k} v(c_j) * B^-j,
(B odd, so invertible mod 2^64), then MurmurHash3's fmix64 so that the linear shingle
combination that follows cannot cancel out.

ASCII text is hashed directly: separators are ASCII whitespace (what str.split splits on) and
ASCII punctuation, and v() lower-cases letters, so the tokens are exactly `text.words`'. Other
text is tokenised by `text.words` (NFKC, casefold, CJK characters one by one) and the tokens,
joined by spaces, are hashed the same way: a word hashes the same in either kind of text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from curate.checks.dedup.sketch import _fmix64
from curate.checks.dedup.text import ASCII_PUNCTUATION, words

_BASE = 0x9E3779B97F4A7C15
_CHUNK = 1 << 20  # longer texts are hashed in pieces cut at separators, so tables stay small


@lru_cache(maxsize=1)
def _byte_tables() -> tuple[Any, Any]:
    import numpy as np

    sep = np.zeros(256, dtype=bool)
    for ch in " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f" + ASCII_PUNCTUATION:
        sep[ord(ch)] = True
    val = np.arange(1, 257, dtype=np.uint64)
    val[ord("A") : ord("Z") + 1] += np.uint64(32)  # lower-case ASCII letters
    return sep, val


@lru_cache(maxsize=8)
def _powers(size: int) -> tuple[Any, Any]:
    """B^-j and B^j mod 2^64 for j < size."""
    import numpy as np

    inv = pow(_BASE, -1, 1 << 64)
    fw = np.empty(size, dtype=np.uint64)
    bw = np.empty(size, dtype=np.uint64)
    fw[0] = bw[0] = 1
    # doubling: each step extends both tables with one vector multiply
    filled = 1
    while filled < size:
        step = min(filled, size - filled)
        fw[filled : filled + step] = fw[:step] * np.uint64(pow(_BASE, filled, 1 << 64))
        bw[filled : filled + step] = bw[:step] * np.uint64(pow(inv, filled, 1 << 64))
        filled += step
    return bw, fw


def _hash_bytes(arr: Any) -> tuple[Any, Any]:
    """(token hashes before fmix, token start offsets) of a uint8 array; tokens are runs of
    non-separator bytes."""
    import numpy as np

    n = len(arr)
    sep_t, val_t = _byte_tables()
    sep = sep_t[arr]
    edge = np.flatnonzero(sep[1:] != sep[:-1]) + 1
    if not sep[0]:
        edge = np.concatenate(([0], edge))
    if not sep[-1]:
        edge = np.concatenate((edge, [n]))
    if not len(edge):
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    starts, ends = edge[0::2], edge[1::2]
    size = 1 << max(12, (n - 1).bit_length())
    bw, fw = _powers(size)
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(val_t[arr] * bw[:n], out=prefix[1:])  # uint64 wraps: the arithmetic is mod 2^64
    return (prefix[ends] - prefix[starts]) * fw[ends - 1], starts


def hash_bytes(data: bytes) -> tuple[Any, Any]:
    """(fmix64'd token hashes as uint64, token start offsets) of separator-delimited bytes."""
    import numpy as np

    if not data:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    arr = np.frombuffer(data, dtype=np.uint8)
    if len(arr) <= _CHUNK:
        h, starts = _hash_bytes(arr)
        return _fmix64(h), starts
    sep_t, _ = _byte_tables()
    parts, offsets, start = [], [], 0
    while start < len(arr):
        end = min(start + _CHUNK, len(arr))
        if end < len(arr):
            cut = np.flatnonzero(sep_t[arr[start:end]])
            if len(cut) and cut[-1] > 0:
                end = start + int(cut[-1])  # a token never straddles two pieces
            else:
                ahead = np.flatnonzero(sep_t[arr[end:]])  # one huge token: up to its end
                end = end + int(ahead[0]) if len(ahead) else len(arr)
        h, starts = _hash_bytes(arr[start:end])
        parts.append(h)
        offsets.append(starts + start)
        start = end
    return _fmix64(np.concatenate(parts)), np.concatenate(offsets)


def _token_bytes(text: str) -> bytes:
    if text.isascii():
        return text.encode("ascii")
    return " ".join(words(text)).encode("utf-8", "surrogatepass")


def texts_word_hashes(texts: list[str]) -> list[Any]:
    """Hashes of `text.words(t)` for each text, as uint64 arrays: one pass over all of them
    (a record's turns are hashed together; numpy's per-call cost dominates short turns)."""
    import numpy as np

    if len(texts) == 1:
        return [hash_bytes(_token_bytes(texts[0]))[0]]
    chunks = [_token_bytes(t) for t in texts]
    hashes, starts = hash_bytes(b"\n".join(chunks))  # a newline separates: no token spans two texts
    first = np.cumsum([0] + [len(c) + 1 for c in chunks[:-1]])  # where each text's bytes begin
    return np.split(hashes, np.searchsorted(starts, first[1:]))
