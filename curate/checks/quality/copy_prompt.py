"""Answers that copy the prompt: an echo teaches the model to parrot instead of answering."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import ASSISTANT, answers_to_prompts, lower_words, raw_spans, undesirable
from curate.model import Hit, Record, Severity


class CopyParams(Params):
    min_similarity: float = Field(0.97, gt=0, le=1, description="flag when answer and prompt are at least this similar")
    min_words: int = Field(4, ge=1, description="prompts and answers shorter than this are not compared")
    echo: bool = Field(True, description="also flag an answer that starts by repeating the whole prompt")


def similarity(a: Sequence[str], b: Sequence[str], floor: float = 0.0) -> float:
    """Word-level similarity in [0, 1] (difflib ratio); 0 when the cheap upper bounds are below `floor`."""
    if not a or not b:
        return 0.0
    # difflib's real_quick_ratio, before building a matcher (which indexes every word of b):
    # the lengths alone bound the ratio, and usually rule a copy out
    if 2.0 * min(len(a), len(b)) / (len(a) + len(b)) < floor:
        return 0.0
    sm = SequenceMatcher(None, a, b, autojunk=False)
    if sm.quick_ratio() < floor:
        return 0.0
    return sm.ratio()


def copied(prompt: str, answer: str, params: CopyParams) -> tuple[str, float] | None:
    p, a = lower_words(prompt), lower_words(answer)
    if len(p) < params.min_words or len(a) < params.min_words:
        return None
    if p == a:
        return "answer repeats the prompt word for word", 1.0
    if params.echo and len(a) > len(p) and a[: len(p)] == p:
        return "answer starts by repeating the whole prompt", 1.0
    ratio = similarity(p, a, params.min_similarity)
    if ratio >= params.min_similarity:
        return f"answer is {ratio:.0%} the same as the prompt", ratio
    return None


class CopiesPrompt(RecordCheck):
    id = "quality.copies_prompt"
    description = "An answer that repeats its prompt (verbatim or nearly); the model learns to parrot."
    default_severity = Severity.WARNING
    Params = CopyParams
    example = (
        '{"messages": [{"role": "user", "content": "What is the capital of France?"}, '
        '{"role": "assistant", "content": "What is the capital of France?"}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if undesirable(record):
            return
        roles = self.roles if self.roles is not None else ASSISTANT
        for prompt, turn in answers_to_prompts(record, roles):
            found = copied(prompt.text, turn.text, self.params)
            if found:
                reason, ratio = found
                yield Hit(
                    f"{turn.role} {reason}",
                    field=turn.field,
                    data={
                        "similarity": round(ratio, 4),
                        "prompt_field": prompt.field,
                        "spans": raw_spans(record, turn, [(0, len(turn.text))]),
                    },
                    fix="Write the actual answer, or drop the example.",
                )
