"""The record drawn as a conversation: roles visible, the finding's span highlighted, text literal."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text

from curate.fixes import finding_spans
from curate.model import Finding, Record, Severity
from curate.tui.text import highlighted_at, literal, one_line

ROLE_STYLES = {"system": "bold magenta", "user": "bold cyan", "assistant": "bold green", "tool": "bold yellow"}
SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
SELECTED_SPAN = "black on yellow"
OTHER_SPAN = "underline"


def _message_pointer(field: str) -> str:
    return field.rsplit("/", 1)[0] if field.count("/") >= 2 else field


def _touches(finding: Finding, field: str) -> bool:
    """Does the finding point at this turn (its text, its message object or a key of it)?"""
    if not finding.field:
        return False
    msg = _message_pointer(field)
    return finding.field == field or finding.field == msg or finding.field.startswith(msg + "/")


def render_record_at(
    record: Record | None,
    findings: list[Finding],
    selected: Finding | None,
    raw: bool = False,
    raw_line: bytes | None = None,
) -> tuple[Text, int]:
    """The record as Text, and the character offset of the selected finding's turn (0: top)."""
    anchor: int | None = None
    out = Text()
    if record is None:
        out.append("findings about the whole file: nothing to show here\n", style="italic")
        return out, 0
    if record.data is None and not (raw_line or b"").strip():
        size = len(raw_line or b"")
        out.append(f"line {record.line} is blank ({size} bytes, shown below between the rules); ", style="italic")
        out.append("d drops it, a accepts it\n\n", style="italic")
        out.append("────\n", style="dim")
        out.append_text(literal((raw_line or b"").decode("utf-8", "replace")))
        out.append("\n────\n", style="dim")
        return out, 0
    if record.data is None:
        out.append("this line is not a JSON object; e to repair it by hand, d to drop it\n\n", style="italic")
        out.append_text(literal(raw_line.decode("utf-8", "replace") if raw_line else "(blank)"))
        return out, 0
    conv = record.conversation
    if raw or not conv.turns:
        if not conv.turns and not raw:
            out.append(f"format {conv.format}: shown as JSON\n\n", style="italic")
        out.append_text(literal(json.dumps(record.data, ensure_ascii=False, indent=2)))
        return out, 0
    sides = [("", conv.turns)]
    if conv.rejected:
        sides = [("CHOSEN", conv.turns), ("REJECTED", conv.rejected)]
    for title, turns in sides:
        if title:
            out.append(f"── {title} ──\n", style="bold reverse")
        for turn in turns:
            start = len(out)
            at = _turn(out, turn, findings, selected)
            if selected is not None and _touches(selected, turn.field) and anchor is None:
                anchor = at if at is not None else start  # scroll to the span, else to the turn
    extra = {k: v for k, v in record.data.items() if k not in _CONVERSATION_KEYS}
    if extra:
        out.append("other fields  ", style="bold dim")
        out.append_text(literal(one_line(json.dumps(extra, ensure_ascii=False), 2000), style="dim"))
        out.append("\n")
    return out, anchor or 0


def render_record(
    record: Record | None,
    findings: list[Finding],
    selected: Finding | None,
    raw: bool = False,
    raw_line: bytes | None = None,
) -> Text:
    return render_record_at(record, findings, selected, raw, raw_line)[0]


_CONVERSATION_KEYS = {
    "messages", "conversations", "conversation", "instruction", "input", "output", "response", "history",
    "system", "prompt", "completion", "chosen", "rejected", "chosen_messages", "rejected_messages",
    "preferred_output", "non_preferred_output", "text", "question",
}  # fmt: skip


def _turn(out: Text, turn: Any, findings: list[Finding], selected: Finding | None) -> int | None:
    """Append one turn; return where the selected finding's span starts in `out`, if drawn."""
    at = None
    marks = [f for f in findings if _touches(f, turn.field)]
    # the role and the field's keys come from the data: literal (escapes shown, never obeyed)
    role_style = ROLE_STYLES.get(turn.role, "bold") + " reverse"
    out.append_text(literal(f" {(turn.role or '?').upper()} ", style=role_style, escape_style=role_style + " dim"))
    if turn.name:
        out.append_text(literal(f" {turn.name}", style="dim"))
    out.append_text(literal(f"  {turn.field}", style="dim"))
    if marks:
        here = selected in marks
        out.append("  ◀ " + ", ".join(dict.fromkeys(f.rule for f in marks)), style="bold yellow" if here else "yellow")
    out.append("\n")
    spans = []
    for f in marks:
        if f.field != turn.field:
            continue
        for a, b in finding_spans(f):
            if b <= len(turn.text):
                spans.append((a, b, SELECTED_SPAN if f is selected else OTHER_SPAN))
    spans.sort(key=lambda s: (s[2] != SELECTED_SPAN, s[0]))
    if turn.text.strip():
        base = len(out)
        text, mark = highlighted_at(turn.text, spans, first_of=SELECTED_SPAN)
        out.append_text(text)
        if mark >= 0:
            at = base + mark
    elif turn.text:
        shown = turn.text.replace(" ", "·").replace("\t", "→").replace("\n", "⏎")
        out.append(shown[:200], style="reverse dim")
        out.append(f"  (whitespace only, {len(turn.text)} characters)", style="dim italic")
    elif not turn.tool_calls:
        out.append("(empty)", style="dim italic")
    for i, call in enumerate(turn.tool_calls):
        out.append("\n→ tool call " if i or turn.text else "→ tool call ", style="bold yellow")
        out.append_text(literal(f"{call.name}({call.arguments})"))
    out.append("\n\n")
    return at


def render_findings(
    findings: list[Finding], selected: Finding | None, accepted: frozenset[str] | set[str], fix_available: bool
) -> Text:
    """The record's findings (messages are already masked by the checks), the selected one first in focus."""
    out = Text()
    for f in findings:
        is_sel = f is selected
        done = f.fingerprint in accepted
        out.append("▶ " if is_sel else "  ", style="bold")
        out.append("✓ " if done else "  ", style="green")
        out.append(f"{f.severity}".ljust(8), style=SEVERITY_STYLES[f.severity])
        out.append(f"{f.rule} ", style="magenta")
        out.append(one_line(f.message), style="bold" if is_sel else "")
        if f.field:
            out.append(f"  {one_line(f.field, 80)}", style="dim")
        out.append("\n")
    if selected is not None:
        if selected.fix:
            out.append("how to fix: ", style="bold green")
            out.append(one_line(selected.fix, 400))
            out.append("\n")
        if fix_available:
            out.append("f applies the suggested fix (diff first)", style="green")
        else:
            out.append("no automatic fix: e edits the record, d drops it, a accepts the finding", style="dim")
    return out
