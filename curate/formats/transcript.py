"""Anthropic HH-style transcripts: `"\\n\\nHuman: ...\\n\\nAssistant: ..."` split into turns.

hh-rlhf and its translations store each side of a preference pair as one string. Read as one
answer, every record looks broken (markup and whitespace in the "answer", no prompt, wrong cost,
wrong duplicates); split at the speaker markers, it is an ordinary conversation. Translations
translate the markers too (the Korean hh-rlhf uses `조수:`, `보조자:`, `비서:` ... for the
assistant), so the markers are a small table of spellings seen in published data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# label -> canonical role. A label only counts at the start of the text or after a blank line,
# followed by a colon: "Human: ..." inside a sentence is not a turn.
HH_LABELS: dict[str, str] = {
    "Human": "user",
    "User": "user",
    "인간": "user",
    "사용자": "user",
    "Assistant": "assistant",
    "AI": "assistant",
    "조수": "assistant",  # Korean hh-rlhf: "assistant", "aide", "secretary", "helper", ...
    "보조자": "assistant",
    "보조": "assistant",
    "비서": "assistant",
    "어시스턴트": "assistant",
    "지원자": "assistant",
    "조교": "assistant",
    "조언자": "assistant",
}
_USER_LABELS = [k for k, v in HH_LABELS.items() if v == "user"]
_ALL = "|".join(sorted(map(re.escape, HH_LABELS), key=len, reverse=True))
_MARKER = re.compile(rf"(?:\A[ \t\r\n]*|\r?\n\r?\n[ \t]*)({_ALL})[ \t]*:[ \t]?")
_START = re.compile(rf"[ \t\r\n]*(?:{'|'.join(map(re.escape, _USER_LABELS))})[ \t]*:")
MAX_TRANSCRIPT_CHARS = 4_000_000  # a longer string is not split (bounded work on hostile input)


@dataclass(frozen=True, slots=True)
class Segment:
    """One turn cut out of a rendered string: its role, its text, and whether it was left open
    (a transcript or template that ends with the assistant's marker and no answer)."""

    role: str
    text: str
    open: bool = False


def is_transcript(value: object) -> bool:
    """Whether a string starts like an HH transcript: hh-rlhf's own opening (a blank line, then a
    user marker), or a user marker followed later by a second marker."""
    if not isinstance(value, str) or len(value) > MAX_TRANSCRIPT_CHARS or not _START.match(value):
        return False
    if value.startswith(("\n\n", "\r\n\r\n")):
        return True
    first = _MARKER.match(value)
    return first is not None and _MARKER.search(value, first.end()) is not None


def split_transcript(text: str) -> list[Segment]:
    """The turns of a transcript, texts stripped (the markers' spacing is not content). A final
    assistant marker with nothing after it is an open turn: a prompt waiting for its answer."""
    marks = list(_MARKER.finditer(text)) if len(text) <= MAX_TRANSCRIPT_CHARS else []
    out: list[Segment] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end() : end].strip()
        role = HH_LABELS[m.group(1)]
        out.append(Segment(role, body, open=not body and i == len(marks) - 1 and role == "assistant"))
    return out
