"""Leading or trailing whitespace around a turn: the model learns to emit stray spaces and newlines.

The one fix that is always safe: strip it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import ASSISTANT, raw_spans, turns, undesirable
from curate.fixes import strip_text
from curate.model import Hit, Record, Severity


class WhitespaceParams(Params):
    leading: bool = Field(True, description="flag whitespace before the text")
    trailing: bool = Field(True, description="flag whitespace after the text")
    min_chars: int = Field(1, ge=1, description="only flag runs of at least this many whitespace characters")


class Whitespace(RecordCheck):
    id = "quality.whitespace"
    description = "Leading or trailing whitespace around a turn; the model learns to emit it (safe fix: strip)."
    default_severity = Severity.INFO
    Params = WhitespaceParams
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello\\n\\n"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        if undesirable(record):
            return
        p = self.params
        for turn in turns(self, record, ASSISTANT):
            text = turn.text
            if not text.strip():
                continue  # empty turns are schema.empty_content's business
            lead = len(text) - len(text.lstrip())
            trail = len(text) - len(text.rstrip())
            where = []
            spans = []
            if p.leading and lead >= p.min_chars:
                where.append("leading")
                spans.append((0, lead))
            if p.trailing and trail >= p.min_chars:
                where.append("trailing")
                spans.append((len(text) - trail, len(text)))
            if where:
                yield Hit(
                    f"{turn.role} text has {' and '.join(where)} whitespace",
                    field=turn.field,
                    data={"where": where, "spans": raw_spans(record, turn, spans)},
                    fix="Strip the whitespace (curate can apply this fix).",
                    identity="+".join(where),
                )

    def fix(self, data: dict[str, Any], finding: Any) -> dict[str, Any] | None:
        return strip_text(data, finding)
