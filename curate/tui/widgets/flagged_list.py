"""The list of flagged records, drawn line by line: only visible rows are ever built.

A ScrollView whose virtual height is the number of records in the view; `render_line` builds
the one row asked for. 100,000 flagged records cost no more widgets than ten (toolong-style).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from curate.model import Severity
from curate.review import ReviewSession
from curate.tui.text import one_line

ICONS = {
    "pending": ("•", "yellow"),
    "accepted": ("✓", "green"),
    "dropped": ("✗", "red"),
    "fixed": ("✎", "green"),
    "edited": ("✎", "cyan"),
}
SEV = {Severity.ERROR: ("E", "bold red"), Severity.WARNING: ("W", "yellow"), Severity.INFO: ("I", "cyan")}


class FlaggedList(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"flagged-list--cursor"}
    DEFAULT_CSS = """
    FlaggedList > .flagged-list--cursor { background: $accent 50%; text-style: bold; }
    """

    @dataclass
    class Selected(Message):
        """The cursor moved (by mouse): the app redraws the record."""

        position: int

    def __init__(self, session: ReviewSession, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.session = session
        self._version = 0  # bumped when statuses or the view change; keys the row cache
        self._rows: LRUCache[tuple[int, int, bool, int], Strip] = LRUCache(1024)

    def on_mount(self) -> None:
        self.refresh_view()

    def refresh_view(self, changed: bool = True) -> None:
        """Resize, keep the cursor visible, redraw; `changed` when statuses or the view changed."""
        if changed:
            self._version += 1
        size = Size(self.size.width, len(self.session.view))
        if size != self.virtual_size:
            self.virtual_size = size
        self.scroll_to_cursor()
        self.refresh()

    def scroll_to_cursor(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        y = self.session.cursor
        top = int(self.scroll_offset.y)
        if y < top:
            self.scroll_to(y=y, animate=False)
        elif y >= top + height:
            self.scroll_to(y=y - height + 1, animate=False)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        index = int(self.scroll_offset.y) + y
        view = self.session.view
        if index >= len(view):
            return Strip.blank(width, self.rich_style)
        is_cursor = index == self.session.cursor
        cache_key = (index, width, is_cursor, self._version)
        strip = self._rows.get(cache_key)
        if strip is None:
            text = self.row(index, width)
            if is_cursor:
                text.stylize(self.get_component_rich_style("flagged-list--cursor"))
            segments = list(text.render(self.app.console))
            strip = Strip(segments).crop_extend(0, width, self.rich_style).apply_style(self.rich_style)
            self._rows[cache_key] = strip
        return strip

    def row(self, index: int, width: int) -> Text:
        s = self.session
        item = s.items[s.view[index]]
        status = s.status(item)
        icon, icon_style = ICONS.get(status, ("?", ""))
        pending = s.pending_findings(item)
        shown = pending[0] if pending else (item.findings or item.original or [None])[0]
        current = [f.severity for f in item.findings]
        letter, sev_style = SEV[max(current) if current else item.worst]  # what the detail pane says now
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"{icon} ", style=icon_style)
        text.append(f"{item.label:>7} ", style="bold")
        text.append(f"{letter} ", style=sev_style)
        # what must never be cut (the rule, a similarity, the +N marker) goes before the message,
        # which alone is shortened to the width left
        tail = Text(no_wrap=True, end="")
        more = len(item.findings) - 1
        if more > 0:
            tail.append(f" +{more}", style="dim")
        if shown is not None:
            text.append(shown.rule, style="magenta" if status == "pending" else "dim")
            similarity = (shown.data or {}).get("similarity") if isinstance(shown.data, dict) else None
            if isinstance(similarity, (int, float)):
                text.append(f" {similarity:.2f}", style="cyan")
            room = width - text.cell_len - tail.cell_len - 1
            if room > 3:
                message = Text(" " + one_line(shown.message, 300), style="" if status == "pending" else "dim")
                message.truncate(room, overflow="ellipsis")
                text.append_text(message)
        text.append_text(tail)
        text.truncate(width, overflow="ellipsis", pad=True)
        return text

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < len(self.session.view):
            self.post_message(self.Selected(index))

    def region_of_cursor(self) -> Region:
        return Region(0, self.session.cursor, self.size.width, 1)
