"""What a trainer sees of one record: its chat template's tokens, which carry labels, and what a length cut keeps.

Tokens = the conversation rendered with the model's chat template (as `apply_chat_template`, with
`add_generation_prompt=False` and tools passed as `tools`), then tokenized without adding special
tokens. Which tokens carry labels (`labels` in the run settings):
- `generation`: the template's `{% generation %}` blocks, mapped to tokens exactly as transformers'
  `return_assistant_tokens_mask` does (TRL's `assistant_only_loss`);
- `marker`: every token after the last occurrence of the response template's token ids, as TRL's
  `DataCollatorForCompletionOnlyLM` (the marker tokenized on its own; no match: every label masked);
- `markers`: with both a response and an instruction template, as Unsloth's `train_on_responses_only(
  instruction_part=..., response_part=...)`: the tokens from the end of each response marker up to the
  start of the next instruction marker (or the end of the sequence) train, the instruction parts
  between the responses are masked (multi-turn);
- `all`: every token (no generation blocks, no response template: TRL's default loss).
Records in the plain-text format are tokenized as they are, every token trained.

With a maximum length the trainer keeps the first `max_length` tokens (`truncate`) or drops longer
sequences (`drop`). Preference pairs are two sequences (prompt + chosen, prompt + rejected), each cut
on its own; their token count shares the prompt once, as elsewhere in curate.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass
from typing import Any

from curate.chat_template import RenderError
from curate.hf_tokenizer import ModelFolder
from curate.model import Conversation, Turn

LABELS = ("generation", "marker", "markers", "all")


@dataclass(frozen=True, slots=True)
class Sequence:
    """One sequence the trainer builds from a record."""

    side: str  # "" for a single conversation; "chosen" / "rejected" for a pair
    length: int
    trainable: int  # tokens with labels, before any cut
    kept_trainable: int  # tokens with labels the trainer keeps (0 when the sequence is dropped)
    dropped: bool = False


@dataclass(frozen=True, slots=True)
class TrainerSettings:
    max_length: int | None
    overflow: str  # "truncate" | "drop"
    labels: str  # one of LABELS
    response_template: str | None
    instruction_template: str | None = None  # Unsloth's instruction_part, with labels == "markers"


def messages(turns: tuple[Turn, ...]) -> list[dict[str, Any]]:
    """The conversation as the message dicts chat templates read (OpenAI shape; arguments as objects)."""
    out: list[dict[str, Any]] = []
    for t in turns:
        m: dict[str, Any] = {"role": t.role, "content": t.text}
        if t.name:
            m["name"] = t.name
        if t.tool_calls:
            calls = []
            for c in t.tool_calls:
                call: dict[str, Any] = {
                    "type": "function",
                    "function": {"name": c.name, "arguments": _args(c.arguments)},
                }
                if c.id:
                    call["id"] = c.id
                calls.append(call)
            m["tool_calls"] = calls
        out.append(m)
    return out


def _args(arguments: str) -> Any:
    """transformers' templates expect arguments as an object; a string that is not JSON stays a string."""
    try:
        value = json.loads(arguments)
    except (ValueError, RecursionError):
        return arguments
    return value if isinstance(value, dict) else arguments


def _tools(conv: Conversation) -> list[dict[str, Any]] | None:
    tools = [t for t in conv.tools if isinstance(t, dict)]
    return tools or None


class TrainerCounter:
    """Counts records with one model folder and one set of trainer settings (one per process)."""

    def __init__(self, model: ModelFolder, settings: TrainerSettings) -> None:
        self.model = model
        self.settings = settings
        self.marker: bytes | None = None
        self.instruction: bytes | None = None
        if settings.labels in ("marker", "markers"):
            ids = model.encode(settings.response_template or "").ids
            self.marker = array("I", ids).tobytes() if ids else None
        if settings.labels == "markers":
            ids = model.encode(settings.instruction_template or "").ids
            self.instruction = array("I", ids).tobytes() if ids else None

    def measure(self, conv: Conversation) -> tuple[int, tuple[Sequence, ...]]:
        """(tokens of the record, its sequences); RenderError when the template refuses the conversation.

        A pair's tokens count the prefix both sides share once."""
        if conv.format == "text":
            n = len(self.model.encode(conv.turns[0].text).ids) if conv.turns else 0
            return n, (self._cut("", n, ((0, n),)),)
        tools = _tools(conv)
        chosen, a = self._sequence("chosen" if conv.rejected else "", conv.turns, tools)
        if not conv.rejected:
            return chosen.length, (chosen,)
        rejected, b = self._sequence("rejected", conv.rejected, tools)
        shared = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            shared += 1
        return chosen.length + rejected.length - shared, (chosen, rejected)

    def _sequence(
        self, side: str, turns: tuple[Turn, ...], tools: list[dict[str, Any]] | None
    ) -> tuple[Sequence, list[int]]:
        rendered = self.model.template(tools is not None).render(messages(turns), tools)
        enc = self.model.encode(rendered.text)
        ids = enc.ids
        n = len(ids)
        labels = self.settings.labels
        if labels == "generation":
            return self._cut(side, n, _generation_ranges(enc, rendered.generation, n)), ids
        if labels == "marker":
            return self._marker(side, ids), ids
        if labels == "markers":
            return self._responses(side, ids), ids
        return self._cut(side, n, ((0, n),)), ids

    def _cut(self, side: str, n: int, ranges: Any) -> Sequence:
        return cut_sequence(side, n, ranges, self.settings.max_length, self.settings.overflow)

    def _marker(self, side: str, ids: list[int]) -> Sequence:
        """TRL's completion-only collator: labels after the last marker of the (cut) sequence."""
        n = len(ids)
        limit = self.settings.max_length
        full = self._after_marker(ids)
        if limit is None or n <= limit:
            return Sequence(side, n, full, full)
        if self.settings.overflow == "drop":
            return Sequence(side, n, full, 0, dropped=True)
        return Sequence(side, n, full, self._after_marker(ids[:limit]))

    def _responses(self, side: str, ids: list[int]) -> Sequence:
        """Unsloth's train_on_responses_only, which labels the sequence the trainer already cut."""
        n = len(ids)
        limit = self.settings.max_length
        full = _labelled(responses_only(ids, self.marker, self.instruction))
        if limit is None or n <= limit:
            return Sequence(side, n, full, full)
        if self.settings.overflow == "drop":
            return Sequence(side, n, full, 0, dropped=True)
        return Sequence(side, n, full, _labelled(responses_only(ids[:limit], self.marker, self.instruction)))

    def _after_marker(self, ids: list[int]) -> int:
        if self.marker is None:
            return 0
        hay = array("I", ids).tobytes()
        end = len(hay)
        while True:
            at = hay.rfind(self.marker, 0, end)
            if at < 0:
                return 0
            if at % 4 == 0:
                return len(ids) - (at + len(self.marker)) // 4
            end = at + len(self.marker) - 1


