"""Prompts about an image, table, file or passage that is not there: "Describe this picture.".

Multimodal and document tasks lose their attachment when flattened to text; what is left
teaches the model to answer about things it never saw (or to refuse, see `quality.refusal`).
An attachment counts as present when the record carries one (a typed image part, an `images`
or `file` key), when the prompt links or names a file, or holds a table or enough text to be
the passage it points to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import raw_spans, word_count
from curate.fixes import get_pointer
from curate.model import Hit, Record, Severity, Turn

_POINT = r"(?:this|these|the (?:following|attached|given|above|below|provided|enclosed)|attached|following|below|above)"
_MEDIA = r"(?:image|picture|photo(?:graph)?|screenshot|diagram|drawing|painting|video|audio|recording|clip|scan)s?"
_FILES = r"(?:table|chart|graph|spreadsheet|file|document|pdf|attachment|csv|excel sheet|slide)s?"
_TEXTS = r"(?:passage|article|text|paragraph|poem|story|essay|email|letter|review|reviews|code|excerpt|transcript)"
POINTERS = re.compile(
    rf"\b{_POINT}\s+(?:{_MEDIA}|{_FILES}|{_TEXTS})\b|\bsee (?:the )?attach(?:ed|ment)\b"
    r"|(?:这|该|以下|下面|上面|所附|附件中的)(?:张|幅|个|份|段|篇|首|些)?(?:图片|图像|照片|图表|表格|文件|文档|文章|段落|诗歌|诗|评论|代码)"
    r"|(?:この|以下の)(?:画像|写真|表|文章)",
    re.I,
)
_KIND = re.compile(rf"{_MEDIA}|图|照片|画像|写真", re.I)
_TABLE = re.compile(r"^\s*\|.*\|\s*$|^[^\n\t]+\t[^\n\t]+\t", re.M)
_LINK = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:png|jpe?g|gif|webp|bmp|svg|pdf|csv|xlsx?|docx?|txt|json|mp[34]|wav)\b", re.I
)
_ATTACH_KEYS = ("image", "images", "file", "files", "audio", "video", "videos", "attachment", "attachments")


class AttachmentParams(Params):
    min_text_words: int = Field(25, ge=1, description="a prompt shorter than this cannot hold the passage it points to")
    min_after_words: int = Field(
        12, ge=1, description="words after the pointer that are the passage even without a break before them"
    )


def _record_attaches(record: Record, turn: Turn) -> bool:
    data = record.data
    if isinstance(data, dict) and any(data.get(k) for k in _ATTACH_KEYS):
        return True
    parent = get_pointer(data, turn.field.rsplit("/", 1)[0]) if turn.field.count("/") > 1 else None
    parts = parent.get("content") if isinstance(parent, dict) else None
    return isinstance(parts, list) and any(
        isinstance(p, dict) and str(p.get("type", "")) not in ("text", "") for p in parts
    )


# the end of the instruction that holds the pointer: the passage starts after it
_CLAUSE_END = re.compile(r"[.?!:：。？！]|\n")
_THIS_MEDIA = re.compile(r"^(?:this|these|attached|the attached|the enclosed)\b|^(?:这|该|所附|附件中的|この)", re.I)


def _follows(text: str, m: re.Match[str], params: AttachmentParams) -> bool:
    """Whether the passage is there: text after the pointer's clause (even a short one: "The food was
    terrible."), a long enough rest of the prompt after the pointer, or the prompt before an "above"."""
    if "above" in m.group(0).lower() or "上面" in m.group(0):
        return word_count(text[: m.start()], 3) >= 3
    end = _CLAUSE_END.search(text, m.end())
    if end is not None and word_count(text[end.end() :], 3) >= 3:
        return True
    # an input glued to its instruction ("Categorize the below text regarding its genreThe sun was ...")
    return word_count(text[m.end() :], params.min_after_words) >= params.min_after_words


def missing(text: str, params: AttachmentParams) -> tuple[int, int] | None:
    """Span of the pointer to an absent attachment, or None."""
    m = POINTERS.search(text)
    if m is None or _LINK.search(text):
        return None
    if _KIND.search(m.group(0)) and _THIS_MEDIA.search(m.group(0)):
        if word_count(text[: m.start()], params.min_text_words * 2) >= params.min_text_words * 2:
            return None  # deep inside a long passage (a scraped page's "this image"): part of the passage
        return m.span()  # "this picture" needs a real attachment: no amount of text is one
    if _TABLE.search(text) or _follows(text, m, params):
        return None
    if not _KIND.search(m.group(0)) and word_count(text, params.min_text_words) >= params.min_text_words:
        return None
    return m.span()


class MissingAttachment(RecordCheck):
    id = "quality.missing_attachment"
    description = "A prompt about an image, table, file or passage that is not in the record."
    default_severity = Severity.WARNING
    Params = AttachmentParams
    example = (
        '{"messages": [{"role": "user", "content": "Describe this picture in detail."}, '
        '{"role": "assistant", "content": "The picture shows a red barn in a snowy field."}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        roles = self.roles if self.roles is not None else frozenset({"user"})
        earlier = 0  # words said before this turn: "this code" in a follow-up points back at them
        for turn in record.conversation.turns:
            before, earlier = earlier, earlier + word_count(turn.text, self.params.min_text_words)
            if turn.role not in roles or turn.role == "system":
                continue
            if before >= self.params.min_text_words and not _media_pointer(turn.text):
                continue
            span = missing(turn.text, self.params)
            if span is None or _record_attaches(record, turn):
                continue
            what = turn.text[span[0] : span[1]]
            yield Hit(
                f"{turn.role} refers to an attachment that is not in the record: '{_quotable(what)}'",
                field=turn.field,
                data={"spans": raw_spans(record, turn, [span])},
                fix="Add the missing image, table or text to the prompt, or drop the example.",
            )


def _media_pointer(text: str) -> bool:
    m = POINTERS.search(text)
    return m is not None and _KIND.search(m.group(0)) is not None


def _quotable(phrase: str) -> str:
    """The matched pointer phrase is built from fixed words only; collapse its whitespace."""
    return " ".join(phrase.split())[:40]


__all__: list[Any] = ["MissingAttachment", "missing"]
