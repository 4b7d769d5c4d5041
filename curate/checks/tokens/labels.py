"""What the trainer does to an example, found before training (needs a model folder, `--tokenizer`, or a
Mistral target with `--max-length`, whose labels are mistral-common's assistant turns).

- labels-all-masked: no token with a label survives (the cut falls before the first assistant token,
  or the response marker never matches): the trainer computes no loss, or NaN, on it;
- assistant-truncated: the length cut removes some assistant tokens (`--overflow truncate`);
- dropped-by-length: the trainer drops the example as too long (`--overflow drop`);
- chat-template-refuses: the model's chat template raises on the conversation (training would stop).
"""

from __future__ import annotations

from collections.abc import Iterable

from curate.check import RecordCheck
from curate.checks.tokens._common import TEMPLATE_ERROR_STAT, TokenCheckMixin
from curate.checks.tokens.counting import Counts
from curate.model import Hit, Record, Severity


def _side(side: str) -> str:
    return f" ({side} side)" if side else ""


class _FolderCheck(TokenCheckMixin, RecordCheck):
    """Runs only with a model folder; the counts say what the trainer keeps of each sequence."""

    def applies(self, record: Record) -> bool:
        return self.cuts

    def _counts(self, record: Record) -> Counts | None:
        counts = self.counts(record)
        return counts if isinstance(counts, Counts) else None


class LabelsAllMasked(_FolderCheck):
    id = "tokens.labels_masked"
    description = (
        "Every label of an example is masked: the length cut falls before the first assistant token, "
        "or the response marker never matches, so the example trains nothing (loss NaN or 0)."
    )
    default_severity = Severity.WARNING
    example = "an 8,000-token system prompt with --max-length 4096: the answer starts after the cut"

    def check(self, record: Record) -> Iterable[Hit]:
        counts = self._counts(record)
        if counts is None or not _has_answer(record):
            return
        for s in counts.sequences:
            if s.dropped or s.kept_trainable > 0:
                continue
            if s.trainable > 0:
                why = (
                    f"all {s.trainable:,} tokens with labels are past the {self.max_length():,}-token cut "
                    f"(sequence of {s.length:,} tokens)"
                )
                fix = "Shorten the prompt, raise --max-length, or drop the example."
            elif self.folder_path and self.ctx.settings.get("response_template") and not _generation(self):
                why = "the response template's tokens never occur in the rendered example"
                fix = (
                    "Tokenize the marker in context (e.g. pass its token ids with the preceding newline), "
                    "or use a chat template with {% generation %} blocks."
                )
            elif self.folder_path:
                why = "the chat template marks no assistant token as generated"
                fix = "Check the template's {% generation %} blocks cover the assistant messages."
            else:
                why = "mistral-common encodes no trained assistant token"
                fix = "Give the example an assistant answer with weight above 0, or drop it."
            yield Hit(
                f"every label is masked{_side(s.side)}: {why}",
                data={"side": s.side, "tokens": s.length, "trainable": s.trainable, "max_length": self.max_length()},
                fix=fix,
                identity=s.side,
            )


class AssistantTruncated(_FolderCheck):
    id = "tokens.assistant_truncated"
    description = "The trainer's length cut removes part of an assistant answer: the model learns to stop mid-answer."
    default_severity = Severity.WARNING
    example = "a 3,000-token answer with --max-length 2048"

    def check(self, record: Record) -> Iterable[Hit]:
        counts = self._counts(record)
        if counts is None:
            return
        for s in counts.sequences:
            if s.dropped or not 0 < s.kept_trainable < s.trainable:
                continue
            cut = s.trainable - s.kept_trainable
            yield Hit(
                f"{cut:,} of {s.trainable:,} tokens with labels cut at {self.max_length():,} tokens{_side(s.side)} "
                f"(sequence of {s.length:,} tokens)",
                data={"side": s.side, "tokens": s.length, "trainable": s.trainable, "kept": s.kept_trainable},
                fix="Shorten or split the conversation, raise --max-length, or drop it.",
                identity=s.side,
            )


class DroppedByLength(_FolderCheck):
    id = "tokens.dropped_by_length"
    description = "An example longer than the trainer's maximum length, which it drops (--overflow drop)."
    default_severity = Severity.WARNING
    example = "a 5,000-token conversation with --max-length 4096 --overflow drop"

    def check(self, record: Record) -> Iterable[Hit]:
        counts = self._counts(record)
        if counts is None:
            return
        for s in counts.sequences:
            if s.dropped:
                yield Hit(
                    f"dropped by the trainer{_side(s.side)}: {s.length:,} tokens, over the "
                    f"{self.max_length():,}-token maximum",
                    data={"side": s.side, "tokens": s.length, "max_length": self.max_length()},
                    fix="Shorten or split the conversation, or raise --max-length.",
                    identity=s.side,
                )


class TemplateRefuses(_FolderCheck):
    id = "tokens.template_refuses"
    description = (
        "The model's chat template (or mistral-common's validator, for Mistral targets) refuses the "
        "conversation, e.g. roles that do not alternate: training would stop on it."
    )
    default_severity = Severity.ERROR
    example = '{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}'

    def applies(self, record: Record) -> bool:
        return bool(self.folder_path) or self.encoding.startswith("mistral-")

    def check(self, record: Record) -> Iterable[Hit]:
        if self.counts(record) is None and TEMPLATE_ERROR_STAT in record.stats:
            yield Hit(
                str(record.stats[TEMPLATE_ERROR_STAT]),
                fix="Fix the conversation so the template accepts it (the trainer would stop on it), or drop it.",
            )


def _has_answer(record: Record) -> bool:
    """An assistant turn with text or tool calls and weight not 0 (otherwise tokens.no_trainable says so)."""
    conv = record.conversation
    if conv.format == "text":
        return bool(conv.turns and conv.turns[0].text)
    return any(
        t.role == "assistant" and (t.text or t.tool_calls) and (t.weight is None or t.weight > 0) for t in conv.turns
    )


def _generation(check: TokenCheckMixin) -> bool:
    from curate.checks.tokens.folder import counter

    return counter(check.ctx.settings, check.max_length()).settings.labels == "generation"
