"""Examples longer than the target's per-example limit: the provider silently truncates them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.tokens._common import TokenCheckMixin
from curate.model import Hit, Record, Severity


class LimitParams(Params):
    limit: Optional[int] = Field(default=None, ge=1, description="Tokens per example; default: the target's limit.")


class OverLimit(TokenCheckMixin, RecordCheck):
    id = "tokens.over_limit"
    description = "An example longer than the target model's per-example token limit; its end is cut off in training."
    default_severity = Severity.WARNING
    Params = LimitParams
    example = (
        '{"messages": [{"role": "user", "content": "<70,000 tokens of text>"}, {"role": "assistant", "content": "ok"}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if self.cuts:
            return  # with the trainer's cut known, it is checked exactly (assistant-truncated, ...)
        limit = self.params.limit or (self.model.limit if self.model else None)
        counts = self.counts(record)
        if limit is None or counts is None or isinstance(counts, str) or counts.tokens <= limit:
            return
        whose = f" of {self.model.name}" if self.model and not self.params.limit else ""
        estimate = "" if self.model is None or self.exact else f" ({self.label()})"
        yield Hit(
            f"{counts.tokens:,} tokens{estimate}, over the {limit:,}-token limit{whose}: "
            f"the last {counts.tokens - limit:,} tokens will be truncated",
            data={
                "tokens": counts.tokens,
                "limit": limit,
                "encoding": self.encoding,
                "estimate": not self.exact,
            },
            fix="Shorten or split the conversation, or drop it; truncation usually cuts off the assistant answer.",
        )
