"""Tool use: call ids, call arguments, function names and tool definitions.

The OpenAI cookbook's validator checks none of these, yet each one fails an upload or teaches
the model malformed calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.schema._calls import MISSING, RawCall, calls_of, json_kind
from curate.checks.schema._raw import tool_definitions
from curate.checks.schema._scan import scan
from curate.display import shown
from curate.model import Hit, Record, Severity
from curate.userregex import UserRegex, compile_user

NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"


class ToolCallIdParams(Params):
    strict: bool = Field(
        default=False,
        description="also require tool_call_id when the calls carry no ids (LLaMA-Factory content parts)",
    )


class ToolCallId(RecordCheck):
    id = "schema.tool_call_id"
    description = "A tool result that does not answer an earlier tool call (missing or unknown tool_call_id)."
    default_severity = Severity.ERROR
    Params = ToolCallIdParams
    example = (
        '{"messages": [{"role": "user", "content": "weather?"}, {"role": "assistant", "tool_calls": '
        '[{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}, '
        '{"role": "tool", "tool_call_id": "call_2", "content": "sunny"}]}'
    )

    def applies(self, record: Record) -> bool:
        s = scan(record)
        return not ("tool_calls" not in s.keys and "tool" not in s.roles and "observation" not in s.sharegpt_roles)

    def check(self, record: Record) -> Iterator[Hit]:
        if not self.applies(record):  # when called directly, not through the engine
            return
        s = scan(record)
        ids: set[Any] = set()
        for base, msgs in s.lists:
            untagged_calls = False  # calls without ids: content parts or the legacy function_call
            for i, msg in enumerate(msgs):
                if not isinstance(msg, dict):
                    continue
                yield from self._calls(msg, f"{base}/{i}", ids)
                if msg.get("function_call") or _has_part_call(msg.get("content")):
                    untagged_calls = True
                if msg.get("role") == "tool":
                    yield from self._answer(msg, f"{base}/{i}", ids, untagged_calls)
        prev = None
        for where, turn in s.sharegpt:
            role = turn.get("from")
            if role == "observation" and prev not in ("function_call", "observation"):
                yield Hit(
                    "observation turn does not follow a function_call turn",
                    field=f"{where}/from",
                    fix="Put the function_call turn that produced this result right before it, or drop it.",
                )
            prev = role

    def _calls(self, msg: dict[str, Any], where: str, ids: set[Any]) -> Iterator[Hit]:
        calls = msg.get("tool_calls")
        if not isinstance(calls, list):
            return
        for j, tc in enumerate(calls):
            if not isinstance(tc, dict):
                continue
            call_id = tc.get("id")
            if not isinstance(call_id, str) or not call_id:
                yield Hit(
                    "tool call has no `id`",
                    field=f"{where}/tool_calls/{j}",
                    fix="Give each tool call a unique id (e.g. call_1); repeat it as tool_call_id in the tool message.",
                )
            elif call_id in ids:
                yield Hit(
                    f"tool call id '{shown(call_id, 60)}' is used twice",
                    field=f"{where}/tool_calls/{j}/id",
                    fix="Make every tool call id unique within the conversation.",
                    identity=call_id[:60],
                )
            else:
                ids.add(call_id)

    def _answer(self, msg: dict[str, Any], where: str, ids: set[Any], untagged_calls: bool) -> Iterator[Hit]:
        tcid = msg.get("tool_call_id")
        if tcid is None:
            if not ids and not untagged_calls:
                yield Hit(
                    "tool message answers no earlier tool call",
                    field=where,
                    fix="Add the assistant message with tool_calls that this result answers, or drop the tool message.",
                )
            elif ids or self.params.strict:
                yield Hit(
                    "tool message has no `tool_call_id`",
                    field=where,
                    fix="Set tool_call_id to the id of the tool call this message answers.",
                )
        elif tcid not in ids:
            known = ", ".join(sorted(shown(i, 30) for i in ids)[:5]) or "none"
            yield Hit(
                f"tool_call_id '{shown(tcid, 60)}' matches no earlier tool_calls[].id (known: {known})",
                field=f"{where}/tool_call_id",
                fix="Use the id of the tool call this message answers; the call must come before its result.",
                identity=str(tcid)[:60],
            )


def _has_part_call(content: Any) -> bool:
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "tool_call" for p in content)


class ToolArguments(RecordCheck):
    id = "schema.tool_arguments"
    description = "Tool-call arguments that are not a JSON string parsing to an object; the upload rejects them."
    default_severity = Severity.ERROR
    example = (
        '{"messages": [{"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", '
        '"function": {"name": "f", "arguments": {"x": 1}}}]}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        calls = calls_of(record)
        return self._hits(calls) if calls else ()

    def _hits(self, calls: list[RawCall]) -> Iterator[Hit]:
        for call in calls:
            if call.error:
                yield Hit(
                    f"function call is {call.error}",
                    field=call.field,
                    fix='Write the call as JSON text: {"name": "get_weather", "arguments": {"city": "Paris"}}.',
                )
                continue
            args = call.arguments
            if args is MISSING:
                yield Hit(
                    "tool call has no `arguments`",
                    field=call.field,
                    fix='Add "arguments" (use "{}" when the function takes no parameters).',
                )
            elif isinstance(args, str):
                yield from _parse_arguments(args, call.args_field)
            elif call.encoded and isinstance(args, dict):
                continue  # ShareGPT / LLaMA-Factory: arguments is an object inside the encoded call
            elif call.encoded:
                yield Hit(
                    f"`arguments` is a JSON {json_kind(args)}, not an object",
                    field=call.args_field,
                    fix='Make arguments an object of parameter values, e.g. {"city": "Paris"}.',
                )
            else:
                yield Hit(
                    f"`arguments` is a JSON {json_kind(args)}, not a string",
                    field=call.args_field,
                    fix='Encode the arguments as a JSON string (json.dumps), e.g. "{\\"city\\": \\"Paris\\"}".',
                )


def _parse_arguments(text: str, field: str) -> Iterator[Hit]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        yield Hit(
            f"`arguments` is not valid JSON ({exc})",
            field=field,
            fix="Repair the JSON text of the arguments (often truncated or single-quoted).",
        )
        return
    if not isinstance(value, dict):
        yield Hit(
            f"`arguments` parses to a JSON {json_kind(value)}, not an object",
            field=field,
            fix='Wrap the values in an object keyed by parameter name, e.g. "{\\"query\\": \\"...\\"}".',
        )


class FunctionNameParams(Params):
    pattern: UserRegex = Field(default=NAME_PATTERN, description="regex (RE2) every function name must match")


class FunctionName(RecordCheck):
    id = "schema.function_name"
    description = "A function name (in a call or a tool definition) outside ^[a-zA-Z0-9_-]{1,64}$; the API rejects it."
    default_severity = Severity.ERROR
    Params = FunctionNameParams
    example = '{"messages": [...], "tools": [{"type": "function", "function": {"name": "get weather"}}]}'

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002,ANN003
        super().__init__(*args, **kwargs)
        self._pattern = compile_user(self.params.pattern)

    def check(self, record: Record) -> Iterable[Hit]:
        if not calls_of(record) and not _has_definitions(record):
            return ()
        return self._hits(record)

    def _hits(self, record: Record) -> Iterator[Hit]:
        pattern = self._pattern
        for call in calls_of(record):
            if call.error:
                continue  # schema.tool_arguments reports the unreadable call
            if call.name is MISSING:
                yield Hit("tool call has no function name", field=call.field, fix='Add "name" to the call.')
            else:
                yield from _name_hit(call.name, call.name_field, pattern, "called")
        for where, name in _defined_names(record.data, record.format):
            yield from _name_hit(name, where, pattern, "defined")


def _name_hit(name: Any, field: str, pattern: re.Pattern[str], how: str) -> Iterator[Hit]:
    if isinstance(name, str) and pattern.match(name):
        return
    if isinstance(name, str):
        suggestion = re.sub(r"[^a-zA-Z0-9_-]+", "_", shown(name, None)).strip("_")[:64] or "my_function"
        yield Hit(
            f"function name '{shown(name, 70)}' ({how}) does not match {pattern.pattern}",
            field=field,
            data={"name": shown(name, 70)},
            fix=f"Rename the function everywhere it is defined and called, e.g. {suggestion!r}.",
            identity=name[:70],
        )
    else:
        yield Hit(
            f"function name is a JSON {json_kind(name)}, not a string",
            field=field,
            fix="Give the function a string name of letters, digits, _ or -.",
        )


def _defined_names(data: dict[str, Any], fmt: str) -> Iterator[tuple[str, Any]]:
    """(pointer, name) of every function definition; names inside a JSON-string `tools` point at it."""
    for where, value in tool_definitions(data, fmt):
        encoded = isinstance(value, str)
        items = _loads_or_none(value) if encoded else value
        if not isinstance(items, list):
            continue
        for k, tool in enumerate(items):
            if not isinstance(tool, dict):
                continue
            fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
            if "name" in fn:
                yield (
                    (where if encoded else f"{where}/{k}/function/name" if fn is not tool else f"{where}/{k}/name"),
                    fn["name"],
                )


def _has_definitions(record: Record) -> bool:
    data = record.data
    return "tools" in data or "functions" in data or (record.format == "openai_preference" and "input" in data)


def _loads_or_none(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


class ToolDefinitionsParams(Params):
    allow_json_string: bool = Field(
        default=True, description="accept `tools` as a JSON string (LLaMA-Factory); the OpenAI API needs a list"
    )


class ToolDefinitions(RecordCheck):
    id = "schema.tool_definitions"
    description = (
        "A `tools` / `functions` value that is not a list of function definitions with a name and object parameters."
    )
    default_severity = Severity.ERROR
    Params = ToolDefinitionsParams
    example = '{"messages": [...], "tools": [{"type": "function", "function": {"parameters": "none"}}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        return self._hits(record) if _has_definitions(record) else ()

    def _hits(self, record: Record) -> Iterator[Hit]:
        for where, value in tool_definitions(record.data, record.format):
            items = value
            if isinstance(value, str):
                if not self.params.allow_json_string:
                    yield Hit(
                        f"`{where[1:]}` is a JSON string, not a list",
                        field=where,
                        fix="Store the tool definitions as a JSON list, not as text (json.loads it).",
                    )
                items = _loads_or_none(value)
                if items is None:
                    yield Hit(
                        f"`{where[1:]}` is a string that is not valid JSON", field=where, fix="Repair the JSON text."
                    )
                    continue
            if not isinstance(items, list):
                yield Hit(
                    f"`{where[1:]}` is a JSON {json_kind(items)}, not a list",
                    field=where,
                    fix="Make it a list of definitions. " + _DEFINITION_FIX,
                )
                continue
            encoded = isinstance(value, str)
            for k, tool in enumerate(items):
                yield from _definition_hits(tool, where if encoded else f"{where}/{k}", k)


_DEFINITION_FIX = 'Define the tool as {"type": "function", "function": {"name": ..., "parameters": {...}}}.'


def _definition_hits(tool: Any, where: str, index: int) -> Iterator[Hit]:
    data = {"index": index}
    if not isinstance(tool, dict):
        yield Hit(
            f"tool definition {index} is a JSON {json_kind(tool)}, not an object",
            field=where,
            data=data,
            fix=_DEFINITION_FIX,
        )
        return
    fn = tool.get("function", tool)
    if not isinstance(fn, dict):
        yield Hit(f"tool definition {index}: `function` is not an object", field=where, data=data, fix=_DEFINITION_FIX)
        return
    if "name" not in fn:
        yield Hit(f"tool definition {index} has no name", field=where, data=data, fix="Add the function's name.")
    params = fn.get("parameters")
    if params is not None and not isinstance(params, dict):
        yield Hit(
            f"tool definition {index}: `parameters` is a JSON {json_kind(params)}, not a JSON Schema object",
            field=where,
            data=data,
            fix='Describe the parameters as a JSON Schema object: {"type": "object", "properties": {...}}.',
        )


CHECKS = [ToolCallId, ToolArguments, FunctionName, ToolDefinitions]
