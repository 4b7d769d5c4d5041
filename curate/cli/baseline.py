"""`curate baseline`: record today's findings as accepted, so the gate fails only on new ones."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import expand_paths, fail, prepare_rules


@app.command()
def baseline(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(help="Datasets whose current findings become accepted (default: [tool.curate] datasets)."),
    ] = None,
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Baseline file (default: .curate-baseline.json).")
    ] = None,
    rules: Annotated[Optional[str], typer.Option("--rules", "-r", help="Rule set name or YAML path.")] = None,
    select: Annotated[Optional[list[str]], typer.Option("--select", "-s", help="Only these rules.")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option("--ignore", "-i", help="Skip these rules.")] = None,
    project: Annotated[bool, typer.Option("--project", help="Also include all of [tool.curate] datasets.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the result cache.")] = False,
) -> None:
    """Write or update the baseline: entries of the checked files are replaced, others kept.

    Entries hold fingerprints, rule ids, record keys and paths, never record text or line
    numbers, so moving a record keeps it accepted and editing it raises it again.
    """
    from curate.baseline import DEFAULT_BASELINE, load_baseline
    from curate.cache import ResultCache
    from curate.engine import Engine, EngineOptions
    from curate.gate import accepted, gather
    from curate.io.reader import DatasetReadError, ReadOptions
    from curate.yamlfile import ConfigError

    try:
        inputs = gather(paths or [], project, expand_paths)
        base = load_baseline(output or DEFAULT_BASELINE)
        suppress = accepted(inputs.files, None)  # accepted in review already: no need to baseline
    except ConfigError as exc:
        fail(str(exc))
    for path, why in inputs.skipped:
        sys.stderr.write(f"curate: {path}: skipped, {why}\n")
    if "-" in inputs.files:
        fail("baseline: stdin cannot be baselined (findings are recorded per file)")
    ruleset, chosen, ctx, _ = prepare_rules(rules, select, ignore, None)
    read = ReadOptions(id_field=ruleset.settings.id_field)
    if ruleset.settings.max_line_bytes:
        read.max_line_bytes = ruleset.settings.max_line_bytes
    options = EngineOptions(read=read, suppress=suppress, cache=None if no_cache else ResultCache())
    try:
        report = Engine(chosen, ctx, options, ruleset_name=ruleset.name).run(inputs.files)
    except (DatasetReadError, OSError) as exc:
        fail(str(exc))
    added, removed = base.update(inputs.files, report.findings)
    base.save()
    sys.stderr.write(
        f"curate: {base.path}: {len(base.entries):,} accepted finding(s) "
        f"({added:,} added, {removed:,} removed, from {len(inputs.files):,} file(s))\n"
    )
