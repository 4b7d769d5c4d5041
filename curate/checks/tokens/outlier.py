"""Examples far longer than the rest of the dataset (by a robust z-score of log length)."""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from curate.check import DatasetCheck, Params, RecordRef, RunState
from curate.checks.tokens._common import TokenCheckMixin
from curate.model import Hit, Record, Severity

MAD_SCALE = 1.4826  # makes the median absolute deviation estimate a normal distribution's sigma


class OutlierParams(Params):
    z: float = Field(
        default=3.5, gt=0, description="Robust z-score of log(tokens) above which an example is an outlier."
    )
    min_records: int = Field(default=20, ge=3, description="Below this many examples nothing is called an outlier.")
    max_findings: int = Field(default=200, ge=1, description="List at most this many outliers (the longest).")


def threshold(tokens: Iterable[int], z: float) -> tuple[float, float] | None:
    """(token threshold, median) for robust z-score > z on log(tokens); None when lengths do not vary."""
    logs = sorted(math.log(max(t, 1)) for t in tokens)
    if not logs:
        return None
    med = _median(logs)
    mad = _median(sorted(abs(x - med) for x in logs))
    if mad == 0:
        return None
    return math.exp(med + z * MAD_SCALE * mad), math.exp(med)


def _median(s: list[float]) -> float:
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


class LengthOutlier(TokenCheckMixin, DatasetCheck):
    """Rule: z = (ln t - median(ln t)) / (1.4826 * MAD(ln t)) > 3.5 (Iglewicz-Hoaglin), on log lengths
    because lengths are skewed; a z of 3.5 with typical spreads means several times the median length."""

    id = "tokens.outlier"
    description = "An example far longer than the rest (robust z of log tokens > 3.5): a pasted document?"
    default_severity = Severity.INFO
    Params = OutlierParams
    example = "one 20,000-token example among 300-token ones"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = array("q")
        self.top: list[tuple[int, str, int, str]] = []  # min-heap of the longest: (tokens, path, line, key)

    def extract(self, record: Record) -> Any:
        c = self.counts(record)
        return None if c is None or isinstance(c, str) else c.tokens

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        if extracted is None:
            return
        self.tokens.append(extracted)
        item = (extracted, ref.path, ref.line, ref.key)
        if len(self.top) < self.params.max_findings:
            heapq.heappush(self.top, item)
        elif item > self.top[0]:
            heapq.heapreplace(self.top, item)

    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, LengthOutlier)
        self.tokens.extend(other.tokens)
        for item in other.top:
            if len(self.top) < self.params.max_findings:
                heapq.heappush(self.top, item)
            elif item > self.top[0]:
                heapq.heapreplace(self.top, item)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        if len(self.tokens) < self.params.min_records:
            return
        found = threshold(self.tokens, self.params.z)
        if found is None:
            return
        limit, median = found
        above = sum(1 for t in self.tokens if t > limit)
        listed = sorted((x for x in self.top if x[0] > limit), key=lambda x: (x[1], x[2]))
        for tokens, path, line, key in listed:
            yield Hit(
                f"{tokens:,} tokens, {tokens / median:.1f}x the median of {median:,.0f} "
                f"(outlier above {limit:,.0f} tokens)",
                data={"tokens": tokens, "median": round(median, 1), "threshold": round(limit, 1)},
                fix="Is it meant to be this long (a pasted document? a runaway answer?) Shorten, split or drop it.",
                path=path,
                line=line,
                key=key,
            )
        if above > len(listed):
            yield Hit(
                f"{above - len(listed):,} more examples above {limit:,.0f} tokens not listed",
                data={"count": above - len(listed)},
                identity="more",
            )
