"""Top-level keys a format does not define: a typo (`mesages`) or data the upload rejects."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.display import shown
from curate.model import Hit, Record, Severity

_LLAMAFACTORY_MEDIA = ["images", "videos", "audios"]

FORMAT_KEYS: dict[str, list[str]] = {
    "openai_chat": ["messages", "tools", "parallel_tool_calls", "functions"],
    "openai_preference": ["input", "preferred_output", "non_preferred_output"],
    "prompt_completion": ["prompt", "completion", "label"],
    "preference": [
        "chosen", "rejected", "prompt", "question", "conversations", "messages", "system", "tools",
        "chosen_messages", "rejected_messages", "score_chosen", "score_rejected", *_LLAMAFACTORY_MEDIA,
    ],
    "alpaca": ["instruction", "input", "output", "response", "system", "history", *_LLAMAFACTORY_MEDIA],
    "sharegpt": ["conversations", "conversation", "system", "tools", *_LLAMAFACTORY_MEDIA],
    "anthropic_hh": ["chosen", "rejected"],
    "question_answer": ["question", "query", "prompt", "answer", "response", "input", "output", "system"],
    "chatml": ["text"], "llama2": ["text"], "llama3": ["text"], "alpaca_text": ["text"],
    "text": ["text"],
}  # fmt: skip
# prompt_only and oasst_tree carry their own metadata (ground truth, tests, review fields): not checked

# metadata that trainers ignore and datasets commonly carry; default rules accept it
COMMON_METADATA = [
    "id", "uuid", "idx", "index", "metadata", "meta", "label", "source", "category", "categories",
    "tags", "task", "task_type", "dataset", "lang", "language", "split", "score", "prompt_id",
    "conversation_id", "url", "title", "timestamp", "created_at", "model",
]  # fmt: skip


class UnknownKeyParams(Params):
    formats: dict[str, list[str]] = Field(
        default_factory=lambda: dict(FORMAT_KEYS), description="keys each format defines"
    )
    allow_common_metadata: bool = Field(default=True, description="accept id, metadata, label, source, category, ...")
    also_allow: list[str] = Field(default_factory=list, description="more keys to accept")


class UnknownKey(RecordCheck):
    id = "schema.unknown_key"
    description = "A top-level key the record's format does not define: a typo, or a field the upload rejects."
    default_severity = Severity.WARNING
    Params = UnknownKeyParams
    example = '{"messages": [...], "mesages": [...]}'

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002,ANN003
        super().__init__(*args, **kwargs)
        extra = set(self.params.also_allow) | (set(COMMON_METADATA) if self.params.allow_common_metadata else set())
        self._allowed = {fmt: frozenset(keys) | extra for fmt, keys in self.params.formats.items()}

    def applies(self, record: Record) -> bool:
        fmt = record.format
        allowed = self._allowed.get(fmt)
        return not (allowed is None or record.data.keys() <= allowed)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        fmt = record.format
        allowed = self._allowed.get(fmt)
        for key in record.data:
            if key not in allowed:
                pointer = "/" + key.replace("~", "~0").replace("/", "~1")
                yield Hit(
                    f"unrecognised top-level key '{shown(key, 40)}' for the {fmt} format",
                    field=pointer,
                    fix=f"Remove '{shown(key, 40)}' (or rename it; {fmt} uses {', '.join(self.params.formats[fmt])}); "
                    "if it is metadata your trainer ignores, add it to also_allow in your rules.",
                    identity=key[:40],
                )


CHECKS = [UnknownKey]
