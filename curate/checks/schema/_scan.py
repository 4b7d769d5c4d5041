"""One pass over a record's raw messages that every schema check shares.

Most records have no tool calls, no weights and no odd keys; the scan lets each check see that
from a few set operations instead of walking the messages again. The last scan is memoised by
record identity: the engine runs all record checks on one record before the next, so a
one-entry cache is enough (and holds no more than one record alive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curate.checks.schema._raw import message_lists, sharegpt_turns
from curate.model import Record

UNHASHABLE = "\x00unhashable"  # stands for a role value that cannot go into a set


@dataclass(slots=True)
class Scan:
    lists: list[tuple[str, list[Any]]] = field(default_factory=list)  # (pointer, OpenAI-style message list)
    keys: set[str] = field(default_factory=set)  # every key of every message
    roles: set[Any] = field(default_factory=set)
    part_types: set[Any] = field(default_factory=set)  # `type` of content parts
    incomplete: bool = False  # a message lacks role, or content (or has null content), or is not an object
    sharegpt: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sharegpt_roles: set[Any] = field(default_factory=set)
    calls: list[Any] | None = None  # filled by _calls.calls_of on first use

    @property
    def may_call(self) -> bool:
        """Whether any function call can be in the record (OpenAI, legacy, content part or ShareGPT)."""
        return bool(
            "tool_calls" in self.keys
            or "function_call" in self.keys
            or "tool_call" in self.part_types
            or "function_call" in self.sharegpt_roles
        )


_last: tuple[Any, Any] = (None, None)  # (record, scan), replaced as one object: safe across threads


def scan(record: Record) -> Scan:
    global _last
    last = _last
    if last[0] is record:
        return last[1]
    s = Scan()
    data, fmt = record.data, record.format
    keys, roles = s.keys, s.roles
    for base, msgs in message_lists(data, fmt):
        s.lists.append((base, msgs))
        for msg in msgs:
            if not isinstance(msg, dict):
                s.incomplete = True
                continue
            keys.update(msg)
            role = msg.get("role")
            try:
                roles.add(role)
            except TypeError:
                roles.add(UNHASHABLE)
            content = msg.get("content")
            if content is None or role is None:
                s.incomplete = True
            if isinstance(content, list):
                for part in content:
                    t = part.get("type") if isinstance(part, dict) else None
                    s.part_types.add(t if isinstance(t, str) else UNHASHABLE)
    if fmt in ("sharegpt", "preference"):
        s.sharegpt = list(sharegpt_turns(data, fmt))
        for _, turn in s.sharegpt:
            role = turn.get("from")
            s.sharegpt_roles.add(role if isinstance(role, str) else UNHASHABLE)
    _last = (record, s)
    return s
