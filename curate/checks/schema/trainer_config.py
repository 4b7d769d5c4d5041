"""Records against the trainer's own config (`curate check --trainer llamafactory:dataset_info.json`).

Each finding names the config key (`columns.prompt`, `tags.role_tag`, `tags.user_tag`,
`message_property_mappings.role`, ...), what it declares and what the record has instead, so the
opaque KeyError or "Invalid role tag" of the trainer becomes a line in the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from curate.check import RecordCheck
from curate.display import shown
from curate.model import Hit, Record, Severity

SETTING = "trainer_config"

_loaded: dict[str, Any] = {}


def _expectations(spec: str) -> list[Any]:
    found = _loaded.get(spec)
    if found is None:
        from curate.trainer_config import load

        found = _loaded[spec] = load(spec)
    return found


def _keys(d: dict[str, Any]) -> str:
    return ", ".join(shown(k, 30) for k in list(d)[:8]) or "none"


class TrainerConfigMismatch(RecordCheck):
    id = "schema.trainer_config"
    description = (
        "A record lacks what the trainer's config declares (a column, the role/content keys, a role name), "
        "or LLaMA-Factory would skip it (roles out of order): the trainer fails on it or drops it."
    )
    default_severity = Severity.ERROR
    example = 'dataset_info.json declares "user_tag": "human" but the record\'s messages use "role": "user"'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._by_path: dict[str, Any] = {}

    def applies(self, record: Record) -> bool:
        return bool(self.ctx.settings.get(SETTING)) and record.ok

    def _expectation(self, path: str) -> Any:
        if path not in self._by_path:
            from curate.trainer_config import for_file

            spec = self.ctx.settings[SETTING]
            self._by_path[path] = for_file(_expectations(spec), spec, path)
        return self._by_path[path]

    def check(self, record: Record) -> Iterable[Hit]:
        if not self.applies(record):  # callers such as review's re-check skip applies()
            return
        exp = self._expectation(record.path)
        if exp is None:
            return
        data = record.data
        for key, column in exp.required:
            if column not in data:
                yield Hit(
                    f"{exp.source}: {key} is {shown(column)!r}, but the record has no such key (it has: {_keys(data)})",
                    data={"config_key": key, "column": column},
                    fix=f"Rename the key in the data, or set {key} in the config to the key the data uses.",
                    identity=key,
                )
        if exp.messages is None:
            return
        yield from self._messages(exp, data)

    def _messages(self, exp: Any, data: dict[str, Any]) -> Iterable[Hit]:
        key, column = exp.messages
        messages = data.get(column)
        if not isinstance(messages, list):
            yield Hit(
                f"{exp.source}: {key} is {shown(column)!r}, but the record has no message list there "
                f"(it has: {_keys(data)})",
                data={"config_key": key, "column": column},
                fix=f"Set {key} to the key that holds the messages.",
                identity=key,
            )
            return
        role_cfg, role_key = exp.role
        content_cfg, content_key = exp.content
        reported: set[str] = set()
        meanings = []
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                continue
            if role_key not in m and role_cfg not in reported:
                reported.add(role_cfg)
                yield Hit(
                    f"{exp.source}: {role_cfg} is {shown(role_key)!r}, but message {i} has no such key "
                    f"(it has: {_keys(m)})",
                    field=f"/{column}/{i}",
                    data={"config_key": role_cfg, "message_key": role_key},
                    fix=f"Set {role_cfg} to the key the messages use for the role.",
                    identity=role_cfg,
                )
            if content_key not in m and content_cfg not in reported:
                reported.add(content_cfg)
                yield Hit(
                    f"{exp.source}: {content_cfg} is {shown(content_key)!r}, but message {i} has no such key "
                    f"(it has: {_keys(m)})",
                    field=f"/{column}/{i}",
                    data={"config_key": content_cfg, "message_key": content_key},
                    fix=f"Set {content_cfg} to the key the messages use for the text.",
                    identity=content_cfg,
                )
            role = m.get(role_key)
            if role_key in m and role not in exp.roles:
                if exp.roles_key not in reported:
                    reported.add(exp.roles_key)
                    declared = ", ".join(f"{shown(k, 20)!r}" for k in exp.roles)
                    yield Hit(
                        f"{exp.source}: message {i} has {shown(role_key)} {shown(str(role), 30)!r}, which is none of "
                        f"the roles {exp.roles_key} declares ({declared})",
                        field=f"/{column}/{i}",
                        data={"config_key": exp.roles_key, "role": shown(str(role), 30)},
                        fix=f"Map this role in {exp.roles_key} (user_tag, assistant_tag) or rename it in the data.",
                        identity=exp.roles_key,
                    )
                meanings.append(None)
            else:
                meanings.append(exp.roles.get(role))
        if exp.alternation and None not in meanings and exp.roles_key not in reported:
            yield from _alternation(exp, column, meanings)


def _alternation(exp: Any, column: str, meanings: list[str | None]) -> Iterable[Hit]:
    """LLaMA-Factory's sharegpt rule: after an optional system message, user/observation at odd
    positions and assistant/function at even ones; otherwise it skips the example."""
    start = 1 if meanings and meanings[0] == "system" else 0
    for i, meaning in enumerate(meanings[start:]):
        wanted = ("user", "observation") if i % 2 == 0 else ("assistant", "function")
        if meaning not in wanted:
            yield Hit(
                f"{exp.source}: LLaMA-Factory skips this example: message {i + start} is {meaning} where "
                f"{' or '.join(wanted)} must come (it checks the order of the roles in {exp.roles_key})",
                field=f"/{column}/{i + start}",
                data={"config_key": exp.roles_key, "position": i + start},
                fix="Make user/observation and assistant/function messages alternate, or drop the example.",
                identity="alternation",
            )
            return
    if (len(meanings) - start) % 2:
        yield Hit(
            f"{exp.source}: LLaMA-Factory skips this example: it ends without an assistant message",
            data={"config_key": exp.roles_key},
            fix="End the conversation with the assistant's answer, or drop it.",
            identity="alternation",
        )
