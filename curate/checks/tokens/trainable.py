"""Examples with nothing to learn: no assistant tokens that carry loss."""

from __future__ import annotations

from collections.abc import Iterable

from curate.check import RecordCheck
from curate.checks.tokens._common import TokenCheckMixin
from curate.model import Hit, Record, Severity


class NoTrainable(TokenCheckMixin, RecordCheck):
    id = "tokens.no_trainable"
    description = (
        "An example with no trainable tokens (no assistant turn with weight > 0): you pay for it and learn nothing."
    )
    default_severity = Severity.WARNING
    example = (
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello", "weight": 0}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if record.format == "prompt_only":
            return  # an RL or evaluation prompt: the model writes the answer, nothing to train by design
        counts = self.counts(record)
        if counts is None or isinstance(counts, str) or counts.trainable > 0:
            return
        yield Hit(
            f"no trainable tokens: {counts.tokens:,} tokens billed, none in an assistant turn with weight > 0",
            data={"tokens": counts.tokens},
            fix="Add a non-empty assistant answer, set its weight to 1, or drop the example.",
        )
