"""`curate export`: apply the saved review decisions without the UI and write the curated file."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import INPUT_FORMAT_HELP, ROLE_MAP_HELP, fail, format_hint, prepare_rules, require_records, say

PII_MODES = ("mask", "placeholder", "fake")


def read_options(ruleset):  # noqa: ANN001, ANN201 - RuleSet -> ReadOptions (kept out of the CLI's import cost)
    """Reading as `curate check` reads: the rule set's line limit and id field."""
    from curate.io.reader import ReadOptions

    read = ReadOptions()
    if ruleset.settings.max_line_bytes:
        read.max_line_bytes = ruleset.settings.max_line_bytes
    read.id_field = ruleset.settings.id_field
    return read


def load_scrubber(mode: str):  # noqa: ANN201 - curate.checks.pii.scrub.Scrubber, when installed
    """The PII family's scrubber, or a clear error when this build has none yet."""
    if mode not in PII_MODES:
        fail(f"--pii-mode must be one of {', '.join(PII_MODES)}")
    try:
        from curate.checks.pii.scrub import Scrubber
    except ImportError:
        fail("--scrub-pii needs the PII scrubber (curate.checks.pii.scrub), which this build does not have yet")
    scrubber = Scrubber(mode=mode)
    note = scrubber.coverage_note()
    if note:  # never silent about what is left in (e.g. names without the NER model)
        say(note)
    return scrubber


