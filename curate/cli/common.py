"""What several subcommands share: expanding paths, loading rules, exiting with code 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from curate.check import RunContext
from curate.config import RuleSet, check_tokens, load_ruleset, select_rules
from curate.io.listing import Inputs
from curate.pyproject import load_project_settings, project_notices
from curate.report import DatasetInfo
from curate.yamlfile import ConfigError

EXIT_USAGE = 2


def say(message: str) -> None:
    """One line on stderr, through `curate.display.shown`: error text often quotes a path or a value."""
    from curate.display import shown

    sys.stderr.write(f"curate: {shown(message, None)}\n")


def fail(message: str) -> NoReturn:
    """Print `message` (each of its lines, for several problems at once) and exit with code 2."""
    for line in message.splitlines() or [""]:
        say(line)
    raise SystemExit(EXIT_USAGE)


def expand_inputs(paths: list[str]) -> Inputs:
    """Files as given; directories become their dataset files (recursively, sorted), and the other
    files of a directory are listed as skipped with the reason (never silently)."""
    from curate.display import shown
    from curate.io.listing import list_directory

    out = Inputs()
    for p in paths:
        if p == "-":
            out.files.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found = list_directory(path)
            if not found.files:
                reasons = "".join(f"\n  {shown(f, None)}: {why}" for f, why in found.skipped[:20])
                kinds = "JSONL, JSON, Parquet, Arrow, CSV"
                fail(f"{shown(p, None)}: no dataset files in this directory ({kinds}){reasons}")
            out.files.extend(found.files)
            out.skipped.extend(found.skipped)
        elif not path.exists():
            fail(f"{shown(p, None)}: no such file or directory")
        else:
            out.files.append(p)
    return out


def expand_paths(paths: list[str]) -> list[str]:
    """The files of `expand_inputs`, the skipped ones said on stderr (for inputs that are not the run's own)."""
    inputs = expand_inputs(paths)
    say_skipped(inputs.skipped)
    return inputs.files


def say_skipped(skipped: list[tuple[str, str]]) -> None:
    from curate.display import shown

    for path, why in skipped:
        sys.stderr.write(f"curate: {shown(path, None)}: skipped, {why}\n")


def skipped_notices(skipped: list[tuple[str, str]]) -> list[str]:
    """The run notices for files a directory listing skipped."""
    from curate.display import shown

    return [f"{shown(path, None)}: skipped, {why}" for path, why in skipped]


def require_records(datasets: list[DatasetInfo], skipped: list[tuple[str, str]], what: str = "checked") -> None:
    """A run that read no record never passes: exit 2 naming every input and why nothing came of it."""
    if any(d.read for d in datasets):
        return
    from curate.display import shown

    reasons = [f"{shown(path, None)}: skipped, {why}" for path, why in skipped]
    for d in datasets:
        if d.skipped:
            why = f"skipped, {d.skipped}"
        elif d.lines:
            why = f"no records ({d.lines:,} blank lines or an empty document)"
        else:
            why = "empty file"
        reasons.append(f"{shown(d.path, None)} ({d.kind}): {why}")
    fail(f"nothing was {what}: no record was read\n  " + "\n  ".join(reasons or ["no input"]))


INPUT_FORMAT_HELP = (
    "Read every record as this format instead of detecting it: openai_chat, openai_preference, "
    "prompt_completion, preference, anthropic_hh, alpaca, sharegpt, question_answer, oasst_tree, prompt_only, "
    "chatml, llama2, llama3, alpaca_text, text."
)
ROLE_MAP_HELP = "Read role spellings as roles, e.g. user=User,assistant=Chatbot (repeatable)."
# --select / --ignore as the commands that audit before doing something else declare them
SelectOpt = Annotated[
    Optional[list[str]], typer.Option("--select", "-s", help="Only these rule ids, checks or families.")
]
IgnoreOpt = Annotated[
    Optional[list[str]], typer.Option("--ignore", "-i", help="Skip these rule ids, checks or families.")
]


def format_hint(input_format: str | None, role_map: list[str] | None):  # noqa: ANN201 - FormatHint | None
    """--input-format and --role-map as one value for the engine; exit 2 naming what is wrong."""
    from curate.formats import FORMATS, FormatHint
    from curate.formats.roles import RoleMapError, parse_role_map

    if input_format is not None and input_format not in FORMATS:
        fail(f"--input-format must be one of {', '.join(FORMATS)}")
    try:
        roles = parse_role_map(role_map or ())
    except RoleMapError as exc:
        fail(f"--role-map: {exc}")
    hint = FormatHint(input_format, roles)
    return hint or None


def split_tokens(values: list[str] | None) -> list[str]:
    return [t.strip() for v in values or [] for t in v.split(",") if t.strip()]


def prepare_rules(
    rules: str | None,
    select: list[str] | None,
    ignore: list[str] | None,
    target: str | None,
    fail_on: str | None = None,
) -> tuple[RuleSet, list, RunContext, str]:
    """Rule set from --rules or [tool.curate]; then --select/--ignore; returns (set, rules, ctx, fail_on).
    What the project's settings switched off travels in `ctx.notices` to the report."""
    from curate.registry import load_registry

    try:
        project, pyproject = load_project_settings()
        registry = load_registry()
        ruleset = load_ruleset(rules or project.rules or "default", registry)
        sel = split_tokens(select) or project.select or []
        ign = split_tokens(ignore) or project.ignore or []
        check_tokens(sel + ign, ruleset.rules, registry)
    except ConfigError as exc:
        fail(str(exc))
    if target:
        require_known_target(target)
    chosen = select_rules(ruleset.rules, sel, ign)
    notices = project_notices(ruleset, project, pyproject, split_tokens(select), split_tokens(ignore), fail_on)
    ctx = RunContext(target=target or project.target or ruleset.target, notices=tuple(notices))
    return ruleset, chosen, ctx, project.fail_on or ruleset.fail_on


def require_known_target(target: str) -> None:
    """An unknown `--target` is a usage error (with a did-you-mean), never a note buried in the stats."""
    import difflib

    from curate.display import shown
    from curate.targets import find_model, load_table

    if find_model(target) is not None:
        return
    try:
        names = load_table().names()
    except ConfigError as exc:
        fail(str(exc))
    close = difflib.get_close_matches(target.lower(), [n.lower() for n in names], n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    fail(f"unknown --target {shown(target)}{hint} Known targets: {', '.join(names)}")
