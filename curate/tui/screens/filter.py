"""Choose what the list shows: status, rule, family, severity, and a search over text."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from curate.model import Severity
from curate.review import STATUSES, ReviewFilter


class FilterScreen(ModalScreen["ReviewFilter | None"]):
    BINDINGS = [Binding("escape", "cancel", "cancel", priority=True)]

    def __init__(self, current: ReviewFilter, rules: list[str], families: list[str]) -> None:
        super().__init__()
        self.current = current
        self.rules = rules
        self.families = families

    def compose(self) -> ComposeResult:
        c = self.current
        with Vertical(id="filter"):
            yield Label("search rules, messages and record text (:N for line N); enter applies")
            yield Input(c.text, placeholder="text to search for", id="filter-text")
            with Horizontal(classes="filter-row"):
                yield Select([(s, s) for s in STATUSES], value=c.status, allow_blank=False, id="filter-status")
                yield Select(
                    [(str(s), s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)],
                    value=c.severity or Select.NULL,
                    prompt="any severity",
                    id="filter-severity",
                )
            with Horizontal(classes="filter-row"):
                yield Select(
                    [(r, r) for r in self.rules], value=c.rule or Select.NULL, prompt="any rule", id="filter-rule"
                )
                yield Select(
                    [(f, f) for f in self.families],
                    value=c.family or Select.NULL,
                    prompt="any family",
                    id="filter-family",
                )
            with Horizontal(id="dialog-buttons"):
                yield Button("Apply (enter)", variant="primary", id="apply")
                yield Button("Cancel (escape)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def _value(self, sel_id: str) -> object:
        v = self.query_one(sel_id, Select).value
        return None if v is Select.NULL else v

    def result(self) -> ReviewFilter:
        return ReviewFilter(
            rule=self._value("#filter-rule"),  # type: ignore[arg-type]
            severity=self._value("#filter-severity"),  # type: ignore[arg-type]
            family=self._value("#filter-family"),  # type: ignore[arg-type]
            text=self.query_one("#filter-text", Input).value.strip(),
            status=self._value("#filter-status") or "pending",  # type: ignore[arg-type]
        )

    def on_input_submitted(self) -> None:
        self.dismiss(self.result())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.result() if event.button.id == "apply" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
