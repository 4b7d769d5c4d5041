"""The one door for user-derived text outside the record view.

Any string that comes from a dataset or a repository file (object keys, role names, field values,
system prompts, file names, category values) and is shown in a message, a statistic, a report or a
log goes through `shown()`. It neutralises what could drive a terminal (C0/C1 controls, ESC, bidi
overrides are rendered visibly as `\\x1b`, `\\u202e`) and shortens long values. Masking of personal
data is layered on here too, so reporters never format raw user strings themselves.
"""

from __future__ import annotations

import re

__all__ = ["shown", "escape_controls"]

# C0 controls except nothing (tab and newline are shown escaped too: one value, one line), DEL, C1
# controls, and the Unicode bidi/format characters that reorder or hide text on screen.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with every control, bidi and invisible format character shown as an escape."""
    return _UNSAFE.sub(_visible, text)


def shown(value: object, limit: int | None = 80) -> str:
    """How a user-derived value may appear in any non-record output: escaped and bounded."""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(1, limit - 1)] + "…"
    return escape_controls(text)
