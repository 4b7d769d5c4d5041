"""Inline SVG charts: no script, no network, readable when printed. Pure string builders."""

from __future__ import annotations

from html import escape
from typing import Any

BAR = "#4c72b0"
TARGET = "#d1242f"
MUTED = "#8c959f"


def _fmt(n: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            v = n / size
            return f"{v:.3g}{suffix}"
    return f"{n:,.0f}"


def hbars(rows: list[dict[str, Any]], width: int = 560, label_width: int = 150, unit: str = "") -> str:
    """Horizontal bars: rows of {label, value, note?, target?, color?}; target is a share of the max bar scale."""
    if not rows:
        return ""
    row_h, pad = 24, 4
    height = len(rows) * row_h + pad * 2
    vmax = max(max(r["value"] for r in rows), 1)
    share_scale = any(r.get("target") is not None for r in rows)
    if share_scale:  # bars and targets both as shares, on one scale
        vmax = max(vmax, max((r.get("target") or 0) for r in rows))
    plot = width - label_width - 90
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, r in enumerate(rows):
        y = pad + i * row_h
        w = max(1.0, plot * r["value"] / vmax) if r["value"] else 0
        color = r.get("color", BAR)
        label = escape(str(r["label"]))
        short = label if len(label) <= 24 else label[:23] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" class="lbl">'
            f"<title>{label}</title>{short}</text>"
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" rx="2" fill="{color}"/>'
        )
        note = escape(str(r.get("note", _fmt(r["value"]) + unit)))
        parts.append(f'<text x="{label_width + w + 6:.1f}" y="{y + 16}" class="val">{note}</text>')
        if r.get("target") is not None:
            tx = label_width + plot * r["target"] / vmax
            parts.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y + 1}" y2="{y + row_h - 1}" '
                f'stroke="{TARGET}" stroke-width="2.5">'
                f"<title>target {100 * r['target']:.0f}%</title></line>"
            )
    parts.append("</svg>")
    return "".join(parts)


def columns(
    bins: list[dict[str, Any]], width: int = 560, height: int = 220, marker: float | None = None, marker_label: str = ""
) -> str:
    """Vertical bars over labelled bins ({label, count, lo?, hi?}); `marker` draws a line at that x value."""
    if not bins:
        return ""
    left, bottom, top = 44, 40, 16
    plot_w, plot_h = width - left - 10, height - bottom - top
    cmax = max(max(b["count"] for b in bins), 1)
    bw = plot_w / len(bins)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for frac in (0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_fmt(cmax * frac)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    step = max(1, len(bins) // 10)
    for i, b in enumerate(bins):
        h = plot_h * b["count"] / cmax
        x = left + i * bw
        color = b.get("color", BAR)
        tip = escape(f"{b['label']}: {b['count']:,}")
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{color}">'
            f"<title>{tip}</title></rect>"
        )
        if i % step == 0:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="tick">'
                f"{escape(str(b['label']))}</text>"
            )
    if marker is not None:
        # bins are [lo, hi): place the marker inside the bin that holds it, in proportion
        for i, b in enumerate(bins):
            if b.get("lo", 0) <= marker < b.get("hi", 0) or (i == len(bins) - 1 and marker >= b.get("lo", 0)):
                span = max(b["hi"] - b["lo"], 1)
                x = left + (i + min(1.0, (marker - b["lo"]) / span)) * bw
                parts.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{top + plot_h}" stroke="{TARGET}" '
                    f'stroke-width="2" stroke-dasharray="5 3"/>'
                )
                anchor = "end" if x > width * 0.7 else "start"
                dx = -4 if anchor == "end" else 4
                parts.append(
                    f'<text x="{x + dx:.1f}" y="{top + 6}" text-anchor="{anchor}" class="mark">'
                    f"{escape(marker_label)}</text>"
                )
                break
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="axis">')
    parts.append(escape(bins[0].get("axis", "")) + "</text></svg>")
    return "".join(parts)
