"""Dataset text made safe to draw: always rich Text objects, never markup built from data.

Rich markup (`[bold]`), ANSI escapes and control or invisible characters in a record must not
change the display, so they are shown escaped and dimmed (`\\x1b`, `\\u202e`) instead.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0/C1 controls except tab and newline, soft hyphen, bidi controls, zero-width and other invisibles, surrogates
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2028\u2029"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
ESCAPE_STYLE = "reverse dim"


def escape_char(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def literal(s: str, style: str = "", escape_style: str = ESCAPE_STYLE) -> Text:
    """`s` exactly as written, with unsafe characters replaced by visible escapes."""
    text = Text(style=style)
    pos = 0
    for m in _UNSAFE.finditer(s):
        if m.start() > pos:
            text.append(s[pos : m.start()])
        text.append(escape_char(m.group()), style=escape_style)
        pos = m.end()
    if pos < len(s):
        text.append(s[pos:])
    return text


def one_line(s: str, limit: int = 200) -> str:
    """A message for a list row or footer: one line, no control characters, bounded."""
    s = _UNSAFE.sub(lambda m: escape_char(m.group()), s.replace("\n", "⏎").replace("\t", " "))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def highlighted_at(
    s: str, spans: list[tuple[int, int, str]], limit: int = 20000, first_of: str | None = None
) -> tuple[Text, int]:
    """`s` with character spans styled (the finding's span); a long text is cut around the first span."""
    start, end = 0, len(s)
    if len(s) > limit:
        centre = spans[0][0] if spans else 0
        start = max(0, centre - limit // 2)
        end = min(len(s), start + limit)
    cuts = {start, end}
    for a, b, _ in spans:
        cuts.update(x for x in (a, b) if start < x < end)
    bounds = sorted(cuts)
    text = Text()
    marks: list[int] = []
    if start > 0:
        text.append(f"… {start:,} characters before …\n", style="dim italic")
    for a, b in zip(bounds, bounds[1:], strict=False):
        style = " ".join(st for sa, sb, st in spans if sa <= a and b <= sb)
        piece = literal(s[a:b])
        if style:
            piece.stylize(style)
            if first_of and first_of in style and not marks:
                marks.append(len(text))
        text.append_text(piece)
    if end < len(s):
        text.append(f"\n… {len(s) - end:,} more characters (e to edit the whole record) …", style="dim italic")
    return text, marks[0] if marks else -1


def highlighted(s: str, spans: list[tuple[int, int, str]], limit: int = 20000) -> Text:
    return highlighted_at(s, spans, limit)[0]
