"""Chat-template control tokens typed into the text.

The trainer's chat template inserts these itself; a literal `<|im_end|>` inside content ends
the turn early or teaches the model to emit it. Bare `<s>` / `</s>` are not in the default
list: HTML (strikethrough) uses them far more often than a template does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.model import Hit, Record, Severity

DEFAULT_TOKENS = [
    # ChatML (OpenAI, Qwen) and GPT end-of-text
    "<|im_start|>", "<|im_end|>", "<|im_sep|>", "<|endoftext|>", "<|startoftext|>",
    # Llama 3
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|eom_id|>", "<|python_tag|>",
    # Phi-3, Zephyr and friends
    "<|system|>", "<|user|>", "<|assistant|>", "<|end|>",
    # Llama 2 / Mistral
    "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>",
    # Gemma
    "<start_of_turn>", "<end_of_turn>",
    # DeepSeek and GLM
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "[gMASK]", "<sop>", "<eop>",
    # fill-in-the-middle
    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
]  # fmt: skip


class SpecialTokensParams(Params):
    tokens: list[str] = Field(default_factory=lambda: list(DEFAULT_TOKENS), description="literal tokens to look for")
    extra_tokens: list[str] = Field(default_factory=list, description="more tokens, e.g. your model's own")
    ignore_in_code: bool = Field(
        default=True, description="skip tokens inside `inline code` or ``` fenced blocks (text about templates)"
    )


# Markdown code: fenced blocks (closed or running to the end) and inline spans
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.S)


class SpecialTokens(RecordCheck):
    id = "schema.special_tokens"
    description = "Chat-template control tokens (<|im_start|>, <|eot_id|>, [INST] ...) inside message text."
    default_severity = Severity.WARNING
    Params = SpecialTokensParams
    example = '{"messages": [{"role": "user", "content": "hi<|im_end|>"}, {"role": "assistant", "content": "hello"}]}'

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002,ANN003
        super().__init__(*args, **kwargs)
        tokens = sorted({t for t in (*self.params.tokens, *self.params.extra_tokens) if t}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, tokens))) if tokens else None
        # a cheap substring screen before the regex: most texts contain none of the first characters
        self._firsts = tuple({t[0] for t in tokens})

    def check(self, record: Record) -> Iterable[Hit]:
        if self._pattern is None:
            return
        conv = record.conversation
        firsts, roles = self._firsts, self.roles
        seen: set[str] = set()
        for turn in (*conv.turns, *conv.rejected) if conv.rejected else conv.turns:
            text = turn.text
            for c in firsts:  # a plain loop: cheaper than any() on the hot path
                if c in text:
                    break
            else:
                continue
            if turn.field in seen or (roles is not None and turn.role not in roles):
                continue
            seen.add(turn.field)
            found: dict[str, list[int]] = {}
            code = _code_spans(text) if self.params.ignore_in_code and "`" in text else ()
            for m in self._pattern.finditer(text):
                if code and any(a <= m.start() < b for a, b in code):
                    continue
                found.setdefault(m.group(), [m.start(), m.end(), 0])[2] += 1
            for token, (start, end, count) in found.items():
                times = f" ({count} times)" if count > 1 else ""
                yield Hit(
                    f"special token {token} inside {turn.role or 'message'} text{times}",
                    field=turn.field,
                    data={"token": token, "span": [start, end], "count": count},
                    fix="Remove the token: the chat template adds its own, and a literal copy breaks turn boundaries. "
                    "If the text is about tokens, accept the finding.",
                    identity=token,
                )


def _code_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _CODE.finditer(text)]


CHECKS = [SpecialTokens]
