"""Markdown report for a pull request (pure function of a Report)."""

from __future__ import annotations

from curate.report import Report


def render_markdown(report: Report) -> str:
    return f"# curate report\n\n{report.records:,} records, {len(report.findings):,} findings\n"
