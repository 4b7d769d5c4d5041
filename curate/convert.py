"""Write a record's normalised conversation in the format a trainer wants (`curate export --to`).

Every input format is read through the Conversation view (curate.formats), then written as:
- `openai-chat`: OpenAI fine-tuning chat, `{"messages": [...], "tools": [...]}`; tool calls with ids,
  arguments as JSON text, `weight` on assistant messages kept;
- `messages`: the Hugging Face / TRL conversational shape, `{"messages": [...]}` (preference pairs as
  `{"prompt": [...], "chosen": [...], "rejected": [...]}`), tools kept;
- `sharegpt`: LLaMA-Factory's ShareGPT, `{"conversations": [{"from", "value"}], "system", "tools"}` with
  `function_call` / `observation` turns; a preference pair as its ranking form (`chosen`/`rejected` turns);
- `alpaca`: `{"instruction", "input", "output", "system", "history"}`; a pair as `chosen`/`rejected` texts.

Lossless where the target can hold it: a record whose content the target cannot hold (a preference
pair in OpenAI chat, a pair whose answers are several messages in ShareGPT/Alpaca, tool calls in
Alpaca, per-message weights in ShareGPT, ...) is not converted
and the reason says what would be lost; export puts it in the quarantine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from curate.model import Conversation, Turn

TARGETS = ("openai-chat", "messages", "sharegpt", "alpaca")
SHAREGPT_FROM = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}


@dataclass(frozen=True, slots=True)
class Converted:
    data: dict[str, Any] | None  # None: the record cannot be written in the target format
    reason: str | None = None


class Unconvertible(Exception):
    """What the target format cannot hold of this record."""


def convert(data: Any, target: str, hint: Any = None) -> Converted:
    """The record in `target` format, or why it cannot be (never raises on bad records); `hint` is the
    run's --input-format / --role-map (curate.formats.FormatHint), as for reading."""
    from curate.formats import normalise

    if target not in TARGETS:
        raise ValueError(f"unknown target format {target!r}; one of {', '.join(TARGETS)}")
    conv = normalise(data, hint)
    if not conv.turns:
        return Converted(None, f"not a conversation curate can read (format {conv.format})")
    if conv.format == "text":
        return Converted(None, "plain text has no roles to write as a conversation")
    try:
        out = _WRITERS[target](conv)
    except Unconvertible as exc:
        return Converted(None, f"{target} cannot hold {exc}")
    return Converted(out)


def _roles(turns: tuple[Turn, ...], allowed: frozenset[str]) -> None:
    for i, t in enumerate(turns):
        if t.role not in allowed:
            raise Unconvertible(f"the role of message {i + 1} ({json.dumps(t.role)[:40]})")


def _tools(conv: Conversation) -> list[Any]:
    return list(conv.tools)


def _openai_message(t: Turn, ids: list[str]) -> dict[str, Any]:
    m: dict[str, Any] = {"role": t.role, "content": t.text}
    if t.name:
        m["name"] = t.name
    if t.tool_calls:
        calls = []
        for c in t.tool_calls:
            call_id = c.id or f"call_{len(ids) + 1}"
            ids.append(call_id)
            calls.append(
                {"id": call_id, "type": "function", "function": {"name": c.name, "arguments": c.call_arguments()}}
            )
        m["tool_calls"] = calls
        if not t.text or t.text == t.tool_calls[0].arguments:  # ShareGPT function_call: its text is the call
            m["content"] = None
    if t.role == "tool" and ids:
        m["tool_call_id"] = ids.pop(0)
    if t.weight is not None and not _untrained(t):
        if t.role != "assistant":
            raise Unconvertible(f"a weight > 0 on a {t.role} message (only assistant messages train)")
        m["weight"] = int(t.weight) if float(t.weight).is_integer() else t.weight
    return m


def _untrained(t: Turn) -> bool:
    """Weight 0 on a message that never trains (user, system, tool): saying nothing says the same."""
    return t.role != "assistant" and t.weight == 0


def _plain_weight(t: Turn) -> bool:
    """A weight formats without weights can drop: none, 1 on the assistant, 0 where nothing trains."""
    return t.weight is None or (t.role == "assistant" and t.weight == 1) or _untrained(t)


def _messages_list(turns: tuple[Turn, ...]) -> list[dict[str, Any]]:
    _roles(turns, frozenset({"system", "user", "assistant", "tool"}))
    pending: list[str] = []
    out = []
    for t in turns:
        if t.tool_calls:
            pending = []
        out.append(_openai_message(t, pending))
    return out


def _openai_chat(conv: Conversation) -> dict[str, Any]:
    if conv.rejected:
        raise Unconvertible("a preference pair (it holds one conversation; use --to messages)")
    out: dict[str, Any] = {"messages": _messages_list(conv.turns)}
    if conv.tools:
        out["tools"] = [_openai_tool(t) for t in conv.tools]
    return out


def _openai_tool(tool: Any) -> Any:
    if isinstance(tool, dict) and "function" not in tool and "name" in tool:
        return {"type": "function", "function": tool}  # a bare function definition (LLaMA-Factory, Glaive)
    if not isinstance(tool, dict):
        raise Unconvertible("a tool definition that is not an object")
    return tool


