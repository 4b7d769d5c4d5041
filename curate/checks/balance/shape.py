"""Shape of the data: length, turns per example, system-prompt variety, repeated answer openings.

Each is a statistic first (under `stats.balance` in the JSON report); parameters turn it into
findings, e.g. `max_chars` for over-long examples or `max_share` for an opening that a third of
all answers start with ("As an AI language model, ...").
"""

from __future__ import annotations

import abc
import hashlib
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.checks.balance._numbers import describe, log2_histogram
from curate.display import shown
from curate.model import Hit, Record, Severity

MAX_KEPT = 100_000  # out-of-bound records remembered for findings
_WORD = re.compile(r"\w[\w'-]*", re.UNICODE)
_SPACE = re.compile(r"\s+")


class _Bounded(DatasetCheck, abc.ABC):
    """A per-record number with optional bounds; findings name each record outside them."""

    noun: str = ""
    unit: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.values = array("q")
        self.outside: list[tuple[str, int, str, str | None, int]] = []
        self.outside_count = 0

    @abc.abstractmethod
    def bounds(self) -> tuple[int | None, int | None]:
        """(min, max) allowed, None for no bound."""

    @abc.abstractmethod
    def measure(self, record: Record) -> tuple[int, str | None]:
        """(value, field it was measured on)."""

    def extract(self, record: Record) -> tuple[int, str | None]:
        value, field = self.measure(record)
        record.stats[self.noun] = value  # a column of the stats table
        return value, field

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        value, field = extracted
        self.values.append(value)
        lo, hi = self.bounds()
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.outside_count += 1
            if len(self.outside) < MAX_KEPT:
                self.outside.append((ref.path, ref.line, ref.key, field, value))

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, _Bounded)
        self.values.extend(other.values)
        self.outside.extend(other.outside[: MAX_KEPT - len(self.outside)])
        self.outside_count += other.outside_count

    def finalize(self, run: RunState) -> Iterable[Hit]:
        lo, hi = self.bounds()
        for path, line, key, field, value in self.outside:
            low = lo is not None and value < lo
            bound = lo if low else hi
            yield Hit(
                f"{value:,} {self.unit}, {'under the minimum' if low else 'over the maximum'} of {bound:,}",
                field=field,
                data={self.noun: value, "min" if low else "max": bound},
                fix="Split or trim it." if not low else "Extend it or drop it.",
                line=line,
                key=key,
                path=path,
            )


class LengthParams(Params):
    min_chars: int | None = Field(None, ge=0)  # examples shorter than this (all turns together)
    max_chars: int | None = Field(None, ge=1)


class Length(_Bounded):
    id = "balance.length"
    description = "Characters per example (all turns): distribution, and examples outside the bounds you set."
    default_severity = Severity.INFO
    Params = LengthParams
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}'
    noun = "chars"
    unit = "characters"

    def bounds(self) -> tuple[int | None, int | None]:
        return self.params.min_chars, self.params.max_chars  # type: ignore[attr-defined]

    def measure(self, record: Record) -> tuple[int, str | None]:
        return sum(len(t.text) for t in record.conversation.turns), None

    def summary(self) -> dict[str, Any]:
        return {
            "length": {
                "unit": "chars",
                **describe(self.values),
                "histogram": log2_histogram(self.values),
                "outside": self.outside_count,
            }
        }


class TurnsParams(Params):
    min_turns: int | None = Field(None, ge=0)  # user + assistant + tool turns (system not counted)
    max_turns: int | None = Field(None, ge=1)


class Turns(_Bounded):
    id = "balance.turns"
    description = "Turns per example (system not counted): single-turn-only data teaches no follow-ups."
    default_severity = Severity.INFO
    Params = TurnsParams
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}'
    noun = "turns"
    unit = "turns"

    def bounds(self) -> tuple[int | None, int | None]:
        return self.params.min_turns, self.params.max_turns  # type: ignore[attr-defined]

    def measure(self, record: Record) -> tuple[int, str | None]:
        return sum(1 for t in record.conversation.turns if t.role != "system"), None

    def summary(self) -> dict[str, Any]:
        counts = Counter(int(v) for v in self.values)
        return {
            "turns": {
                **describe(self.values),
                "counts": {str(k): counts[k] for k in sorted(counts)},
                "outside": self.outside_count,
            }
        }


def _short(text: str, limit: int = 100) -> str:
    """A system prompt or opening as kept and shown: masked, escaped, bounded (`curate.display`)."""
    return shown(_SPACE.sub(" ", text).strip(), limit)


class SystemPromptParams(Params):
    min_distinct: int | None = Field(None, ge=1)  # fewer distinct system prompts than this: a finding
    max_share: float | None = Field(None, ge=0, le=1)  # one system prompt on more than this share of examples
    top: int = Field(10, ge=1, le=100)  # how many prompts the report lists


