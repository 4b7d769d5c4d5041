"""Reading a value at a user-given path: `metadata.category`, `tags[0]`, or a JSON pointer `/metadata/category`."""

from __future__ import annotations

import re
from typing import Any

_MISSING = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


def parse_path(path: str) -> tuple[str | int, ...]:
    if path.startswith("/"):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        return tuple(int(p) if p.lstrip("-").isdigit() else p for p in parts)
    steps: list[str | int] = []
    for name, index in _STEP.findall(path):
        steps.append(int(index) if index else name)
    return tuple(steps)


def get_path(data: Any, steps: tuple[str | int, ...]) -> Any:
    """The value at `steps`, or the module's _MISSING sentinel (never raises on odd data)."""
    cur = data
    for step in steps:
        if isinstance(step, int) and isinstance(cur, list):
            if -len(cur) <= step < len(cur):
                cur = cur[step]
                continue
            return _MISSING
        if isinstance(cur, dict):
            key = str(step)
            if key in cur:
                cur = cur[key]
                continue
        return _MISSING
    return cur


def is_missing(value: Any) -> bool:
    return value is _MISSING
