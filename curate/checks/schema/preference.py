"""Preference pairs (DPO, ORPO, KTO pairs): a pair must differ, and its prompt must await an answer."""

from __future__ import annotations

from collections.abc import Iterator

from curate.check import RecordCheck
from curate.model import Conversation, Hit, Record, Severity, Turn


def split_pair(conv: Conversation) -> tuple[tuple[Turn, ...], tuple[Turn, ...], tuple[Turn, ...]]:
    """(prompt, chosen, rejected) of a normalised pair.

    Both sides repeat the prompt (every format normalises that way); the prompt is their common
    head: turns at the same place of the raw record, or equal turns (separate
    `chosen_messages` / `rejected_messages` lists repeat it by value). An answer never counts as
    prompt, so the last turn of each side stays out of it.
    """
    chosen, rejected = conv.turns, conv.rejected
    n = 0
    limit = min(len(chosen), len(rejected)) - 1
    while n < limit:
        a, b = chosen[n], rejected[n]
        if a.field != b.field and (a.role, a.text) != (b.role, b.text):
            break
        n += 1
    return chosen[:n], chosen[n:], rejected[n:]


def _norm(turns: tuple[Turn, ...]) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    return [(t.role, " ".join(t.text.split()), tuple((c.name, c.arguments) for c in t.tool_calls)) for t in turns]


class PreferenceIdentical(RecordCheck):
    id = "schema.preference_identical"
    description = (
        "A preference pair whose chosen and rejected answers are the same: it teaches nothing and may destabilise DPO."
    )
    default_severity = Severity.ERROR
    example = '{"prompt": "2+2?", "chosen": "4", "rejected": "4"}'

    def applies(self, record: Record) -> bool:
        conv = record.conversation
        return bool(conv.rejected)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        conv = record.conversation
        _, chosen, rejected = split_pair(conv)
        if chosen and _norm(chosen) == _norm(rejected):
            yield Hit(
                "chosen and rejected answers are identical"
                + (" (ignoring whitespace)" if [t.text for t in chosen] != [t.text for t in rejected] else ""),
                field=rejected[-1].field,
                fix="Replace the rejected answer with a worse one, or drop the pair.",
            )


class PreferencePrompt(RecordCheck):
    id = "schema.preference_prompt"
    description = "A preference pair whose prompt ends with an assistant turn, so chosen/rejected do not answer a user."
    default_severity = Severity.ERROR
    example = (
        '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}], '
        '"chosen": {"from": "gpt", "value": "a"}, "rejected": {"from": "gpt", "value": "b"}}'
    )

    def applies(self, record: Record) -> bool:
        conv = record.conversation
        return bool(conv.rejected)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        conv = record.conversation
        prompt, chosen, rejected = split_pair(conv)
        if not prompt and not chosen:
            return
        if not prompt:
            yield Hit(
                "preference pair has no prompt",
                field=(chosen or rejected)[0].field,
                fix="Add the user message that chosen and rejected answer.",
            )
        elif prompt[-1].role == "assistant":
            yield Hit(
                "prompt of the preference pair ends with an assistant turn",
                field=prompt[-1].field,
                fix="End the prompt with the user turn that the answers reply to; drop or move the assistant turn.",
            )


CHECKS = [PreferenceIdentical, PreferencePrompt]
