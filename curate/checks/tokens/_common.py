"""What the tokens checks share: the run's encoding, counting that never crashes the audit."""

from __future__ import annotations

from typing import Any

from curate.checks.tokens.counting import Counts, measure
from curate.model import Record
from curate.targets import Model, encoding_for
from curate.tokenizer import TokenizerError

ENCODING_SETTING = "token_encoding"


class TokenCheckMixin:
    """Resolves the target once: its encoding (o200k_base when the target is unknown) and table entry."""

    ctx: Any

    def _target(self) -> tuple[str, Model | None]:
        cached = getattr(self, "_resolved", None)
        if cached is None:
            encoding, model = encoding_for(self.ctx.target)
            forced = self.ctx.settings.get(ENCODING_SETTING)  # `curate cost` counts with each encoding it needs
            cached = self._resolved = (forced or encoding, model if not forced or forced == encoding else None)
        return cached

    @property
    def encoding(self) -> str:
        return self._target()[0]

    @property
    def model(self) -> Model | None:
        return self._target()[1]

    def counts(self, record: Record) -> Counts | str | None:
        """The record's counts; None when it has no conversation (not an example: schema checks say why);
        or the tokenizer's error message (which names the fix)."""
        if not record.conversation.turns:
            return None
        try:
            return measure(record, self.encoding)
        except TokenizerError as exc:
            return str(exc)

    def label(self) -> str:
        """How counts are described: the encoding, or an estimate made with it."""
        model = self.model
        return model.count_label() if model else self.encoding
