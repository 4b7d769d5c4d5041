"""`curate check`: audit datasets like a compiler; exit 1 when findings reach the fail level."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import (
    INPUT_FORMAT_HELP,
    ROLE_MAP_HELP,
    expand_inputs,
    expand_paths,
    fail,
    format_hint,
    prepare_rules,
    require_records,
    say,
    skipped_notices,
)
from curate.cli.trainer_options import (
    InstructionTemplateOpt,
    MaxLengthOpt,
    OverflowOpt,
    ResponseTemplateOpt,
    TokenizerOpt,
    trainer_settings,
)

FORMATS_OUT = ("text", "json", "sarif", "junit")


@app.command()
def check(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(help="JSONL or JSON files, directories, or - for stdin (default: [tool.curate] datasets)."),
    ] = None,
    rules: Annotated[
        Optional[str], typer.Option("--rules", "-r", help="Rule set name (default, openai, strict) or a YAML path.")
    ] = None,
    select: Annotated[
        Optional[list[str]],
        typer.Option("--select", "-s", help="Only these rule ids, checks or families (repeat or comma-separate)."),
    ] = None,
    ignore: Annotated[
        Optional[list[str]], typer.Option("--ignore", "-i", help="Skip these rule ids, checks or families.")
    ] = None,
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", help="error | warning | info | never.")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text | json | sarif | junit.")] = "text",
    input_format: Annotated[Optional[str], typer.Option("--input-format", help=INPUT_FORMAT_HELP)] = None,
    role_map: Annotated[Optional[list[str]], typer.Option("--role-map", help=ROLE_MAP_HELP)] = None,
    target: Annotated[
        Optional[str], typer.Option("--target", help="Target model, e.g. openai/gpt-4o-mini (overrides the rule set).")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Print every finding, not the first 50 per rule.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print how to fix each finding.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: one per CPU core).", min=0)] = 0,
    engine_name: Annotated[
        str, typer.Option("--engine", help="local | ray: per-block work on a Ray cluster (pip install 'curate[ray]').")
    ] = "local",
    ray_address: Annotated[
        Optional[str],
        typer.Option("--ray-address", help="Ray cluster for --engine ray (default: RAY_ADDRESS, else a local Ray)."),
    ] = None,
    project: Annotated[
        bool, typer.Option("--project", help="Also check all of [tool.curate] datasets together.")
    ] = False,
    baseline: Annotated[
        Optional[str], typer.Option("--baseline", help="Accepted findings (default: .curate-baseline.json if present).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Read and write no cache (results, signatures).")
    ] = False,
    hook: Annotated[
        bool,
        typer.Option(
            "--hook", help="Pre-commit mode: only the findings and one summary line (implied when run by pre-commit)."
        ),
    ] = False,
    against: Annotated[
        Optional[list[str]],
        typer.Option("--against", help="Evaluation file: flag training records that copy its records (repeatable)."),
    ] = None,
    tokenizer: TokenizerOpt = None,
    max_length: MaxLengthOpt = None,
    overflow: OverflowOpt = "truncate",
    response_template: ResponseTemplateOpt = None,
    instruction_template: InstructionTemplateOpt = None,
    trainer: Annotated[
        Optional[str],
        typer.Option(
            "--trainer",
            help="The trainer's config to hold the data to: llamafactory:PATH/dataset_info.json or axolotl:config.yml.",
        ),
    ] = None,
    shard: Annotated[
        Optional[str],
        typer.Option("--shard", help="Check only the K-th of N slices of the input (K/N); needs --save-state."),
    ] = None,
    save_state: Annotated[
        Optional[str],
        typer.Option("--save-state", help="Write this shard's findings and state to DIR for `curate merge DIR`."),
    ] = None,
) -> None:
    """Check datasets and report every problem with file and line."""
    from curate.cli import stopping
    from curate.cli.progress import progress_display, wanted
    from curate.io.reader import DatasetReadError, ReadOptions
    from curate.run.engine import Engine, EngineOptions

    if output_format not in FORMATS_OUT:
        fail(f"--format must be one of {', '.join(FORMATS_OUT)}")
    if fail_on is not None and fail_on not in ("error", "warning", "info", "never"):
        fail("--fail-on must be error, warning, info or never")
    if engine_name not in ("local", "ray"):
        fail("--engine must be local or ray")
    if ray_address is not None and engine_name != "ray":
        fail("--ray-address needs --engine ray")
    sharding = _shard_option(shard, save_state)
    if sharding is not None and engine_name == "ray":
        fail("--shard and --engine ray are two ways to spread one run: use one")
    hint = format_hint(input_format, role_map)
    from curate.gate import accepted, find_baseline, gather
    from curate.yamlfile import ConfigError

    try:
        inputs = gather(paths or [], project, expand_inputs)
        suppress = accepted(inputs.files, find_baseline(baseline))
    except ConfigError as exc:
        fail(str(exc))
    files = inputs.files
    ruleset, chosen, ctx, default_fail_on = prepare_rules(rules, select, ignore, target, fail_on)
    trainer_opts, notices = trainer_settings(
        tokenizer, max_length, overflow, response_template, ctx.target, instruction_template
    )
    if against:
        ctx.against = tuple(expand_paths(against))
    ctx.settings.update(trainer_opts)
    if trainer:
        from curate.trainer_config import settings_for

        try:
            config_settings, config_notices = settings_for(trainer, files)
        except ConfigError as exc:
            fail(str(exc))
        ctx.settings.update(config_settings)
        notices.extend(config_notices)
    read = ReadOptions()
    if ruleset.settings.max_line_bytes:
        read.max_line_bytes = ruleset.settings.max_line_bytes
    read.id_field = ruleset.settings.id_field
    from curate.cache import ResultCache

    cache = None if no_cache else ResultCache()
    ctx.use_cache = not no_cache  # nor the checks' own caches (dedup signatures)
    if no_cache:
        from curate.privacy import use_run_key

        use_run_key()  # not even the PII hashing key from the cache folder
    options = EngineOptions(input_format=hint, read=read, jobs=jobs, suppress=suppress, cache=cache)
    if engine_name == "ray":
        from curate.cli.ray_option import ray_engine

        engine = ray_engine(chosen, ctx, options, ruleset.name, ray_address)
    else:
        engine = Engine(chosen, ctx, options, ruleset_name=ruleset.name)
    if sharding is not None:
        from pathlib import Path

        from curate.run.shards import ShardStateError, run_shard

        if "-" in files:
            fail("--shard cannot read stdin: every shard must read the same files")
        assert save_state is not None
        try:
            with progress_display(wanted(True)) as on_progress:
                options.on_progress = stopping.track(on_progress, files)
                path, records = run_shard(
                    engine, files, sharding, Path(save_state), fail_on or default_fail_on, inputs.skipped, notices
                )
        except ShardStateError as exc:
            fail(str(exc))
        except DatasetReadError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot read input or write state: {exc.strerror or exc}")
        for warning in engine.warnings:
            say(warning)
        say(f"shard {sharding.index}/{sharding.count}: {records:,} records checked; state in {path}")
        raise typer.Exit(0)
    try:
        with progress_display(wanted(output_format != "text")) as on_progress:
            options.on_progress = stopping.track(on_progress, files)
            report = engine.run(files)
    except DatasetReadError as exc:
        fail(str(exc))
    except ConnectionError as exc:  # --engine ray: no cluster at the address
        fail(f"cannot reach the Ray cluster: {exc}")
    except OSError as exc:
        fail(f"cannot read input: {exc.strerror or exc}")
    require_records(report.datasets, inputs.skipped)
    report.notices[:0] = skipped_notices(inputs.skipped)
    add_pending_notices(report, files)
    report.notices.extend(notices)
    for warning in engine.warnings:
        say(warning)  # the run went on without the cache: results are complete
    emit(report, output_format, fail_on or default_fail_on, show_all=show_all, verbose=verbose, hook=hook)


def _shard_option(shard: str | None, save_state: str | None):  # noqa: ANN202 - Shard | None
    """--shard K/N with --save-state DIR (or --save-state alone: the whole input as shard 1/1)."""
    if shard is None and save_state is None:
        return None
    if save_state is None:
        fail("--shard needs --save-state DIR (where `curate merge DIR` finds the shards)")
    from curate.run.shards import Shard

    try:
        return Shard.parse(shard or "1/1")
    except ValueError as exc:
        fail(str(exc))


def add_pending_notices(report, files: list[str]) -> None:  # noqa: ANN001 - curate.report.Report
    """Findings on records already decided in review wait for `curate export`: said in the notes."""
    from curate.display import shown
    from curate.gate import pending_export

    for path, n in pending_export(files, report.findings).items():
        report.notices.append(
            f"{n:,} finding{'s' if n != 1 else ''} in {shown(path)} concern records already fixed, edited or dropped "
            f"in review: the decisions wait for `curate export {shown(path)}`"
        )


def emit(report, output_format: str, fail_on: str, show_all: bool, verbose: bool, hook: bool) -> None:  # noqa: ANN001
    """Print the report in the chosen format and exit with its code (0 clean, 1 findings at the fail level)."""
    if output_format == "json":
        from curate.reporters.json_report import render_json

        sys.stdout.buffer.write(render_json(report))
    elif output_format == "sarif":
        from curate.reporters.sarif import render_sarif

        sys.stdout.buffer.write(render_sarif(report))
    elif output_format == "junit":
        from curate.reporters.junit import render_junit

        sys.stdout.buffer.write(render_junit(report, fail_on))
    else:
        import os

        from rich.console import Console

        from curate.reporters.terminal import render_terminal

        compact = hook or os.environ.get("PRE_COMMIT") == "1"  # pre-commit sets it for every hook it runs
        render_terminal(
            report, Console(highlight=False), max_per_rule=None if show_all else 50, verbose=verbose, compact=compact
        )
    raise typer.Exit(report.exit_code(fail_on))
