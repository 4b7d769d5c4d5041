"""The "is this code?" view of a turn, shared by every text check.

Text checks look for defects of prose (placeholders, markup leftovers, personal data, cut-off
sentences, short answers, languages). In code the same shapes are normal: `{name}` is a format
field, `<div>` is JSX, `192.168.0.1` is a config value, `x.sort()` is a full answer, and Python
is not Romanian. Fenced blocks and inline code are easy; real answers also hold unfenced code,
so a run of lines that read as code counts too.

`view(text)` is remembered for the last few texts (by identity): several checks read the same
turn one after the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Span = tuple[int, int]

# fenced blocks (``` or ~~~, possibly unclosed up to the end) and inline `code`
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
_INLINE = re.compile(r"(`+)[^`\n]+?\1")

# One regex per sign, each tried only when its character is in the line.
_CODE_CALL = re.compile(r"\w\(")
_CODE_KEYWORD = re.compile(r"\s*(?:def|class|return|print|for|if|while|import|const|let|var|function|echo)\b")
# keywords that start a line of code and almost never a line of prose
_STRONG_KEYWORD = re.compile(
    r"\s*(?:def \w+\(|class \w+\s*[(:{]|import [\w.{*]|from [\w.]+ import |#include\b|function\s*\w*\s*\("
    r"|(?:const|let|var) \w+\s*=|(?:public|private|protected|static) \w|package \w|using \w[\w.]*;|return\b.*;\s*$"
    r"|(?:SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE TABLE)\b|(?:elif|else|try|except|finally)\b.*:\s*$"
    r"|(?:if|for|while)\b.*(?::|\{)\s*$|@\w+(?:\(|$))"
)
_CODE_STRING = re.compile(r"""\b[fs]["']""")
# a line of markup or a template: <div ...>, </p>, <?php, <Component />, {{ jinja }}, {% tag %}
_MARKUP_LINE = re.compile(r"\s*(?:<[/!?]?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>|<\?php\b|\{[{%#])")
_CODE_END = re.compile(r"[;{\[(]\s*$|^\s*[}\])]")
# an assignment (`name = value`, `obj.attr[0] += 1`) or a line that is one call (`server.run()`)
_STATEMENT = re.compile(r"\s*(?:[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*[-+*/]?=(?!=)\s*\S|[A-Za-z_][\w.]*\(.*\)\s*$)")
# a shell prompt or a listing line of a terminal
_SHELL = re.compile(r"\s*(?:\$ |# |>>> |\.\.\. |[dl-][rwx-]{9}\s)")


def looks_like_code(line: str, braces: bool = True) -> bool:
    """True for a line of unfenced code.

    `braces=False` for callers that look for `{placeholders}` themselves."""
    return (
        "=" in line
        or ";" in line
        or (braces and ("{" in line or "}" in line))
        or ("(" in line and _CODE_CALL.search(line) is not None)
        or _CODE_KEYWORD.match(line) is not None
        or (("'" in line or '"' in line) and _CODE_STRING.search(line) is not None)
    )


def _code_line(line: str) -> int:
    """2 for a line that reads as code or a terminal on its own, 1 for a line of markup, else 0.

    Stricter than `looks_like_code`: a prose line with '=' or 'f(x)' needs a neighbour to count,
    and lines of markup alone make no code block (scraped `<p>` lines are leftovers, not code)."""
    stripped = line.strip()
    if not stripped:
        return 0
    if (
        _CODE_END.search(stripped) is not None
        or _STRONG_KEYWORD.match(line) is not None
        or _SHELL.match(line) is not None
        or _STATEMENT.match(line) is not None
        or stripped.startswith("<?php")
    ):
        return 2
    return 1 if _MARKUP_LINE.match(line) is not None else 0


def fenced_spans(text: str) -> list[Span]:
    """Fenced blocks and inline code."""
    if "`" not in text and "~~~" not in text:
        return []
    spans = [m.span() for m in _FENCE.finditer(text)]
    for m in _INLINE.finditer(text):
        s, e = m.span()
        if not any(a <= s < b for a, b in spans):
            spans.append((s, e))
    return sorted(spans)


def _unfenced_blocks(text: str, fenced: list[Span], min_lines: int = 2) -> list[Span]:
    """Runs of at least `min_lines` consecutive lines that read as code, outside fences.

    A run is seeded by lines that read as code on their own and grows over lines that
    `looks_like_code`, indented lines and blank lines between code lines."""
    out: list[Span] = []
    pos = 0
    # (start, end, _code_line or -1 for a blank line) of the lines of the current run
    run: list[tuple[int, int, int]] = []

    def close() -> None:
        while run and run[-1][2] < 0:
            run.pop()
        lines = [s for _, _, s in run if s >= 0]
        strong = sum(1 for s in lines if s > 0)
        if len(lines) >= min_lines and strong * 2 >= len(lines) and 2 in lines:
            out.append((run[0][0], run[-1][1]))
        run.clear()

    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if any(a <= start < b for a, b in fenced):
            close()
            continue
        if not line.strip():
            if run:
                run.append((start, end, -1))
            continue
        strong = _code_line(line)
        weak = strong or looks_like_code(line) or (bool(run) and line[:1] in " \t")
        if weak:
            run.append((start, end, strong))
        else:
            close()
    close()
    return out


@dataclass(frozen=True, slots=True)
class CodeView:
    """Where a turn's code is, and whether the turn is code as a whole."""

    spans: tuple[Span, ...]  # fenced, inline and unfenced code, sorted
    code_chars: int
    text_chars: int

    @property
    def is_code(self) -> bool:
        """Mostly code: checks of prose do not judge it."""
        return self.text_chars > 0 and self.code_chars * 2 >= self.text_chars

    def inside(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.spans)

    def overlaps(self, start: int, end: int) -> bool:
        return any(a < end and start < b for a, b in self.spans)


_MEMO_SIZE = 32
_memo: dict[int, tuple[str, CodeView]] = {}


def view(text: str) -> CodeView:
    """The code view of a text (remembered for the last few texts)."""
    hit = _memo.get(id(text))
    if hit is not None and hit[0] is text:
        return hit[1]
    fenced = fenced_spans(text)
    spans = sorted(fenced + _unfenced_blocks(text, fenced))
    if "\n" not in text.strip() and not fenced and _one_line_code(text):
        spans = [(0, len(text))]
    code = sum(b - a for a, b in spans)
    v = CodeView(tuple(spans), code, len(text.strip()))
    if len(_memo) >= _MEMO_SIZE:
        _memo.clear()
    _memo[id(text)] = (text, v)
    return v


_PROSE_WORD = re.compile(r"[A-Za-z][a-z']+[,.!?:]?")
_ENTITY = re.compile(r"&(?:#\w+|\w+);")


def _one_line_code(text: str) -> bool:
    """A one-line answer that is code (`sorted(xs)`, `x = 5;`), not a sentence with a sign in it."""
    t = _ENTITY.sub(" ", text.strip())  # `&amp;` is no statement end
    if not t or not looks_like_code(t, braces=False):  # `Hi {{name}}` is a template, not code
        return False
    if _code_line(t) == 2 and not t.endswith("."):
        return True
    tokens = t.split()
    words = sum(1 for w in tokens if _PROSE_WORD.fullmatch(w))
    return words < 3 or words * 2 < len(tokens)


def without_code(text: str) -> str:
    """The text with its code replaced by spaces (offsets are kept)."""
    spans = view(text).spans
    if not spans:
        return text
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)
