"""Where the raw message lists of a record live, whatever its format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

OPENAI_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call", "refusal"}
)
OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def message_lists(data: dict[str, Any], fmt: str) -> Iterator[tuple[str, list[Any]]]:
    """(JSON pointer, list) for every OpenAI-style message list in the record."""
    if fmt == "openai_chat" and isinstance(data.get("messages"), list):
        yield "/messages", data["messages"]
    elif fmt == "openai_preference":
        inp = data.get("input")
        if isinstance(inp, dict) and isinstance(inp.get("messages"), list):
            yield "/input/messages", inp["messages"]
        for key in ("preferred_output", "non_preferred_output"):
            if isinstance(data.get(key), list):
                yield f"/{key}", data[key]
    elif fmt == "preference":
        for key in ("chosen_messages", "rejected_messages", "messages"):
            if isinstance(data.get(key), list):
                yield f"/{key}", data[key]
        for key in ("chosen", "rejected", "prompt"):
            value = data.get(key)
            if isinstance(value, list) and value and isinstance(value[0], dict) and "role" in value[0]:
                yield f"/{key}", value
    elif fmt == "prompt_completion":
        for key in ("prompt", "completion"):
            if isinstance(data.get(key), list):
                yield f"/{key}", data[key]


def is_chat(fmt: str) -> bool:
    """Formats whose records are conversations to train on (plain text is pre-training data; a
    prompt-only record is an RL or evaluation prompt, answered by the model itself)."""
    return fmt not in ("text", "unknown", "invalid", "prompt_only")


def sharegpt_turns(data: dict[str, Any], fmt: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON pointer, turn) for every ShareGPT-style turn ({from, value}) in the record."""
    if fmt not in ("sharegpt", "preference"):
        return
    for key in ("conversations", "conversation"):
        value = data.get(key)
        if isinstance(value, list):
            for i, turn in enumerate(value):
                if isinstance(turn, dict):
                    yield f"/{key}/{i}", turn
    if fmt == "preference":
        for key in ("chosen", "rejected"):
            value = data.get(key)
            if isinstance(value, dict) and "from" in value:
                yield f"/{key}", value
            elif isinstance(value, list):
                for i, turn in enumerate(value):
                    if isinstance(turn, dict) and "from" in turn:
                        yield f"/{key}/{i}", turn


def tool_definitions(data: dict[str, Any], fmt: str) -> Iterator[tuple[str, Any]]:
    """(JSON pointer, value) of each `tools` / `functions` definition list in the record."""
    holder = data.get("input") if fmt == "openai_preference" else data
    if not isinstance(holder, dict):
        return
    base = "/input" if fmt == "openai_preference" else ""
    for key in ("tools", "functions"):
        if key in holder:
            yield f"{base}/{key}", holder[key]
