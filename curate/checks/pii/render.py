"""The PII section of the terminal report: counts by type, and what was not checked."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text


def render_stats(stats: dict[str, Any], report: Any, console: Console) -> None:
    line = Text("PII  ", style="bold")
    if "records_scanned" in stats:
        line.append(f"{stats.get('records_with_pii', 0)} of {stats['records_scanned']} records hold personal data")
        by = stats.get("by_entity") or {}
        if by:
            line.append("  (" + ", ".join(f"{k} {v}" for k, v in by.items()) + ")", style="dim")
    if "records_with_secrets" in stats:
        line.append(f"; {stats['records_with_secrets']} hold secrets")
        by = stats.get("secrets_by_type") or {}
        if by:
            line.append("  (" + ", ".join(f"{k} {v}" for k, v in by.items()) + ")", style="dim")
    console.print(line)
    if stats.get("active_entities"):
        console.print(Text(f"     checked: {', '.join(stats['active_entities'])}", style="dim"))
    if stats.get("unavailable_entities"):
        console.print(
            Text(
                f"     not checked: {stats.get('how_to_enable', ', '.join(stats['unavailable_entities']))}",
                style="yellow",
            )
        )
