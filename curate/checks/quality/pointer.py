"""JSON pointers with `*` wildcards, for declarative rules that name raw fields.

`/messages/*/content` names every message's content; `metadata.source` (dotted) is accepted
too and means `/metadata/source`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MISSING = object()


def parse(path: str) -> list[str]:
    """Segments of a pointer (`/a/*/b`) or a dotted path (`a.*.b`); raises ValueError if empty."""
    path = path.strip()
    if not path:
        raise ValueError("empty path")
    if path.startswith("/"):
        parts = path[1:].split("/")
        return [p.replace("~1", "/").replace("~0", "~") for p in parts]
    return path.split(".")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def expand(data: Any, parts: list[str], base: str = "") -> Iterator[tuple[str, Any]]:
    """(concrete pointer, value) for each place the path names; MISSING where a step is absent."""
    if not parts:
        yield base or "/", data
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from expand(item, rest, f"{base}/{i}")
        elif isinstance(data, dict):
            for key, item in data.items():
                yield from expand(item, rest, f"{base}/{_escape(str(key))}")
        else:
            yield base or "/", MISSING
        return
    if isinstance(data, dict) and head in data:
        yield from expand(data[head], rest, f"{base}/{_escape(head)}")
    elif isinstance(data, list) and head.isdigit() and int(head) < len(data):
        yield from expand(data[int(head)], rest, f"{base}/{head}")
    else:
        yield f"{base}/{_escape(head)}", MISSING
