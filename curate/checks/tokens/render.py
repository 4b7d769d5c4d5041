"""Terminal section of `curate check` for the tokens family: length distribution and the cost."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

COLUMNS = ("min", "p5", "median", "mean", "p95", "p99", "max")


def money(value: float | None, currency: str = "USD") -> str:
    if value is None:
        return "unknown"
    symbol = "$" if currency == "USD" else f"{currency} "
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value and value < 0.01:
        return f"{sign}{symbol}{value:.4f}"
    return f"{sign}{symbol}{value:,.2f}"


def short(n: int | float) -> str:
    """8,233 / 84.6k / 3.78M / 1.26B: token totals readable at a glance (JSON keeps exact numbers)."""
    for at, size, suffix in ((999.5e6, 1e9, "B"), (999.5e3, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(n) >= at:
            v = n / size
            return f"{v:.3g}{suffix}" if v < 100 else f"{v:,.0f}{suffix}"
    return f"{n:,.0f}"


def _num(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}" if isinstance(value, (int, float)) else "-"


def distribution_table(stats: dict[str, Any]) -> Table:
    label = stats.get("counted_as", stats.get("encoding", ""))
    title = f"tokens per example ({label})" + (
        ", estimate" if stats.get("estimate") and "estimate" not in label else ""
    )
    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    table.add_column("")
    for c in (*COLUMNS, "total"):
        table.add_column(c, justify="right")
    for name, key in (
        ("tokens", "tokens_per_example"),
        ("trainable", "trainable_tokens_per_example"),
        ("messages", "messages_per_example"),
    ):
        d = stats.get(key) or {}
        if d.get("count"):
            table.add_row(name, *(_num(d.get(c)) for c in COLUMNS), _num(d.get("total")))
    return table


def cost_lines(cost: dict[str, Any]) -> list[Text]:
    out = []
    if cost.get("note"):
        out.append(Text(f"cost: {cost['note']}", style="dim"))
    for est in cost.get("estimates", []):
        line = Text()
        line.append(f"estimated training cost on {est['provider']}/{est['model']}: ", style="bold")
        line.append(money(est["cost"], est["currency"]), style="bold green")
        line.append(
            f" = {est['epochs']} epochs x {est['tokens_per_epoch']:,} tokens = {est['trained_tokens']:,} trained tokens"
            f" at {money(est['price_per_million'], est['currency'])}/1M"
        )
        if not est.get("exact", True):
            line.append(f" (token counts are an estimate with {est['encoding']})", style="yellow")
        if est.get("truncated_examples"):
            line.append(f"; {est['truncated_examples']:,} examples capped at {est['limit']:,} tokens", style="yellow")
        out.append(line)
        if est.get("price_source"):
            out.append(Text(f"  price as of {est['price_date']}: {est['price_source']}", style="dim"))
    be = cost.get("break_even")
    if be and be.get("requests"):
        out.append(
            Text(
                f"  pays for itself after {be['requests']:,} requests against {be['shots']}-shot prompting "
                f"({be['fewshot_tokens_per_request']:,.0f} extra prompt tokens per request)",
                style="dim",
            )
        )
    elif be and be.get("reason"):
        out.append(Text(f"  break-even against {be['shots']}-shot prompting: {be['reason']}", style="dim"))
    return out


def _trainer_note(stats: dict[str, Any]) -> str:
    """What the trainer keeps, in one line: labels, the cut, and the trained tokens."""
    labels = {
        "generation": "labels from the template's {% generation %} blocks",
        "marker": "labels after the response template",
        "markers": "labels from each response marker to the next instruction marker (Unsloth)",
        "mistral-assistant-turns": "labels on the assistant turns as mistral-common encodes them",
        "all": "every token trains (no {% generation %}, no --response-template)",
    }.get(str(stats.get("labels")), f"labels: {stats.get('labels')}")
    parts = [labels]
    if stats.get("max_length"):
        n = stats.get("examples") or 0
        share = f" ({stats.get('truncated_share', 0):.1%})" if n else ""
        parts.append(f"{stats.get('truncated_examples', 0):,} cut at {stats['max_length']:,} tokens{share}")
        if stats.get("overflow") == "drop":
            parts.append(f"{stats.get('dropped_sequences', 0):,} sequences dropped as too long")
    if stats.get("template_refused"):
        parts.append(f"{stats['template_refused']:,} refused by the chat template")
    parts.append(f"{stats.get('trained_tokens', 0):,} tokens train")
    return "; ".join(parts)


def render_stats(stats: dict[str, Any], report: Any, console: Console) -> None:
    """Called by the terminal reporter with `report.stats['tokens']`; also shows `report.stats['cost']`."""
    console.print()
    if stats.get("error"):
        console.print(Text(f"tokens: {stats['error']}", style="red"))
        return
    if stats.get("examples"):
        console.print(distribution_table(stats))
    notes = []
    if stats.get("labels"):
        notes.append(_trainer_note(stats))
    if stats.get("limit") is not None:
        notes.append(f"{stats.get('over_limit', 0):,} over the {stats['limit']:,}-token limit")
    notes.append(f"{stats.get('no_trainable', 0):,} with no trainable tokens")
    if stats.get("note"):
        notes.append(stats["note"])
    console.print(Text("; ".join(notes), style="dim"))
    cost = getattr(report, "stats", {}).get("cost")
    if isinstance(cost, dict):
        for line in cost_lines(cost):
            console.print(line, soft_wrap=True)
