"""`curate merge DIR`: the shards of a `curate check --shard K/N --save-state DIR` run, as one report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.check import FORMATS_OUT, add_pending_notices, emit
from curate.cli.common import fail, require_records, skipped_notices


@app.command()
def merge(
    directory: Annotated[str, typer.Argument(help="The folder the shards saved their state to (--save-state).")],
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", help="error | warning | info | never.")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text | json | sarif | junit.")] = "text",
    show_all: Annotated[bool, typer.Option("--all", help="Print every finding, not the first 50 per rule.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print how to fix each finding.")] = False,
    baseline: Annotated[
        Optional[str], typer.Option("--baseline", help="Accepted findings (default: .curate-baseline.json if present).")
    ] = None,
    hook: Annotated[bool, typer.Option("--hook", help="Only the findings and one summary line.")] = False,
) -> None:
    """Merge every shard's state and print the report one unsharded `curate check` would have printed."""
    from curate.gate import accepted, find_baseline
    from curate.run.shards import ShardStateError
    from curate.run.shards import merge as merge_states
    from curate.yamlfile import ConfigError

    if output_format not in FORMATS_OUT:
        fail(f"--format must be one of {', '.join(FORMATS_OUT)}")
    if fail_on is not None and fail_on not in ("error", "warning", "info", "never"):
        fail("--fail-on must be error, warning, info or never")
    try:
        merged = merge_states(Path(directory))
    except ShardStateError as exc:
        fail(str(exc))
    try:
        merged.engine.options.suppress = accepted(merged.paths, find_baseline(baseline))
    except ConfigError as exc:
        fail(str(exc))
    report = merged.engine.conclude(merged.partial)
    require_records(report.datasets, merged.skipped)
    report.notices[:0] = skipped_notices(merged.skipped)
    add_pending_notices(report, merged.paths)
    report.notices.extend(merged.notices)
    emit(report, output_format, fail_on or merged.fail_on, show_all=show_all, verbose=verbose, hook=hook)
