"""Answers that hand back the task's input unchanged: a translation or rewrite never done.

`quality.copies_prompt` compares the answer with the whole prompt. Here the prompt is an
instruction around an input ("Rewrite this sentence in the passive voice: ...", an Alpaca `input`,
a quoted passage) and the answer is that input, word for word, although the instruction asked to
change it. Measured on a translated instruction set: 111 of 10k answers were the untranslated input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._params import Regex, alternation
from curate.checks.quality._text import ASSISTANT, answers_to_prompts, lower_words, raw_spans, undesirable
from curate.model import Hit, Record, Severity

# instructions that ask for the input to come back changed
TRANSFORMS = (
    r"\b(?:translat|rewrit|re-writ|rephras|paraphras|reword|correct|fix|edit|proofread|improv|simplif|shorten"
    r"|summari[sz]|condens|convert|transform|change|modif|revis|polish|formali[sz]|capitali[sz]|punctuat)",
    r"\bmake (?:it|this|the (?:sentence|text|paragraph)) (?:more|less|sound)\b",
    r"\b(?:in|into|to) (?:the )?(?:passive|active|past|future|present) (?:voice|tense)\b",
    r"traduc|tradu[zi]|übersetz|umschreib|réécri|reformul|corrig|翻译|翻譯|改写|改寫|润色|修改|纠正|번역|翻訳",
)
# where an input starts: a blank line, a line break after a colon, a quote
_SEGMENTS = re.compile(r"\n\s*\n|:\s*\n|\n(?=(?:input|text|sentence|passage)\s*:)", re.I)
_QUOTED = re.compile(r"[\"“«「『]([^\"“”«»「」『』\n]{12,}?)[\"”»」』]")
_LABEL = re.compile(r"^\s*(?:input|text|sentence|passage|输入|原文)\s*[:：]\s*", re.I)


class RepeatsInputParams(Params):
    min_words: int = Field(4, ge=1, description="inputs shorter than this are not compared (a word may stay the same)")
    transforms: list[Regex] = Field(
        default_factory=lambda: list(TRANSFORMS),
        description="regexes (case-insensitive): instructions that ask for the input to be changed",
    )


# a quote the prompt asks to be output ('if there is no answer, output "Not enough information."')
_ASKED_OUTPUT = re.compile(r"(?:output|answer|reply|respond|say|write|return|print|type)\w*\s*(?:with|:)?\s*$", re.I)


def inputs(prompt: str) -> list[str]:
    """The parts of a prompt that may be the task's input: segments after the first, quoted text
    (not a quote the prompt asks to be output word for word)."""
    parts = [_LABEL.sub("", p) for p in _SEGMENTS.split(prompt)[1:] if p.strip()]
    parts += [
        m.group(1)
        for m in _QUOTED.finditer(prompt)
        if not _ASKED_OUTPUT.search(prompt, max(0, m.start() - 40), m.start())
    ]
    return parts


def _same_text(text: str) -> str:
    """The text with its spacing collapsed: case and punctuation count, since adding a comma or a
    capital is the whole change a proofreading task asks for."""
    return " ".join(text.split())


def repeated_input(prompt: str, answer: str, params: RepeatsInputParams) -> bool:
    if len(lower_words(answer)) < params.min_words:
        return False
    a = _same_text(answer)
    for part in inputs(prompt):
        if _same_text(part) == a:
            instruction = prompt.replace(part, " ")
            wants_change = alternation(tuple(params.transforms))
            return wants_change is not None and wants_change.search(instruction) is not None
    return False


class RepeatsInput(RecordCheck):
    id = "quality.repeats_input"
    description = "An answer that is the task's input unchanged (a translation or rewrite never done)."
    default_severity = Severity.WARNING
    Params = RepeatsInputParams
    example = (
        '{"instruction": "Rewrite the sentence in the passive voice.", "input": "The cat chased the mouse around the '
        'garden.", "output": "The cat chased the mouse around the garden."}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if undesirable(record):
            return
        roles = self.roles if self.roles is not None else ASSISTANT
        for prompt, turn in answers_to_prompts(record, roles):
            if repeated_input(prompt.text, turn.text, self.params):
                yield Hit(
                    f"{turn.role} answer repeats the task's input unchanged",
                    field=turn.field,
                    data={"prompt_field": prompt.field, "spans": raw_spans(record, turn, [(0, len(turn.text))])},
                    fix="Write the translated or rewritten text, or drop the example.",
                )
