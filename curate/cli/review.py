"""`curate review`: the Textual review UI over one dataset's findings."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curate.cli import app
from curate.cli.common import INPUT_FORMAT_HELP, ROLE_MAP_HELP, IgnoreOpt, SelectOpt, fail, format_hint, prepare_rules


@app.command()
def review(
    path: Annotated[str, typer.Argument(help="The dataset to review (JSONL or JSON array).")],
    rules: Annotated[
        Optional[str], typer.Option("--rules", "-r", help="Rule set name (default, openai, strict) or a YAML path.")
    ] = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    output: Annotated[
        Optional[str], typer.Option("--output", "-o", help="Where x exports to (default <name>.curated.jsonl).")
    ] = None,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help=INPUT_FORMAT_HELP)] = None,
    role_map: Annotated[Optional[list[str]], typer.Option("--role-map", help=ROLE_MAP_HELP)] = None,
    keys: Annotated[
        Optional[str],
        typer.Option("--keys", help="YAML file remapping keys (action: keys); default ~/.config/curate/keys.yaml."),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the same review UI to a web browser instead of this terminal.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="With --serve: the address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="With --serve: the port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Review flagged records: accept, fix, edit or drop them; decisions are saved as you go."""
    import sys
    from pathlib import Path

    from rich.console import Console

    from curate.cli.common import expand_paths
    from curate.cli.export import read_options
    from curate.decisions import decisions_path
    from curate.display import shown
    from curate.review import ReviewSession
    from curate.tui.keys import KeymapError, load_keymap
    from curate.yamlfile import ConfigError

    if Path(path).is_dir():
        found = expand_paths([path])  # exits 2 itself when the folder holds no dataset
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        fail(f"{shown(path)}: is a directory; review one dataset at a time, e.g. curate review {shown(found[0])}{more}")
    if not Path(path).is_file():
        fail(f"{shown(path)}: no such file")
    hint = format_hint(input_format, role_map)  # usage errors before serving or "needs a terminal"
    if serve:
        forwarded = [("--rules", rules), ("--output", output), ("--input-format", input_format), ("--keys", keys)]
        forwarded += [("--select", v) for v in select or []] + [("--ignore", v) for v in ignore or []]
        forwarded += [("--role-map", v) for v in role_map or []]
        from curate.tui.serve import serve_review

        serve_review(path, [arg for name, value in forwarded if value for arg in (name, value)], host, port)
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not _served():
        fail(
            "review is interactive and needs a terminal (stdin or stdout is not one); "
            "in CI or a pipe use `curate check`, and `curate export` to apply saved decisions"
        )
    target = decisions_path(path)
    if not _writable(target.parent) or (target.exists() and not _writable(target)):
        fail(f"cannot save decisions as {target}: the folder is read-only; copy the dataset somewhere writable")
    try:
        keymap = load_keymap(keys)
    except KeymapError as exc:
        fail(str(exc))
    ruleset, chosen, ctx, _ = prepare_rules(rules, select, ignore, None)
    read = read_options(ruleset)
    from rich.text import Text

    from curate.display import shown

    console = Console(stderr=True, highlight=False)
    name = shown(path, None)  # a file name can hold PII, markup or escapes
    try:
        with console.status(Text(f"checking {name} …")) as status:

            def progress(p) -> None:  # noqa: ANN001
                status.update(Text(f"checking {name}: {p.records:,} records ({p.stage}) …"))

            session = ReviewSession.open(path, chosen, ctx, read, hint, ruleset_name=ruleset.name, on_progress=progress)
    except ConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read input: {exc.strerror or exc}")
    from curate.cli import stopping
    from curate.tui.app import ReviewApp

    stopping.uninstall()  # the TUI reads Ctrl-C as a key and must restore the terminal on SIGTERM itself
    ReviewApp(session, output=output, keymap=keymap).run()
    counts = session.counts()
    done = sum(n for s, n in counts.items() if s != "pending")
    console.print(
        f"{done:,} of {len(session.items):,} flagged records decided, {counts.get('pending', 0):,} pending; "
        f"decisions in {shown(decisions_path(path), None)}",
        markup=False,
    )


def _writable(p) -> bool:  # noqa: ANN001
    """Writable by us, and not marked read-only (root may write anywhere; a r-x folder still means no)."""
    import os
    import stat

    try:
        return os.access(p, os.W_OK) and bool(p.stat().st_mode & stat.S_IWUSR)
    except OSError:
        return False


def _served() -> bool:
    """Run by `--serve` (textual-serve's web driver talks through pipes, not a terminal)."""
    import os

    return os.environ.get("TEXTUAL_DRIVER", "").endswith("web_driver:WebDriver")
