"""`curate diff OLD NEW`: what changed between two versions of a dataset, for a pull request."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import (
    INPUT_FORMAT_HELP,
    ROLE_MAP_HELP,
    IgnoreOpt,
    SelectOpt,
    fail,
    format_hint,
    prepare_rules,
    require_records,
    say,
)

FORMATS_OUT = ("markdown", "json")


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The old version: a file, a folder, or PATH@REV (a git revision).")],
    new: Annotated[
        Optional[str], typer.Argument(help="The new version (default with --rev: OLD as it is on disk).")
    ] = None,
    rev: Annotated[
        Optional[str],
        typer.Option("--rev", help="Read OLD at this git revision (e.g. origin/main); NEW defaults to OLD on disk."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="markdown | json.")] = "markdown",
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.")
    ] = None,
    rules: Annotated[
        Optional[str],
        typer.Option("--rules", "-r", help="Rule set name (default, openai, semantic ...) or a YAML path."),
    ] = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    target: Annotated[
        Optional[str], typer.Option("--target", help="Target model for the cost, e.g. openai/gpt-4o-mini.")
    ] = None,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help=INPUT_FORMAT_HELP)] = None,
    role_map: Annotated[Optional[list[str]], typer.Option("--role-map", help=ROLE_MAP_HELP)] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: one per CPU core).", min=0)] = 0,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Read and write no cache.")] = False,
) -> None:
    """Compare two versions of a dataset: records, tokens and cost, languages, categories, duplicates, PII.

    Markdown for a pull-request comment, or JSON. Exit 0, or 2 when NEW has no record."""
    import tempfile
    from pathlib import Path

    from curate.cli import stopping
    from curate.cli.progress import progress_display, wanted
    from curate.diff.compare import compare
    from curate.diff.revisions import RevisionError, parse_spec
    from curate.diff.sides import Setup, SideError, audit
    from curate.display import shown
    from curate.io.reader import DatasetReadError, ReadOptions

    if output_format not in FORMATS_OUT:
        fail(f"--format must be one of {', '.join(FORMATS_OUT)}")
    if new is None and rev is None:
        fail("give NEW, or --rev REV to compare OLD at REV with OLD on disk")
    if "-" in (old, new):
        fail("diff reads files, folders or revisions, not stdin")
    old_spec = parse_spec(old, rev)
    new_spec = parse_spec(new if new is not None else old)
    hint = format_hint(input_format, role_map)
    ruleset, chosen, ctx, _ = prepare_rules(rules, select, ignore, target)
    read = ReadOptions(id_field=ruleset.settings.id_field)
    if ruleset.settings.max_line_bytes:
        read.max_line_bytes = ruleset.settings.max_line_bytes
    ctx.use_cache = not no_cache
    if no_cache:
        from curate.privacy import use_run_key

        use_run_key()
    setup = Setup(chosen, ctx, ruleset.name, read, hint, jobs, use_cache=not no_cache)
    try:
        progress = progress_display(wanted(output_format == "json"))
        with tempfile.TemporaryDirectory(prefix="curate-diff-") as tmp, progress as on_progress:
            setup.on_progress = stopping.track(on_progress, [old_spec.path])
            before, _ = audit(old_spec, setup, Path(tmp) / "old")
            setup.on_progress = stopping.track(on_progress, [new_spec.path])
            after, skipped = audit(new_spec, setup, Path(tmp) / "new")
            if after.report is None:
                fail(f"nothing was compared: {new_spec.label} did not exist at that revision")
            require_records(after.report.datasets, skipped, "compared")
            matched_by = f"id field {shown(repr(read.id_field))}" if read.id_field else "content hash"
            doc = compare(before, after, matched_by)
    except (RevisionError, SideError, DatasetReadError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read input: {exc.strerror or exc}")
    data = _render(doc, output_format)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        from curate.io.atomic import write_bytes_atomic

        try:
            write_bytes_atomic(output, data)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
        say(f"wrote {output}")
    raise typer.Exit(0)


def _render(doc: dict, output_format: str) -> bytes:
    if output_format == "json":
        import orjson

        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
    from curate.diff.markdown import render_diff

    return render_diff(doc).encode("utf-8")
