"""Target models (provider/model): limits and minimums. The tokens issue extends this with a YAML table."""

from __future__ import annotations

_MINIMUMS = {"openai": 10}


def target_minimum(target: str | None) -> int | None:
    if not target:
        return None
    provider = target.split("/", 1)[0]
    return _MINIMUMS.get(provider)
