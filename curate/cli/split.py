"""`curate split`: a validation set with the training mix and no duplicate across the split."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import (
    INPUT_FORMAT_HELP,
    ROLE_MAP_HELP,
    expand_inputs,
    fail,
    format_hint,
    prepare_rules,
    require_records,
    say_skipped,
)


@app.command()
def split(
    paths: Annotated[list[str], typer.Argument(help="JSONL or JSON files, or directories.")],
    out: Annotated[str, typer.Option("--out", "-o", help="Directory for train.jsonl, val.jsonl and split.json.")],
    val: Annotated[float, typer.Option("--val", help="Fraction of records for validation.")] = 0.1,
    stratify: Annotated[Optional[str], typer.Option("--stratify", help="language | category: keep this mix.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same split.")] = 0,
    rules: Annotated[
        Optional[str], typer.Option("--rules", "-r", help="Rule set whose dedup and balance rules to use.")
    ] = None,
    category_field: Annotated[
        Optional[str], typer.Option("--category-field", help="JSON path of the category, e.g. metadata.category.")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0 = one per core).")] = 0,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help=INPUT_FORMAT_HELP)] = None,
    role_map: Annotated[Optional[list[str]], typer.Option("--role-map", help=ROLE_MAP_HELP)] = None,
) -> None:
    """Split datasets into train and validation: same language or category mix, no duplicate across."""
    from rich.console import Console
    from rich.table import Table

    from curate.io.reader import DatasetReadError, ReadOptions
    from curate.run.engine import Engine, EngineOptions
    from curate.split import split_dataset

    if stratify not in (None, "language", "category"):
        fail("--stratify must be language or category")
    if not 0 < val < 1:
        fail("--val must be a fraction between 0 and 1, e.g. 0.1")
    hint = format_hint(input_format, role_map)
    inputs = expand_inputs(paths)
    say_skipped(inputs.skipped)
    files = inputs.files
    if "-" in files:
        fail("split reads its input twice: give a file, not stdin")
    ruleset, _, ctx, _ = prepare_rules(rules, None, None, None)
    chosen = [r for r in ruleset.rules if r.check.startswith("dedup.")]
    if stratify:
        chosen.append(_stratum_rule(stratify, ruleset.rules, category_field))
    read = ReadOptions(id_field=ruleset.settings.id_field)
    if ruleset.settings.max_line_bytes:
        read.max_line_bytes = ruleset.settings.max_line_bytes
    labels: dict[tuple[str, int], str] = {}
    findings = []
    if chosen:
        try:
            options = EngineOptions(read=read, jobs=jobs, input_format=hint)
            report = Engine(chosen, ctx, options, ruleset_name=ruleset.name).run(files)
        except (DatasetReadError, OSError) as exc:
            fail(f"cannot read input: {exc}")
        require_records(report.datasets, inputs.skipped, "split")
        findings = report.findings
        table = report.table
        if stratify and table is not None and stratify in table.columns:
            for path, line, label in table.select("path", "line", stratify).iter_rows():
                if label is not None:
                    labels[(path, line)] = str(label)
    dedup_rules = [f"{r.id} ({r.check})" for r in chosen if r.check.startswith("dedup.")]
    try:
        summary = split_dataset(files, out, val, stratify, seed, labels, findings, dedup_rules, read, hint)
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    console = Console(highlight=False)
    table = Table(show_edge=False, header_style="bold")
    table.add_column(stratify or "records")
    table.add_column("train", justify="right")
    table.add_column("val", justify="right")
    table.add_column("val share", justify="right")
    for label, c in list(summary.mix.items())[:15]:
        n = c["train"] + c["val"]
        table.add_row(label, f"{c['train']:,}", f"{c['val']:,}", f"{100 * c['val'] / n:.1f}%" if n else "-")
    console.print(table)
    grouped = f"{summary.grouped_records:,} records in {summary.groups:,} duplicate groups kept on one side"
    how = ", ".join(summary.grouping) if dedup_rules else "exact text only (no dedup rules in the rule set)"
    console.print(f"{grouped} (grouped by {how})")
    skipped = f"; {summary.skipped:,} unparsable records skipped" if summary.skipped else ""
    console.print(f"wrote {summary.train:,} train and {summary.val:,} val records to {out}{skipped}")


def _stratum_rule(stratify: str, rules: list, category_field: str | None):  # noqa: ANN202
    """The rule set's language/category rule, or a default one (a --category-field wins)."""
    from curate.config import Rule
    from curate.registry import load_registry

    check_id = f"balance.{stratify}"
    if not (stratify == "category" and category_field):
        for rule in rules:
            if rule.check == check_id:
                return rule
    cls = load_registry().checks[check_id]
    params = cls.Params.model_validate({"field": category_field} if category_field else {})
    return Rule(f"split-{stratify}", check_id, cls.default_severity, params, None, "curate split", cls.description)
