"""Compiler-style terminal output: `path:line: severity rule message`, then a summary table.

Dataset text never reaches Rich's markup parser: every string goes in as a Text object, so
content like `[bold]` or ANSI escapes cannot change what the terminal shows.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console, Group, RenderableType
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
    if not compact:
        for line in next_steps(report, verbose):
            console.print(line, soft_wrap=True)


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


MIN_DESCRIPTION = 30  # narrower than this, the table leaves descriptions out and lists them under it


def summary_table(report: Report, width: int = 100) -> RenderableType:
    """One line per rule: ids and counts in full; the description wraps in its column, or, at
    widths too narrow for it (80 columns, CI logs), goes under the table, one rule per line."""
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_rule[f.rule].append(f)
    descriptions = {r.id: r.description for r in report.rules}
    table = Table(title=None, show_edge=False, header_style="bold")
    rule_width = max([len("rule"), *(len(r) for r in by_rule)])
    count_width = max(len("findings"), *(len(f"{len(v):,}") for v in by_rule.values()))
    desc_width = width - rule_width - len("severity") - 2 * count_width - 12
    with_desc = desc_width >= MIN_DESCRIPTION
    table.add_column("rule", no_wrap=True, min_width=rule_width)
    table.add_column("severity", no_wrap=True)
    table.add_column("findings", justify="right", no_wrap=True, min_width=count_width)
    table.add_column("records", justify="right", no_wrap=True)
    if with_desc:
        table.add_column("what it means", overflow="fold")
    ordered = sorted(by_rule.items(), key=lambda kv: (-kv[1][0].severity, -len(kv[1]), kv[0]))
    below: list[Text] = []
    for rule, items in ordered:
        sev = items[0].severity
        records = len({(f.path, f.line) for f in items if f.line is not None})
        desc = _safe(descriptions.get(rule, ""))
        cells: list[Text | str] = [
            Text(rule, style="magenta"),
            Text(str(sev), style=STYLES[sev]),
            f"{len(items):,}",
            f"{records:,}" if records else "-",
        ]
        table.add_row(*cells, Text(desc)) if with_desc else table.add_row(*cells)
        if not with_desc and desc:
            line = Text(rule, style="magenta")
            line.append(f": {desc}")
            below.append(line)
    return Group(table, Text(), *below) if below else table


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 record`, `2 records`, `1,000 records` (`many` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def summary_line(report: Report) -> Text:
    sev = report.by_severity()
    files = len(report.datasets)
    text = Text()
    text.append(f"{plural(report.records, 'record')} in {plural(files, 'file')}: ", style="bold")
    if not report.findings:
        text.append("no findings", style="bold green")
    else:
        parts = [
            (plural(sev["error"], "error"), STYLES[Severity.ERROR]),
            (plural(sev["warning"], "warning"), STYLES[Severity.WARNING]),
            (f"{sev['info']:,} info", STYLES[Severity.INFO]),
        ]
        for i, (label, style) in enumerate(parts):
            text.append(label, style=style)
            if i < 2:
                text.append(", ")
        text.append(f" in {plural(report.records_with_findings(), 'record')}")
    if report.suppressed:
        text.append(f" ({plural(report.suppressed, 'accepted finding')} hidden)", style="dim")
    return text


_DUPLICATE_CHECKS = ("dedup.exact", "dedup.near")


def next_steps(report: Report, verbose: bool = False) -> list[Text]:
    """One or two lines after the counts: how to decide on the findings, how to clean, how to see fixes."""
    if not report.findings:
        return []
    paths = sorted({f.path for f in report.findings if f.path and f.line is not None})
    target = shown(paths[0], 60) if len(paths) == 1 else "FILE"
    review = Text("next: ", style="bold")
    review.append(f"curate review {target}", style="bold cyan")
    review.append(" to decide on each finding")
    if not verbose:
        review.append("; -v shows how to fix each one")
    lines = [review]
    checks = {f.check for f in report.findings if f.line is not None}
    flags = [
        flag
        for flag, hit in (
            ("--drop-duplicates", checks & set(_DUPLICATE_CHECKS)),
            ("--scrub-pii", any(c.startswith("pii.") for c in checks)),
        )
        if hit
    ]
    if flags:
        clean = Text("clean: ", style="bold")
        clean.append(f"curate export {target} {' '.join(flags)}", style="bold cyan")
        clean.append(" writes a copy without them")
        lines.append(clean)
    return lines
