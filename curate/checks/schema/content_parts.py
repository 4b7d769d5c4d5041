"""Content given as a list of parts: each part needs a known type and its text where the trainer looks.

OpenAI reads `{"type": "text", "text": ...}` (and `image_url` for vision); LLaMA-Factory v1 writes
`{"type": "text", "value": ...}` plus `reasoning` and `tool_call` parts. The default rules accept
both; the OpenAI rules accept only what the upload does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.schema._calls import json_kind
from curate.checks.schema._scan import scan
from curate.display import shown
from curate.model import Hit, Record, Severity

TEXT_TYPES = frozenset({"text", "input_text", "output_text", "reasoning", "thinking"})
DEFAULT_TYPES = [
    "text", "input_text", "output_text", "reasoning", "thinking", "tool_call",
    "image_url", "input_audio", "image", "video", "audio", "refusal",
]  # fmt: skip


class ContentPartsParams(Params):
    allowed_types: list[str] = Field(default_factory=lambda: list(DEFAULT_TYPES), description="part types accepted")
    require_text_key: bool = Field(default=False, description="text parts must carry `text` (OpenAI), not `value`")


class ContentParts(RecordCheck):
    id = "schema.content_parts"
    description = (
        "A content part that is not an object with a known `type` and its text; the trainer drops or rejects it."
    )
    default_severity = Severity.ERROR
    Params = ContentPartsParams
    example = '{"messages": [{"role": "user", "content": [{"type": "txt", "value": "hi"}]}, ...]}'

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002,ANN003
        super().__init__(*args, **kwargs)
        self._allowed = frozenset(self.params.allowed_types)

    def applies(self, record: Record) -> bool:
        s = scan(record)
        return bool(s.part_types)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        s = scan(record)
        for base, msgs in s.lists:
            for i, msg in enumerate(msgs):
                content = msg.get("content") if isinstance(msg, dict) else None
                if isinstance(content, list):
                    for k, part in enumerate(content):
                        yield from self._part(part, f"{base}/{i}/content/{k}")

    def _part(self, part: Any, where: str) -> Iterator[Hit]:
        if not isinstance(part, dict):
            yield Hit(
                f"content part is a JSON {json_kind(part)}, not an object",
                field=where,
                fix='Write each part as an object, e.g. {"type": "text", "text": "..."}.',
            )
            return
        kind = part.get("type")
        if not isinstance(kind, str):
            yield Hit("content part has no `type`", field=where, fix='Add "type": "text" (or the part\'s real type).')
            return
        if kind not in self._allowed:
            yield Hit(
                f"content part type '{shown(kind, 30)}' is not accepted here",
                field=f"{where}/type",
                fix=f"Use one of {', '.join(sorted(self._allowed))}; move other content into text or drop it.",
                identity=kind[:30],
            )
            return
        if kind in TEXT_TYPES:
            if self.params.require_text_key and not isinstance(part.get("text"), str):
                moved = " (it is under `value`)" if isinstance(part.get("value"), str) else ""
                yield Hit(
                    f"{kind} part has no string `text`{moved}",
                    field=where,
                    fix='Put the text under "text": {"type": "text", "text": "..."}.',
                )
            elif not isinstance(part.get("text", part.get("value")), str):
                yield Hit(
                    f"{kind} part has no text (`text` or `value`)",
                    field=where,
                    fix='Give the part its text: {"type": "text", "text": "..."}.',
                )


class ContentType(RecordCheck):
    id = "schema.content_type"
    description = (
        "A message whose `content` is a number, boolean or object instead of text (or a list of parts): "
        "chat templates and the OpenAI upload reject it, and no text check can read it."
    )
    default_severity = Severity.ERROR
    example = '{"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "ok"}]}'

    def check(self, record: Record) -> Iterator[Hit]:
        for base, msgs in scan(record).lists:
            for i, msg in enumerate(msgs):
                if not isinstance(msg, dict) or "content" not in msg:
                    continue
                content = msg["content"]
                if content is None or isinstance(content, (str, list)):
                    continue  # null is how a tool-calling assistant turn says "no text"
                yield Hit(
                    f"content is a JSON {json_kind(content)}, not a string",
                    field=f"{base}/{i}/content",
                    fix="Write the content as a string (quote numbers), or as a list of content parts.",
                )


CHECKS = [ContentParts, ContentType]
