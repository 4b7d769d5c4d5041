"""What the tokens checks share: the run's encoding or model folder, counting that never crashes the audit."""

from __future__ import annotations

from typing import Any

from curate.checks.tokens.counting import Counts, measure
from curate.model import Record
from curate.targets import Model, encoding_for
from curate.tokenizer import TokenizerError

ENCODING_SETTING = "token_encoding"
# run settings `curate check/cost --tokenizer` sets (see curate.checks.tokens.run_settings)
TOKENIZER_SETTING = "tokenizer"
DIGEST_SETTING = "tokenizer_digest"
MAX_LENGTH_SETTING = "max_length"
OVERFLOW_SETTING = "overflow"
RESPONSE_TEMPLATE_SETTING = "response_template"
TEMPLATE_ERROR_STAT = "template_error"

_last: tuple[Record, str, Counts | str | None] | None = None  # one record's counts, shared by every check


class TokenCheckMixin:
    """Resolves the target once: its encoding (o200k_base when the target is unknown) and table entry;
    with a model folder (`--tokenizer`), counts with its chat template and tokenizer instead."""

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

    @property
    def folder_path(self) -> str | None:
        return self.ctx.settings.get(TOKENIZER_SETTING)

    def mistral_cut(self) -> tuple[int, str] | None:
        """(max_length, overflow) when a Mistral target is counted with a trainer's cut (--max-length given):
        the counts then carry the trainer's sequences, as with a model folder."""
        given = self.ctx.settings.get(MAX_LENGTH_SETTING)
        if not given or self.folder_path or not self.encoding.startswith("mistral-"):
            return None
        return int(given), str(self.ctx.settings.get(OVERFLOW_SETTING, "truncate"))

    @property
    def cuts(self) -> bool:
        """True when the counts carry the trainer's sequences (labels and length cut): a model folder, or a
        Mistral target with --max-length."""
        return bool(self.folder_path) or self.mistral_cut() is not None

    def max_length(self) -> int | None:
        """The trainer's maximum sequence length: --max-length, else the target's limit."""
        given = self.ctx.settings.get(MAX_LENGTH_SETTING)
        if given:
            return int(given)
        model = self.model
        return model.limit if model else None

    def counts(self, record: Record) -> Counts | str | None:
        """The record's counts; None when it has no conversation text (not an example: schema checks
        say why) or the chat template refused it (record.stats['template_error'] says why); or the
        tokenizer's error message (which names the fix)."""
        global _last
        if not record.conversation.readable:
            return None
        how = self.folder_path or self.encoding
        if _last is not None and _last[0] is record and _last[1] == how:
            return _last[2]
        try:
            if self.folder_path:
                from curate.checks.tokens.folder import measure_with_folder

                result: Counts | str | None = measure_with_folder(record, self.ctx.settings, self.max_length())
            elif self.encoding.startswith("mistral-"):
                from curate.checks.tokens.mistral import measure_mistral

                result = measure_mistral(record, self.encoding, self.mistral_cut())
            else:
                result = measure(record, self.encoding)
        except TokenizerError as exc:
            result = str(exc)
        _last = (record, how, result)
        return result

    def label(self) -> str:
        """How counts are described: the model folder, the encoding, or an estimate made with it."""
        if self.folder_path:
            from curate.checks.tokens.folder import folder_label

            return folder_label(self.ctx.settings)
        model = self.model
        return model.count_label() if model else self.encoding

    @property
    def exact(self) -> bool:
        """True when counts are the model's own tokens: its folder, or an encoding that is its tokenizer."""
        if self.folder_path:
            return True
        model = self.model
        return model is not None and model.exact
