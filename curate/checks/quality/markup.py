"""Leftovers of scraping and templating: HTML tags and entities, prompt-template markers
(`### Response:`) and wiki debris (`[edit]`).

A model trained on `&amp;` or `<br>` in answers writes them back. Code is skipped, and HTML
tags are allowed when the conversation is about HTML/XML. Chat-template tokens such as
`<|im_end|>` are `schema.special_tokens`' business.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import clip, code_spans, fix_string, inside, raw_spans, turns
from curate.model import Hit, Record, Severity

_TAGS = (
    "a|abbr|b|blockquote|body|br|center|code|dd|div|dl|dt|em|font|h[1-6]|head|hr|html|i|iframe|img|li|meta|nav|ol|p|"
    "pre|script|small|span|strong|style|sub|sup|table|tbody|td|th|thead|title|tr|u|ul"
)
KINDS: dict[str, str] = {
    "html_tag": rf"</?(?:{_TAGS})(?:\s[^<>\n]{{0,200}})?\s*/?>",
    "html_entity": r"&(?:amp|lt|gt|quot|apos|nbsp|ndash|mdash|hellip|rsquo|lsquo|rdquo|ldquo"
    r"|#\d{2,6}|#x[0-9a-fA-F]{2,5});",
    "template_marker": r"^#{2,4} ?(?:Instruction|Response|Input|Human|Assistant)s?:?[ \t]*$"
    r"|^(?:Human|Assistant|USER|ASSISTANT):[ \t]",
    "wiki_debris": r"\[(?:edit|citation needed|clarification needed|dead link)\]",
}
# lookarounds, not \b: in Chinese text "的HTML标签" has no word boundary
_HTML_TOPIC = re.compile(
    r"(?<![A-Za-z])(?:html|xml|svg|markup|tags?|web ?page|website|dom|jsx|tsx|css|xhtml|element|scrap\w*"
    r"|react|php|vue|angular|svelte|component|frontend|front-end)(?![A-Za-z])",
    re.I,
)
CHAT_ROLES = frozenset({"system", "user", "assistant"})


class MarkupParams(Params):
    kinds: list[str] = Field(default_factory=lambda: list(KINDS), description="which artefacts: " + ", ".join(KINDS))
    skip_code: bool = Field(True, description="ignore fenced and inline code")
    min_tags: int = Field(1, ge=1, description="HTML tags needed to flag a turn")


# strings each kind needs (any of them, case as written: the patterns are case-sensitive): texts
# without one skip that regex
_GATE = {
    "html_tag": ("<",),
    "html_entity": ("&",),
    "template_marker": ("##", "Human:", "Assistant:", "USER:", "ASSISTANT:"),
    "wiki_debris": ("[",),
}
_COMPILED = {k: re.compile(p, re.M) for k, p in KINDS.items()}


def artefacts(text: str, params: MarkupParams, html_ok: bool = False) -> dict[str, list[tuple[int, int]]]:
    code: list[tuple[int, int]] | None = None
    out: dict[str, list[tuple[int, int]]] = {}
    for kind in params.kinds:
        pattern = _COMPILED.get(kind)
        if pattern is None or (kind == "html_tag" and html_ok) or not any(map(text.__contains__, _GATE[kind])):
            continue
        matches = [m.span() for m in pattern.finditer(text)]
        if matches and code is None:
            code = code_spans(text) if params.skip_code else []
        spans = [s for s in matches if not inside(s[0], code or [])]
        if kind == "html_tag" and len(spans) < params.min_tags:
            continue
        if spans:
            out[kind] = spans
    return out


_TAG_NAME = re.compile(r"</?\w+")


def _example(kind: str, matched: str) -> str:
    """What a message may quote: a tag by its name only (attributes can hold addresses)."""
    if kind == "html_tag":
        m = _TAG_NAME.match(matched)
        return (m.group(0) if m else "<tag") + ">"
    return clip(matched, 30)


def _unescape_outside_code(text: str) -> str:
    code = code_spans(text)
    return _COMPILED["html_entity"].sub(
        lambda m: m.group(0) if inside(m.start(), code) else html.unescape(m.group(0)), text
    )


class Markup(RecordCheck):
    id = "quality.markup"
    description = "Leftover HTML tags or entities, prompt-template markers or wiki debris in text."
    default_severity = Severity.WARNING
    Params = MarkupParams
    example = (
        '{"messages": [{"role": "user", "content": "Say hi"}, '
        '{"role": "assistant", "content": "Hi &amp; welcome!<br>"}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        conv = record.conversation
        selected = turns(self, record, CHAT_ROLES)
        # whether the conversation is about HTML matters only where a tag can be: a text with '<'
        html_ok = (
            "html_tag" in self.params.kinds
            and any("<" in t.text for t in selected)
            and any(_HTML_TOPIC.search(t.text) for t in conv.turns if t.role != "tool")
        )
        for turn in selected:
            found = artefacts(turn.text, self.params, html_ok)
            if not found:
                continue
            kinds = sorted(found)
            examples = sorted({_example(kind, turn.text[s:e]) for kind, v in found.items() for s, e in v})[:3]
            yield Hit(
                f"{turn.role} text has {', '.join(k.replace('_', ' ') for k in kinds)}: {', '.join(examples)}",
                field=turn.field,
                data={
                    "kinds": kinds,
                    "examples": examples,
                    "spans": raw_spans(record, turn, sorted(s for v in found.values() for s in v)),
                    "fixable": kinds == ["html_entity"],
                },
                fix="Unescape the entities (curate can apply this fix)."
                if kinds == ["html_entity"]
                else "Clean the text: strip the markup or template tokens.",
                identity=",".join(kinds),
            )

    def fix(self, data: dict[str, Any], finding: Any) -> dict[str, Any] | None:
        """Only entities are fixed automatically (unescaped outside code); tags need a human."""
        if (getattr(finding, "data", None) or {}).get("kinds") != ["html_entity"]:
            return None
        return fix_string(data, finding, _unescape_outside_code)