def _find(hay: bytes, needle: bytes, start: int) -> int:
    """Token index of the first occurrence of `needle` (token ids as uint32 bytes) at or after token `start`."""
    at = hay.find(needle, start * 4)
    while at >= 0 and at % 4:
        at = hay.find(needle, at + 1)
    return at // 4 if at >= 0 else -1


def responses_only(ids: list[int], response: bytes | None, instruction: bytes | None) -> list[tuple[int, int]]:
    """The [start, end) token ranges Unsloth's `train_on_responses_only` labels (unsloth_zoo dataset_utils,
    its default force_match=True: each part is matched as its own tokenization, nothing optional around it).

    Scanning left to right: a response marker opens a labelled range right after itself; the range ends
    where the next instruction marker starts, or at the end of the sequence when none starts before its
    last token. The scan resumes one token after the end of that instruction marker (as Unsloth's index
    arithmetic does), so a response marker directly after an instruction marker is not seen."""
    if response is None or instruction is None:
        return []
    n = len(ids)
    hay = array("I", ids).tobytes()
    r_len, i_len = len(response) // 4, len(instruction) // 4
    out: list[tuple[int, int]] = []
    j = 0
    while j < n:
        at = _find(hay, response, j)
        if at < 0:
            break
        start = at + r_len
        if start >= n:
            break
        stop = _find(hay, instruction, start)
        if stop < 0 or stop >= n - 1:  # Unsloth reaches the last token first: the answer runs to the end
            out.append((start, n))
            break
        if stop > start:
            out.append((start, stop))
        j = stop + i_len + 1
    return out


def _labelled(ranges: list[tuple[int, int]]) -> int:
    return sum(b - a for a, b in ranges)


def cut_sequence(side: str, n: int, ranges: Any, limit: int | None, overflow: str) -> Sequence:
    """A sequence of `n` tokens whose labelled tokens are `ranges` ([start, end) pairs), after the
    trainer's length cut: the first `limit` tokens kept (`truncate`), or the whole sequence dropped."""
    trainable = sum(b - a for a, b in ranges)
    if limit is None or n <= limit:
        return Sequence(side, n, trainable, trainable)
    if overflow == "drop":
        return Sequence(side, n, trainable, 0, dropped=True)
    kept = sum(max(0, min(b, limit) - a) for a, b in ranges)
    return Sequence(side, n, trainable, kept)


def _generation_ranges(enc: Any, spans: tuple[tuple[int, int], ...], n: int) -> list[tuple[int, int]]:
    """Token ranges of the generation spans, as transformers' apply_chat_template builds the mask:
    char_to_token of a span's first and last character; a span whose start maps to no token ends the
    scan; an end that maps to no token (or to token 0) runs to the end of the sequence."""
    mask = bytearray(n)
    for start_char, end_char in spans:
        start = enc.char_to_token(start_char)
        end = enc.char_to_token(end_char - 1)
        if start is None:
            break
        stop = end + 1 if end else n
        if stop > start:
            mask[start:stop] = b"\x01" * (stop - start)
    return _runs(mask)


def _runs(mask: bytearray) -> list[tuple[int, int]]:
    out = []
    i = mask.find(1)
    while i >= 0:
        j = mask.find(0, i)
        if j < 0:
            j = len(mask)
        out.append((i, j))
        i = mask.find(1, j)
    return out


__all__ = [
    "LABELS",
    "RenderError",
    "Sequence",
    "TrainerCounter",
    "TrainerSettings",
    "cut_sequence",
    "messages",
    "responses_only",
]
