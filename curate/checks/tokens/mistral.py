"""Exact counts for Mistral's models through `mistral-common`, Mistral's own library.

Its wheel ships the official tokenizers (sentencepiece v1-v3/v7 and tekken files in
`mistral_common/data/`), so nothing downloads. A record is encoded as a chat completion request
in fine-tuning validation mode (the last message may be the assistant's), with its tools: the
tokens mistral-common produces, control tokens ([INST], [TOOL_CALLS], BOS/EOS) included.
Trainable tokens are the assistant turns' content and tool-call arguments encoded with the raw
tokenizer (no control tokens), as the tiktoken counting does. A conversation mistral-common's
validator rejects (roles out of order, a tool call id of the wrong shape) is that record's error.

With a trainer's length cut (`curate check --max-length N` on a Mistral target) the labels are what
mistral-finetune trains on: every token mistral-common produces for an assistant message (its
content, [TOOL_CALLS] and arguments, and the closing </s>), found by recording the tokens
mistral-common's own encoder returns for each turn while it encodes the whole request (their sum is
checked against the request's tokens), and masked for assistant turns of weight 0.
"""

from __future__ import annotations

import threading
from typing import Any

from curate.checks.tokens.counting import Counts
from curate.checks.tokens.trainer import Sequence, cut_sequence
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
        self.lock = threading.Lock()  # encode_turns records on the shared instruct tokenizer

    def text(self, text: str) -> int:
        return len(self.raw.encode(text, bos=False, eos=False)) if text else 0

    def encode(self, turns: tuple[Turn, ...], tools: list[dict[str, Any]] | None) -> list[int]:
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        try:
            request = ChatCompletionRequest.from_openai(_openai(turns), tools=tools)
            return list(self.tokenizer.encode_chat_completion(request).tokens)
        except Exception as exc:  # pydantic and mistral-common's own validation errors
            raise MistralError(f"mistral-common rejects this conversation: {_first_line(exc)}") from None

    def encode_turns(
        self, turns: tuple[Turn, ...], tools: list[dict[str, Any]] | None
    ) -> tuple[list[int], list[tuple[int, int]]]:
        """The request's tokens and the [start, end) ranges of its trained assistant messages: the tokens
        mistral-common's encoder returned for each turn, recorded while it encodes the whole request."""
        instruct = self.tokenizer.instruct_tokenizer
        pieces: list[tuple[str, int]] = []
        depth = 0

        def recording(name: str, kind: str) -> Any:
            method = getattr(instruct, name)

            def wrapped(*args: Any, **kwargs: Any) -> Any:
                nonlocal depth
                depth += 1
                try:
                    out = method(*args, **kwargs)
                finally:
                    depth -= 1
                if depth == 0:  # a turn, not a version's call to its parent's encoder
                    tokens = out if kind == "assistant" else out[0]
                    pieces.append((kind, len(tokens) if tokens is not None else 0))
                return out

            return wrapped

        with self.lock:
            for name, kind in _TURN_ENCODERS:
                setattr(instruct, name, recording(name, kind))  # on the instance: the class is untouched
            try:
                tokens = self.encode(turns, tools)
            finally:
                for name, _ in _TURN_ENCODERS:
                    instruct.__dict__.pop(name, None)
        offset = len(tokens) - sum(n for _, n in pieces)
        if offset != len(instruct.start()):  # the turns do not add up to the request: never guess
            raise MistralError("mistral-common encoded this conversation in a way curate cannot split into turns")
        weights = [t.weight for t in turns if t.role == "assistant"]
        answers = [n for kind, n in pieces if kind == "assistant"]
        if len(weights) != len(answers):  # mistral-common merged turns: their weights no longer map
            weights = [None] * len(answers)
        ranges, i = [], 0
        for kind, n in pieces:
            if kind == "assistant":
                weight = weights[i]
                i += 1
                if n and (weight is None or weight > 0):
                    ranges.append((offset, offset + n))
            offset += n
        return tokens, ranges

    def with_cut(self, conv: Conversation, max_length: int, overflow: str) -> Counts:
        """Counts with the trainer's sequences (labels and length cut), as `TrainerCounter.measure`."""
        tools = [_wrapped(t) for t in conv.tools if isinstance(t, dict)] or None
        if conv.format == "text":
            n = self.text(conv.turns[0].text) if conv.turns else 0
            seq = cut_sequence("", n, ((0, n),), max_length, overflow)
            return Counts(n, n, 1, 0, (seq,))
        chosen, ranges = self.encode_turns(conv.turns, tools)
        sequences: list[Sequence] = [
            cut_sequence("chosen" if conv.rejected else "", len(chosen), ranges, max_length, overflow)
        ]
        total = len(chosen)
        messages = len(conv.turns)
        if conv.rejected:
            rejected, ranges = self.encode_turns(conv.rejected, tools)
            sequences.append(cut_sequence("rejected", len(rejected), ranges, max_length, overflow))
            shared = 0
            for a, b in zip(chosen, rejected, strict=False):
                if a != b:
                    break
                shared += 1
            total += len(rejected) - shared
            messages += len(conv.rejected_tail())
        trainable = sum(s.trainable for s in sequences)
        return Counts(total, trainable, messages, total - trainable, tuple(sequences))

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


# mistral-common's per-turn encoders (InstructTokenizerBase.encode_instruct calls one per message)
_TURN_ENCODERS = (
    ("encode_user_message", "user"),
    ("encode_tool_message", "tool"),
    ("encode_assistant_message", "assistant"),
    ("encode_system_message", "system"),
)


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


def measure_mistral(record: Record, encoding: str, cut: tuple[int, str] | None = None) -> Counts | None:
    """Counts memoised in record.stats like the tiktoken path; None (and stats['template_error'])
    when mistral-common rejects the conversation. With `cut` (max_length, overflow) the counts carry
    the trainer's sequences and stats gain `trained_tokens`, as with a model folder."""
    from curate.display import shown

    stats = record.stats
    cached = stats.get("tokens")
    if isinstance(cached, int) and cut is None:
        return Counts(cached, stats["trainable_tokens"], stats["messages"], cached - stats["trainable_tokens"])
    if "template_error" in stats:
        return None
    try:
        counter = mistral_counter(encoding)
        if cut is None:
            counts = counter.conversation(record.conversation)
        else:
            counts = counter.with_cut(record.conversation, *cut)
            stats["trained_tokens"] = counts.trained
    except MistralError as exc:
        stats["template_error"] = shown(str(exc), 300)
        return None
    stats["tokens"] = counts.tokens
    stats["trainable_tokens"] = counts.trainable
    stats["messages"] = counts.messages
    return counts
