"""Helpers the quality checks share: which turns to read, code spans, JSON pointers, spans, fixes.

`looks_like_code` and `without_code` come from `curate.checks.codeview`, re-exported here.

Spans (`data["spans"]`, a list of [start, end]) are character offsets into the string at the
hit's `field` in the raw record, so a viewer can highlight them. When a turn's text is not
that string verbatim (an Alpaca prompt joins instruction and input, typed content parts are
joined), only spans that fall inside the raw string are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from curate.check import Check
from curate.checks.codeview import looks_like_code, view, without_code
from curate.fixes import get_pointer, set_pointer
from curate.model import Record, Turn

Span = tuple[int, int]

ASSISTANT = frozenset({"assistant"})


def turns(check: Check, record: Record, default_roles: frozenset[str] | None, rejected: bool = False) -> list[Turn]:
    """The turns a text check reads: the rule's roles, else the check's default roles.

    With `rejected`, the rejected side of a preference pair is read too (its prompt turns are
    the same as the chosen side's, so they are read once).
    """
    roles = check.roles if check.roles is not None else default_roles
    conv = record.conversation
    out = [t for t in conv.turns if roles is None or t.role in roles]
    if rejected and conv.rejected:
        seen = {t.field for t in conv.turns}
        out += [t for t in conv.rejected if t.field not in seen and (roles is None or t.role in roles)]
    return out


def answers_to_prompts(record: Record, roles: frozenset[str]) -> Iterable[tuple[Turn, Turn]]:
    """(prompt, answer) for each answer turn in `roles` that follows a user turn and is not a tool call:
    the pairs the copy checks compare."""
    prompt: Turn | None = None
    for turn in record.conversation.turns:
        if turn.role == "user":
            prompt = turn
        elif turn.role in roles and prompt is not None and not turn.tool_calls:
            yield prompt, turn


def undesirable(record: Record) -> bool:
    """A KTO example marked `label: false` is meant to be a bad answer: answer-quality checks skip it."""
    data = record.data
    return isinstance(data, dict) and data.get("label") is False


def code_spans(text: str) -> list[Span]:
    """Where the code is (fenced, inline and unfenced: `curate.checks.codeview`); text checks skip it."""
    return list(view(text).spans)


def inside(pos: int, spans: list[Span]) -> bool:
    return any(a <= pos < b for a, b in spans)


def raw_spans(record: Record, turn: Turn, spans: Iterable[Span]) -> list[list[int]]:
    """Spans into the turn's text, kept only where they are also offsets into the raw string."""
    spans = list(spans)
    if not spans:
        return []
    raw = get_pointer(record.data, turn.field)
    if not isinstance(raw, str):
        return []
    if raw == turn.text:
        return [[s, e] for s, e in spans]
    if turn.text.startswith(raw):
        return [[s, e] for s, e in spans if e <= len(raw)]
    return []


def fix_string(data: dict[str, Any], finding: Any, transform: Callable[[str], str]) -> dict[str, Any] | None:
    """The fix protocol of `curate.fixes`: apply `transform` to the string at the finding's field of
    `data` (a private copy) and return it; None when that is not a string or nothing changes."""
    field = getattr(finding, "field", None)
    raw = get_pointer(data, field) if field and isinstance(data, dict) else None
    if not isinstance(raw, str):
        return None
    new = transform(raw)
    if new == raw or not set_pointer(data, field, new):
        return None
    return data


# CJK text has no spaces between words: each ideograph/kana/hangul syllable counts as a word
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
_WORDS = re.compile(f"[{_CJK}]|[^\\s{_CJK}{_CJK_PUNCT}]+")


_WORD = re.compile(r"\w+")
# ASCII bytes: letters to lower case, digits and _ kept (the ASCII \w), everything else to a space
_ASCII_WORD_BYTES = bytes.maketrans(
    bytes(range(128)),
    bytes(c + 32 if 65 <= c <= 90 else c if chr(c).isalnum() or c == 95 else 32 for c in range(128)),
)
_WORDS_MEMO_SIZE = 32
# recent lower_words results by the text's id; an entry holds the text, so the id stays its own
_words_memo: dict[int, tuple[str, tuple[str, ...]]] = {}


def lower_words(text: str) -> tuple[str, ...]:
    """The text's `\\w+` words in lower case.

    Remembered for the last few texts (by identity): the repetition and prompt-copy checks read
    the same answer. ASCII text is lowered and cut at non-word characters in one bytes.translate,
    which gives the same words as the regex, several times faster."""
    hit = _words_memo.get(id(text))
    if hit is not None and hit[0] is text:
        return hit[1]
    if text.isascii():
        words = tuple(text.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii").split())
    else:  # lower() can change the length of non-ASCII text (and so its words): lower word by word
        words = tuple(w.lower() for w in _WORD.findall(text))
    if len(_words_memo) >= _WORDS_MEMO_SIZE:
        _words_memo.clear()
    _words_memo[id(text)] = (text, words)
    return words


def word_count(text: str, limit: int | None = None) -> int:
    """Words, counting each CJK character as one (Chinese has no spaces).

    With `limit`, counting stops there (`word_count(t, k) < k` asks "fewer than k words?"
    without reading a long text to its end)."""
    if limit is None:
        return len(_WORDS.findall(text))
    return sum(1 for _ in islice(_WORDS.finditer(text), limit))


def clip(text: str, n: int = 60) -> str:
    """A short quote for a message (only ever of fixed phrases or placeholders, never free text)."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


__all__ = ["code_spans", "inside", "looks_like_code", "without_code"]
