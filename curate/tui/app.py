"""`curate review`: flagged records on the left, the record as a conversation on the right.

The app only draws and routes keys; every decision goes through ReviewSession, which saves
it at once. Dataset text reaches the screen only as rich Text built piece by piece, never as
markup, so `[bold]` or an ANSI escape inside a record is shown, not obeyed.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from curate.display import shown
from curate.review import STATUSES, EditRefused, ReviewFilter, ReviewSession, SaveFailed
from curate.tui.keys import BINDINGS, bindings
from curate.tui.screens.confirm import ConfirmScreen, diff_text
from curate.tui.screens.edit import EditScreen
from curate.tui.screens.filter import FilterScreen
from curate.tui.screens.help import HelpScreen
from curate.tui.text import one_line
from curate.tui.widgets.flagged_list import FlaggedList
from curate.tui.widgets.record_render import render_findings, render_record_at


def _guarded(method):  # noqa: ANN001, ANN202
    """A decision that cannot be saved is shown as an error, never a crash (and is not taken)."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args):  # noqa: ANN001, ANN202
        try:
            return method(self, *args)
        except SaveFailed as exc:
            self.say(str(exc), "error")
            self.redraw()

    return wrapper


class ReviewApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "curate review"
    BINDINGS = bindings()  # noqa: RUF012
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, session: ReviewSession, output: str | None = None, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.session = session
        self.output = output
        self.raw = False
        self._keymap_overrides = keymap or {}

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static(id="list-status")
                yield FlaggedList(self.session, id="list")
            with Vertical(id="right"):
                yield Static(id="record-title")
                with VerticalScroll(id="record-scroll"):
                    yield Static(id="record")
                with VerticalScroll(id="findings-scroll"):
                    yield Static(id="findings")
                yield Static(id="message")
        yield Footer()

    def on_mount(self) -> None:
        if self._keymap_overrides:
            self.set_keymap(self._keymap_overrides)
        self.query_one(FlaggedList).focus()
        self.redraw()
        for err in self.session.errors[:3]:
            self.say(err, "warning")

    @property
    def flagged(self) -> FlaggedList:
        return self.query_one(FlaggedList)

    def redraw(self, record: bool = True, changed: bool = True) -> None:
        s = self.session
        counts = s.counts()
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append(f"{len(s.view):,} shown", style="bold")
        status.append(f" · {counts.get('pending', 0):,} pending of {len(s.items):,} flagged · ")
        status.append(one_line(s.filter.describe(), 120), style="cyan")
        self.query_one("#list-status", Static).update(status)
        self.flagged.refresh_view(changed)
        if record:
            self.draw_record()

    def draw_record(self) -> None:
        s = self.session
        item = s.current
        title = Text(no_wrap=True, overflow="ellipsis")
        body_widget = self.query_one("#record", Static)
        if item is None:
            title.append("nothing to review here", style="bold")
            msg = "no flagged records match the filter" if s.items else "no findings: nothing to review"
            body_widget.update(
                Text(f"{msg}.\nc clears the filter, s shows decided records, x exports, q quits.", style="italic")
            )
            self.query_one("#record-title", Static).update(title)
            self.query_one("#findings", Static).update(Text(""))
            return
        record = s.record(item)
        title.append(f"{shown(Path(item.path).name, None)}:{item.label}", style="bold")  # a name can hold PII
        status = s.status(item)
        title.append(f"  {status}", style="yellow" if status == "pending" else "green")
        if record is not None and record.data is not None:
            title.append(f"  {record.format}", style="dim")
        if item.occurrence:  # identical records share a key: say which one this is, and what that means
            title.append(f"  identical copy {item.occurrence} (decisions apply to this copy only)", style="dim")
        if self.raw:
            title.append("  raw JSON", style="cyan")
        self.query_one("#record-title", Static).update(title)
        selected = s.current_finding
        raw_line = s.store.raw_bytes(item.line) if record is not None and record.data is None else None
        body, anchor = render_record_at(record, item.findings, selected, self.raw, raw_line)
        body_widget.update(body)
        fix = s.fix_proposal() is not None
        self.query_one("#findings", Static).update(render_findings(item.findings, selected, s._accepted, fix))
        scroll = self.query_one("#record-scroll", VerticalScroll)
        scroll.scroll_home(animate=False)
        if anchor:  # the selected finding's span or turn: count the wrapped lines above it, once laid out

            def to_anchor() -> None:
                width = max(10, self.query_one("#record", Static).content_region.width)
                y = len(body[:anchor].wrap(self.console, width)) - 1
                scroll.scroll_to(y=max(0, y - 2), animate=False)

            self.call_after_refresh(to_anchor)

    def say(self, message: str, severity: str = "information") -> None:
        """One line above the key bar (never a toast over the record): the newest message stays
        until the next one, so nothing is hidden and nothing covers the detail text."""
        style = {"error": "bold red", "warning": "yellow"}.get(severity, "green")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(one_line(message, 300), style=style)
        self.query_one("#message", Static).update(line)

    # -- moving ------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.session.move(delta)
        self.redraw(changed=False)

    def action_page(self, direction: int) -> None:
        height = max(1, self.flagged.scrollable_content_region.height - 1)
        self.session.move(direction * height)
        self.redraw(changed=False)

    def action_jump(self, position: int) -> None:
        self.session.goto(position if position >= 0 else len(self.session.view) - 1)
        self.redraw(changed=False)

    def action_next_finding(self, delta: int) -> None:
        self.session.next_finding(delta)
        self.draw_record()

    def action_scroll_record(self, direction: int) -> None:
        scroll = self.query_one("#record-scroll", VerticalScroll)
        scroll.scroll_relative(y=direction * max(1, scroll.size.height // 2), animate=False)

    def on_flagged_list_selected(self, message: FlaggedList.Selected) -> None:
        self.session.goto(message.position)
        self.redraw(changed=False)

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self.draw_record()

    # -- deciding ----------------------------------------------------------------------------
    @_guarded
    def action_accept(self) -> None:
        self.say(self.session.accept())
        self.redraw()

    @_guarded
    def action_drop(self) -> None:
        self.say(self.session.drop())
        self.redraw()

    def action_fix(self) -> None:
        proposal = self.session.fix_proposal()
        if proposal is None:
            self.say("no suggested fix for this finding: e edits the record")
            return

        @_guarded
        def done(self: ReviewApp, ok: bool | None) -> None:
            if ok:
                self.say(self.session.apply_fix(proposal))
                self.redraw()

        title = f"apply the fix for {proposal.finding.rule}? ({one_line(proposal.finding.message, 80)})"
        self.push_screen(ConfirmScreen(title, diff_text(proposal.diff), yes="Apply"), lambda ok: done(self, ok))

    def action_edit(self) -> None:
        item = self.session.current
        if item is None or item.key is None:
            self.say("no record to edit")
            return

        def save(text: str) -> str | None:
            try:
                self.say(self.session.edit(text))
            except (EditRefused, SaveFailed) as exc:
                return str(exc)
            return None

        def done(saved: bool | None) -> None:
            self.redraw()

        self.push_screen(EditScreen(self.session.edit_text(), save, f"edit {item.named}"), done)

    @_guarded
    def action_undo(self) -> None:
        self.say(self.session.undo())
        self.redraw()

    def action_bulk_accept(self) -> None:
        findings, _ = self.session.bulk_targets()
        if not findings:
            self.say("no pending findings in this view")
            return
        rules = len({f.rule for _, f in findings})
        records = len({id(i) for i, _ in findings})
        body = Text(f"filter: {self.session.filter.describe()}\nThey will not be reported again. u undoes it.")

        @_guarded
        def done(self: ReviewApp, ok: bool | None) -> None:
            if ok:
                self.say(self.session.bulk_accept())
                self.redraw()

        self.push_screen(
            ConfirmScreen(
                f"accept {len(findings):,} findings ({rules} rules) in {records:,} records?", body, "Accept all"
            ),
            lambda ok: done(self, ok),
        )

    def action_bulk_drop(self) -> None:
        _, records = self.session.bulk_targets()
        if not records:
            self.say("no records to drop in this view")
            return
        body = Text(f"filter: {self.session.filter.describe()}\nThey go to the quarantine file on export. u undoes it.")

        @_guarded
        def done(self: ReviewApp, ok: bool | None) -> None:
            if ok:
                self.say(self.session.bulk_drop())
                self.redraw()

        self.push_screen(ConfirmScreen(f"drop {len(records):,} records?", body, "Drop all"), lambda ok: done(self, ok))

    # -- filters -----------------------------------------------------------------------------
    def action_filter(self) -> None:
        s = self.session
        rules = sorted({f.rule for i in s.items for f in i.findings})
        families = sorted({f.check.split(".", 1)[0] for i in s.items for f in i.findings})

        def done(flt: ReviewFilter | None) -> None:
            if flt is not None:
                s.apply_filter(flt)
                self.redraw()

        self.push_screen(FilterScreen(s.filter, rules, families), done)

    def action_cycle_status(self) -> None:
        s = self.session
        nxt = STATUSES[(STATUSES.index(s.filter.status) + 1) % len(STATUSES)]
        s.apply_filter(ReviewFilter(s.filter.rule, s.filter.severity, s.filter.family, s.filter.text, nxt))
        self.redraw()

    def action_clear_filter(self) -> None:
        self.session.apply_filter(ReviewFilter())
        self.redraw()

    # -- export, help, quit ------------------------------------------------------------------
    def action_export(self) -> None:
        try:
            result = self.session.export(self.output)
        except (OSError, ValueError) as exc:
            self.say(f"export failed: {exc}", "error")
            return
        changed = result.fixed + result.edited
        msg = f"wrote {result.written:,} records to {result.out}; {changed:,} changed, {result.quarantined:,} out"
        self.say(msg)

    def action_help(self) -> None:
        keys = []
        for bid, default, _action, label, _show in BINDINGS:
            current = self._keymap_overrides.get(f"review.{bid}", default)
            keys.append((bid, current.replace("question_mark", "?").replace("slash", "/"), label))
        self.push_screen(HelpScreen(keys))

    def action_quit_review(self) -> None:
        self.exit()
