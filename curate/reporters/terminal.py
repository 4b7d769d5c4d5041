"""Compiler-style terminal output: `path:line: severity rule message`, then a summary table.

Dataset text never reaches Rich's markup parser: every string goes in as a Text object, so
content like `[bold]` or ANSI escapes cannot change what the terminal shows.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console
from rich.table import Table
from rich.text import Text

from curate.display import shown
from curate.io.location import location
from curate.model import Finding, Severity
from curate.report import Report

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _safe(s: str, limit: int | None = 300) -> str:
    """Every string printed passes the one door (`curate.display.shown`): masked, escaped, bounded."""
    return shown(s, limit)


def where(f: Finding, row_paths: frozenset[str] = frozenset()) -> str:
    """`path:line`, `path:row N` or the path alone, the file name shown safely (it can hold PII or escapes)."""
    return location(f.path, f.line, row_paths)


def finding_line(f: Finding, row_paths: frozenset[str] = frozenset()) -> Text:
    text = Text()
    text.append(where(f, row_paths), style="bold")
    text.append(": ")
    text.append(str(f.severity), style=STYLES[f.severity])
    text.append(" ")
    text.append(f.rule, style="magenta")
    text.append(" ")
    text.append(_safe(f.message))
    if f.field:
        text.append(f" [{_safe(f.field, 80)}]", style="dim")
    return text


def render_terminal(
    report: Report, console: Console, max_per_rule: int | None = 50, verbose: bool = False, compact: bool = False
) -> None:
    """Findings, then (unless `compact`, the pre-commit hook's mode) the summary table and the stats
    sections, then one summary line."""
    listed: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    rows = report.row_paths
    for f in report.findings:
        if max_per_rule is not None and listed[f.rule] >= max_per_rule:
            hidden[f.rule] += 1
            continue
        listed[f.rule] += 1
        console.print(finding_line(f, rows), soft_wrap=True)
        if verbose and f.fix:
            console.print(Text("    fix: " + _safe(f.fix), style="green"), soft_wrap=True)
    if hidden:
        more = ", ".join(f"{rule} {n:,}" for rule, n in hidden.most_common())
        console.print(
            Text(f"… {sum(hidden.values()):,} more not shown ({more}); use --all or --format json", style="dim")
        )
    for err in report.errors:
        console.print(Text(f"curate: {_safe(err, None)}", style="red"), soft_wrap=True)
    render_notes(report, console, compact)
    if report.findings and not compact:
        console.print()
        console.print(summary_table(report, console.width))
    if not compact:
        render_stat_sections(report, console)
    console.print(summary_line(report))


def render_notes(report: Report, console: Console, compact: bool = False) -> None:
    """Run notices (what the run could not do), one section, after the findings: never findings.
    `compact` (the pre-commit hook) puts them on one line."""
    if not report.notices:
        return
    if compact:
        console.print(
            Text("notes: " + "; ".join(_safe(n, None) for n in report.notices), style="yellow"), soft_wrap=True
        )
        return
    console.print(Text("notes:", style="bold yellow"))
    for note in report.notices:
        console.print(Text(f"  - {_safe(note, None)}", style="yellow"), soft_wrap=True)


def render_stat_sections(report: Report, console: Console) -> None:
    """Each family may show its stats (token lengths, cost, languages...) after the findings.

    A family opts in with a module `curate.checks.<family>.render` defining
    `render_stats(stats: dict, report: Report, console: Console) -> None`.
    """
    import importlib

    for family, stats in report.stats.items():
        if not isinstance(stats, dict) or not stats:
            continue
        try:
            module = importlib.import_module(f"curate.checks.{family}.render")
        except ModuleNotFoundError:
            continue
        module.render_stats(stats, report, console)


def summary_table(report: Report, width: int = 100) -> Table:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_rule[f.rule].append(f)
    descriptions = {r.id: r.description for r in report.rules}
    table = Table(title=None, show_edge=False, header_style="bold")
    # one line per rule: ids and counts in full, the description cut to what is left of the width
    rule_width = max([len("rule"), *(len(r) for r in by_rule)])
    count_width = max(len("findings"), *(len(f"{len(v):,}") for v in by_rule.values()))
    desc_width = max(12, width - rule_width - len("severity") - 2 * count_width - 14)
    table.add_column("rule", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("findings", justify="right", no_wrap=True)
    table.add_column("records", justify="right", no_wrap=True)
    table.add_column("what it means", no_wrap=True)
    ordered = sorted(by_rule.items(), key=lambda kv: (-kv[1][0].severity, -len(kv[1]), kv[0]))
    for rule, items in ordered:
        sev = items[0].severity
        records = len({(f.path, f.line) for f in items if f.line is not None})
        table.add_row(
            Text(rule, style="magenta"),
            Text(str(sev), style=STYLES[sev]),
            f"{len(items):,}",
            f"{records:,}" if records else "-",
            Text(_safe(descriptions.get(rule, ""), desc_width)),
        )
    return table


def summary_line(report: Report) -> Text:
    sev = report.by_severity()
    files = len(report.datasets)
    text = Text()
    text.append(f"{report.records:,} records in {files} file{'s' if files != 1 else ''}: ", style="bold")
    if not report.findings:
        text.append("no findings", style="bold green")
    else:
        parts = [
            (f"{sev['error']:,} errors", STYLES[Severity.ERROR]),
            (f"{sev['warning']:,} warnings", STYLES[Severity.WARNING]),
            (f"{sev['info']:,} info", STYLES[Severity.INFO]),
        ]
        for i, (label, style) in enumerate(parts):
            text.append(label, style=style)
            if i < 2:
                text.append(", ")
        text.append(f" in {report.records_with_findings():,} records")
    if report.suppressed:
        text.append(f" ({report.suppressed:,} accepted findings hidden)", style="dim")
    return text
