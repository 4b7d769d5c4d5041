"""Encoding damage: mojibake (`Ã©` for `é`), replacement characters and stray control characters.

Mojibake is text decoded with the wrong charset somewhere upstream; the model learns to write
it. ftfy (a well-kept library) both detects it and repairs it safely, so the fix is offered
whenever ftfy's repair changes the text. U+FFFD means the original bytes are lost: no fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import fix_string, raw_spans, turns
from curate.model import Hit, Record, Severity

# C0 controls except tab/newline/carriage return, DEL, C1 controls, a BOM inside the text
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
_REPLACEMENT = re.compile("\ufffd+")
# characters that mojibake is made of (Latin-1 supplement and the cp1252 extras); a cheap gate
_SUSPECT = re.compile(
    "[\u00c0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2018-\u2022\u2026\u2030\u20ac\u2122]"
)


class EncodingParams(Params):
    mojibake: bool = Field(True, description="flag text decoded with the wrong charset (via ftfy)")
    replacement_chars: bool = Field(True, description="flag U+FFFD replacement characters")
    control_chars: bool = Field(True, description="flag C0/C1 control characters other than tab and newlines")


def _mojibake_spans(text: str) -> list[tuple[int, int]]:
    if not _SUSPECT.search(text):
        return []
    from ftfy import fix_encoding
    from ftfy.badness import BADNESS_RE, is_bad

    if not is_bad(text) or fix_encoding(text) == text:
        return []
    return [m.span() for m in BADNESS_RE.finditer(text)] or [(0, 0)]


def damage(text: str, params: EncodingParams) -> dict[str, list[tuple[int, int]]]:
    """Spans of each kind of damage found in a text."""
    out: dict[str, list[tuple[int, int]]] = {}
    if params.mojibake and text.isascii() is False:
        spans = _mojibake_spans(text)
        if spans:
            out["mojibake"] = spans
    if params.replacement_chars and "\ufffd" in text:
        out["replacement character"] = [m.span() for m in _REPLACEMENT.finditer(text)]
    if params.control_chars:
        spans = [m.span() for m in _CONTROL.finditer(text)]
        if spans:
            out["control character"] = spans
    return out


def repair(text: str) -> str:
    """What the fix does: ftfy's mojibake repair, then control characters removed."""
    from ftfy import fix_encoding

    return _CONTROL.sub("", fix_encoding(text))


class EncodingDamage(RecordCheck):
    id = "quality.encoding_damage"
    description = (
        "Mojibake (Ã© for é), U+FFFD replacement characters or stray control characters: text broken upstream."
    )
    default_severity = Severity.WARNING
    Params = EncodingParams
    example = '{"messages": [{"role": "user", "content": "Say café"}, {"role": "assistant", "content": "cafÃ©"}]}'

    def check(self, record: Record) -> Iterable[Hit]:
        for turn in turns(self, record, None, rejected=True):
            found = damage(turn.text, self.params)
            if not found:
                continue
            kinds = sorted(found)
            fixable = "replacement character" not in found
            yield Hit(
                f"{turn.role} text has {', '.join(kinds)}",
                field=turn.field,
                data={
                    "kinds": kinds,
                    "count": sum(len(v) for v in found.values()),
                    "spans": raw_spans(record, turn, sorted(s for v in found.values() for s in v if s[1] > s[0])),
                    "fixable": fixable,
                },
                fix="Repair the text with ftfy (curate can apply this fix)."
                if fixable
                else "Recover the original text; U+FFFD means the bytes are lost.",
                identity=",".join(kinds),
            )

    def fix(self, data: dict[str, Any], finding: Any) -> dict[str, Any] | None:
        """Repair mojibake and drop control characters; None when U+FFFD makes it unsafe."""
        if "replacement character" in (getattr(finding, "data", None) or {}).get("kinds", ()):
            return None
        return fix_string(data, finding, repair)
