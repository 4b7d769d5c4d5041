"""Per-role length bounds, in characters or words: a declarative rule users set in YAML.

Bind it once per role (`roles: [assistant]`) with `min`/`max`; a too-short system prompt or
a rambling answer is then a finding with the rule's own message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field, model_validator

from curate.check import Params, RecordCheck
from curate.checks.quality._text import ASSISTANT, turns, word_count
from curate.model import Hit, Record, Severity


class LengthParams(Params):
    min: int | None = Field(None, ge=0, description="at least this many units")
    max: int | None = Field(None, ge=0, description="at most this many units")
    unit: Literal["chars", "words"] = Field("words", description="chars, or words (each CJK character is a word)")
    message: str | None = Field(None, description="the finding's message instead of the default")
    skip_empty: bool = Field(True, description="leave empty turns to schema.empty_content")

    @model_validator(mode="after")
    def _bounds(self) -> LengthParams:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


def measure(text: str, unit: str) -> int:
    return len(text) if unit == "chars" else word_count(text)


class Length(RecordCheck):
    id = "quality.length"
    description = "A turn shorter or longer than the bounds set for its role (chars or words)."
    default_severity = Severity.WARNING
    Params = LengthParams
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        p = self.params
        if p.min is None and p.max is None:
            return
        for turn in turns(self, record, ASSISTANT):
            if p.skip_empty and not turn.text.strip():
                continue
            n = measure(turn.text, p.unit)
            if p.min is not None and n < p.min:
                bound, what = p.min, "short"
            elif p.max is not None and n > p.max:
                bound, what = p.max, "long"
            else:
                continue
            limit = "at least" if what == "short" else "at most"
            yield Hit(
                p.message or f"{turn.role} text is too {what}: {n} {p.unit} ({limit} {bound})",
                field=turn.field,
                data={"length": n, "unit": p.unit, "min": p.min, "max": p.max, "spans": []},
                fix="Shorten or complete the text, or drop the example."
                if what == "long"
                else "Complete the text, or drop the example.",
                identity=what,
            )
