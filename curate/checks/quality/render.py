"""The quality section of the terminal report: how many answers refuse."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text


def render_stats(stats: dict[str, Any], report: Any, console: Console) -> None:
    answers = stats.get("answers")
    if not answers:
        return
    refusals = stats.get("refusals", 0)
    share = stats.get("refusal_share", 0.0)
    line = Text("quality  ", style="bold")
    line.append(f"{refusals:,} of {answers:,} answers refuse ({share:.1%})")
    if share > 0.2:
        line.append("  a dataset that refuses this often teaches refusing", style="yellow")
    console.print(line)
