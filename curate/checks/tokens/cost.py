"""The training cost estimate for the rule set's target, shown by `curate check` (stats.cost)."""

from __future__ import annotations

from array import array
from dataclasses import replace
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef
from curate.checks.tokens._common import TokenCheckMixin
from curate.model import Record, Severity


class CostParams(Params):
    epochs: int | None = Field(default=None, ge=1, description="Epochs; default: the cookbook heuristic (auto).")
    shots: int = Field(default=5, ge=1, description="Examples a few-shot prompt would carry, for the break-even.")


class CostEstimate(TokenCheckMixin, DatasetCheck):
    """Never finds anything; its summary is the price of training on this data (report `stats.cost`)."""

    id = "tokens.cost"
    description = "What fine-tuning the target on this data costs (epochs, billed tokens, price) and when it pays off."
    default_severity = Severity.INFO
    Params = CostParams
    example = "1,000 examples of 500 tokens, 3 epochs on gpt-4o-mini at $3/1M = $4.50"

    @classmethod
    def family(cls) -> str:
        return "cost"  # the report keeps the estimate beside, not inside, the token stats

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = array("q")
        self.prompt = 0
        self.trainable = 0
        self.untrainable = 0  # examples with no trainable token: not priced, counted

    def notices(self) -> list[str]:
        """A target the price table does not know: no cost estimate, which is about the run, not the data."""
        from curate.targets import encoding_for

        if self.ctx.target and encoding_for(self.ctx.target)[1] is None:
            return [
                f"target {self.ctx.target!r} is not in the model table: no training cost estimate "
                f"(tokens counted with {self.encoding}; see `curate cost --model` for prices)"
            ]
        return []

    def extract(self, record: Record) -> Any:
        c = self.counts(record)
        if c is None or isinstance(c, str):
            return None
        if not c.sequences:
            return (c.tokens, c.trainable)
        # with a model folder, the cost is on what the trainer keeps: cut sequences at the maximum
        # length, dropped ones not at all
        limit = self.max_length()
        if all(s.dropped for s in c.sequences):
            return None
        if limit is None or all(s.length <= limit for s in c.sequences):
            return (c.tokens, c.trained)
        return (sum(min(s.length, limit) for s in c.sequences if not s.dropped), c.trained)

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        if extracted is None:
            return
        t, tr = extracted
        if tr <= 0:  # nothing to learn: the same examples `curate cost` leaves out
            self.untrainable += 1
            return
        self.tokens.append(t)
        self.trainable += tr
        self.prompt += t - tr

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, CostEstimate)
        self.tokens.extend(other.tokens)
        self.trainable += other.trainable
        self.prompt += other.prompt
        self.untrainable += other.untrainable

    def summary(self) -> dict[str, Any]:
        from curate.cost import break_even, estimate

        model = self.model
        if model is None:
            if not self.tokens:
                return {}
            if self.ctx.target:  # said once, as a run notice (`notices`)
                return {"target": self.ctx.target}
            return {"target": None, "note": "no target model; see `curate cost --model` for prices"}
        if not self.tokens:
            return {}
        est = estimate(model, self.tokens, self.params.epochs)
        if self.folder_path:
            est = replace(est, encoding=self.label(), exact=True)
        n = len(self.tokens)
        be = break_even(model, est.cost, self.params.shots, sum(self.tokens) / n, self.prompt / n, self.trainable / n)
        return {
            "target": model.name,
            "counted_as": self.label(),
            "estimates": [est.to_json()],
            "break_even": be.to_json(),
            "left_out": {"no trainable tokens": self.untrainable} if self.untrainable else {},
        }
