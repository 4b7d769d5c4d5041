"""Structure checks on the normalised conversation, so they apply to every chat format."""

from __future__ import annotations

from collections.abc import Iterable

from curate.check import RecordCheck
from curate.checks.schema._raw import is_chat
from curate.model import Hit, Record, Severity


class MissingAssistant(RecordCheck):
    id = "schema.missing_assistant"
    description = "A conversation with no assistant turn: nothing to learn from it."
    default_severity = Severity.ERROR
    example = '{"messages": [{"role": "user", "content": "hi"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        conv = record.conversation
        if is_chat(conv.format) and conv.turns and not any(t.role == "assistant" for t in conv.turns):
            yield Hit(
                "no assistant message",
                field=_list_of(conv.turns[-1].field),
                fix="Add the answer the model should learn as an assistant message.",
            )


def _list_of(field: str) -> str | None:
    """The message list a turn lives in: /messages/1/content -> /messages (None outside a list)."""
    parts = field.split("/")
    return "/".join(parts[:-2]) if len(parts) >= 4 and parts[-2].isdigit() else None


class EmptyContent(RecordCheck):
    id = "schema.empty_content"
    description = "A turn whose text is empty or only whitespace (and that makes no tool call)."
    default_severity = Severity.WARNING
    example = '{"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "ok"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        conv = record.conversation
        seen: set[str] = set()  # both sides of a pair repeat the prompt: report it once
        for turn in (*conv.turns, *conv.rejected):
            if turn.field in seen or (self.roles is not None and turn.role not in self.roles):
                continue
            seen.add(turn.field)
            if not turn.text.strip() and not turn.tool_calls:
                what = "empty" if not turn.text else "whitespace-only"
                yield Hit(
                    f"{turn.role or 'message'} text is {what}", field=turn.field, fix="Write the text or drop the turn."
                )


class SystemPosition(RecordCheck):
    id = "schema.system_position"
    description = "A system message that is not the first turn; most chat templates ignore or reject it."
    default_severity = Severity.WARNING
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "be nice"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        for i, turn in enumerate(record.conversation.turns):
            if turn.role == "system" and i > 0:
                yield Hit("system message is not the first turn", field=turn.field, fix="Move it to the start.")


class ConsecutiveRoles(RecordCheck):
    id = "schema.consecutive_roles"
    description = "Two consecutive turns from the same user/assistant role; usually a merge or export bug."
    default_severity = Severity.WARNING
    example = '{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        reported: set[str] = set()  # both sides of a pair repeat the prompt: report it once
        for side in (record.conversation.turns, record.conversation.rejected):
            prev = None
            for turn in side:
                # an assistant tool call followed by its answer is legal, as are several tool results
                same = prev is not None and turn.role == prev.role and turn.role in ("user", "assistant")
                if same and not (turn.role == "assistant" and prev.tool_calls) and turn.field not in reported:
                    reported.add(turn.field)
                    yield Hit(
                        f"two {turn.role} turns in a row",
                        field=turn.field,
                        fix="Merge the turns or insert the missing reply.",
                    )
                prev = turn


class LastTurn(RecordCheck):
    id = "schema.last_turn"
    description = "A conversation that does not end with an assistant turn: the last answer is not trained on."
    default_severity = Severity.WARNING
    example = (
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, '
        '{"role": "user", "content": "bye"}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        conv = record.conversation
        if not is_chat(conv.format) or not conv.turns:
            return
        last = conv.turns[-1]
        if last.role != "assistant" and any(t.role == "assistant" for t in conv.turns):
            yield Hit(
                f"last turn is from {last.role or 'an unknown role'}, not the assistant",
                field=last.field,
                fix="End the conversation with the assistant's answer, or drop the trailing turn.",
            )


CHECKS = [MissingAssistant, EmptyContent, SystemPosition, ConsecutiveRoles, LastTurn]
