"""`curate report`: report.html (one self-contained file), report.md (for a pull request), report.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import expand_inputs, expand_paths, fail, prepare_rules, require_records, skipped_notices


@app.command()
def report(
    paths: Annotated[list[str], typer.Argument(help="JSONL or JSON files, or directories.")],
    out: Annotated[str, typer.Option("--out", "-o", help="Directory for report.html, report.md and report.json.")],
    rules: Annotated[Optional[str], typer.Option("--rules", "-r", help="Rule set name or YAML path.")] = None,
    select: Annotated[
        Optional[list[str]], typer.Option("--select", "-s", help="Only these rules, checks or families.")
    ] = None,
    ignore: Annotated[
        Optional[list[str]], typer.Option("--ignore", "-i", help="Skip these rules, checks or families.")
    ] = None,
    target: Annotated[Optional[str], typer.Option("--target", help="Target model, e.g. openai/gpt-4o-mini.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0 = one per core).")] = 0,
    against: Annotated[
        Optional[list[str]],
        typer.Option("--against", help="Evaluation file: its copies in training, topics one side lacks (repeatable)."),
    ] = None,
) -> None:
    """Audit datasets and write a report people read: HTML with charts, Markdown, JSON."""
    from curate.io.atomic import write_bytes_atomic
    from curate.io.reader import DatasetReadError, ReadOptions
    from curate.reporters.html import render_html
    from curate.reporters.markdown import render_markdown
    from curate.run.engine import Engine, EngineOptions

    inputs = expand_inputs(paths)
    files = inputs.files
    ruleset, chosen, ctx, _ = prepare_rules(rules, select, ignore, target)
    if against:
        ctx.against = tuple(expand_paths(against))
    read = ReadOptions(id_field=ruleset.settings.id_field)
    if ruleset.settings.max_line_bytes:
        read.max_line_bytes = ruleset.settings.max_line_bytes
    engine = Engine(chosen, ctx, EngineOptions(read=read, jobs=jobs), ruleset_name=ruleset.name)
    try:
        result = engine.run(files)
    except DatasetReadError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read input: {exc.strerror or exc}")
    require_records(result.datasets, inputs.skipped)
    result.notices[:0] = skipped_notices(inputs.skipped)
    outdir = Path(out)
    try:
        write_bytes_atomic(outdir / "report.json", _json(result))
        write_bytes_atomic(outdir / "report.md", render_markdown(result).encode("utf-8"))
        write_bytes_atomic(outdir / "report.html", render_html(result).encode("utf-8"))
    except OSError as exc:
        fail(f"cannot write {outdir}: {exc.strerror or exc}")
    counts = f"{result.records:,} records, {len(result.findings):,} findings"
    typer.echo(f"wrote {outdir / 'report.html'}, report.md and report.json ({counts})")


def _json(result: object) -> bytes:
    """The versioned JSON report plus `report`: the sections the HTML and Markdown show."""
    import orjson

    from curate.reporters.overview import build

    doc = result.to_json()  # type: ignore[attr-defined]
    doc["report"] = build(result)  # type: ignore[arg-type]
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
