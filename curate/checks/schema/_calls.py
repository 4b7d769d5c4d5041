"""Every function call of a raw record, whatever its format, with JSON pointers into the raw.

Four shapes exist in the wild: OpenAI `tool_calls[].function`, the legacy OpenAI
`function_call`, LLaMA-Factory v1 content parts `{"type": "tool_call", "value": "<json>"}` and
ShareGPT `function_call` turns whose value is JSON text. The first two carry `arguments` as a
JSON string; the last two encode the whole call as JSON text whose `arguments` is an object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from curate.checks.schema._raw import message_lists, sharegpt_turns
from curate.checks.schema._scan import scan
from curate.model import Record

MISSING: Any = object()  # a key that is absent (distinct from null)


@dataclass(frozen=True, slots=True)
class RawCall:
    field: str  # pointer to the call object (or to the JSON text holding it)
    name: Any  # MISSING when absent
    name_field: str
    arguments: Any  # MISSING when absent
    args_field: str
    encoded: bool  # the call is JSON text inside a string (ShareGPT, LLaMA-Factory parts)
    error: str | None = None  # the encoded call did not parse


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def _decoded(field: str, text: Any) -> Iterator[RawCall]:
    """Calls encoded as JSON text: one object, or a list of them (parallel calls)."""
    if not isinstance(text, str):
        yield RawCall(field, MISSING, field, MISSING, field, True, f"the call is a JSON {json_kind(text)}, not text")
        return
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        yield RawCall(field, MISSING, field, MISSING, field, True, f"not valid JSON ({exc})")
        return
    items = obj if isinstance(obj, list) else [obj]
    for item in items:
        if not isinstance(item, dict):
            yield RawCall(
                field, MISSING, field, MISSING, field, True, f"the call is a JSON {json_kind(item)}, not an object"
            )
            continue
        yield RawCall(field, item.get("name", MISSING), field, item.get("arguments", MISSING), field, True)


def _plain(where: str, fn: dict[str, Any], inner: str) -> RawCall:
    """An OpenAI call object: `inner` is the path from the call to {name, arguments}."""
    return RawCall(
        where,
        fn.get("name", MISSING),
        f"{where}{inner}/name",
        fn.get("arguments", MISSING),
        f"{where}{inner}/arguments",
        False,
    )


def iter_calls(data: dict[str, Any], fmt: str) -> Iterator[RawCall]:
    for base, msgs in message_lists(data, fmt):
        for i, msg in enumerate(msgs):
            if not isinstance(msg, dict):
                continue
            calls = msg.get("tool_calls")
            if isinstance(calls, list):
                for j, tc in enumerate(calls):
                    where = f"{base}/{i}/tool_calls/{j}"
                    fn = tc.get("function") if isinstance(tc, dict) else None
                    if not isinstance(fn, dict):
                        yield RawCall(where, MISSING, f"{where}/function", MISSING, f"{where}/function", False)
                    else:
                        yield _plain(where, fn, "/function")
            fc = msg.get("function_call")
            if isinstance(fc, dict):
                yield _plain(f"{base}/{i}/function_call", fc, "")
            content = msg.get("content")
            if isinstance(content, list):
                for k, part in enumerate(content):
                    if isinstance(part, dict) and part.get("type") == "tool_call":
                        yield from _decoded(f"{base}/{i}/content/{k}/value", part.get("value"))
    for where, turn in sharegpt_turns(data, fmt):
        if turn.get("from") == "function_call":
            yield from _decoded(f"{where}/value", turn.get("value"))


def calls_of(record: Record) -> list[RawCall]:
    """The record's calls, found once and shared by every check that asks."""
    s = scan(record)
    if s.calls is None:
        s.calls = list(iter_calls(record.data, record.format)) if s.may_call else []
    return s.calls
