"""The declarative pattern rule: phrases that must not (or must) appear, without writing Python.

Examples: a brand's banned phrases over assistant turns, a required sign-off in the last
answer, a competitor's name anywhere. Regexes are compiled when the rules file is loaded, so
a bad one is a config error naming the file and line. Patterns run on RE2 (linear time, see
curate/userregex.py): a rules file may come from anyone, and `^(a+)+$` must not hang a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import Any, Literal

from pydantic import Field, model_validator

from curate.check import Params, RecordCheck
from curate.checks.quality import pointer
from curate.checks.quality._params import Path, Regex, alternation
from curate.checks.quality._text import code_spans, fix_string, inside, raw_spans, turns
from curate.model import Hit, Record, Severity
from curate.userregex import UserPatternError


class _Either:
    """Matches of either of two compiled patterns (one RE2, one `re`), in text order, never overlapping."""

    def __init__(self, first: Any, second: re.Pattern[str] | None) -> None:
        self.engines = [e for e in (first, second) if e is not None]

    def finditer(self, text: str) -> Iterator[Any]:
        if len(self.engines) == 1:
            yield from self.engines[0].finditer(text)
            return
        matches = sorted((m for e in self.engines for m in e.finditer(text)), key=lambda m: (m.start(), -m.end()))
        end = -1
        for m in matches:
            if m.start() >= end:
                end = m.end() if m.end() > m.start() else m.start() + 1
                yield m

    def sub(self, replace: Callable[[Any], str], text: str) -> str:
        out, pos = [], 0
        for m in self.finditer(text):
            out += [text[pos : m.start()], replace(m)]
            pos = m.end()
        return "".join(out) + text[pos:]


class PatternParams(Params):
    patterns: list[Regex] = Field(
        default_factory=list, description="regular expressions (RE2 syntax: no lookaround or backreferences)"
    )
    literals: list[str] = Field(default_factory=list, description="plain phrases, matched as written")
    mode: Literal["must_not_match", "must_match"] = Field("must_not_match", description="banned or required")
    ignore_case: bool = Field(True, description="match regardless of case")
    whole_word: bool = Field(True, description="literals match whole words only ('art' does not match 'start')")
    turn: Literal["all", "first", "last"] = Field("all", description="which of the selected turns to read")
    require_turn: bool = Field(
        False, description="must_match: a record with no turn of the chosen roles (or no such field) is a finding too"
    )
    fields: list[Path] = Field(
        default_factory=list, description="JSON pointers (with * wildcards) to read instead of turns"
    )
    skip_code: bool = Field(False, description="ignore fenced and inline code")
    message: str | None = Field(None, description="the finding's message; {role} and {pattern} are filled in")
    fix: str | None = Field(None, description="how to fix it, shown with the finding")
    replacement: str | None = Field(None, description="must_not_match: an automatic fix replaces each match with this")

    @model_validator(mode="after")
    def _compiles_together(self) -> PatternParams:
        """The patterns joined into one RE2 program must compile too (at load time, not mid-run)."""
        try:
            alternation(tuple(self.patterns), self.ignore_case)
        except UserPatternError as exc:
            raise ValueError(f"the patterns together: {exc}") from None
        return self


class Pattern(RecordCheck):
    id = "quality.pattern"
    description = "Text that matches a banned pattern, or misses a required one (declared in the rules file)."
    default_severity = Severity.WARNING
    Params = PatternParams
    example = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure thing, pal!"}]}'

    @cached_property
    def regex(self) -> _Either | None:
        """The rule's patterns (RE2: they come from a rules file) and literals (Python's re: curate
        escapes them, and whole-word literals need lookaround, which RE2 lacks) as one matcher."""
        p = self.params
        patterns = alternation(tuple(p.patterns), p.ignore_case)
        alts = []
        for lit in p.literals:
            esc = re.escape(lit)
            alts.append(rf"(?<!\w){esc}(?!\w)" if p.whole_word else esc)
        literals = re.compile("|".join(alts), re.I if p.ignore_case else 0) if alts else None
        if patterns is None and literals is None:
            return None
        return _Either(patterns, literals)

    @property
    def shown(self) -> str:
        items = [*self.params.literals, *self.params.patterns]
        text = ", ".join(repr(i) for i in items[:3])
        return text + (f" (+{len(items) - 3} more)" if len(items) > 3 else "")

    def _targets(self, record: Record) -> Iterator[tuple[str, str, str, Any]]:
        """(role or field name, field pointer, text, turn or None) to test."""
        if self.params.fields:
            for path in self.params.fields:
                for where, value in pointer.expand(record.data, pointer.parse(path)):
                    if isinstance(value, str):
                        yield "field", where, value, None
            return
        selected = [t for t in turns(self, record, None) if not t.tool_calls or t.text.strip()]
        if self.params.turn == "first":
            selected = selected[:1]
        elif self.params.turn == "last":
            selected = selected[-1:]
        for t in selected:
            yield t.role, t.field, t.text, t

    def _message(self, role: str, default: str) -> str:
        if self.params.message is None:
            return default
        return self.params.message.replace("{role}", role).replace("{pattern}", self.shown)

    def check(self, record: Record) -> Iterable[Hit]:
        regex = self.regex
        if regex is None:
            return
        p = self.params
        targets = list(self._targets(record))
        if not targets and p.mode == "must_match" and p.require_turn:
            what = ", ".join(p.fields) if p.fields else "/".join(sorted(self.roles or ())) or "text"
            yield Hit(
                self._message(what, f"no {what} to match {self.shown}"),
                data={"spans": []},
                fix=p.fix or "Add the required text.",
                identity="absent",
            )
        for role, field, text, turn in targets:
            code = code_spans(text) if p.skip_code else []
            spans = [m.span() for m in regex.finditer(text) if m.end() > m.start() and not inside(m.start(), code)]
            if p.mode == "must_not_match" and spans:
                found = raw_spans(record, turn, spans) if turn is not None else [list(s) for s in spans]
                yield Hit(
                    self._message(role, f"{role} text matches {self.shown}"),
                    field=field,
                    data={"count": len(spans), "spans": found},
                    fix=p.fix
                    or (
                        "Replace the matched text (curate can apply this fix)."
                        if p.replacement is not None
                        else "Rewrite the text without it."
                    ),
                )
            elif p.mode == "must_match" and not spans:
                yield Hit(
                    self._message(role, f"{role} text does not match {self.shown}"),
                    field=field,
                    data={"spans": []},
                    fix=p.fix or "Add the required text.",
                )

    def fix(self, data: dict[str, Any], finding: Any) -> dict[str, Any] | None:
        """Replace every match with `replacement` (must_not_match rules that set one)."""
        regex, p = self.regex, self.params
        if regex is None or p.mode != "must_not_match" or p.replacement is None:
            return None
        replacement = p.replacement

        def sub(text: str) -> str:
            code = code_spans(text) if p.skip_code else []
            return regex.sub(lambda m: m.group(0) if inside(m.start(), code) else replacement, text)

        return fix_string(data, finding, sub)
