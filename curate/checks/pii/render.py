"""The PII section of the terminal report: counts by type, and what was not checked."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text


def _counts(by: dict[str, int]) -> str:
    return "  (" + ", ".join(f"{k} {v}" for k, v in by.items()) + ")" if by else ""


def render_stats(stats: dict[str, Any], report: Any, console: Console) -> None:
    line = Text("PII  ", style="bold")
    if "records_scanned" in stats:
        line.append(f"{stats.get('records_with_pii', 0)} of {stats['records_scanned']} records hold personal data")
        line.append(_counts(stats.get("by_entity") or {}), style="dim")
    if "records_with_secrets" in stats:
        line.append(f"; {stats['records_with_secrets']} hold secrets")
        line.append(_counts(stats.get("secrets_by_type") or {}), style="dim")
    names = stats.get("names") or {}
    if names.get("active_entities"):
        line.append(f"; {names.get('records_with_names', 0)} name people or places")
        line.append(_counts(names.get("by_entity") or {}), style="dim")
    console.print(line)
    active = [*stats.get("active_entities", []), *names.get("active_entities", [])]
    if active:
        console.print(Text(f"     checked: {', '.join(active)}", style="dim"))
    for section in (stats, names):
        if section.get("unavailable_entities"):
            console.print(Text(f"     not checked: {section.get('how_to_enable')}", style="yellow"))
