"""Parameter types the quality checks share: regexes and paths validated when the rules load.

A bad regex in a rules file is then a pydantic error, which `load_ruleset` turns into a
config error naming the file and line. Regexes compile with RE2 (linear time), never `re`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from curate.checks.quality import pointer
from curate.userregex import UserRegex, alternation

__all__ = ["Path", "Regex", "alternation"]


def _path(value: str) -> str:
    pointer.parse(value)
    return value


Regex = UserRegex  # compiled with RE2 (curate/userregex.py): a rules file may be hostile
Path = Annotated[str, AfterValidator(_path)]
