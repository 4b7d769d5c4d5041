"""Degenerate repetition: the same phrase over and over, a classic sign of broken generation.

Two measures, both cheap: the share of words that sit inside a word n-gram seen earlier in
the same text, and how well the text compresses (zlib; repetitive text compresses far
better than prose). Either one past its threshold flags the turn.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality._text import ASSISTANT, lower_words, raw_spans, turns, undesirable, without_code
from curate.model import Hit, Record, Severity

_WORD = re.compile(r"\w+", re.U)


class RepetitionParams(Params):
    n: int = Field(5, ge=2, le=20, description="word n-gram length")
    max_repeated_share: float = Field(
        0.6, gt=0, le=1, description="flag when more than this share of words is in repeated n-grams"
    )
    min_compression_ratio: float = Field(
        0.15, ge=0, lt=1, description="flag when zlib compresses the text below this fraction of its size"
    )
    min_words: int = Field(40, ge=1, description="shorter texts are not measured")
    skip_code: bool = Field(True, description="n-grams ignore code (code and tables repeat by nature)")


def repeated(tokens: Sequence[str], n: int) -> list[bool]:
    """For each token: is it inside an n-gram that already occurred earlier in the text?"""
    covered = [False] * len(tokens)
    grams = list(zip(*(tokens[i:] for i in range(n)), strict=False))  # grams[i] == tuple(tokens[i : i + n])
    if len(set(grams)) == len(grams):
        return covered  # no n-gram occurs twice (most texts): no need to walk them
    seen: set[tuple[str, ...]] = set()
    for i, gram in enumerate(grams):
        if gram in seen:
            for j in range(i, i + n):
                covered[j] = True
        else:
            seen.add(gram)
    return covered


def repeated_share(tokens: Sequence[str], n: int) -> float:
    """Share of tokens covered by an n-gram that already occurred earlier in the text."""
    return sum(repeated(tokens, n)) / len(tokens) if tokens else 0.0


def compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(zlib.compress(raw, 6)) / len(raw) if raw else 1.0


def measure(text: str, params: RepetitionParams) -> tuple[float, float, list[tuple[int, int]]] | None:
    """(repeated n-gram share, compression ratio, spans of the repeated runs), or None when the
    text is too short to judge."""
    if len(text.split(None, params.min_words - 1)) < params.min_words:  # counts words up to min_words
        return None
    ratio = compression_ratio(text)
    if params.skip_code:
        text = without_code(text)  # blanked, so offsets still point into the original
    tokens = lower_words(text)
    if len(tokens) < params.min_words:
        return 0.0, ratio, []
    covered = repeated(tokens, params.n)
    spans: list[tuple[int, int]] = []
    if not any(covered):
        return 0.0, ratio, spans
    matches = list(_WORD.finditer(text))  # the same words as `tokens`, with their offsets
    for m, c in zip(matches, covered, strict=True):
        if not c:
            continue
        if spans and not text[spans[-1][1] : m.start()].strip(" \t\n.,;:!?"):
            spans[-1] = (spans[-1][0], m.end())
        else:
            spans.append(m.span())
    return sum(covered) / len(matches), ratio, spans


class Repetition(RecordCheck):
    id = "quality.repetition"
    description = "Degenerate repetition (a phrase repeated many times); the model learns to loop."
    default_severity = Severity.WARNING
    Params = RepetitionParams
    example = (
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "'
        + "I am fine. " * 30
        + '"}]}'
    )

    def check(self, record: Record) -> Iterable[Hit]:
        if undesirable(record):
            return
        worst = 0.0
        for turn in turns(self, record, ASSISTANT, rejected=False):
            m = measure(turn.text, self.params)
            if m is None:
                continue
            share, ratio, spans = m
            worst = max(worst, share)
            reasons = []
            if share > self.params.max_repeated_share:
                reasons.append(f"{share:.0%} of words are in repeated {self.params.n}-grams")
            if ratio < self.params.min_compression_ratio:
                reasons.append(f"compresses to {ratio:.0%} of its size")
            if reasons:
                yield Hit(
                    f"{turn.role} text repeats itself: {'; '.join(reasons)}",
                    field=turn.field,
                    data={
                        "repeated_share": round(share, 4),
                        "compression_ratio": round(ratio, 4),
                        "spans": raw_spans(record, turn, spans),
                    },
                    fix="Drop the example or cut the repeated part.",
                )
        record.stats["repetition"] = round(worst, 4)
