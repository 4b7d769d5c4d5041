"""Token counts of one record in the chat format, the OpenAI cookbook's way, plus tools.

Per message: 3 tokens of overhead, plus the tokens of the role and of the content, plus the name's
tokens and 1 more when a name is set; 3 more prime the reply (cookbook `num_tokens_from_messages`).
The cookbook ignores tools; curate counts them so long tool schemas are not invisible:
- each tool call of a message: 3 + tokens(name) + tokens(arguments JSON);
- each tool definition of the record: 3 + tokens(compact JSON of the definition).
OpenAI does not publish how it renders tool schemas, so these two parts are close estimates.

Trainable tokens are what the loss is computed on: content and tool calls of assistant turns whose
weight is absent or > 0 (`weight` / `loss_weight`), without the per-message overhead.

Preference pairs: the prompt is counted once, then both completions (chosen and rejected) are
added, since both are processed; trainable tokens are the assistant tokens of both completions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curate.model import Conversation, Record, Turn

if TYPE_CHECKING:
    import tiktoken

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
TOKENS_PER_TOOL = 3

STATS_KEYS = ("tokens", "trainable_tokens", "messages")


@dataclass(frozen=True, slots=True)
class Counts:
    tokens: int
    trainable: int
    messages: int
    prompt: int  # tokens of the non-trainable part (what a request would send)
    # with a model folder (--tokenizer): the sequences the trainer builds (trainer.Sequence), else ()
    sequences: tuple[Any, ...] = ()

    @property
    def trained(self) -> int:
        """Tokens with labels the trainer keeps after its length cut (all trainable ones without a cut)."""
        if not self.sequences:
            return self.trainable
        return sum(s.kept_trainable for s in self.sequences)


class Counter:
    """Counts with one encoding; caches the few role strings."""

    __slots__ = ("enc", "_encode", "_roles")

    def __init__(self, enc: tiktoken.Encoding) -> None:
        self.enc = enc
        self._encode = enc.encode_ordinary
        self._roles: dict[str, int] = {}

    def text(self, text: str) -> int:
        return len(self._encode(text)) if text else 0

    def _role(self, role: str) -> int:
        n = self._roles.get(role)
        if n is None:
            n = self._roles[role] = self.text(role)
        return n

    def turn(self, t: Turn) -> tuple[int, int]:
        """(tokens of the message including overhead, trainable tokens of it)."""
        content = self.text(t.text)
        for call in t.tool_calls:
            content += TOKENS_PER_TOOL + self.text(call.name) + self.text(call.arguments)
        total = TOKENS_PER_MESSAGE + self._role(t.role) + content
        if t.name:
            total += self.text(t.name) + TOKENS_PER_NAME
        trainable = content if t.role == "assistant" and (t.weight is None or t.weight > 0) else 0
        return total, trainable

    def tools(self, tools: tuple[Any, ...]) -> int:
        import orjson

        n = 0
        for tool in tools:
            blob = tool if isinstance(tool, str) else orjson.dumps(tool, default=str).decode()
            n += TOKENS_PER_TOOL + self.text(blob)
        return n

    def conversation(self, conv: Conversation) -> Counts:
        total = REPLY_PRIMING + (self.tools(conv.tools) if conv.tools else 0)
        trainable = 0
        for t in conv.turns:
            a, b = self.turn(t)
            total += a
            trainable += b
        messages = len(conv.turns)
        if conv.rejected:
            for t in conv.rejected_tail():
                a, b = self.turn(t)
                total += a
                trainable += b
                messages += 1
        if trainable and not conv.trainable:
            trainable = 0  # a pair whose chosen side has no answer teaches nothing, whatever the rejected side says
        return Counts(total, trainable, messages, total - trainable)


_counters: dict[str, Counter] = {}


def counter(encoding: str) -> Counter:
    """One Counter per encoding and process (the encoding is loaded on first use)."""
    c = _counters.get(encoding)
    if c is None:
        from curate.tokenizer import get_encoding

        c = _counters[encoding] = Counter(get_encoding(encoding))
    return c


def measure(record: Record, encoding: str) -> Counts:
    """Counts of a record, memoised in `record.stats` so several token checks count once."""
    stats = record.stats
    cached = stats.get("tokens")
    if isinstance(cached, int):  # every tokens check of a run counts with the run's one encoding
        return Counts(cached, stats["trainable_tokens"], stats["messages"], cached - stats["trainable_tokens"])
    counts = counter(encoding).conversation(record.conversation)
    stats["tokens"] = counts.tokens
    stats["trainable_tokens"] = counts.trainable
    stats["messages"] = counts.messages
    return counts
