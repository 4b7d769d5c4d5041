"""balance.category: which kinds of task the dataset covers, from a field or derived from the text.

`by: topics` (rules/semantic.yaml) takes each record's topic from `balance.topics` (the
`topic-coverage` rule, static embeddings of the `curate[semantic]` extra) when no field is named;
without that rule or extra it says so in the run notices and derives categories from the first
words, as before.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.balance._mix import MixParams, counts_json, mix_hits
from curate.checks.balance._paths import get_path, is_missing, parse_path
from curate.display import shown
from curate.model import Hit, Record, Severity

NONE = "unknown"
MAX_LABEL = 80
MAX_CATEGORIES_IN_REPORT = 500
_WORD = re.compile(r"\w[\w'-]*", re.UNICODE)
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


class CategoryParams(MixParams):
    field: str | None = None  # JSON path of a category field: metadata.category, tags[0], /meta/kind
    # how to derive it when no field is named; topics: balance.topics's topic of each record
    by: Literal["system", "first_words", "tools", "topics"] = "first_words"
    words: int = Field(2, ge=1, le=10)  # with by: first_words, how many words of the first user turn


def _label(text: str) -> str:
    """A category as it is counted, stored and shown: masked and escaped (`curate.display`), so a
    category field holding an email or a terminal escape never reaches a report or the cache."""
    return shown(_SPACE.sub(" ", text).strip(), MAX_LABEL)


def derive(record: Record, p: CategoryParams, steps: tuple[str | int, ...]) -> str:
    """The category of one record; "unknown" when the field is missing or the text is empty."""
    if p.field:
        value = get_path(record.data, steps)
        if is_missing(value) or value is None or value == "" or value == []:
            return NONE
        if isinstance(value, list):
            return _label(",".join(str(v) for v in value))
        return _label(str(value))
    conv = record.conversation
    if p.by == "system":
        system = next((t.text for t in conv.turns if t.role == "system"), None)
        return _label(system) if system and system.strip() else "(no system prompt)"
    if p.by == "tools":
        names = sorted({c.name for t in conv.turns for c in t.tool_calls if c.name})
        return _label("+".join(names)) if names else "(no tool call)"
    # first_words; and by: topics until finalize knows the topics (the fallback without them)
    first = next((t.text for t in conv.turns if t.role == "user" and t.text.strip()), "")
    words = _WORD.findall(first[:400].lower())[: p.words]
    if words and _CJK.match(words[0]):
        return _label(words[0][: 2 * p.words])  # no spaces between words: two characters per word
    return _label(" ".join(words)) if words else NONE


class Category(DatasetCheck):
    id = "balance.category"
    description = "Category mix (from a field or derived): rare categories, one dominating, targets missed."
    default_severity = Severity.WARNING
    Params = CategoryParams
    top_level_stats = ("categories",)
    finalize_after = ("balance.topics",)  # by: topics reads the `topic` column it adds
    example = (
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], '
        '"metadata": {"category": "greeting"}}'
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.p: CategoryParams = self.params  # type: ignore[assignment]
        self._steps = parse_path(self.p.field) if self.p.field else ()
        self.counts: Counter[str] = Counter()
        self.keep_labels = False  # split turns this on to stratify by category
        self.labels: dict[str, str] = {}
        self._by = "field" if self.p.field else self.p.by
        self._fallback: str | None = None  # why by: topics fell back to the first words

    def notices(self) -> list[str]:
        if self._by != "topics":
            return []
        from curate.checks.embedded import embedder_status

        ok, why = embedder_status()
        if not ok:
            return [f"categories from the first words, not topics: {why}"]
        return [f"categories from the first words, not topics: {self._fallback}"] if self._fallback else []

    def extract(self, record: Record) -> str:
        """The category; also `record.stats["category"]`, a column of the stats table."""
        category = record.stats["category"] = derive(record, self.p, self._steps)
        return category

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        self.counts[extracted] += 1
        if self.keep_labels:
            self.labels[ref.key] = extracted

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, Category)
        self.counts.update(other.counts)
        self.labels.update(other.labels)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        if self._by == "topics":
            self._use_topics(run)
        return mix_hits(self.counts, self.p, "category")

    def _use_topics(self, run: RunState) -> None:
        """Each record's category becomes its topic (records without text: unknown), in the counts
        and the `category` column; without a `topic` column, the first words stay, and why is kept."""
        if not run.has_column("topic"):
            self._fallback = "no topics: bind the topic-coverage rule (rules/semantic.yaml) with curate[semantic]"
            return
        categories = [
            (topic if topic is not None else NONE) if derived is not None else None
            for topic, derived in zip(run.column("topic"), run.column("category"), strict=True)
        ]
        run.set_column("category", categories)
        self.counts = Counter(c for c in categories if c is not None)
        if self.keep_labels:
            pairs = zip(run.column("key"), categories, strict=True)
            self.labels = {key: c for key, c in pairs if c is not None}

    def summary(self) -> dict[str, Any]:
        counts = counts_json(self.counts)
        if len(counts) > MAX_CATEGORIES_IN_REPORT:
            kept = dict(list(counts.items())[:MAX_CATEGORIES_IN_REPORT])
            kept["(other)"] = sum(list(counts.values())[MAX_CATEGORIES_IN_REPORT:])
            counts = kept
        return {
            "categories": counts,
            "category": {
                "by": "first_words" if self._fallback else self._by,
                **({"fallback": self._fallback} if self._fallback else {}),
                "field": self.p.field,
                "distinct": len(self.counts),
                "targets": dict(self.p.targets or {}),
                "tolerance": self.p.tolerance,
                "min_count": self.p.min_count,
                "min_share": self.p.min_share,
                "max_share": self.p.max_share,
            },
        }
