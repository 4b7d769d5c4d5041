"""What the tokens checks share: the run's encoding, counting that never crashes the audit."""

from __future__ import annotations

from typing import Any

from curate.checks.tokens.counting import Counts, measure
from curate.model import Record
from curate.targets import Model, encoding_for
from curate.tokenizer import TokenizerError


class TokenCheckMixin:
    """Resolves the target once: its encoding (o200k_base when the target is unknown) and table entry."""

    ctx: Any

    def _target(self) -> tuple[str, Model | None]:
        cached = getattr(self, "_resolved", None)
        if cached is None:
            cached = self._resolved = encoding_for(self.ctx.target)
        return cached

    @property
    def encoding(self) -> str:
        return self._target()[0]

    @property
    def model(self) -> Model | None:
        return self._target()[1]

    def counts(self, record: Record) -> Counts | str:
        """The record's counts, or the tokenizer's error message (which names the fix)."""
        try:
            return measure(record, self.encoding)
        except TokenizerError as exc:
            return str(exc)

    def label(self) -> str:
        """How counts are described: the encoding, or an estimate made with it."""
        model = self.model
        return model.count_label() if model else self.encoding
