"""Parameter types the quality checks share: regexes and paths validated when the rules load.

A bad regex in a rules file is then a pydantic error, which `load_ruleset` turns into a
config error naming the file and line.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator

from curate.checks.quality import pointer


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regex {value!r}: {exc}") from None
    return value


def _path(value: str) -> str:
    pointer.parse(value)
    return value


Regex = Annotated[str, AfterValidator(_regex)]
Path = Annotated[str, AfterValidator(_path)]


@lru_cache(maxsize=64)
def alternation(patterns: tuple[str, ...], flags: int = re.I) -> re.Pattern[str] | None:
    """One compiled regex matching any of `patterns` (None for none)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags) if patterns else None
