"""The one door for user-derived text outside the record view.

Any string that comes from a dataset or a repository file (object keys, role names, field values,
system prompts, file names, category values) and is shown in a message, a statistic, a report or a
log goes through `shown()`. It masks personal data and secrets (`curate.privacy.find_values`, the
detector's own cheap screens, masked with `curate.privacy.mask`), neutralises what could drive a
terminal (C0/C1 controls, ESC, bidi overrides are rendered visibly as `\\x1b`, `\\u202e`) and
shortens long values, in that order: a value is masked whole before it is cut, so no prefix of it
survives a cut. Reporters never format raw user strings themselves.

`shown_pointer()` does the same for a JSON pointer (each segment apart, array indices kept), and
`shown_tree()` for a JSON-like value (finding data, statistics): keys and string leaves.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["shown", "escape_controls", "mask_values", "shown_pointer", "shown_tree", "TOOL_VALUE_KEYS"]

# C0 controls (tab and newline too: one value, one line), DEL, C1 controls, and the Unicode
# bidi/format characters that reorder or hide text on screen.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# what is ignored while looking for values: a zero-width space or an escape inside a card number
# must not hide it (tab and newline still separate words)
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# what could hold a value: a run of digits, an IBAN-like token, a secret's prefix (each regex starts
# on a narrow character class, so `re` skips ahead in C), an @ or a URL
_DIGIT_SCREEN = re.compile(r"\d(?:[\d \t().\-/]{5,}\d|(?<=[A-Za-z]{2}\d)\d)")
# a secret's fixed prefix (AWS secret keys and bearer tokens are named before them); `in` on each
# literal is faster than one alternation that tries every branch at every position
_SECRET_MARKS = (
    *("sk-", "sk_", "k_live", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "AIza"),
    *("eyJ", "AKIA", "ASIA", "ABIA", "ACCA", "PRIVATE KEY", "earer", "ecret", "ECRET"),
)


def _may_hold_value(text: str) -> bool:
    return bool(
        "@" in text
        or "%40" in text
        or "://" in text
        or "www." in text
        or _DIGIT_SCREEN.search(text)
        or any(mark in text for mark in _SECRET_MARKS)
    )


_LOOK_AHEAD = 600  # characters past a cut that are still searched, so a value across the cut is whole
# keys whose values the tool made itself (hashes, record keys): escaped, never masked
TOOL_VALUE_KEYS = frozenset(
    {"key", "keys", "fingerprint", "value_hash", "prompt_hash", "hash", "cluster", "kept_key", "record_key"}
)


def _visible(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with every control, bidi and invisible format character shown as an escape."""
    return _UNSAFE.sub(_visible, text)


def mask_values(text: str) -> str:
    """`text` with every personal value or secret replaced by its mask (`j***@e***.com`)."""
    if not _may_hold_value(text):
        plain = _HIDDEN.sub("", text)
        if plain == text or not _may_hold_value(plain):
            return text
    from curate.privacy import find_values, mask

    keep = [i for i, ch in enumerate(text) if not _HIDDEN.match(ch)]
    plain = "".join(text[i] for i in keep) if len(keep) != len(text) else text
    spans = find_values(plain)
    if not spans:
        return text
    out, pos = [], 0
    for start, end, entity in spans:  # sorted, never overlapping
        o_start, o_end = keep[start], keep[end - 1] + 1  # back to the original, hidden characters included
        out.append(text[pos:o_start])
        out.append(mask(plain[start:end], entity))
        pos = o_end
    out.append(text[pos:])
    return "".join(out)


def shown(value: object, limit: int | None = 80, *, masked: bool = True) -> str:
    """How a user-derived value may appear in any non-record output: masked, escaped and bounded.

    `masked=False` only for text the tool wrote itself (a hash, a count): it is still escaped.
    """
    text = value if isinstance(value, str) else str(value)
    if masked:
        if limit is not None and len(text) > limit + _LOOK_AHEAD:
            text = text[: limit + _LOOK_AHEAD]
        text = mask_values(text)
    if limit is not None and len(text) > limit:
        text = text[: max(1, limit - 1)] + "…"
    return escape_controls(text)


def shown_pointer(pointer: str | None, limit: int = 200) -> str | None:
    """A JSON pointer for display: each object key shown as `shown()` would, array indices kept."""
    if not pointer:
        return pointer
    parts = pointer.split("/")
    out = [p if p.isdigit() and p.isascii() else shown(p, None) for p in parts]
    return shown("/".join(out), limit, masked=False)


def shown_tree(value: Any, limit: int | None = 500, _depth: int = 0) -> Any:
    """A JSON-like value (finding data, statistics) with every key and string leaf shown safely.

    Values under `TOOL_VALUE_KEYS` (hashes and record keys the tool made) are only escaped.
    """
    if isinstance(value, str):
        return shown(value, limit)
    if _depth > 32:  # a tool-made structure is never this deep; a hostile one is cut here
        return "…"
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and k in TOOL_VALUE_KEYS:
                out[k] = shown(v, limit, masked=False) if isinstance(v, str) else shown_tree(v, limit, _depth + 1)
            else:
                out[shown(k, 120) if isinstance(k, str) else k] = shown_tree(v, limit, _depth + 1)
        return out
    if isinstance(value, list):
        return [shown_tree(v, limit, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(shown_tree(v, limit, _depth + 1) for v in value)
    return value
