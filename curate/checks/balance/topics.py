"""balance.topics: what the dataset is about, as topics a person can read (`stats.coverage`).

Records are embedded (curate/embeddings.py), clustered into k topics (k chosen by the
silhouette unless given) and each topic is labelled by its most typical words, with its count,
share and most typical records (place and a masked opening). With `--against`, the evaluation
records are clustered together with the training records, so a topic the evaluation set has and
the training set lacks (or the reverse) shows. A statistic, not a finding: it fails nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.checks.dedup.text import TextScope
from curate.checks.embedded import check_vectors, embed_record, missing_notice, record_text
from curate.display import shown
from curate.embeddings import MODEL
from curate.model import Hit, Record, Severity

SNIPPET = 100


class TopicParams(Params):
    text: TextScope = Field("conversation", description="which turns say what a record is about (as dedup.semantic)")
    topics: int | None = Field(None, ge=1, le=200, description="number of topics (default: chosen by the silhouette)")
    max_topics: int = Field(30, ge=2, le=200, description="the most topics tried when choosing")
    rare: int = Field(0, ge=0, description="topics with fewer records are flagged (0: a quarter of an even share)")
    max_tokens: int = Field(256, ge=8, le=4096, description="pieces embedded per record")


def _snippet(record: Record, p: TopicParams, roles: frozenset[str] | None) -> str:
    """The record's opening as reports may show it: masked, escaped, bounded (curate.display)."""
    return shown(" ".join(record_text(record, p.text, roles)[: SNIPPET * 2].split()), SNIPPET)


class Topics(DatasetCheck):
    id = "balance.topics"
    needs_text = True
    description = (
        "Topic coverage: what the records are about, topics with few examples, topics --against has and training lacks."
    )
    default_severity = Severity.INFO
    Params = TopicParams
    top_level_stats = ("coverage",)
    example = (
        '{"messages": [{"role": "user", "content": "How do I bake sourdough bread?"}, '
        '{"role": "assistant", "content": "Feed the starter the night before, then ..."}]}'
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vectors: list[Any] = []
        self.words: list[Any] = []
        self.places: list[str] = []
        self.snippets: list[str] = []
        self.refs: list[tuple[str, int]] = []  # (path, line) of each observed record: its row of the topic column
        self._summary: dict[str, Any] = {}

    def notices(self) -> list[str]:
        return missing_notice(self.id)

    def extract(self, record: Record) -> tuple[Any, Any, str] | None:
        p: TopicParams = self.params  # type: ignore[assignment]
        emb = embed_record(record, p.text, self.roles, p.max_tokens)
        if emb is None:
            return None
        return emb.vector, emb.words, _snippet(record, p, self.roles)

    def observe(self, ref: RecordRef, extracted: tuple[Any, Any, str] | None) -> None:
        if extracted is None:
            return
        vector, words, snippet = extracted
        self.vectors.append(vector)
        self.words.append(words)
        self.places.append(f"{shown(ref.path, None)}:{ref.line}")
        self.snippets.append(snippet)
        self.refs.append((ref.path, ref.line))

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, Topics)
        self.vectors.extend(other.vectors)
        self.words.extend(other.words)
        self.places.extend(other.places)
        self.snippets.extend(other.snippets)
        self.refs.extend(other.refs)

    def _against(self) -> Any:
        """The evaluation records (--against), embedded the same way; None without --against."""
        import numpy as np

        from curate.coverage.topics import Side
        from curate.io.reader import iter_records

        if not self.ctx.against:
            return None
        p: TopicParams = self.params  # type: ignore[assignment]
        train = {str(Path(x).resolve()) for x in self.ctx.paths if x != "-"}
        vectors, words, places, snippets = [], [], [], []
        for path in self.ctx.against:
            if path != "-" and str(Path(path).resolve()) in train:
                continue
            for record in iter_records(path):
                if not (record.ok and record.conversation.readable):
                    continue
                emb = embed_record(record, p.text, self.roles, p.max_tokens)
                if emb is None:
                    continue
                vectors.append(emb.vector)
                words.append(emb.words)
                places.append(f"{shown(record.path, None)}:{record.line}")
                snippets.append(_snippet(record, p, self.roles))
        if not vectors:
            return None
        return Side(np.stack(vectors).astype(np.float32), words, places, snippets)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        import numpy as np

        from curate.coverage.topics import Side, coverage
        from curate.embeddings import EmbedderMissing, embedder

        p: TopicParams = self.params  # type: ignore[assignment]
        check_vectors(self.vectors, self.words, self.places, self.snippets, self.refs)
        if any(getattr(getattr(w, "dtype", None), "kind", "") not in "iu" for w in self.words):
            raise ValueError("topic state holds label words that are not vocabulary ids")
        n = len(self.vectors)
        base = {"model": MODEL, "text": p.text, "records": n}
        if n < 2:
            self._summary = {"coverage": {**base, "topics": 0, "rows": []}} if n or self.ctx.against else {}
            return []
        try:
            vocab = embedder().vocabulary()
        except EmbedderMissing:
            return []
        side = Side(np.stack(self.vectors).astype(np.float32), self.words, self.places, self.snippets)
        against = self._against()
        cov, assigned = coverage(side, against, vocab, p.topics, p.max_topics, p.rare)
        self._summary = {"coverage": {**base, **cov}}
        topic_of = dict(zip(map(tuple, self.refs), assigned, strict=True))
        places = zip(run.column("path"), run.column("line"), strict=True)
        run.set_column("topic", [topic_of.get(place) for place in places])
        return []

    def summary(self) -> dict[str, Any]:
        return self._summary
