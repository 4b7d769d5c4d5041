"""Terminal section for `stats.dedup`: the similarity histogram users read to pick a threshold."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text


def render_stats(stats: dict[str, Any], report: Any, console: Console) -> None:
    near = stats.get("near")
    if near:
        console.print()
        console.print(
            Text(
                f"near-duplicates: {_drop(report, 'near')} at threshold "
                f"{near['threshold']} ({near['candidate_pairs']:,} LSH candidates, {near['false_candidates']:,} "
                f"rejected by exact Jaccard; {near['from_cache']:,} signatures from cache)",
                style="bold",
            )
        )
        _histogram(near, console)
    if stats.get("exact"):
        console.print(Text(f"exact duplicates: {_drop(report, 'exact')}", style="bold"))
    if stats.get("exact") or near:
        total = report.duplicate_counts()
        console.print(
            Text(
                f"duplicates in all: {_records(total['would_drop'])} to drop in {_clusters(total['clusters'])} "
                "(curate export --drop-duplicates)",
                style="bold",
            )
        )
    block = stats.get("contamination")
    if block:
        kinds = ", ".join(f"{block[k]:,} {label}" for k, label in _EVAL_KINDS if block.get(k))
        console.print(
            Text(f"evaluation copies: {block.get('contaminated', 0):,}{f' ({kinds})' if kinds else ''}", style="bold")
        )
    prompt = stats.get("prompt")
    if prompt and (prompt["conflicting_prompts"] or prompt["repeated_answers"]):
        console.print(
            Text(
                f"prompts with conflicting answers: {prompt['conflicting_prompts']:,}; "
                f"answers repeated across prompts: {prompt['repeated_answers']:,}",
                style="bold",
            )
        )


_EVAL_KINDS = (("exact", "exact"), ("near", "near"), ("ngram", "holding a span"))


def _histogram(block: dict[str, Any], console: Console, width: int = 40) -> None:
    hist = block.get("nearest_similarity") or {}
    counts = hist.get("counts") or []
    if not any(counts):
        return
    top = max(counts)
    console.print(Text("  each record's closest match (verified Jaccard):", style="dim"))
    for label, count in zip(hist["bins"], counts, strict=True):
        if count == 0 and label < "0.30":
            continue
        bar = "█" * max(1 if count else 0, round(width * count / top))
        mark = " ◀ threshold" if label.startswith(f"{block['threshold']:.2f}") else ""
        console.print(Text(f"  {label} {count:>8,} {bar}{mark}"))


def _records(n: int) -> str:
    return f"{n:,} record{'' if n == 1 else 's'}"


def _clusters(n: int) -> str:
    return f"{n:,} cluster{'' if n == 1 else 's'}"


def _drop(report: Any, kind: str) -> str:
    """'N records to drop in M clusters', counted as every output counts them."""
    k = report.duplicate_counts()["by_kind"].get(kind, {"clusters": 0, "would_drop": 0})
    return f"{_records(k['would_drop'])} to drop in {_clusters(k['clusters'])}"
