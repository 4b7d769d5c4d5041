"""Detect a record's format and normalise it to one Conversation view.

Checks that read text read the Conversation, so every format is audited the same way.
Schema checks read the raw record, because that is what an upload validates.
"""

from __future__ import annotations

from typing import Any

from curate.model import Conversation, ToolCall, Turn

FORMATS = (
    "openai_chat",
    "openai_preference",
    "prompt_completion",
    "preference",
    "alpaca",
    "sharegpt",
    "text",
)

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bing": "assistant",
    "bard": "assistant",
    "model": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
    "function": "tool",
}


def detect(data: dict[str, Any]) -> str:
    """The format of one record, from the keys it has; 'unknown' when nothing matches."""
    if "input" in data and "preferred_output" in data:
        return "openai_preference"
    if "chosen" in data and "rejected" in data or "chosen_messages" in data:
        return "preference"
    if isinstance(data.get("messages"), list):
        return "openai_chat"
    if "prompt" in data and "completion" in data:
        return "prompt_completion"
    if "instruction" in data and ("output" in data or "response" in data):
        return "alpaca"
    if isinstance(data.get("conversations"), list) or isinstance(data.get("conversation"), list):
        return "sharegpt"
    if isinstance(data.get("text"), str):
        return "text"
    if "messages" in data:
        return "openai_chat"  # present but malformed: schema checks will say how
    return "unknown"


def normalise(data: Any, fmt: str | None = None) -> Conversation:
    if not isinstance(data, dict):
        return Conversation("invalid", ())
    fmt = fmt or detect(data)
    builder = _BUILDERS.get(fmt)
    if builder is None:
        return Conversation(fmt, ())
    try:
        return builder(data)
    except (TypeError, AttributeError, KeyError, ValueError):
        # a malformed record of a known format: schema checks report the details
        return Conversation(fmt, ())


