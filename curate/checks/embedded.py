"""A record's embedding, shared by `dedup.semantic` and `balance.topics`.

Both read the same turns of the same record with the same model; the engine calls their
`extract` back to back, so the last record's embedding is kept and the second call is free.
"""

from __future__ import annotations

from typing import Any

from curate.checks.dedup.text import selected_turns, turn_text
from curate.embeddings import Embedded, EmbedderMissing, embedder, embedder_status
from curate.model import Record


class _Memo:
    record: Any = None
    key: Any = None
    value: Embedded | None = None


_MEMO = _Memo()


def record_text(record: Record, scope: str, roles: frozenset[str] | None) -> str:
    """The text that is embedded: the selected turns, one per line."""
    return "\n".join(turn_text(t) for t in selected_turns(record, scope, roles))


def embed_record(record: Record, scope: str, roles: frozenset[str] | None, max_tokens: int) -> Embedded | None:
    """The record's embedding, or None when it has no text in scope or the weights are missing."""
    key = (scope, roles, max_tokens)
    if _MEMO.record is record and _MEMO.key == key:
        return _MEMO.value
    try:
        value = embedder().embed(record_text(record, scope, roles), max_tokens)
    except EmbedderMissing:
        value = None
    _MEMO.record, _MEMO.key, _MEMO.value = record, key, value
    return value


def missing_notice(check_id: str) -> list[str]:
    """The run notice of a check that cannot embed (not a finding: the run goes on without it)."""
    ok, why = embedder_status()
    return [] if ok else [f"{check_id} did not run: {why}"]


def check_vectors(vectors: list[Any], *columns: list[Any]) -> None:
    """Refuse a state that does not fit (a merged shard state is data from disk): every vector one
    row of DIM numbers, every column as long as the vectors."""
    from curate.embeddings import DIM

    if any(len(c) != len(vectors) for c in columns):
        raise ValueError("embedding state columns of different lengths")
    for v in vectors:
        if getattr(v, "shape", None) != (DIM,) or getattr(getattr(v, "dtype", None), "kind", "") != "f":
            raise ValueError(f"embedding state holds a value that is not a vector of {DIM} numbers")
