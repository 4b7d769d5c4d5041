"""The OpenAI cookbook's message checks, on every OpenAI-style message list of a record."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.schema._raw import OPENAI_MESSAGE_KEYS, OPENAI_ROLES
from curate.checks.schema._scan import scan
from curate.model import Hit, Record, Severity


class MissingMessages(RecordCheck):
    id = "schema.missing_messages"
    description = "A chat record without a non-empty `messages` list."
    default_severity = Severity.ERROR
    example = '{"messages": "hello"}'

    def applies(self, record: Record) -> bool:
        return record.format == "openai_chat"

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        data = record.data
        msgs = data.get("messages")
        if not isinstance(msgs, list):
            yield Hit(
                f"`messages` is a {type(msgs).__name__}, not a list",
                field="/messages",
                fix="Make `messages` a list of {role, content} objects.",
            )
        elif not msgs:
            yield Hit("`messages` is empty", field="/messages", fix="Add at least a user and an assistant message.")


class MessageKeysParams(Params):
    allowed_keys: list[str] = Field(default_factory=lambda: sorted(OPENAI_MESSAGE_KEYS))
    also_allow: list[str] = Field(default_factory=list, description="extra keys to accept, e.g. loss_weight")


class MessageMissingKey(RecordCheck):
    id = "schema.message_missing_key"
    description = "A message without `role`, or without `content` while making no tool call."
    default_severity = Severity.ERROR
    example = '{"messages": [{"content": "hi"}, {"role": "assistant"}]}'

    def applies(self, record: Record) -> bool:
        s = scan(record)
        return bool(s.incomplete)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        s = scan(record)
        for base, msgs in s.lists:
            for i, msg in enumerate(msgs):
                where = f"{base}/{i}"
                if not isinstance(msg, dict):
                    yield Hit(
                        f"message is a {type(msg).__name__}, not an object",
                        field=where,
                        fix='Write each message as an object: {"role": "user", "content": "..."}.',
                    )
                    continue
                if "role" not in msg:
                    yield Hit("message has no `role`", field=where, fix="Add role: system, user, assistant or tool.")
                has_call = bool(msg.get("tool_calls") or msg.get("function_call"))
                if "content" not in msg and not has_call:
                    yield Hit("message has no `content`", field=where, fix="Add the message text as `content`.")
                elif msg.get("content") is None and "content" in msg and not has_call:
                    yield Hit(
                        "`content` is null but the message makes no tool call",
                        field=f"{where}/content",
                        fix="Content may be null only on an assistant message with tool_calls.",
                    )
                elif has_call and msg.get("content") is None and msg.get("role", "assistant") != "assistant":
                    yield Hit(
                        f"a {str(msg.get('role'))[:20]} message makes a tool call without content",
                        field=where,
                        fix="Only assistant messages make tool calls; fix the role or add the content.",
                    )


class MessageUnknownKey(RecordCheck):
    id = "schema.message_unknown_key"
    description = "A message key the OpenAI format does not know (the upload rejects it)."
    default_severity = Severity.ERROR
    Params = MessageKeysParams
    example = '{"messages": [{"role": "user", "content": "hi", "speaker": "bob"}]}'

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002,ANN003
        super().__init__(*args, **kwargs)
        self._allowed = frozenset(self.params.allowed_keys) | frozenset(self.params.also_allow)

    def applies(self, record: Record) -> bool:
        allowed = self._allowed
        s = scan(record)
        return not (s.keys <= allowed)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        allowed = self._allowed
        s = scan(record)
        for base, msgs in s.lists:
            for i, msg in enumerate(msgs):
                if isinstance(msg, dict):
                    for key in msg:
                        if key not in allowed:
                            yield Hit(
                                f"unrecognised message key {key!r}",
                                field=f"{base}/{i}/{key}",
                                fix=f"Remove {key!r} or rename it; allowed: {', '.join(sorted(allowed))}.",
                                identity=key,
                            )


class RolesParams(Params):
    roles: list[str] = Field(default_factory=lambda: sorted(OPENAI_ROLES))


class InvalidRole(RecordCheck):
    id = "schema.invalid_role"
    description = "A message role other than system, developer, user, assistant, tool or function."
    default_severity = Severity.ERROR
    Params = RolesParams
    example = '{"messages": [{"role": "human", "content": "hi"}]}'

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002,ANN003
        super().__init__(*args, **kwargs)
        self._allowed = frozenset(self.params.roles)

    def applies(self, record: Record) -> bool:
        allowed = self._allowed
        s = scan(record)
        return not (s.roles - {None} <= allowed)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        allowed = self._allowed
        s = scan(record)
        for base, msgs in s.lists:
            for i, msg in enumerate(msgs):
                if isinstance(msg, dict) and "role" in msg and not _hashable_in(msg["role"], allowed):
                    role = msg["role"]
                    hint = {"human": "user", "gpt": "assistant", "bot": "assistant", "model": "assistant"}.get(
                        str(role)
                    )
                    yield Hit(
                        f"unrecognised role {str(role)[:30]!r}",
                        field=f"{base}/{i}/role",
                        fix=f"Use {hint!r}." if hint else f"Use one of {', '.join(sorted(allowed))}.",
                    )


def _hashable_in(value: object, allowed: frozenset[str]) -> bool:
    try:
        return value in allowed
    except TypeError:  # a list or an object as role
        return False


CHECKS = [MissingMessages, MessageMissingKey, MessageUnknownKey, InvalidRole]
