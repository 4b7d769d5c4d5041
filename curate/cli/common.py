"""What several subcommands share: expanding paths, loading rules, exiting with code 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

from curate.check import RunContext
from curate.config import RuleSet, check_tokens, load_ruleset, select_rules
from curate.pyproject import load_project_settings, project_notices
from curate.yamlfile import ConfigError

EXIT_USAGE = 2
DATA_SUFFIXES = (".jsonl", ".json", ".ndjson")


def say(message: str) -> None:
    """One line on stderr, through `curate.display.shown`: error text often quotes a path or a value."""
    from curate.display import shown

    sys.stderr.write(f"curate: {shown(message, None)}\n")


def fail(message: str) -> NoReturn:
    """Print `message` (each of its lines, for several problems at once) and exit with code 2."""
    for line in message.splitlines() or [""]:
        say(line)
    raise SystemExit(EXIT_USAGE)


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given; directories become their dataset files (recursively, sorted)."""
    out: list[str] = []
    for p in paths:
        if p == "-":
            out.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(
                str(f)
                for f in path.rglob("*")
                if f.is_file() and f.suffix in DATA_SUFFIXES and not f.name.startswith(".")
            )
            if not found:
                fail(f"{p}: no .jsonl or .json files in this directory")
            out.extend(found)
        elif not path.exists():
            fail(f"{p}: no such file or directory")
        else:
            out.append(p)
    return out


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
