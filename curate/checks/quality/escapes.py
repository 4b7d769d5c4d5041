"""Literal escape sequences: `\\n` written as two characters where a line break was meant.

A dataset exported with its escapes applied twice (or built by pasting JSON strings) shows
`First line.\\nSecond line.` to the model, which learns to write backslashes. Code is skipped
(`printf("\\n")` is right there), and so are LaTeX commands (`\\neq`, `\\theta`, `\\times`), Windows
paths (`C:\\new`) and a lone backslash before a letter: only `\\n`, `\\t` and `\\r` that are not followed by a
lower-case letter count, and `\\"` / `\\u00e9` when they come with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.codeview import view
from curate.checks.quality._text import fix_string, raw_spans, turns
from curate.model import Hit, Record, Severity

# \n, \t, \r not starting a LaTeX command or a path segment (those go on with lower-case letters)
_ESCAPE = re.compile(r"(?<!\\)\\[ntr](?![a-z])")
_EXTRA = re.compile(r'(?<!\\)\\(?:"|u[0-9a-fA-F]{4})')
_UNESCAPE = {"\\n": "\n", "\\t": "\t", "\\r": "\r", '\\"': '"'}


class EscapeParams(Params):
    min_count: int = Field(2, ge=1, description="escape sequences needed to flag a turn (one can be a quote of one)")


def escapes(text: str, params: EscapeParams) -> list[tuple[int, int]]:
    """Spans of literal escape sequences outside code."""
    if "\\" not in text:
        return []
    found = [m.span() for m in _ESCAPE.finditer(text)]
    if not found:
        return []
    found += [m.span() for m in _EXTRA.finditer(text)]
    code = view(text)
    strings = _CodeStrings(text)
    spans = sorted(s for s in found if not code.inside(s[0]) and not strings.inside(s[0]))
    return spans if len(spans) >= params.min_count else []


_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')


class _CodeStrings:
    """String literals on lines of code (`io.write(x and ":\\n" or " = ")`): an escape there belongs,
    even where the code around it is too terse to make a code block. The text is read once (linear
    in its length, however many escapes and quotes a hostile line holds)."""

    def __init__(self, text: str) -> None:
        starts: list[int] = []
        ends: list[int] = []
        offset = 0
        for line in text.split("\n"):
            if '"' in line or "'" in line:
                assigned = "=" in line
                opened, closed = line.find("("), line.rfind(")")
                for m in _STRING.finditer(line):
                    # an argument of a call, or a value assigned: code, not a quotation in prose
                    if assigned or (0 <= opened < m.start() and closed >= m.end()):
                        starts.append(offset + m.start())
                        ends.append(offset + m.end())
            offset += len(line) + 1
        self.starts, self.ends = starts, ends

    def inside(self, at: int) -> bool:
        from bisect import bisect_right

        k = bisect_right(self.starts, at) - 1
        return k >= 0 and self.starts[k] < at < self.ends[k]


def unescape(text: str) -> str:
    """What the fix does: the escapes outside code turned into the characters they stand for."""
    code = view(text)

    def sub(m: re.Match[str]) -> str:
        if code.inside(m.start()):
            return m.group(0)
        s = m.group(0)
        return _UNESCAPE.get(s) or chr(int(s[2:], 16))

    return re.sub(r'(?<!\\)\\(?:[ntr](?![a-z])|"|u[0-9a-fA-F]{4})', sub, text)


class LiteralEscapes(RecordCheck):
    id = "quality.literal_escapes"
    description = "Literal escape sequences (\\n as two characters) in text: the data was escaped twice upstream."
    default_severity = Severity.WARNING
    Params = EscapeParams
    example = (
        '{"messages": [{"role": "user", "content": "Write two lines.\\\\nThen stop.\\\\nThanks"}, '
        '{"role": "assistant", "content": "Line one.\\nLine two."}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        for turn in turns(self, record, None, rejected=True):
            spans = escapes(turn.text, self.params)
            if not spans:
                continue
            yield Hit(
                f"{turn.role} text has {len(spans)} literal escape {'sequences' if len(spans) != 1 else 'sequence'}"
                " (\\n as text)",
                field=turn.field,
                data={"count": len(spans), "spans": raw_spans(record, turn, spans), "fixable": True},
                fix="Unescape the text (curate can apply this fix), and fix the export that escaped it twice.",
            )

    def fix(self, data: dict[str, Any], finding: Any) -> dict[str, Any] | None:
        return fix_string(data, finding, unescape)
