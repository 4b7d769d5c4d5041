"""Regular expressions written by users (rule files): compiled with RE2, so they run in linear time.

A rules file may come from anyone who can open a pull request, and Python's backtracking engine
takes exponential time on patterns such as `^(a+)+$`: one such pattern hangs a run. RE2
(`google-re2`) guarantees time linear in the text, at the price of two features it lacks:
lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`) and backreferences (`\\1`, `(?P=name)`). A pattern that
uses them is refused when the rules load, saying so. So that patterns mean what they mean in
Python, `\\w`, `\\d` and `\\s` are rewritten to their Unicode classes (RE2's are ASCII); `\\b` stays
RE2's ASCII word boundary. Built-in patterns, written by curate, stay on Python's `re`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_PATTERN = 10_000  # characters in one user pattern
_MAX_MEM = 64 << 20  # RE2's memory budget for one compiled pattern (its default is 8 MB)

# Python's Unicode-aware classes, written for RE2: inside a character class, and on their own
_WORD = r"\p{L}\p{N}_"
_DIGIT = r"\p{Nd}"
_SPACE = r"\s\p{Z}\x0b\x1c-\x1f\x85"
_IN_CLASS = {"w": _WORD, "d": _DIGIT, "s": _SPACE, "D": r"\P{Nd}"}
_ALONE = {
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "d": _DIGIT,
    "D": r"\P{Nd}",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}
_UNSUPPORTED = (
    (re.compile(r"\(\?<?[=!]"), "lookaround", "(?=, (?!, (?<=, (?<!"),
    (re.compile(r"\\[1-9]|\(\?P=|\\g<"), "backreferences", "\\1, (?P=name)"),
    (re.compile(r"\(\?>|[*+?}][+]"), "atomic groups or possessive quantifiers", "(?>, a++"),
    (re.compile(r"\(\?\("), "conditional groups", "(?(1)"),
    (re.compile(r"\(\?[a-zA-Z]*x"), "verbose mode", "(?x)"),
)


class UserPatternError(ValueError):
    """A user pattern that does not compile, or needs a feature RE2 does not have."""


def unicode_classes(pattern: str) -> str:
    """`pattern` with `\\w \\W \\d \\D \\s \\S` rewritten to Unicode classes RE2 understands."""
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            table = _IN_CLASS if in_class else _ALONE
            out.append(table.get(e, pattern[i : i + 2]))
            i += 2
            continue
        out.append(c)
        i += 1
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is a literal
                out.append("]")
                i += 1
    return "".join(out)


def compile_user(pattern: str, ignore_case: bool = False) -> Any:
    """`pattern` compiled with RE2 (a `re`-like object: search, finditer, sub, spans in characters)."""
    if len(pattern) > MAX_PATTERN:
        raise UserPatternError(f"regex is longer than {MAX_PATTERN:,} characters")
    return _compile(pattern, ignore_case)


@lru_cache(maxsize=256)
def _compile(pattern: str, ignore_case: bool) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    options.max_mem = _MAX_MEM
    try:
        return re2.compile(unicode_classes(pattern), options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UserPatternError(f"invalid regex {pattern!r}: {exc}") from None
    except RecursionError:
        raise UserPatternError(f"invalid regex {pattern!r}: nested too deeply") from None
    for rx, feature, examples in _UNSUPPORTED:
        if rx.search(pattern):
            raise UserPatternError(
                f"regex {pattern!r} uses {feature} ({examples}), which RE2 does not support: rule-file patterns"
                f" run on RE2 so that no pattern can hang a run; rewrite it without {feature}"
            )
    raise UserPatternError(f"regex {pattern!r} is not accepted by RE2, the engine for rule-file patterns: {reason}")


def check_user(pattern: str) -> str:
    """A pydantic validator: the pattern compiles with RE2 (errors become config errors with a line)."""
    compile_user(pattern)
    return pattern


def alternation(patterns: tuple[str, ...], ignore_case: bool = True) -> Any:
    """One RE2 pattern matching any of `patterns` (None for none)."""
    if not patterns:
        return None
    return _compile("|".join(f"(?:{p})" for p in patterns), ignore_case)


UserRegex = Annotated[str, AfterValidator(check_user)]