def content_text(content: Any) -> str:
    """Text of an OpenAI `content`: a string, or a list of parts ({type: text, text|value})."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict):
                kind = part.get("type", "text")
                if kind in ("text", "input_text", "output_text", "reasoning", "thinking"):
                    value = part.get("text", part.get("value"))
                    if isinstance(value, str):
                        out.append(value)
                elif kind == "tool_call" and isinstance(part.get("value"), str):
                    out.append(part["value"])
        return "\n".join(out)
    return str(content)


def _weight(msg: dict[str, Any]) -> float | None:
    w = msg.get("weight", msg.get("loss_weight"))
    return float(w) if isinstance(w, (int, float)) and not isinstance(w, bool) else None


def _tool_calls(msg: dict[str, Any]) -> tuple[ToolCall, ...]:
    calls = []
    for tc in msg.get("tool_calls") or ():
        if isinstance(tc, dict):
            fn = tc.get("function") or {}
            args = fn.get("arguments", "")
            calls.append(ToolCall(tc.get("id"), str(fn.get("name", "")), args if isinstance(args, str) else str(args)))
    if isinstance(msg.get("function_call"), dict):
        fc = msg["function_call"]
        calls.append(ToolCall(None, str(fc.get("name", "")), str(fc.get("arguments", ""))))
    if isinstance(msg.get("content"), list):
        for part in msg["content"]:
            if isinstance(part, dict) and part.get("type") == "tool_call" and isinstance(part.get("value"), str):
                calls.append(ToolCall(None, _call_name(part["value"]), part["value"]))
    return tuple(calls)


def _call_name(value: str) -> str:
    import json

    try:
        obj = json.loads(value)
    except ValueError:
        return ""
    return str(obj.get("name", "")) if isinstance(obj, dict) else ""


def _messages(msgs: Any, base: str) -> tuple[Turn, ...]:
    turns = []
    for i, msg in enumerate(msgs or ()):
        if not isinstance(msg, dict):
            continue
        role = msg.get("role")
        role = role if isinstance(role, str) else ""
        role = "system" if role == "developer" else role
        content = msg.get("content")
        name = msg.get("name")
        # the common message is {role, content: str}: skip the helpers it does not need
        plain = type(content) is str and "tool_calls" not in msg and "function_call" not in msg
        turns.append(
            Turn(
                role,
                content if type(content) is str else content_text(content),
                f"{base}/{i}/content",
                _weight(msg) if "weight" in msg or "loss_weight" in msg else None,
                name if isinstance(name, str) else None,
                () if plain else _tool_calls(msg),
            )
        )
    return tuple(turns)


def _tools(data: dict[str, Any]) -> tuple[Any, ...]:
    tools = data.get("tools", data.get("functions"))
    if isinstance(tools, str):
        import json

        try:
            tools = json.loads(tools)
        except ValueError:
            return (tools,)
    return tuple(tools) if isinstance(tools, list) else ()


def _openai_chat(data: dict[str, Any]) -> Conversation:
    return Conversation("openai_chat", _messages(data["messages"], "/messages"), tools=_tools(data))


def _openai_preference(data: dict[str, Any]) -> Conversation:
    inp = data["input"]
    prompt = _messages(inp.get("messages"), "/input/messages")
    chosen = _messages(data.get("preferred_output"), "/preferred_output")
    rejected = _messages(data.get("non_preferred_output"), "/non_preferred_output")
    # like every other pair format, the rejected side repeats the prompt
    return Conversation("openai_preference", prompt + chosen, prompt + rejected if rejected else (), tools=_tools(inp))


def _side(value: Any, base: str) -> tuple[Turn, ...]:
    """One side of a preference pair: a string, a message, a list of messages or a ShareGPT turn."""
    if isinstance(value, str):
        return (Turn("assistant", value, base),)
    if isinstance(value, dict):
        if "from" in value:
            return (
                Turn(
                    SHAREGPT_ROLES.get(str(value["from"]), str(value["from"])),
                    content_text(value.get("value")),
                    f"{base}/value",
                ),
            )
        role = value.get("role")
        return (
            Turn(
                role if isinstance(role, str) else "assistant",
                content_text(value.get("content")),
                f"{base}/content",
                weight=_weight(value),
                tool_calls=_tool_calls(value),
            ),
        )
    if isinstance(value, list):
        if value and isinstance(value[0], dict) and "from" in value[0]:
            return _sharegpt_turns(value, base)
        return _messages(value, base)
    return ()


def _preference(data: dict[str, Any]) -> Conversation:
    if "chosen_messages" in data:
        chosen = _messages(data["chosen_messages"], "/chosen_messages")
        rejected = _messages(data.get("rejected_messages"), "/rejected_messages")
        return Conversation("preference", chosen, rejected)
    prompt: tuple[Turn, ...] = ()
    if isinstance(data.get("conversations"), list):
        prompt = _sharegpt_turns(data["conversations"], "/conversations")
    elif isinstance(data.get("messages"), list):
        prompt = _messages(data["messages"], "/messages")
    elif "prompt" in data:
        prompt = _side(data["prompt"], "/prompt")
        prompt = tuple(
            Turn("user" if t.role == "assistant" and isinstance(data["prompt"], str) else t.role, t.text, t.field)
            for t in prompt
        )
    elif "question" in data:
        prompt = (Turn("user", str(data["question"]), "/question"),)
    if isinstance(data.get("system"), str) and data["system"]:
        prompt = (Turn("system", data["system"], "/system"), *prompt)
    chosen = _side(data["chosen"], "/chosen")
    rejected = _side(data["rejected"], "/rejected")
    # "implicit prompt" variant: chosen/rejected hold the whole conversation
    if not prompt and len(chosen) > 1:
        return Conversation("preference", chosen, rejected)
    return Conversation("preference", prompt + chosen, prompt + rejected if rejected else ())


def _prompt_completion(data: dict[str, Any]) -> Conversation:
    p, c = data["prompt"], data["completion"]
    prompt = _messages(p, "/prompt") if isinstance(p, list) else (Turn("user", content_text(p), "/prompt"),)
    completion = (
        _messages(c, "/completion") if isinstance(c, list) else (Turn("assistant", content_text(c), "/completion"),)
    )
    return Conversation("prompt_completion", prompt + completion)


def _alpaca(data: dict[str, Any]) -> Conversation:
    turns: list[Turn] = []
    if isinstance(data.get("system"), str) and data["system"]:
        turns.append(Turn("system", data["system"], "/system"))
    for i, pair in enumerate(data.get("history") or ()):
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            turns.append(Turn("user", str(pair[0]), f"/history/{i}/0"))
            turns.append(Turn("assistant", str(pair[1]), f"/history/{i}/1"))
    instruction = str(data.get("instruction") or "")
    extra = data.get("input")
    if isinstance(extra, str) and extra.strip():
        turns.append(Turn("user", f"{instruction}\n\n{extra}" if instruction else extra, "/instruction"))
    else:
        turns.append(Turn("user", instruction, "/instruction"))
    out_key = "output" if "output" in data else "response"
    output = data[out_key]
    if isinstance(output, list) and len(output) == 2 and "chosen" not in data:
        # LLaMA-Factory ranking variant: output = [chosen, rejected]
        return Conversation(
            "alpaca",
            (*turns, Turn("assistant", str(output[0]), f"/{out_key}/0")),
            (*turns, Turn("assistant", str(output[1]), f"/{out_key}/1")),
        )
    turns.append(Turn("assistant", content_text(output), f"/{out_key}"))
    return Conversation("alpaca", tuple(turns))


def _sharegpt_turns(convs: list[Any], base: str) -> tuple[Turn, ...]:
    turns = []
    for i, t in enumerate(convs):
        if not isinstance(t, dict):
            continue
        raw_role = t.get("from", t.get("role"))
        raw_role = str(raw_role) if raw_role is not None else ""
        role = SHAREGPT_ROLES.get(raw_role.lower(), raw_role)
        text_key = "value" if "value" in t else "content"
        text = content_text(t.get(text_key))
        calls: tuple[ToolCall, ...] = ()
        if raw_role == "function_call":
            calls = (ToolCall(None, _call_name(text), text),)
        turns.append(Turn(role, text, f"{base}/{i}/{text_key}", tool_calls=calls))
    return tuple(turns)


def _sharegpt(data: dict[str, Any]) -> Conversation:
    key = "conversations" if "conversations" in data else "conversation"
    turns = _sharegpt_turns(data[key], f"/{key}")
    if isinstance(data.get("system"), str) and data["system"]:
        turns = (Turn("system", data["system"], "/system"), *turns)
    return Conversation("sharegpt", turns, tools=_tools(data))


def _text(data: dict[str, Any]) -> Conversation:
    return Conversation("text", (Turn("assistant", data["text"], "/text"),))


_BUILDERS = {
    "openai_chat": _openai_chat,
    "openai_preference": _openai_preference,
    "preference": _preference,
    "prompt_completion": _prompt_completion,
    "alpaca": _alpaca,
    "sharegpt": _sharegpt,
    "text": _text,
}
