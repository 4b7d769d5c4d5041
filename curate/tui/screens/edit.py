"""Edit a record as JSON; the session refuses anything but one JSON object and says why."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


class EditScreen(ModalScreen[bool]):
    """Dismisses True once `save(text)` accepted the text, False when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "save", "save", priority=True),
        Binding("escape", "cancel", "cancel", priority=True),
    ]

    def __init__(self, text: str, save: Callable[[str], str | None], title: str = "edit record") -> None:
        super().__init__()
        self.text = text
        self.save = save  # returns None when saved, else the reason it was refused
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Static(Text(f"{self.title_text}  ·  ctrl+s save  ·  escape cancel", style="bold"), id="editor-title")
            area = TextArea(self.text, id="editor-area", show_line_numbers=True, tab_behavior="indent", soft_wrap=True)
            with contextlib.suppress(Exception):  # highlighting needs tree-sitter; plain text is fine
                area.language = "json"
            yield area
            yield Static("", id="editor-error")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        error = self.save(self.query_one(TextArea).text)
        if error is None:
            self.dismiss(True)
        else:
            self.query_one("#editor-error", Static).update(Text(f"refused: {error}", style="bold red"))

    def action_cancel(self) -> None:
        self.dismiss(False)
