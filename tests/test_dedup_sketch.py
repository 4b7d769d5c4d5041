"""The fast paths of dedup.near's sketch give exactly what the plain definitions give."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from curate.checks.dedup import sketch, wordhash
from curate.checks.dedup.common import NearParams
from curate.checks.dedup.text import words


@pytest.mark.parametrize("n", [0, 1, 2, 7, 64, 300, 3000])
@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7), (256, 1)])
def test_signature_is_datasketchs_update_batch(n, num_perm, seed):
    """Our numpy MinHash applies datasketch's own permutations: the signature is bit-identical."""
    rng = np.random.default_rng(n + num_perm)
    shingles = np.unique(rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32))
    sp = NearParams(num_perm=num_perm, seed=seed).sketch_params()
    assert sketch._permutations(num_perm, seed) is not None, "the numpy path must be in use"
    template = MinHash(num_perm=num_perm, seed=seed)
    reference = MinHash(
        num_perm=num_perm, seed=seed, hashfunc=int, permutations=template.permutations, scheme=template.scheme
    )
    reference.update_batch(shingles.tolist())
    got = sketch.signature(shingles, sp)
    assert got.dtype == reference.hashvalues.dtype
    assert np.array_equal(got, reference.hashvalues)


def test_signature_falls_back_to_update_batch_when_the_check_fails(monkeypatch):
    sketch._permutations.cache_clear()
    monkeypatch.setattr(sketch, "_affine_min", lambda s, a, b: np.zeros(len(a), dtype=np.uint32))
    try:
        assert sketch._permutations(128, 1) is None
        sp = NearParams().sketch_params()
        shingles = np.array([1, 5, 9], dtype=np.uint32)
        reference = MinHash(num_perm=128, seed=1, hashfunc=int, **sketch._template(128, 1))
        reference.update_batch(shingles.tolist())
        assert np.array_equal(sketch.signature(shingles, sp), reference.hashvalues)
    finally:
        sketch._permutations.cache_clear()


_MASK64 = (1 << 64) - 1


def reference_word_hash(token: str) -> int:
    """One token's hash in plain Python: the definition the vectorised code must match."""
    h = 0
    for byte in token.encode("utf-8", "surrogatepass"):
        v = byte + 32 + 1 if ord("A") <= byte <= ord("Z") else byte + 1
        h = (h * wordhash._BASE + v) & _MASK64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def text_word_hashes(text: str):
    return wordhash.texts_word_hashes([text])[0]


@pytest.mark.parametrize(
    "text",
    [
        "The cat sat on the mat, and the cat sat again.",
        "Ünïcödé wörds and ASCII words, mixed: café CAFÉ",
        "中文文本没有空格 mixed with English",
        "",
        "  ...  ",
        "tab\tseparated\x1cfile\x1dgroup\x1erecord, snake_case and x\x00y",
    ],
)
@pytest.mark.parametrize("chunk", [1 << 20, 5])
def test_word_hashes_follow_the_plain_definition(text, chunk, monkeypatch):
    """Vectorised over bytes (also in pieces, as for texts over 1 MB) = one token at a time."""
    monkeypatch.setattr(wordhash, "_CHUNK", chunk)
    expected = [reference_word_hash(t) for t in words(text)]
    assert text_word_hashes(text).tolist() == expected


def test_a_word_hashes_the_same_in_ascii_and_other_text():
    ascii_text = text_word_hashes("Hello world, again")
    other = text_word_hashes("Hello world, again \u00e9t\u00e9")
    assert other[:3].tolist() == ascii_text.tolist()


def test_sorted_unique_matches_numpy():
    rng = np.random.default_rng(3)
    for n in [0, 1, 2, 10, 500]:
        x = rng.integers(0, 50, n).astype(np.uint32)
        assert np.array_equal(sketch.sorted_unique(x), np.unique(x))


@pytest.mark.parametrize("chunk", [1 << 20, 5])
def test_turns_hashed_together_split_back_per_turn(chunk, monkeypatch):
    monkeypatch.setattr(wordhash, "_CHUNK", chunk)
    texts = ["Hello there, friend.", "", "Ünïcödé wörds", "  ", "last turn: snake_case words", "x"]
    together = wordhash.texts_word_hashes(texts)
    assert [h.tolist() for h in together] == [[reference_word_hash(w) for w in words(t)] for t in texts]


@pytest.mark.parametrize("n", [1, 3, 8, 13])
def test_ngram_hashes_from_a_prefix_sum_equal_horners_rule(n: int) -> None:
    """`ngram_hashes` (one prefix sum) gives what the near-duplicate shingles were computed with
    before (Horner's rule, 2n array operations), so cached sketches stay valid."""
    import numpy as np

    from curate.checks.dedup.sketch import _C, _fmix64, ngram_hashes

    rng = np.random.default_rng(n)
    for length in (0, 1, n - 1, n, n + 1, 300, 5000):
        w = rng.integers(0, 1 << 63, max(length, 0), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        m = len(w) - n + 1
        if m <= 0:
            assert len(ngram_hashes(w, n)) == 0
            continue
        acc = w[:m].copy()
        for i in range(1, n):
            acc *= _C.PRIME
            acc += w[i : i + m]
        assert np.array_equal(ngram_hashes(w, n), _fmix64(acc))