@app.command()
def export(
    path: Annotated[str, typer.Argument(help="The dataset (JSONL or JSON array) whose decisions to apply.")],
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", help="Where to write (default <name>.curated.jsonl beside the input)."),
    ] = None,
    quarantine: Annotated[
        Optional[str],
        typer.Option(
            "--quarantine", help="Where dropped records go (default <name>.quarantine.jsonl beside the output)."
        ),
    ] = None,
    rules: Annotated[
        Optional[str], typer.Option("--rules", "-r", help="Rule set for --drop-duplicates (name or YAML path).")
    ] = None,
    drop_duplicates: Annotated[
        bool,
        typer.Option(
            "--drop-duplicates",
            help="Also drop the non-kept members of exact and near-duplicate clusters (nothing else).",
        ),
    ] = False,
    scrub_pii: Annotated[bool, typer.Option("--scrub-pii", help="Replace PII in the written records.")] = False,
    pii_mode: Annotated[
        Optional[str],
        typer.Option("--pii-mode", help="mask | placeholder | fake (default placeholder); implies --scrub-pii."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every changed and dropped line.")] = False,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help=INPUT_FORMAT_HELP)] = None,
    role_map: Annotated[Optional[list[str]], typer.Option("--role-map", help=ROLE_MAP_HELP)] = None,
    apply_fixes: Annotated[
        bool,
        typer.Option(
            "--apply-fixes",
            help="Apply every suggested fix (as review's fix key), re-checking the record after each one.",
        ),
    ] = False,
    drop_rule: Annotated[
        Optional[list[str]],
        typer.Option("--drop-rule", help="Drop records with a finding of this rule (repeatable, or comma-separated)."),
    ] = None,
    drop_severity: Annotated[
        Optional[str],
        typer.Option(
            "--drop-severity",
            help="Drop records with a finding at or above this severity: error | warning | info.",
        ),
    ] = None,
    to: Annotated[
        Optional[str],
        typer.Option(
            "--to",
            help="Write the conversations as openai-chat | messages | sharegpt | alpaca; records the format "
            "cannot hold go to the quarantine with the reason.",
        ),
    ] = None,
) -> None:
    """Write the dataset with review decisions applied: fixes and edits in, dropped records out."""
    from pathlib import Path

    from rich.console import Console

    from curate.decisions import load_decisions
    from curate.export import DUPLICATE_CHECKS, duplicate_drops, export_dataset
    from curate.yamlfile import ConfigError

    if not Path(path).is_file():
        fail(f"{path}: no such file")
    hint = format_hint(input_format, role_map)
    _require_records(path)
    if pii_mode is not None and not scrub_pii:  # a mode asks for scrubbing: never a silent no-op
        scrub_pii = True
        say("--pii-mode implies --scrub-pii")
    scrubber = load_scrubber(pii_mode or "placeholder") if scrub_pii else None
    convert_to = None
    if to is not None:
        from curate.convert import TARGETS, convert

        if to not in TARGETS:
            fail(f"--to must be one of {', '.join(TARGETS)}")

        def convert_to(data):  # noqa: ANN001, ANN202 - a record in, (record, None) or (None, why) out
            out = convert(data, to, hint)
            return out.data, out.reason

    try:
        log = load_decisions(path)
    except ConfigError as exc:
        fail(str(exc))
    ruleset, chosen, ctx, _ = prepare_rules(rules, None, None, None)
    read = read_options(ruleset)
    policy = cleanup_policy(apply_fixes, drop_rule, drop_severity, chosen)
    drop_lines: dict[int, str] = {}
    auto = None
    if drop_duplicates or policy:
        from curate.run.engine import Engine, EngineOptions

        dedup = [r for r in chosen if r.check in DUPLICATE_CHECKS] if drop_duplicates else []
        if drop_duplicates and not dedup:
            fail("--drop-duplicates: the rule set has no dedup.exact or dedup.near rule")
        wanted = policy_rules(policy, chosen)
        ids = {r.id for r in dedup} | {r.id for r in wanted}
        run_rules = [r for r in chosen if r.id in ids]
        options = EngineOptions(read=read, input_format=hint)
        report = Engine(run_rules, ctx, options, ruleset_name=ruleset.name).run([path])
        if drop_duplicates:
            drop_lines = duplicate_drops(report.findings)
        if policy:
            auto = make_cleanup(path, policy, wanted, ctx, report.findings).decide
    try:
        result = export_dataset(
            path,
            log,
            out=output,
            quarantine=quarantine,
            read=read,
            drop_lines=drop_lines,
            scrubber=scrubber,
            convert_to=convert_to,
            auto=auto,
        )
    except (ValueError, OSError) as exc:
        fail(str(exc))
    print_result(result, Console(highlight=False), verbose)
    carried = carry_acceptances(log, result.out)
    if carried:
        from curate.decisions import decisions_path
        from curate.display import shown

        say(f"{carried:,} accepted finding(s) carried to {shown(decisions_path(result.out), None)}")


def cleanup_policy(apply_fixes: bool, drop_rule: list[str] | None, drop_severity: str | None, chosen: list):  # noqa: ANN201
    """--apply-fixes, --drop-rule and --drop-severity as one policy; exit 2 for an unknown rule or level."""
    from curate.cleanup import CleanupPolicy
    from curate.cli.common import split_tokens
    from curate.display import shown
    from curate.model import Severity
    from curate.yamlfile import did_you_mean

    level = None
    if drop_severity is not None:
        try:
            level = Severity.parse(drop_severity)
        except ValueError:
            fail("--drop-severity must be error, warning or info")
    names = split_tokens(drop_rule)
    known = [r.id for r in chosen]
    for name in names:
        if name not in known:
            fail(f"--drop-rule: no rule {shown(name)} in the rule set{did_you_mean(name, known)}")
    return CleanupPolicy(apply_fixes, frozenset(names), level)


def policy_rules(policy, chosen: list) -> list:  # noqa: ANN001
    """The rules a policy needs run: all of them for fixes or a severity, else only the named ones."""
    if not policy:
        return []
    if policy.apply_fixes or policy.drop_severity is not None:
        return list(chosen)
    return [r for r in chosen if r.id in policy.drop_rules]


def make_cleanup(path: str, policy, rules: list, ctx, findings: list):  # noqa: ANN001, ANN201 - Cleanup
    """The policy over this run's findings, minus those accepted in review or in the baseline."""
    from curate.check import DatasetCheck
    from curate.cleanup import Cleanup, record_rechecker
    from curate.gate import accepted, find_baseline
    from curate.registry import load_registry
    from curate.yamlfile import ConfigError

    try:
        accepts = accepted([path], find_baseline(None))(findings)
    except ConfigError as exc:
        fail(str(exc))
    registry = load_registry()
    checks = {r.id: registry.checks[r.check](r.params, ctx, r.roles) for r in rules}
    dataset_rules = frozenset(rid for rid, c in checks.items() if isinstance(c, DatasetCheck))
    live = [f for f in findings if f.fingerprint not in accepts and f.rule in checks]
    return Cleanup(policy, live, checks, record_rechecker(rules, checks), dataset_rules)


def carry_acceptances(log, out) -> int:  # noqa: ANN001
    """Findings accepted in review stay accepted on the exported file: its records keep their keys,
    so the accept decisions (same salt, same sealed keys) are written beside the output. An existing
    decisions file of the output is left alone."""
    from curate.decisions import DecisionLog, decisions_path

    accepts = [d for d in log.decisions if d.action == "accept"]
    target = decisions_path(out)
    if not accepts or target.exists() or target == log.path:
        return 0
    DecisionLog(target, accepts, log.seal).save()
    return len(accepts)


def print_result(result, console, verbose: bool = False) -> None:  # noqa: ANN001
    from rich.text import Text

    from curate.display import shown

    text = Text()
    text.append(f"wrote {result.written:,} records to {shown(result.out, None)}", style="bold")
    console.print(text)
    parts = [
        (result.fixed, "fixed"),
        (result.edited, "edited"),
        (result.dropped, "dropped in review"),
        (result.dropped_duplicates, "dropped as duplicates"),
        (result.auto_fixed, "fixed by --apply-fixes"),
        (result.dropped_by_rule, "dropped by --drop-rule/--drop-severity"),
        (result.unparseable, "unparseable, left out"),
        (result.normalised, "re-serialised (reader repairs)"),
        (result.blank, "blank lines removed"),
        (result.not_applied, "fixes/edits not applied (record changed since review)"),
        (result.unmatched, "decisions match no record (changed or removed since review)"),
        (result.scrubbed_records, f"scrubbed ({result.scrubbed_values:,} PII values)"),
        (result.unconverted, "not convertible to the --to format, left out"),
    ]
    summary = ", ".join(f"{n:,} {label}" for n, label in parts if n) or "no changes: the output equals the input"
    console.print(Text(f"  {summary}"))
    if result.quarantine and result.quarantined:
        console.print(Text(f"  {result.quarantined:,} records in quarantine: {shown(result.quarantine, None)}"))
    limit = None if verbose else 20
    for line, what in result.changes[:limit]:
        console.print(Text(f"  line {line}: {shown(what, 200)}", style="dim"), soft_wrap=True)
    if limit is not None and len(result.changes) > limit:
        console.print(Text(f"  … {len(result.changes) - limit:,} more (use --verbose)", style="dim"))


def _require_records(path: str) -> None:
    """Exporting a file with no record would write an empty dataset and pass: exit 2 instead."""
    from curate.io.reader import DatasetReadError, probe
    from curate.report import DatasetInfo

    try:
        stats = probe(path)
    except (DatasetReadError, OSError) as exc:
        fail(str(exc))
    info = DatasetInfo(path, 0, "empty", {}, stats.layout, stats.lines, stats.container, stats.skipped, stats.records)
    require_records([info], [], "exported")
