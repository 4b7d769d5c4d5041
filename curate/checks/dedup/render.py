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
                f"near-duplicates: {near['duplicates']:,} records in {near['clusters']:,} clusters at threshold "
                f"{near['threshold']} ({near['candidate_pairs']:,} LSH candidates, {near['false_candidates']:,} "
                f"rejected by exact Jaccard; {near['from_cache']:,} signatures from cache)",
                style="bold",
            )
        )
        _histogram(near, console)
    for kind, label in (("exact", "exact duplicates"), ("contamination", "evaluation copies")):
        block = stats.get(kind)
        if block:
            n = block.get("duplicates", block.get("contaminated", 0))
            console.print(Text(f"{label}: {n:,}", style="bold"))
    prompt = stats.get("prompt")
    if prompt and (prompt["conflicting_prompts"] or prompt["repeated_answers"]):
        console.print(
            Text(
                f"prompts with conflicting answers: {prompt['conflicting_prompts']:,}; "
                f"answers repeated across prompts: {prompt['repeated_answers']:,}",
                style="bold",
            )
        )


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