class SystemPrompts(DatasetCheck):
    id = "balance.system_prompts"
    description = "System-prompt variety: one prompt everywhere teaches the model to need it verbatim."
    default_severity = Severity.INFO
    Params = SystemPromptParams
    example = (
        '{"messages": [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "hi"}, '
        '{"role": "assistant", "content": "ok"}]}'
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, str] = {}
        self.without = 0

    def extract(self, record: Record) -> tuple[str, str] | None:
        system = next((t.text for t in record.conversation.turns if t.role == "system" and t.text.strip()), None)
        if system is None:
            return None
        digest = hashlib.blake2b(_SPACE.sub(" ", system).strip().encode(), digest_size=8).hexdigest()
        return digest, _short(system)

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        if extracted is None:
            self.without += 1
            return
        digest, sample = extracted
        self.counts[digest] += 1
        self.samples.setdefault(digest, sample)

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, SystemPrompts)
        self.counts.update(other.counts)
        for k, v in other.samples.items():
            self.samples.setdefault(k, v)
        self.without += other.without

    def finalize(self, run: RunState) -> Iterable[Hit]:
        p: SystemPromptParams = self.params  # type: ignore[assignment]
        total = sum(self.counts.values()) + self.without
        if p.min_distinct is not None and self.counts and len(self.counts) < p.min_distinct:
            yield Hit(
                f"only {len(self.counts):,} distinct system prompt(s), fewer than {p.min_distinct:,}",
                data={"distinct": len(self.counts), "min_distinct": p.min_distinct},
                fix="Vary the system prompt (paraphrases, personas) so the model does not need one exact wording.",
                identity="min_distinct",
            )
        if p.max_share is not None and total:
            for digest, n in self.counts.most_common():
                if n / total <= p.max_share:
                    break
                yield Hit(
                    f"one system prompt is on {100 * n / total:.1f}% of examples ({n:,}): "
                    f'"{_short(self.samples[digest], 60)}"',
                    data={"count": n, "share": round(n / total, 4), "max_share": p.max_share, "prompt_hash": digest},
                    fix="Vary the system prompt, or drop it if it adds nothing.",
                    identity=f"max_share:{digest}",
                )

    def summary(self) -> dict[str, Any]:
        p: SystemPromptParams = self.params  # type: ignore[assignment]
        top = [{"text": self.samples[d], "count": n} for d, n in self.counts.most_common(p.top)]
        return {
            "system_prompts": {
                "distinct": len(self.counts),
                "with": sum(self.counts.values()),
                "without": self.without,
                "top": top,
            }
        }


class OpeningParams(Params):
    words: int = Field(4, ge=1, le=20)  # an opening is the first N words of an answer
    max_share: float | None = Field(None, ge=0, le=1)  # an opening on more than this share of answers
    min_count: int = Field(20, ge=1)  # ... and on at least this many (small datasets repeat by chance)
    top: int = Field(10, ge=1, le=100)


class Openings(DatasetCheck):
    id = "balance.openings"
    description = 'Repeated answer openings ("As an AI language model, ..."): the model learns the tic.'
    default_severity = Severity.INFO
    Params = OpeningParams
    example = (
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Certainly! Here is ..."}]}'
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counts: Counter[str] = Counter()
        self.answers = 0

    def extract(self, record: Record) -> list[str]:
        n = self.params.words  # type: ignore[attr-defined]
        out = []
        for t in record.conversation.turns:
            if t.role == "assistant" and t.text.strip():
                words = _WORD.findall(t.text[:300].lower())[:n]
                if words:
                    out.append(_short(" ".join(words)))
        return out

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        self.answers += len(extracted)
        self.counts.update(extracted)

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, Openings)
        self.counts.update(other.counts)
        self.answers += other.answers

    def finalize(self, run: RunState) -> Iterable[Hit]:
        p: OpeningParams = self.params  # type: ignore[assignment]
        if p.max_share is None or not self.answers:
            return
        for opening, n in self.counts.most_common():
            if n / self.answers <= p.max_share:
                break
            if n < p.min_count:
                continue
            yield Hit(
                f'{100 * n / self.answers:.1f}% of answers ({n:,}) start with "{opening}"',
                data={"opening": opening, "count": n, "share": round(n / self.answers, 4), "max_share": p.max_share},
                fix="Rewrite some openings so the model does not learn one stock phrase.",
                identity=f"opening:{opening}",
            )

    def summary(self) -> dict[str, Any]:
        p: OpeningParams = self.params  # type: ignore[assignment]
        top = [{"text": o, "count": n} for o, n in self.counts.most_common(p.top) if n > 1]
        return {"openings": {"answers": self.answers, "distinct": len(self.counts), "words": p.words, "top": top}}
