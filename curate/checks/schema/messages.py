"""The OpenAI cookbook's message checks, on every OpenAI-style message list of a record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.schema._raw import OPENAI_MESSAGE_KEYS, OPENAI_ROLES, message_lists
from curate.checks.schema._scan import scan
from curate.display import shown
from curate.formats import detect, roles_of
from curate.formats.roles import DEFAULT_ROLES
from curate.model import Finding, Hit, Record, Severity


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
                        f"a {shown(msg.get('role'), 20)} message makes a tool call without content",
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
                                f"unrecognised message key '{shown(key, 40)}'",
                                field=f"{base}/{i}/{key}",
                                fix=f"Remove '{shown(key, 40)}' or rename it; allowed: {', '.join(sorted(allowed))}.",
                                identity=key,
                            )


class RolesParams(Params):
    roles: list[str] = Field(default_factory=lambda: sorted(OPENAI_ROLES))


class _RoleCheck(RecordCheck):
    """What both role checks share: the accepted roles, and running only on records with another spelling."""

    Params = RolesParams

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002,ANN003
        super().__init__(*args, **kwargs)
        self._allowed = frozenset(self.params.roles)

    def applies(self, record: Record) -> bool:
        allowed = self._allowed
        s = scan(record)
        return not (s.roles - {None} <= allowed)


class InvalidRole(_RoleCheck):
    id = "schema.invalid_role"
    description = (
        "A message role that is neither system, developer, user, assistant, tool, function nor a known alias "
        "(aliases such as Chatbot or prompter are schema.role_alias)."
    )
    default_severity = Severity.ERROR
    Params = RolesParams
    example = '{"messages": [{"role": "speaker_1", "content": "hi"}]}'

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        allowed = self._allowed
        roles = roles_of(record.format_hint)
        s = scan(record)
        for base, msgs in s.lists:
            for i, msg in enumerate(msgs):
                if isinstance(msg, dict) and "role" in msg and not _hashable_in(msg["role"], allowed):
                    role = msg["role"]
                    if isinstance(role, str) and roles.known(role):
                        continue  # read as a canonical role: schema.role_alias reports the spelling
                    yield Hit(
                        f"unrecognised role '{shown(str(role), 30)}'",
                        field=f"{base}/{i}/role",
                        fix=f"Use one of {', '.join(sorted(allowed))}, or map it with --role-map ROLE=SPELLING.",
                    )


class RoleAlias(_RoleCheck):
    id = "schema.role_alias"
    description = (
        "Message roles spelled another tool's way (Cohere Chatbot, OpenAssistant prompter, human, USER): "
        "read as the canonical role, but an OpenAI upload rejects them."
    )
    default_severity = Severity.WARNING
    Params = RolesParams
    example = '{"messages": [{"role": "User", "content": "hi"}, {"role": "Chatbot", "content": "hello"}]}'

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        roles = roles_of(record.format_hint)
        found: dict[str, str] = {}
        first: str | None = None
        for base, msgs in scan(record).lists:
            for i, msg in enumerate(msgs):
                role = msg.get("role") if isinstance(msg, dict) else None
                if not isinstance(role, str) or role in self._allowed or not roles.known(role):
                    continue
                found.setdefault(role, roles.canonical(role))
                first = first or f"{base}/{i}/role"
        if not found:
            return
        read = ", ".join(f"'{shown(raw, 30)}' as {canonical}" for raw, canonical in sorted(found.items()))
        yield Hit(
            f"role spelling read as a canonical role: {read}",
            field=first,
            data={"roles": {shown(raw, 30): canonical for raw, canonical in found.items()}},
            fix="Rename the roles to system/user/assistant/tool if the trainer or upload expects OpenAI's spellings "
            "(review offers the fix).",
            identity=",".join(sorted(found)),
        )

    def fix(self, data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
        """Rename every built-in alias of the record's message lists to its canonical role."""
        changed = False
        for _, msgs in message_lists(data, detect(data)):
            for msg in msgs:
                role = msg.get("role") if isinstance(msg, dict) else None
                if isinstance(role, str) and role not in self._allowed and DEFAULT_ROLES.known(role):
                    msg["role"] = DEFAULT_ROLES.canonical(role)
                    changed = True
        return data if changed else None


def _hashable_in(value: object, allowed: frozenset[str]) -> bool:
    try:
        return value in allowed
    except TypeError:  # a list or an object as role
        return False


CHECKS = [MissingMessages, MessageMissingKey, MessageUnknownKey, InvalidRole, RoleAlias]
