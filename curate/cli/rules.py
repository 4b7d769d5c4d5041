"""`curate rules`: list the rules of a rule set; `curate rules explain ID` shows one in full."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from curate.cli import app
from curate.cli.common import fail

rules_app = typer.Typer(help="List rules and explain one.", invoke_without_command=True, no_args_is_help=False)
app.add_typer(rules_app, name="rules")


def _load(rules: str | None):  # noqa: ANN202
    from curate.config import load_ruleset
    from curate.registry import load_registry
    from curate.yamlfile import ConfigError

    try:
        registry = load_registry()
        return load_ruleset(rules or "default", registry), registry
    except ConfigError as exc:
        fail(str(exc))


@rules_app.callback()
def list_rules(
    ctx: typer.Context,
    rules: Annotated[Optional[str], typer.Option("--rules", "-r", help="Rule set name or YAML path.")] = None,
    all_checks: Annotated[bool, typer.Option("--checks", help="List every registered check instead.")] = False,
) -> None:
    """List the rules of a rule set (or every check) with their descriptions."""
    if ctx.invoked_subcommand:
        return
    ruleset, registry = _load(rules)
    console = Console(highlight=False)
    if all_checks:
        header = ("check", "scope", "default")
        rows = [
            (cid, cls.scope, str(cls.default_severity), cls.description) for cid, cls in sorted(registry.checks.items())
        ]
    else:
        header = ("rule", "check", "severity")
        rows = [
            (rule.id, rule.check, str(rule.severity), rule.description)
            for rule in sorted(ruleset.rules, key=lambda r: r.check)
        ]
    print_listing(console, header, rows)
    console.print(Text(f"{len(ruleset.rules)} rules in {ruleset.name} ({', '.join(ruleset.files)})", style="dim"))
    for err in registry.errors:
        console.print(Text(f"plugin {err.source}: {err.message}", style="red"))


MIN_DESCRIPTION = 30  # narrower than this, descriptions go on their own lines under each rule


def print_listing(console: Console, header: tuple[str, str, str], rows: list[tuple[str, str, str, str]]) -> None:
    """Ids, checks and severities are never cut (so `curate rules | grep ID` finds the full id);
    descriptions wrap in their column, or go under each row when the terminal is too narrow."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    fixed = sum(widths) + 3 * 3 + 2  # three column separators and the edges
    if console.width - fixed >= MIN_DESCRIPTION:
        table = Table(show_edge=False, header_style="bold")
        for name, width in zip(header, widths, strict=True):
            table.add_column(name, no_wrap=True, min_width=width)
        table.add_column("description", overflow="fold")
        for a, b, c, desc in rows:
            table.add_row(Text(a, style="magenta"), b, c, Text(desc))
        console.print(table)
        return
    head = Text("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), style="bold")
    console.print(head, soft_wrap=True)
    for a, b, c, desc in rows:
        line = Text(a.ljust(widths[0]), style="magenta")
        line.append(f"  {b.ljust(widths[1])}  {c}")
        console.print(line, soft_wrap=True)  # one line whatever the width: never cut, never wrapped
        console.print(Padding(Text(desc, style="dim"), (0, 0, 0, 4)))


@rules_app.command("explain")
def explain(
    rule_id: Annotated[
        str, typer.Argument(help="A rule id (missing-assistant) or a check id (schema.missing_assistant).")
    ],
    rules: Annotated[Optional[str], typer.Option("--rules", "-r", help="Rule set name or YAML path.")] = None,
) -> None:
    """Show one rule: what it detects, severity, parameters with defaults, and an example."""
    ruleset, registry = _load(rules)
    rule = next((r for r in ruleset.rules if rule_id in (r.id, r.check)), None)
    cls = registry.get(rule.check if rule else rule_id)
    if cls is None:
        from curate.yamlfile import did_you_mean

        hint = did_you_mean(rule_id, [*(r.id for r in ruleset.rules), *registry.checks])
        fail(f"no rule or check named {rule_id!r}{hint}; see `curate rules`")
    console = Console(highlight=False)
    title = Text()
    title.append(rule.id if rule else cls.id, style="bold magenta")
    title.append(f"  ({cls.id}, {cls.scope} check)")
    console.print(title)
    console.print(Text(cls.description))
    if rule:
        console.print(Text(f"severity: {rule.severity}   set in: {rule.source}"))
        if rule.roles:
            console.print(Text(f"roles: {', '.join(sorted(rule.roles))}"))
    else:
        console.print(Text(f"default severity: {cls.default_severity} (not in rule set {ruleset.name})"))
    fields = cls.Params.model_fields
    if fields:
        console.print(Text("parameters:", style="bold"))
        current = rule.params.model_dump() if rule else cls.Params().model_dump()
        for name, info in fields.items():
            desc = f"  # {info.description}" if info.description else ""
            console.print(Text(f"  {name}: {json.dumps(current.get(name), ensure_ascii=False)}{desc}"))
    notes = getattr(cls, "explain_notes", None)
    if callable(notes):  # e.g. which PII entity types are active on this machine
        console.print(Text(notes()))
    if cls.example:
        console.print(Text("example:", style="bold"))
        console.print(Text(f"  {cls.example}"))
    if cls.__doc__ and cls.__doc__.strip() != cls.description:
        console.print(Text(cls.__doc__.strip(), style="dim"))
