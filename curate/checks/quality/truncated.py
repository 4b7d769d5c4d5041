"""Answers cut off: mid-sentence, on a dangling word, or inside an unclosed code fence.

Truncated answers usually come from a generation that hit its token limit; the model learns
to stop in the middle. Measured on real data (docs/precision.md), a missing final full stop
alone is almost always a style choice (chat answers, lists, signatures, `#### 42`), so:

- a dangling English word ("... and the") is judged at any length, but only in English text;
- "ends mid-sentence" (no final punctuation) needs a next user turn that asks to continue; a long
  answer without a final stop alone was right about 6 times in 10 on real data (complete clauses,
  verse, closing lines), so it is judged only when `min_chars_mid_sentence` is set;
- code, tables, lists, headings and letters' closing lines are never judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.codeview import looks_like_code, view
from curate.checks.quality._text import ASSISTANT, raw_spans, turns, undesirable, word_count
from curate.model import Hit, Record, Severity

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
        "she",
        "he",
        "they",
        "we",
        "through",
        "between",
        "including",
        "via",
        "upon",
        "during",
        "among",
        "toward",
        "towards",
        "whether",
        "each",
        "every",
    ]
)
# common English words: a last line with one of them (besides its last word) is English text,
# where the dangling-word list applies ("par an" in French is not "an")
_ENGLISH = frozenset(
    ("the", "a", "an", "to", "of", "and", "is", "in", "that", "it", "for", "you", "with", "on", "as", "are")
    + ("this", "be", "was", "have", "by", "from", "or", "at", "not", "your", "can")
)
# the next user turn asks for the rest
_CONTINUE = re.compile(
    r"^\W*(?:please\s+)?(?:continue|go on|keep going|more|finish(?: it)?|and\?"
    r"|continuer?|continúa|weiter|继续|続けて|계속)\b",
    re.I,
)
# a letter's closing line ("Best regards," / "Yours sincerely,") before a signature that never came
_CLOSING = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest)?\s*(?:regards|wishes)|(?:yours\s+)?(?:sincerely|truly|faithfully)(?:\s+yours)?"
    r"|cheers|love|thanks|thank you|best|cordialement|bien à vous|mit freundlichen grüßen|atentamente|saludos)\b"
    r"[^\n]{0,20},$",
    re.I,
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
    min_chars: int = Field(150, ge=0, description="answers shorter than this are not judged on a final comma")
    min_chars_mid_sentence: int | None = Field(
        None,
        ge=0,
        description="also judge answers this long for a missing final full stop (off by default: "
        "right about 6 times in 10 on real data); without it, only when the user asks to continue",
    )
    min_last_line_words: int = Field(8, ge=1, description="the last line must read as prose (at least this many words)")
    check_fences: bool = Field(True, description="flag an odd number of ``` fences")
    last_only: bool = Field(False, description="only judge the last assistant turn")


def truncation(text: str, params: TruncatedParams, asked_to_continue: bool = False) -> tuple[str, int, int] | None:
    """(reason, start, end) when the text looks cut off, else None.

    `asked_to_continue`: the next user turn asks for the rest, so a missing end is evidence."""
    stripped = text.rstrip()
    if not stripped:
        return None
    if params.check_fences and ("```" in stripped or "~~~" in stripped):
        # every fence marker counts, also one closing at the end of a code line (`</html>````)
        fences = list(_FENCE_MARK.finditer(stripped))
        if len(fences) % 2 == 1:
            return "unclosed code fence", fences[-1].start(), len(stripped)
    start = stripped.rfind("\n") + 1
    last_line = stripped[start:]
    if _structured(last_line) or looks_like_code(last_line) or view(stripped).inside(len(stripped) - 1):
        return None
    if stripped.endswith(","):
        if len(stripped) < params.min_chars or _CLOSING.match(last_line):
            return None
        return "ends on a comma", start, len(stripped)
    # the last word, if short enough to be a dangling one (a longer run of letters finds nothing)
    m = _LAST_WORD.search(last_line, max(0, len(last_line) - _DANGLING_LEN))
    dangling = m is not None and m.group(1).lower() in DANGLING and m.group(1) not in ("A", "I")
    if m and dangling and _english(last_line[: m.start()]) and word_count(stripped, 3) >= 3:
        return f"ends on '{m.group(1)}'", start, len(stripped)
    if _ENDS_OK.search(stripped, len(stripped) - 1):  # the last character
        return None
    long_enough = params.min_chars_mid_sentence is not None and len(stripped) >= params.min_chars_mid_sentence
    if not (asked_to_continue or long_enough):
        return None
    if word_count(last_line, params.min_last_line_words) < params.min_last_line_words:
        return None
    last = last_line[-1]
    if not last.isalpha() or (not asked_to_continue and not _LATIN_LETTER.match(last)):
        return None  # CJK text has no spaces to find a last word: only a request to continue tells
    return "ends mid-sentence", start, len(stripped)


_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u0400-\u04ff]")
_FENCE_MARK = re.compile(r"```|~~~")


def _english(text: str) -> bool:
    return any(w in _ENGLISH for w in text.lower().split()[-12:])


def _continued(record: Record) -> set[str | None]:
    """Fields of answers whose next user turn asks to continue."""
    out: set[str | None] = set()
    prev = None
    for t in record.conversation.turns:
        asks = t.role == "user" and len(t.text) < 60 and _CONTINUE.match(t.text.strip()) is not None
        if asks and prev is not None and prev.role == "assistant":
            out.add(prev.field)
        prev = t
    return out


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
        continued = _continued(record)
        for turn in answers:
            found = truncation(turn.text, self.params, turn.field in continued)
            if found:
                reason, s, e = found
                yield Hit(
                    f"{turn.role} answer looks truncated: {reason}",
                    field=turn.field,
                    data={"reason": reason, "spans": raw_spans(record, turn, [(s, e)])},
                    fix="Complete the answer (regenerate with a higher token limit), or drop the example.",
                    identity=reason.split(" '")[0],
                )
