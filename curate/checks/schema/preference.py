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
        if not prompt and not chosen or prompt_differs(chosen, rejected):
            return  # different prompts: schema.preference_prompt_mismatch says so
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


def prompt_differs(chosen: tuple[Turn, ...], rejected: tuple[Turn, ...]) -> bool:
    """Whether the two sides, past their common head, still hold a prompt turn: then they continue
    different conversations (an answer is assistant and tool turns only)."""
    return any(t.role in ("user", "system") for t in (*chosen, *rejected))


class PreferencePromptMismatch(RecordCheck):
    id = "schema.preference_prompt_mismatch"
    description = (
        "A preference pair whose chosen and rejected sides do not share the prompt (they differ before the answer): "
        "DPO compares answers to different questions."
    )
    default_severity = Severity.WARNING
    example = (
        '{"chosen": "\\n\\nHuman: hi\\n\\nAssistant: hello", "rejected": "\\n\\nHuman: hey\\n\\nAssistant: go away"}'
    )

    def applies(self, record: Record) -> bool:
        return bool(record.conversation.rejected)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        prompt, chosen, rejected = split_pair(record.conversation)
        if not prompt_differs(chosen, rejected):
            return
        where = next((t for t in rejected if t.role in ("user", "system")), rejected[0] if rejected else chosen[0])
        yield Hit(
            f"chosen and rejected do not share the prompt: they differ from turn {len(prompt) + 1} "
            f"({len(chosen)} chosen turns, {len(rejected)} rejected turns after the common part)",
            field=where.field,
            data={"shared_turns": len(prompt)},
            fix="Give both sides the same prompt turns; only the final answer should differ.",
        )


CHECKS = [PreferenceIdentical, PreferencePrompt, PreferencePromptMismatch]
