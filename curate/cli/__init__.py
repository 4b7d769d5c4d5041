"""The `curate` command. Each subcommand lives in its own module and registers itself on `app`."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="curate",
    help="Audit and clean LLM fine-tuning datasets before you pay for a training run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# subcommands: importing a module registers its commands
from curate.cli import baseline as _baseline  # noqa: E402,F401
from curate.cli import cache as _cache  # noqa: E402,F401
from curate.cli import check as _check  # noqa: E402,F401
from curate.cli import cost as _cost  # noqa: E402,F401
from curate.cli import export as _export  # noqa: E402,F401
from curate.cli import report as _report  # noqa: E402,F401
from curate.cli import review as _review  # noqa: E402,F401
from curate.cli import rules as _rules  # noqa: E402,F401
from curate.cli import split as _split  # noqa: E402,F401


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("curate: interrupted\n")
        sys.exit(130)
