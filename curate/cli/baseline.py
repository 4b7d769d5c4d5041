"""`curate baseline`: record today's findings as accepted, so the gate fails only on new ones."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import expand_inputs, fail, prepare_rules, say_skipped


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
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Read and write no cache (results, signatures).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also accept leaked secrets and unreadable records (not by default).")
    ] = False,
) -> None:
    """Write or update the baseline: entries of the checked files are replaced, others kept.

    Entries hold fingerprints, rule ids, record keys and paths, never record text or line
    numbers, so moving a record keeps it accepted and editing it raises it again.
    """
    from curate.baseline import DEFAULT_BASELINE, load_baseline
    from curate.cache import ResultCache
    from curate.gate import accepted, gather
    from curate.io.reader import DatasetReadError, ReadOptions
    from curate.run.engine import Engine, EngineOptions
    from curate.yamlfile import ConfigError

    try:
        inputs = gather(paths or [], project, expand_inputs)
        base = load_baseline(output or DEFAULT_BASELINE)
        suppress = accepted(inputs.files, None)  # accepted in review already: no need to baseline
    except ConfigError as exc:
        fail(str(exc))
    say_skipped(inputs.skipped)
    if "-" in inputs.files:
        fail("baseline: stdin cannot be baselined (findings are recorded per file)")
    ruleset, chosen, ctx, _ = prepare_rules(rules, select, ignore, None)
    read = ReadOptions(id_field=ruleset.settings.id_field)
    if ruleset.settings.max_line_bytes:
        read.max_line_bytes = ruleset.settings.max_line_bytes
    ctx.use_cache = not no_cache  # nor the checks' own caches (dedup signatures)
    if no_cache:
        from curate.privacy import use_run_key

        use_run_key()  # not even the PII hashing key from the cache folder
    options = EngineOptions(read=read, suppress=suppress, cache=None if no_cache else ResultCache())
    engine = Engine(chosen, ctx, options, ruleset_name=ruleset.name)
    try:
        report = engine.run(inputs.files)
    except (DatasetReadError, OSError) as exc:
        fail(str(exc))
    for warning in engine.warnings:
        sys.stderr.write(f"curate: {warning}\n")
    findings, held = _baselinable(report.findings, force)
    added, removed = base.update(inputs.files, findings)
    base.save()
    sys.stderr.write(
        f"curate: {base.path}: {len(base.entries):,} accepted finding(s) "
        f"({added:,} added, {removed:,} removed, from {len(inputs.files):,} file(s))\n"
    )
    if held:
        rules = ", ".join(f"{rule} ({n:,})" for rule, n in sorted(held.items()))
        sys.stderr.write(
            f"curate: not baselined: {rules}. A leaked secret must be revoked and removed, an unreadable record "
            "repaired or dropped; accepting them hides them for good. Use --force to baseline them anyway.\n"
        )


# Findings a baseline must not silently bury: a live secret, and records no trainer can read.
NEVER_BASELINED = frozenset(
    {"pii.secrets", "schema.invalid_json", "schema.encoding", "schema.not_object", "schema.nesting"}
)


def _baselinable(findings: list, force: bool) -> tuple[list, dict[str, int]]:
    """The findings to accept, and per rule how many were held back (none with --force)."""
    from collections import Counter

    if force:
        return list(findings), {}
    held = Counter(f.rule for f in findings if f.check in NEVER_BASELINED)
    return [f for f in findings if f.check not in NEVER_BASELINED], dict(held)