def _hf_messages(conv: Conversation) -> dict[str, Any]:
    tools = {"tools": [_openai_tool(t) for t in conv.tools]} if conv.tools else {}
    if not conv.rejected:
        return {"messages": _messages_list(conv.turns), **tools}
    shared = 0
    for a, b in zip(conv.turns, conv.rejected, strict=False):
        if (a.role, a.text, a.tool_calls) != (b.role, b.text, b.tool_calls):
            break
        shared += 1
    prompt = _messages_list(conv.turns[:shared])
    return {
        "prompt": prompt,
        "chosen": _messages_list(conv.turns[shared:]),
        "rejected": _messages_list(conv.rejected[shared:]),
        **tools,
    }


def _pair(conv: Conversation) -> tuple[tuple[Turn, ...], Turn, Turn]:
    """(shared prompt, chosen answer, rejected answer) of a pair whose answers are one assistant message of
    text each, as LLaMA-Factory's ranking formats hold them; Unconvertible otherwise."""
    if conv.tools:
        raise Unconvertible("tools in a preference pair")
    shared = 0
    for a, b in zip(conv.turns, conv.rejected, strict=False):
        if (a.role, a.text, a.tool_calls) != (b.role, b.text, b.tool_calls):
            break
        shared += 1
    chosen, rejected = conv.turns[shared:], conv.rejected[shared:]
    if len(chosen) != 1 or len(rejected) != 1:
        raise Unconvertible("a preference pair whose answers are not one message each")
    for t in (chosen[0], rejected[0]):
        if t.role != "assistant" or t.tool_calls or t.name or not _plain_weight(t):
            raise Unconvertible("a preference answer that is not one plain assistant message")
    return conv.turns[:shared], chosen[0], rejected[0]


def _sharegpt(conv: Conversation) -> dict[str, Any]:
    if conv.rejected:  # LLaMA-Factory's ranking ShareGPT: conversations, then chosen and rejected turns
        prompt, chosen, rejected = _pair(conv)
        out = _sharegpt(Conversation(conv.format, prompt))
        out["chosen"] = {"from": "gpt", "value": chosen.text}
        out["rejected"] = {"from": "gpt", "value": rejected.text}
        return out
    turns = list(conv.turns)
    out: dict[str, Any] = {}
    if turns and turns[0].role == "system":
        out["system"] = turns.pop(0).text
    rows = []
    for i, t in enumerate(turns):
        if t.role not in SHAREGPT_FROM:
            raise Unconvertible(f"the role of message {i + 1} ({json.dumps(t.role)[:40]})")
        if not _plain_weight(t):
            raise Unconvertible("per-message weights")
        if t.name:
            raise Unconvertible("message names")
        if t.role == "system":
            raise Unconvertible("a system message after the first turn")
        if t.tool_calls:
            if t.text and t.text != t.tool_calls[0].arguments:
                raise Unconvertible("an assistant message with both text and tool calls")
            for c in t.tool_calls:
                call = {"name": c.name, "arguments": _parsed(c.call_arguments())}
                rows.append({"from": "function_call", "value": json.dumps(call, ensure_ascii=False)})
            continue
        rows.append({"from": SHAREGPT_FROM[t.role], "value": t.text})
    out = {"conversations": rows, **out}
    if conv.tools:
        out["tools"] = json.dumps([_bare(t) for t in conv.tools], ensure_ascii=False)
    return out


def _parsed(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except (ValueError, RecursionError):
        return arguments


def _bare(tool: Any) -> Any:
    """LLaMA-Factory writes tools as bare function definitions."""
    if isinstance(tool, dict) and isinstance(tool.get("function"), dict) and tool.get("type", "function") == "function":
        return tool["function"]
    return tool


def _alpaca(conv: Conversation) -> dict[str, Any]:
    if conv.rejected:  # LLaMA-Factory's ranking Alpaca: the prompt's fields, then chosen and rejected texts
        prompt, chosen, rejected = _pair(conv)
        placeholder = Turn("assistant", "", "/output")
        out = _alpaca(Conversation(conv.format, (*prompt, placeholder)))
        del out["output"]
        return {**out, "chosen": chosen.text, "rejected": rejected.text}
    if conv.tools or any(t.tool_calls for t in conv.turns):
        raise Unconvertible("tools or tool calls")
    turns = list(conv.turns)
    system = turns.pop(0).text if turns and turns[0].role == "system" else None
    if any(t.name for t in turns) or not all(_plain_weight(t) for t in turns):
        raise Unconvertible("message names or weights")
    roles = [t.role for t in turns]
    if len(turns) < 2 or len(turns) % 2 or roles != ["user", "assistant"] * (len(turns) // 2):
        raise Unconvertible("this conversation (Alpaca needs user/assistant pairs ending with the assistant)")
    out: dict[str, Any] = {"instruction": turns[-2].text, "input": "", "output": turns[-1].text}
    if system is not None:
        out["system"] = system
    if len(turns) > 2:
        out["history"] = [[turns[i].text, turns[i + 1].text] for i in range(0, len(turns) - 2, 2)]
    return out


_WRITERS = {"openai-chat": _openai_chat, "messages": _hf_messages, "sharegpt": _sharegpt, "alpaca": _alpaca}
