"""Key bindings of the review UI, with ids so a YAML keymap can remap any of them."""

from __future__ import annotations

import os
from pathlib import Path

from textual.binding import Binding

# (id, default keys, action, footer label, shown in footer)
BINDINGS: list[tuple[str, str, str, str, bool]] = [
    ("down", "j,down", "move(1)", "down", False),
    ("up", "k,up", "move(-1)", "up", False),
    ("page-down", "pagedown", "page(1)", "page down", False),
    ("page-up", "pageup", "page(-1)", "page up", False),
    ("first", "g,home", "jump(0)", "first", False),
    ("last", "G,end", "jump(-1)", "last", False),
    ("next-finding", "n", "next_finding(1)", "next finding", False),
    ("prev-finding", "N", "next_finding(-1)", "previous finding", False),
    ("accept", "a", "accept", "accept", True),
    ("drop", "d", "drop", "drop", True),
    ("fix", "f", "fix", "fix", True),
    ("edit", "e", "edit", "edit", True),
    ("undo", "u", "undo", "undo", True),
    ("accept-all", "A", "bulk_accept", "accept all", True),
    ("drop-all", "D", "bulk_drop", "drop all", True),
    ("filter", "slash", "filter", "filter", True),
    ("status", "s", "cycle_status", "pending/all/decided", False),
    ("clear-filter", "c", "clear_filter", "clear filter", False),
    ("raw", "r", "toggle_raw", "raw JSON", False),
    ("scroll-down", "J", "scroll_record(1)", "scroll record down", False),
    ("scroll-up", "K", "scroll_record(-1)", "scroll record up", False),
    ("export", "x", "export", "export", True),
    ("help", "question_mark", "help", "help", True),
    ("quit", "q", "quit_review", "quit", True),
]


def bindings() -> list[Binding]:
    return [Binding(keys, action, label, show=show, id=f"review.{bid}") for bid, keys, action, label, show in BINDINGS]


class KeymapError(ValueError):
    pass


def default_keymap_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "curate" / "keys.yaml"


def load_keymap(path: str | None) -> dict[str, str]:
    """`{action id: "key1,key2"}` from YAML (e.g. `accept: "a,enter"`) as Textual keymap entries."""

    file = Path(path) if path else default_keymap_path()
    if not file.is_file():
        if path:
            raise KeymapError(f"{path}: no such keymap file")
        return {}
    from curate.yamlfile import ConfigError, load_yaml

    try:
        doc = load_yaml(file) or {}  # bounded: size, nesting, no aliases
    except ConfigError as exc:
        raise KeymapError(str(exc)) from None
    known = {b[0] for b in BINDINGS}
    if not isinstance(doc, dict):
        raise KeymapError(f"{file}: a keymap is a mapping of action to keys, e.g. accept: a")
    out = {}
    for action, keys in doc.items():
        if action not in known:
            raise KeymapError(f"{file}: unknown action {action!r}; actions: {', '.join(sorted(known))}")
        if isinstance(keys, list):
            keys = ",".join(str(k) for k in keys)
        out[f"review.{action}"] = str(keys)
    return out
