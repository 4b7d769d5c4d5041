"""What the dedup checks share: text parameters, the sketch of a record, kept-record policy."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, model_validator

from curate.check import Params
from curate.checks.dedup.pleasantry import closing_reply
from curate.checks.dedup.sketch import SketchParams, band_keys, choose_bands, shingles_of, signature
from curate.checks.dedup.store import Sketch
from curate.checks.dedup.text import (
    TURN_SEP,
    TextScope,
    digest64,
    digest128,
    exact_text,
    normalise_exact,
    selected_turns,
    turn_text,
)
from curate.checks.dedup.varying import Varying, applies, compared_turns, varying_texts
from curate.checks.dedup.wordhash import texts_word_hashes
from curate.loading import InsideFolder
from curate.model import Hit, Record, Turn

KeepPolicy = Literal["first", "last", "longest", "shortest"]


class TextParams(Params):
    text: TextScope = Field(
        "conversation", description="which turns count: conversation (all but system), all, user, assistant"
    )


class ExactNormParams(TextParams):
    unicode: Literal["NFC", "NFKC", "none"] = Field("NFC", description="Unicode normalisation form")
    ignore_case: bool = True
    collapse_whitespace: bool = True
    ignore_punctuation: bool = False


class NearParams(TextParams):
    threshold: float = Field(
        0.6, gt=0.0, le=1.0, description="Jaccard similarity of word shingles that counts as a duplicate"
    )
    shingle: int = Field(3, ge=1, le=16, description="words per shingle")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations")
    bands: int | None = Field(
        None, ge=1, description="LSH bands (default: chosen so a pair at the threshold is found 98% of the time)"
    )
    min_words: int = Field(
        8, ge=1, description="shorter texts are compared exactly only (tiny texts give noisy similarities)"
    )
    seed: int = 1
    cache: bool = Field(True, description="keep signatures in ~/.cache/curate/dedup (or $CURATE_CACHE_DIR)")
    cache_dir: InsideFolder | None = Field(
        None, description="a folder inside the cache root ($CURATE_CACHE_DIR) to keep the signatures in instead"
    )

    @model_validator(mode="after")
    def _bands_fit(self) -> NearParams:
        if self.bands is not None and self.bands > self.num_perm:
            raise ValueError("bands must not exceed num_perm")
        return self

    def sketch_params(self) -> SketchParams:
        return _sketch_params(self.threshold, self.num_perm, self.bands, self.shingle, self.seed)


@lru_cache(maxsize=32)
def _sketch_params(threshold: float, num_perm: int, bands: int | None, shingle: int, seed: int) -> SketchParams:
    if bands is None:
        bands, rows = choose_bands(threshold, num_perm)
    else:
        rows = num_perm // bands
    return SketchParams(shingle, num_perm, bands, rows, seed)


def exact_hash(record: Record, p: ExactNormParams, roles: frozenset[str] | None) -> int:
    if p.unicode == "NFC" and p.ignore_case and p.collapse_whitespace and not p.ignore_punctuation:
        return selected_exact_hash(record, p.text, roles)  # the default: shared with dedup.near
    turns = selected_turns(record, p.text, roles)
    return digest64(exact_text(turns, p.unicode, p.ignore_case, p.collapse_whitespace, p.ignore_punctuation))


class _TurnMemo:
    """Per-turn work shared by the checks of one record (exact, near and prompt read the same
    turns; the engine calls their extract() back to back): the default exact normalisation and
    the word hashes of each turn. Holds the last record only."""

    record: Any = None
    norm: dict[int, str] = {}  # noqa: RUF012 - replaced per record
    hashes: dict[int, Any] = {}  # noqa: RUF012
    selected: tuple[Any, tuple[str, str]] | None = None  # (scope, roles), texts
    exact_hash: tuple[Any, int] | None = None  # (scope, roles), digest64 of the exact text

    def reset(self, record: Record) -> None:
        self.record, self.norm, self.hashes, self.selected, self.exact_hash = record, {}, {}, None, None


_TURNS = _TurnMemo()


def _memo(record: Record) -> _TurnMemo:
    if _TURNS.record is not record:
        _TURNS.reset(record)
    return _TURNS


def turn_norm(record: Record, turn: Turn) -> str:
    """The turn's text under the default exact normalisation (NFC, casefold, whitespace)."""
    memo = _memo(record)
    body = memo.norm.get(id(turn))
    if body is None:
        body = memo.norm[id(turn)] = normalise_exact(turn_text(turn), "NFC", True, True, False)
    return body


