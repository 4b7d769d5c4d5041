"""Answers cut off: mid-sentence, on a dangling word, or inside an unclosed code fence.

Truncated answers usually come from a generation that hit its token limit; the model learns
to stop in the middle. Lists, tables, headings, code, URLs and short answers often end
without a full stop, so only prose that ends on a word is suspect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import ASSISTANT, looks_like_code, raw_spans, turns, undesirable, word_count
from curate.model import Hit, Record, Severity

_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)", re.M)
# words a finished sentence almost never ends on
DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "as",
        "than",
        "that",
        "which",
        "who",
        "whose",
        "whom",
        "if",
        "because",
        "while",
        "although",
        "though",
        "when",
        "where",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "shall",
        "do",
        "does",
        "did",
        "not",
        "very",
        "such",
        "this",
        "these",
        "those",
        "their",
        "its",
        "our",
        "your",
        "my",
        "his",
        "her",
    ]
)
_DANGLING_LEN = max(map(len, DANGLING))
# The patterns below end in `$` and are searched in text without trailing whitespace, so each is
# searched only in the window where a match can start (a full search tries every position).
_LAST_WORD = re.compile(r"(?<![\w'])([A-Za-z][A-Za-z']*)\s*$")
_ENDS_OK = re.compile(r"""[.!?…。！？」』"'”’)\]}>*`~:;|_\-=+%$#/\\\d]\s*$|[\U0001F300-\U0001FAFF\u2600-\u27BF]\s*$""")
# a list item, a numbered step, a heading, a table row, a quote or a `key:` line ...
_STRUCTURED_START = re.compile(r"\s*(?:[-*+•]|\d+[.)]|#{1,6}\s|\||>|[\w ]{1,30}:)")
# ... or a line that ends on a hashtag
_HASHTAG_END = re.compile(r"(?:^|\s)#\w+\s*$")


def _structured(line: str) -> bool:
    """A last line that is not prose (`line` has no trailing whitespace)."""
    if _STRUCTURED_START.match(line):
        return True
    # a final hashtag is the last '#' followed by word characters to the end
    sharp = line.rfind("#")
    return sharp >= 0 and _HASHTAG_END.search(line, max(0, sharp - 1)) is not None


class TruncatedParams(Params):
    min_chars: int = Field(150, ge=0, description="answers shorter than this are not judged mid-sentence")
    min_last_line_words: int = Field(8, ge=1, description="the last line must read as prose (at least this many words)")
    check_fences: bool = Field(True, description="flag an odd number of ``` fences")
    last_only: bool = Field(False, description="only judge the last assistant turn")


def truncation(text: str, params: TruncatedParams) -> tuple[str, int, int] | None:
    """(reason, start, end) when the text looks cut off, else None."""
    stripped = text.rstrip()
    if not stripped:
        return None
    if params.check_fences and ("```" in stripped or "~~~" in stripped):
        fences = list(_FENCE_LINE.finditer(stripped))
        if len(fences) % 2 == 1:
            return "unclosed code fence", fences[-1].start(), len(stripped)
    if len(stripped) < params.min_chars:
        return None
    start = stripped.rfind("\n") + 1
    last_line = stripped[start:]
    if stripped.endswith(","):
        return "ends on a comma", start, len(stripped)
    if _structured(last_line) or looks_like_code(last_line):
        return None
    # the last word, if short enough to be a dangling one (a longer run of letters finds nothing)
    m = _LAST_WORD.search(last_line, max(0, len(last_line) - _DANGLING_LEN))
    if m and m.group(1).lower() in DANGLING and m.group(1) not in ("A", "I"):
        return f"ends on '{m.group(1)}'", start, len(stripped)
    if _ENDS_OK.search(stripped, len(stripped) - 1):  # the last character
        return None
    if word_count(last_line, params.min_last_line_words) < params.min_last_line_words:
        return None
    if not last_line[-1].isalpha():
        return None
    return "ends mid-sentence", start, len(stripped)


class Truncated(RecordCheck):
    id = "quality.truncated"
    description = "An answer cut off mid-sentence or inside a code block; the model learns to stop in the middle."
    default_severity = Severity.WARNING
    Params = TruncatedParams
    example = (
        '{"messages": [{"role": "user", "content": "Explain DNS"}, {"role": "assistant", "content": '
        '"DNS maps human-readable names to IP addresses. When you type a name into the browser, your computer '
        "asks a recursive resolver, "
        'which asks the root servers, which point it to the"}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if undesirable(record):
            return
        answers = [t for t in turns(self, record, ASSISTANT) if not t.tool_calls]
        if self.params.last_only:
            answers = answers[-1:]
        for turn in answers:
            found = truncation(turn.text, self.params)
            if found:
                reason, s, e = found
                yield Hit(
                    f"{turn.role} answer looks truncated: {reason}",
                    field=turn.field,
                    data={"reason": reason, "spans": raw_spans(record, turn, [(s, e)])},
                    fix="Complete the answer (regenerate with a higher token limit), or drop the example.",
                    identity=reason.split(" '")[0],
                )
