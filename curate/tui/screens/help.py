"""Every key, as currently mapped (a keymap file may have changed them)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

EXPLAIN = {
    "accept": "accept the selected finding: it is intended, never flag it again",
    "drop": "drop the record (it goes to the quarantine file on export)",
    "fix": "apply the check's suggested fix, after showing the diff",
    "edit": "edit the record as JSON (invalid JSON is refused with the reason)",
    "undo": "undo the last decision of this session",
    "accept-all": "accept every pending finding the filter shows (asks first)",
    "drop-all": "drop every record the filter shows (asks first)",
    "filter": "filter by rule, severity, family, status; search text",
    "status": "cycle pending / all / decided",
    "clear-filter": "clear the filter (back to pending records)",
    "raw": "toggle the raw JSON view of the record",
    "export": "write the curated file now",
    "quit": "quit (every decision is already saved)",
}


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.keys = keys  # (binding id, keys, label)

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for bid, keys, label in self.keys:
            table.add_row(Text(keys), Text(EXPLAIN.get(bid, label)))
        with Vertical(id="help"):
            yield Static(Text("curate review: keys (remap them in ~/.config/curate/keys.yaml)", style="bold"))
            with VerticalScroll():
                yield Static(table)
            yield Static(Text("Decisions are saved as you go beside the dataset. escape closes this.", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
