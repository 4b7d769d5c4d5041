"""Shared rules for a distribution of labels (languages, categories): targets, minimums, dominance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pydantic import Field

from curate.check import Params
from curate.model import Hit


class MixParams(Params):
    """Bounds on a label mix. Shares are over records whose label is known (not in `ignore`)."""

    targets: dict[str, float] | None = None  # wanted share per label, e.g. {en: 0.6, de: 0.4}
    tolerance: float = Field(0.05, ge=0, le=1)  # allowed absolute gap between share and target
    min_count: int | None = Field(None, ge=0)  # every label (and every target) needs this many records
    min_share: float | None = Field(None, ge=0, le=1)  # a label under this share is under-represented
    max_share: float | None = Field(None, ge=0, le=1)  # a label above this share dominates
    ignore: list[str] = ["unknown"]  # labels left out of shares and minimums


MAX_RARE_HITS = 20


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def mix_hits(counts: Counter[str], p: MixParams, noun: str) -> Iterator[Hit]:
    """Dataset-level hits for a label mix; `noun` is "language" or "category"."""
    known = {k: v for k, v in counts.items() if k not in p.ignore}
    total = sum(known.values())
    if total == 0:
        return
    shares = {k: v / total for k, v in known.items()}
    if p.targets:
        for label, want in sorted(p.targets.items()):
            have = shares.get(label, 0.0)
            if abs(have - want) > p.tolerance:
                more = "more" if have < want else "fewer"
                yield Hit(
                    f"{noun} {label} is {pct(have)} of records ({known.get(label, 0):,}), "
                    f"target {pct(want)} ± {pct(p.tolerance)}",
                    data={noun: label, "count": known.get(label, 0), "share": round(have, 4), "target": want},
                    fix=f"Add {more} {label} examples, or change the target.",
                    identity=f"target:{label}",
                )
        for label, have in sorted(shares.items()):
            if label not in p.targets and have > p.tolerance:
                yield Hit(
                    f"{noun} {label} is {pct(have)} of records ({known[label]:,}) but has no target",
                    data={noun: label, "count": known[label], "share": round(have, 4), "target": 0.0},
                    fix=f"Remove these examples or give {label} a target.",
                    identity=f"untargeted:{label}",
                )
    if p.min_count is not None:
        low = {k: known.get(k, 0) for k in sorted(set(known) | set(p.targets or ())) if known.get(k, 0) < p.min_count}
        yield from _few(
            low, noun, f"fewer than {p.min_count:,} records", {"min_count": p.min_count}, "min_count", shares
        )
    if p.min_share is not None:
        low = {k: known[k] for k, have in sorted(shares.items()) if have < p.min_share}
        yield from _few(
            low, noun, f"under {pct(p.min_share)} of records", {"min_share": p.min_share}, "min_share", shares
        )
    if p.max_share is not None:
        for label, have in sorted(shares.items()):
            if have > p.max_share:
                yield Hit(
                    f"{noun} {label} dominates: {pct(have)} of records ({known[label]:,}), over {pct(p.max_share)}",
                    data={noun: label, "count": known[label], "share": round(have, 4), "max_share": p.max_share},
                    fix=f"Add examples of other {noun}s or down-sample {label}.",
                    identity=f"max_share:{label}",
                )


def _few(
    low: dict[str, int], noun: str, what: str, bound: dict[str, float], tag: str, shares: dict[str, float]
) -> Iterator[Hit]:
    """One hit per rare label; past MAX_RARE_HITS labels, one hit that names the first few."""
    if len(low) > MAX_RARE_HITS:
        examples = ", ".join(list(low)[:5])
        yield Hit(
            f"{len(low):,} {noun} values have {what} (e.g. {examples})",
            data={"labels": len(low), **bound},
            fix=f"Group rare {noun} values together, or add examples.",
            identity=f"{tag}:many",
        )
        return
    for label, n in low.items():
        yield Hit(
            f"{noun} {label} has {n:,} records ({pct(shares.get(label, 0.0))}), {what}",
            data={noun: label, "count": n, "share": round(shares.get(label, 0.0), 4), **bound},
            fix=f"Add {label} examples (or drop the few there are).",
            identity=f"{tag}:{label}",
        )


def counts_json(counts: Counter[str]) -> dict[str, int]:
    """Counts, most common first (ties by label), as plain ints for the JSON report."""
    return {k: int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}
