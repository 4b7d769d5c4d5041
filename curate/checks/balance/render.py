"""The balance section of the terminal report: the language and category mix, shape in one line each."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

TOP = 6


def _mix(counts: dict[str, int], targets: dict[str, float]) -> str:
    known = {k: v for k, v in counts.items() if k != "unknown"}
    total = sum(known.values()) or 1
    parts = []
    for label, n in list(known.items())[:TOP]:
        target = f" (target {100 * targets[label]:.0f}%)" if label in targets else ""
        parts.append(f"{label} {100 * n / total:.1f}%{target}")
    if len(known) > TOP:
        parts.append(f"+{len(known) - TOP} more")
    if counts.get("unknown"):
        parts.append(f"unknown {counts['unknown']:,} records")
    return ", ".join(parts)


def render_stats(stats: dict[str, Any], report: Any, console: Console) -> None:
    """Called by the terminal reporter with `report.stats['balance']`."""
    lines: list[tuple[str, str]] = []
    if stats.get("languages"):
        cfg = stats.get("language") or {}
        mism = f"; {cfg['mismatched']:,} question/answer language mismatches" if cfg.get("mismatched") else ""
        lines.append(("languages", _mix(stats["languages"], cfg.get("targets") or {}) + mism))
    if stats.get("categories"):
        cfg = stats.get("category") or {}
        how = f"field {cfg['field']}" if cfg.get("field") else f"by {cfg.get('by')}"
        lines.append((f"categories ({how})", _mix(stats["categories"], cfg.get("targets") or {})))
    length = stats.get("length") or {}
    if length.get("count"):
        lines.append(("characters", f"median {length['p50']:,}, p90 {length['p90']:,}, max {length['max']:,}"))
    turns = stats.get("turns") or {}
    if turns.get("count"):
        lines.append(("turns", ", ".join(f"{k}: {v:,}" for k, v in list((turns.get("counts") or {}).items())[:8])))
    prompts = stats.get("system_prompts") or {}
    if prompts:
        lines.append(
            (
                "system prompts",
                f"{prompts.get('distinct', 0):,} distinct; {prompts.get('without', 0):,} records without",
            )
        )
    openings = stats.get("openings") or {}
    if openings.get("top"):
        top = "; ".join(f'"{o["text"]}" {o["count"]:,}' for o in openings["top"][:3])
        lines.append(("answer openings", top))
    if not lines:
        return
    console.print()
    for name, value in lines:
        line = Text(f"{name}: ", style="bold")
        line.append(value)
        console.print(line, soft_wrap=True)