def turn_word_hashes(record: Record, turn: Turn) -> Any:
    """Hashes of the near-duplicate tokens (text.words) of the turn, a uint64 array (wordhash)."""
    memo = _memo(record)
    h = memo.hashes.get(id(turn))
    if h is None:  # hash every turn of the record at once: near and prompt both need them
        turns = [t for t in record.conversation.turns if id(t) not in memo.hashes]
        if not any(t is turn for t in turns):
            turns.append(turn)
        for t, th in zip(turns, texts_word_hashes([turn_text(t) for t in turns]), strict=True):
            memo.hashes[id(t)] = th
        h = memo.hashes[id(turn)]
    return h


def selected_text(record: Record, scope: str, roles: frozenset[str] | None) -> tuple[str, str]:
    """(exact-normalised text with roles, raw joined text) of the turns that count."""
    memo = _memo(record)
    if memo.selected is not None and memo.selected[0] == (scope, roles):
        return memo.selected[1]
    turns = selected_turns(record, scope, roles)
    texts = (
        TURN_SEP.join(f"{t.role}:{turn_norm(record, t)}" for t in turns),
        "\n".join(turn_text(t) for t in turns),
    )
    memo.selected = ((scope, roles), texts)
    return texts


def selected_exact_hash(record: Record, scope: str, roles: frozenset[str] | None) -> int:
    """digest64 of the selected exact text: what dedup.exact compares (and dedup.near keeps)."""
    memo = _memo(record)
    if memo.exact_hash is not None and memo.exact_hash[0] == (scope, roles):
        return memo.exact_hash[1]
    h = digest64(selected_text(record, scope, roles)[0])
    memo.exact_hash = ((scope, roles), h)
    return h


