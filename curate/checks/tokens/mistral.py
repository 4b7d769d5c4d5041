"""Exact counts for Mistral's models through `mistral-common`, Mistral's own library.

Its wheel ships the official tokenizers (sentencepiece v1-v3/v7 and tekken files in
`mistral_common/data/`), so nothing downloads. A record is encoded as a chat completion request
in fine-tuning validation mode (the last message may be the assistant's), with its tools: the
tokens mistral-common produces, control tokens ([INST], [TOOL_CALLS], BOS/EOS) included.
Trainable tokens are the assistant turns' content and tool-call arguments encoded with the raw
tokenizer (no control tokens), as the tiktoken counting does. A conversation mistral-common's
validator rejects (roles out of order, a tool call id of the wrong shape) is that record's error.
"""

from __future__ import annotations

import threading
from typing import Any

from curate.checks.tokens.counting import Counts
from curate.model import Conversation, Record, Turn
from curate.tokenizer import MISTRAL_ENCODINGS

_lock = threading.Lock()
_counters: dict[str, MistralCounter] = {}


class MistralError(Exception):
    """mistral-common refuses one conversation; the message says why."""


def mistral_counter(encoding: str) -> MistralCounter:
    """One counter per encoding and process (loading tekken takes seconds: once)."""
    from curate.tokenizer import TokenizerError

    with _lock:
        found = _counters.get(encoding)
        if found is None:
            if encoding not in MISTRAL_ENCODINGS:
                raise TokenizerError(f"unknown Mistral encoding {encoding!r}; known: {', '.join(MISTRAL_ENCODINGS)}")
            found = _counters[encoding] = MistralCounter(encoding)
        return found


class MistralCounter:
    def __init__(self, encoding: str) -> None:
        from curate.tokenizer import TokenizerError

        try:
            from mistral_common.protocol.instruct.validator import ValidationMode
            from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
        except ImportError:
            raise TokenizerError("mistral-common is not installed: pip install mistral-common") from None
        path = MistralTokenizer._data_path() / MISTRAL_ENCODINGS[encoding]
        if not path.is_file():
            raise TokenizerError(f"mistral-common does not ship {path.name} (reinstall mistral-common)")
        self.tokenizer = MistralTokenizer.from_file(str(path), mode=ValidationMode.finetuning)
        self.raw = self.tokenizer.instruct_tokenizer.tokenizer

    def text(self, text: str) -> int:
        return len(self.raw.encode(text, bos=False, eos=False)) if text else 0

    def encode(self, turns: tuple[Turn, ...], tools: list[dict[str, Any]] | None) -> list[int]:
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        try:
            request = ChatCompletionRequest.from_openai(_openai(turns), tools=tools)
            return list(self.tokenizer.encode_chat_completion(request).tokens)
        except Exception as exc:  # pydantic and mistral-common's own validation errors
            raise MistralError(f"mistral-common rejects this conversation: {_first_line(exc)}") from None

    def conversation(self, conv: Conversation) -> Counts:
        tools = [_wrapped(t) for t in conv.tools if isinstance(t, dict)] or None
        if conv.format == "text":
            n = self.text(conv.turns[0].text) if conv.turns else 0
            return Counts(n, n, 1, 0)
        chosen = self.encode(conv.turns, tools)
        total = len(chosen)
        trainable = sum(self._trainable(t) for t in conv.turns)
        messages = len(conv.turns)
        if conv.rejected:
            rejected = self.encode(conv.rejected, tools)
            shared = 0
            for a, b in zip(chosen, rejected, strict=False):
                if a != b:
                    break
                shared += 1
            total += len(rejected) - shared
            tail = conv.rejected_tail()
            trainable += sum(self._trainable(t) for t in tail)
            messages += len(tail)
        return Counts(total, trainable, messages, total - trainable)

    def _trainable(self, t: Turn) -> int:
        if t.role != "assistant" or (t.weight is not None and t.weight <= 0):
            return 0
        return self.text(t.text) + sum(self.text(c.name) + self.text(c.arguments) for c in t.tool_calls)


def _openai(turns: tuple[Turn, ...]) -> list[dict[str, Any]]:
    """OpenAI-shaped messages; a tool result answers the next unanswered call of the assistant before it
    (the normalised view keeps calls' ids, not results' `tool_call_id`)."""
    out: list[dict[str, Any]] = []
    pending: list[str] = []
    for t in turns:
        m: dict[str, Any] = {"role": t.role, "content": t.text}
        if t.role == "tool":
            m["tool_call_id"] = pending.pop(0) if pending else ""
        if t.tool_calls:
            pending = [c.id or "" for c in t.tool_calls]
            m["tool_calls"] = [
                {"id": c.id or "", "type": "function", "function": {"name": c.name, "arguments": c.call_arguments()}}
                for c in t.tool_calls
            ]
            if not t.text or t.text == t.tool_calls[0].arguments:  # ShareGPT function_call: the text is the call
                m["content"] = None
        out.append(m)
    return out


def _wrapped(tool: dict[str, Any]) -> dict[str, Any]:
    """A bare function definition ({name, description, parameters}, as LLaMA-Factory and Glaive write
    them) as the tool it means: {type: function, function: {...}}."""
    if "function" not in tool and "name" in tool:
        return {"type": "function", "function": tool}
    return tool


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def measure_mistral(record: Record, encoding: str) -> Counts | None:
    """Counts memoised in record.stats like the tiktoken path; None (and stats['template_error'])
    when mistral-common rejects the conversation."""
    from curate.display import shown

    stats = record.stats
    cached = stats.get("tokens")
    if isinstance(cached, int):
        return Counts(cached, stats["trainable_tokens"], stats["messages"], cached - stats["trainable_tokens"])
    if "template_error" in stats:
        return None
    try:
        counts = mistral_counter(encoding).conversation(record.conversation)
    except MistralError as exc:
        stats["template_error"] = shown(str(exc), 300)
        return None
    stats["tokens"] = counts.tokens
    stats["trainable_tokens"] = counts.trainable
    stats["messages"] = counts.messages
    return counts
