"""Which text of a record counts for duplicates, and how it is normalised before hashing.

Everything here is pure and cheap so it can run in worker processes. No heavy imports.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Literal

from curate.model import Record, Turn

TextScope = Literal["conversation", "all", "user", "assistant"]

# conversation: every turn except system prompts (a shared system prompt would make unrelated
# short records look alike); all: system prompts too; user / assistant: only those turns.
SCOPE_ROLES: dict[str, frozenset[str] | None] = {
    "conversation": frozenset({"user", "assistant", "tool"}),
    "all": None,
    "user": frozenset({"user"}),
    "assistant": frozenset({"assistant"}),
}

_PUNCT = re.compile(r"[^\w\s]+")
TURN_SEP = "\x1e"  # between turns: never produced by whitespace collapsing


def turn_text(turn: Turn) -> str:
    """A turn's text plus its tool calls, so two calls with different arguments differ."""
    if not turn.tool_calls:
        return turn.text
    calls = " ".join(f"{c.name} {c.arguments}" for c in turn.tool_calls if c.arguments not in turn.text)
    return f"{turn.text} {calls}" if turn.text and calls else turn.text or calls


def selected_turns(record: Record, scope: str, roles: frozenset[str] | None = None) -> list[Turn]:
    """The turns that count: the rule's `roles` when given, else the `text` parameter's.

    A preference pair counts whole: its rejected answer too. Preference sets often hold several
    pairs per prompt with the same chosen answer (all pairs of a ranking); those differ by the
    rejected side and are different training examples, not copies."""
    wanted = roles if roles is not None else SCOPE_ROLES[scope]
    conv = record.conversation
    out = conv.texts(wanted)
    if conv.rejected:
        out += [t for t in conv.rejected_tail() if wanted is None or t.role in wanted]
    return out


def normalise_exact(
    text: str, unicode_form: str, ignore_case: bool, collapse_whitespace: bool, ignore_punctuation: bool
) -> str:
    """The documented normalisation of `dedup.exact`: Unicode form, case, whitespace, punctuation."""
    if unicode_form != "none" and not unicodedata.is_normalized(unicode_form, text):
        text = unicodedata.normalize(unicode_form, text)
    if ignore_case:
        text = text.casefold()
    if ignore_punctuation:
        text = _PUNCT.sub(" ", text)
    if collapse_whitespace:
        text = " ".join(text.split())  # str.split() is C speed; a \s+ regex was the hot spot
    return text


def exact_text(
    turns: list[Turn],
    unicode_form: str = "NFC",
    ignore_case: bool = True,
    collapse_whitespace: bool = True,
    ignore_punctuation: bool = False,
    with_roles: bool = True,
) -> str:
    parts = []
    for t in turns:
        body = normalise_exact(turn_text(t), unicode_form, ignore_case, collapse_whitespace, ignore_punctuation)
        parts.append(f"{t.role}:{body}" if with_roles else body)
    return TURN_SEP.join(parts)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|\w+")
# ASCII punctuation becomes a space: translate + split is ~5x faster than a \w+ regex
ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~"  # not "_": \w keeps it inside words
_ASCII_PUNCT = str.maketrans({c: " " for c in ASCII_PUNCTUATION})


def words(text: str) -> list[str]:
    """Near-duplicate tokens: NFKC, casefolded words; punctuation and spacing vanish. Chinese,
    Japanese and Korean characters are one token each (those scripts put no spaces between words)."""
    if text.isascii():
        return text.lower().translate(_ASCII_PUNCT).split()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _CJK.findall(text.casefold())


def digest64(text: str) -> int:
    """A stable 64-bit hash (Python's hash() is salted per process, so it cannot be cached)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def digest128(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