def compute_sketch(
    exact_norm: str, raw: str, w: Any, sp: SketchParams, min_words: int, exact: int | None = None
) -> Sketch:
    """Shingle + MinHash one text from its word hashes `w`. Texts under min_words get band keys
    that only collide with an identical shingle set, so they are never near-matched by chance."""
    import numpy as np

    sh = shingles_of(w, sp.shingle)
    sh_bytes = sh.tobytes()
    same = int.from_bytes(hashlib.blake2b(sh_bytes, digest_size=8).digest(), "little")
    if len(w) >= min_words and len(sh):
        bands = band_keys(signature(sh, sp), sp).tobytes()
    else:
        bands = (np.arange(sp.bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(same)).tobytes()
    exact = digest64(exact_norm) if exact is None else exact
    return Sketch(text_key(exact_norm, raw), exact, same, len(w), bands, sh_bytes)


def text_key(exact_norm: str, raw: str) -> bytes:
    """The cache key of a record: its selected text (roles included), never stored itself."""
    return digest128(exact_norm + "\x00" + raw)


class _Memo:
    """One-record memo: near and contamination sketch the same record with the same
    parameters; the engine calls their extract() back to back, so keep the last one."""

    record: Any = None
    key: Any = None
    value: Any = None


_MEMO = _Memo()


def sketch_record(
    record: Record,
    p: NearParams,
    roles: frozenset[str] | None,
    cache: Any = None,
    varying: Varying | None = None,
    applied: tuple[frozenset[int], bool] | None = None,
) -> Sketch:
    """The record's sketch: of its selected text, or of what varies in it (`varying`: shared lines
    left out, last exchange only, final answer of a tree-shaped file; `applied`: what `applies`
    says of the record's file, when the caller keeps it); the exact hash is the whole text's."""
    key = (p.text, roles, p.shingle, p.num_perm, p.bands, p.threshold, p.min_words, p.seed, p.cache, p.cache_dir)
    key += (varying,)
    if _MEMO.record is record and _MEMO.key == key:
        return _MEMO.value
    exact_norm, raw = selected_text(record, p.text, roles)
    texts = None
    min_words = p.min_words
    if varying is not None and varying.active:
        shared, tree = applied if applied is not None else applies(record.path, p.text, roles, varying)
        if tree:
            texts = varying_texts(compared_turns(record, p.text, roles, varying.last_exchange, True), shared)
            if sum(len(t.split()) for t in texts) < p.min_words or _closes(record):
                # "1", "Any other questions?", "You're welcome!": a short or closing final answer cannot tell
                # a copy from a sibling; the record matches only a conversation with the same words throughout
                texts, min_words = None, 1 << 30
                raw = "exact-only\x00" + raw  # its own cache key: the same text sketched otherwise elsewhere
        if texts is None and (shared or varying.last_exchange):
            texts = varying_texts(compared_turns(record, p.text, roles, varying.last_exchange), shared)
        if texts is not None:  # else: the whole text, by the usual (shared, memoised) path
            raw = "varying\x00" + "\x1f".join(texts)  # the cache key follows what is compared
    sk = None
    if cache is not None:
        sk = cache.lookup(record.path, text_key(exact_norm, raw))
    if sk is None:
        w = selected_word_hashes(record, p.text, roles) if texts is None else joined_hashes(texts_word_hashes(texts))
        exact = selected_exact_hash(record, p.text, roles)
        sk = compute_sketch(exact_norm, raw, w, p.sketch_params(), min_words, exact)
    _MEMO.record, _MEMO.key, _MEMO.value = record, key, sk
    return sk


def _closes(record: Record) -> bool:
    """Whether the record's final answer only closes it (a reply to a thanks): two conversations that
    both end "You're welcome!" are no copies, and siblings that differ only there are alternatives."""
    conv = record.conversation
    last = max((i for i, t in enumerate(conv.turns) if t.role == "assistant"), default=None)
    return last is not None and not conv.rejected and closing_reply(list(conv.turns), last)


def sketch_refs(values: Sequence[Any]) -> list[Any]:
    """A block's sketches as their keys, for the result cache: the signature cache holds the rest."""
    return [v.text_hash if isinstance(v, Sketch) else v for v in values]


def sketches_from_refs(cache: Any, path: str, stored: Sequence[Any]) -> list[Any] | None:
    """`sketch_refs` undone through the signature cache; None when a sketch is not there."""
    keys = [v for v in stored if isinstance(v, bytes)]
    found = cache.lookup_many(path, keys) if cache is not None else None
    if found is None:
        return None if keys else list(stored)
    sketches = iter(found)
    return [next(sketches) if isinstance(v, bytes) else v for v in stored]


def sketch_fields(values: Sequence[Any]) -> list[Any]:
    """A block's sketches as plain tuples (data the result cache can store), without a signature cache."""
    return [v.fields() if isinstance(v, Sketch) else v for v in values]


def sketches_from_fields(stored: Sequence[Any]) -> list[Any] | None:
    """`sketch_fields` undone; None when a stored value is not a sketch's fields (the block is computed)."""
    try:
        return [Sketch.from_fields(v) if isinstance(v, tuple) else v for v in stored]
    except (TypeError, ValueError):
        return None


def selected_word_hashes(record: Record, scope: str, roles: frozenset[str] | None) -> Any:
    """Word hashes of the selected turns, in order: the tokens of their texts joined by newlines."""

    return joined_hashes([turn_word_hashes(record, t) for t in selected_turns(record, scope, roles)])


def joined_hashes(parts: list[Any]) -> Any:
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def rank_order(policy: str, n: int, words_arr: Any) -> Any:
    """Indices in keep-priority order: the first of a cluster in this order is kept."""
    import numpy as np

    idx = np.arange(n)
    if policy == "first":
        return idx
    if policy == "last":
        return idx[::-1].copy()
    if policy == "longest":
        return np.lexsort((idx, -words_arr))
    return np.lexsort((idx, words_arr))


def cluster_id(kind: str, kept_key: str) -> str:
    return f"{kind}-{hashlib.blake2b(kept_key.encode(), digest_size=5).hexdigest()}"


def pair_hit(
    message: str,
    fix: str,
    rec: tuple[str, int, str],
    kept: tuple[str, int, str],
    data: dict[str, Any],
    field: str | None = None,
    identity: str | None = None,
) -> Hit:
    """A finding on `rec` that names its kept record; `{where}` in message/fix becomes
    "line N" in the same file, else "path:N"."""
    path, line, key = rec
    kpath, kline, kkey = kept
    where = f"line {kline}" if kpath == path else f"{kpath}:{kline}"
    data = {**data, "duplicate_of": kline}
    if kpath != path:
        data["duplicate_of_path"] = kpath
    return Hit(
        message.format(where=where),
        field=field,
        data=data,
        fix=fix.format(where=where),
        line=line,
        key=key,
        path=path,
        identity=identity if identity is not None else kkey,
    )
