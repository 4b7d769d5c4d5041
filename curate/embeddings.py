"""Static text embeddings from the weights inside the `wordllama` wheel: offline, verified, cheap.

`wordllama` 0.4.0.post1 ships `weights/l2_supercat_256.safetensors` (a 32,000 x 256 table, one
vector per piece of the Llama 2 tokenizer) and that tokenizer's config. Its own `load()` looks for
the tokenizer in the wrong folder and then downloads; curate never calls it. It reads both files
once, checks them against the sha256 pinned below, and hands the verified bytes to wordllama's
`WordLlamaInference`, so a file swapped on disk or on the registry is refused and nothing is ever
downloaded. The package code is MIT; the table derives from Llama 2's token embeddings (see
docs/semantic.md for what that means for its license).

A text's vector is the weighted mean of its pieces' vectors, normalised. Pieces later in the BPE
vocabulary (rarer ones) weigh more, log(1 + id), as model2vec's Zipf weighting does: on the
hand-written pairs of tests/fixtures/semantic it raised recall at equal precision. Texts are
tokenised word by word through a bounded cache (the tokenizer has no pre-tokenizer, so it runs
BPE over a whole text at once: ~10x slower), and cut to `max_tokens` pieces.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE = "wordllama"
EXTRA = "pip install 'curate[semantic]'"
MODEL = "wordllama l2_supercat 256"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
# sha256 of the two files in the wordllama 0.4.0.post1 wheel; anything else is refused
PINNED = {
    WEIGHTS: "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
    TOKENIZER: "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
}
DIM = 256
_MAX_WORD = 40  # longer "words" (URLs, base64) are tokenised but not kept in the cache
_CACHE_WORDS = 200_000  # the word cache is cleared when it holds this many (memory stays bounded)
_LABEL_MIN = 3  # label words: alphabetic, at least this long, one piece of the vocabulary
_PUNCT = string.punctuation + "“”‘’«»…"


class EmbedderMissing(RuntimeError):
    """The weights cannot be used: not installed, or not the files curate pinned."""


@lru_cache(maxsize=1)
def _package_root() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def _verified_files() -> tuple[dict[str, bytes] | None, str]:
    """(file bytes by name, why) after checking every pinned sha256; None when unusable."""
    root = _package_root()
    if root is None:
        return None, f"semantic checks need the wordllama weights: {EXTRA}"
    files: dict[str, bytes] = {}
    for rel, expected in PINNED.items():
        try:
            data = (root / rel).read_bytes()
        except OSError:
            return None, f"wordllama is installed but {rel} is missing (expected wordllama 0.4.0.post1: {EXTRA})"
        if hashlib.sha256(data).hexdigest() != expected:
            return None, f"wordllama: {rel} does not match the pinned sha256; refusing to load it ({EXTRA})"
        files[rel] = data
    return files, f"{MODEL} (weights verified)"


def embedder_status() -> tuple[bool, str]:
    """(usable, why): what a check says in a run notice when it cannot embed."""
    files, why = _verified_files()
    return files is not None, why


def _import_quietly() -> Any:
    """wordllama calls logging.basicConfig() at import, which would make every library's INFO
    logs print on our stderr: keep the root logger as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        from wordllama.inference import WordLlamaInference
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return WordLlamaInference


@dataclass(frozen=True, slots=True)
class Embedded:
    """One text's vector (float16, unit length) and the vocabulary ids of its label words."""

    vector: Any
    words: Any  # uint16 ids of distinct whole-word pieces, in order of first use
    tokens: int


class Embedder:
    """The verified table and tokenizer of one process, with a cache of word -> pieces."""

    def __init__(self) -> None:
        import numpy as np
        from safetensors.numpy import load as load_safetensors
        from tokenizers import Tokenizer

        files, why = _verified_files()
        if files is None:
            raise EmbedderMissing(why)
        inference = _import_quietly()(
            load_safetensors(files[WEIGHTS])["embedding.weight"], Tokenizer.from_str(files[TOKENIZER].decode())
        )
        table = np.asarray(inference.embedding, dtype=np.float32)
        weights = np.log1p(np.arange(table.shape[0], dtype=np.float32))
        self.table = np.ascontiguousarray(table * weights[:, None])
        self.tokenizer = inference.tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._words: dict[str, tuple[tuple[int, ...], int]] = {}

    def vocabulary(self) -> list[str]:
        """Each id's piece without the word-start mark: what label words are shown as."""
        size = self.table.shape[0]
        return [(self.tokenizer.id_to_token(i) or "").lstrip("\u2581") for i in range(size)]

    def _pieces(self, words: list[str]) -> list[tuple[tuple[int, ...], int]]:
        """(pieces, label id or -1) of each word; a word's label id is its one piece when the word,
        stripped of punctuation, is alphabetic and one piece of the vocabulary."""
        cache = self._words
        missing = [w for w in dict.fromkeys(words) if w not in cache]
        if not missing:
            return [cache[w] for w in words]
        if len(cache) + len(missing) > _CACHE_WORDS:
            cache.clear()
        stripped = [w.strip(_PUNCT) for w in missing]
        encoded = self.tokenizer.encode_batch(missing + stripped, add_special_tokens=False)
        local: dict[str, tuple[tuple[int, ...], int]] = {}
        for k, word in enumerate(missing):
            core, core_ids = stripped[k], encoded[len(missing) + k].ids
            label = core_ids[0] if len(core_ids) == 1 and len(core) >= _LABEL_MIN and core.isalpha() else -1
            (cache if len(word) <= _MAX_WORD else local)[word] = (tuple(encoded[k].ids), label)
        return [cache.get(w) or local[w] for w in words]

    def embed(self, text: str, max_tokens: int = 256) -> Embedded | None:
        """The text's vector; None when it has no piece (empty or whitespace)."""
        import numpy as np

        words = text[: max_tokens * 8].split()
        ids: list[int] = []
        labels: dict[int, None] = {}
        for pieces, label in self._pieces(words):
            ids.extend(pieces)
            if label >= 0:
                labels[label] = None
            if len(ids) >= max_tokens:
                break
        if not ids:
            return None
        ids = ids[:max_tokens]
        vec = self.table[np.asarray(ids, dtype=np.int64)].sum(axis=0)
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            return None
        vec /= norm
        return Embedded(vec.astype(np.float16), np.fromiter(labels, dtype=np.uint16, count=len(labels)), len(ids))


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """One per process (loading reads and hashes ~18 MB: ~0.3 s); raises EmbedderMissing."""
    return Embedder()
