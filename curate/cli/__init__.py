"""The `curate` command. Each subcommand lives in its own module and registers itself on `app`."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup


def _plain_metavars(command: Any) -> None:
    """Show `--rules RULES` in help, not Python types (`<str>`, `<list[str]>`, `<bool>`)."""
    for param in command.params:
        if param.metavar is None and not getattr(param, "is_flag", False):
            plural = param.nargs != 1 and param.param_type_name == "option"
            param.metavar = (param.name or "value").upper() + ("..." if plural else "")
        if param.param_type_name == "argument" and not getattr(param, "_plain", False):
            param._plain = True  # type: ignore[attr-defined]
            param.get_help_record = _without_type(param.get_help_record)  # type: ignore[method-assign]


def _without_type(get_help_record: Any) -> Any:
    def plain(ctx: Any) -> tuple[str, str] | None:
        record = get_help_record(ctx)
        return None if record is None else (record[0].split(" ", 1)[0], record[1])

    return plain


class _Group(TyperGroup):
    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_metavars(command)
            for sub in getattr(command, "commands", {}).values():
                _plain_metavars(sub)
        return command


app = typer.Typer(
    cls=_Group,
    name="curate",
    help="Audit and clean LLM fine-tuning datasets before you pay for a training run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from curate import __version__

        sys.stdout.write(f"curate {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """Audit and clean LLM fine-tuning datasets before you pay for a training run."""


# subcommands: importing a module registers its commands
from curate.cli import baseline as _baseline  # noqa: E402,F401
from curate.cli import cache as _cache  # noqa: E402,F401
from curate.cli import check as _check  # noqa: E402,F401
from curate.cli import cost as _cost  # noqa: E402,F401
from curate.cli import diff as _diff  # noqa: E402,F401
from curate.cli import export as _export  # noqa: E402,F401
from curate.cli import merge as _merge  # noqa: E402,F401
from curate.cli import report as _report  # noqa: E402,F401
from curate.cli import review as _review  # noqa: E402,F401
from curate.cli import rules as _rules  # noqa: E402,F401
from curate.cli import split as _split  # noqa: E402,F401


def main() -> None:
    from curate.cli import stopping

    try:
        stopping.install()
        app()
    except stopping.Interrupted as exc:
        stopping.exit_now(stopping.report(exc))
    except KeyboardInterrupt:
        sys.stderr.write("curate: interrupted\n")
        sys.exit(130)
