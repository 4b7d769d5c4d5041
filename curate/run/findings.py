"""Hits become findings here, and check failures become bounded error lines.

`make_finding` is the one place a check's hit is stamped with its rule: message, fix, field and
data pass `curate.display` there, so no check (built-in or plugin) can put a raw value or a
terminal escape into any output. `ErrorLog` keeps the first failures of each check, in the order
they happened; it merges, so a sharded run lists the same errors as one run.
"""

from __future__ import annotations

import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from curate.config import Rule
from curate.display import shown, shown_pointer, shown_tree
from curate.model import Finding, Hit, fingerprint

MAX_CHECK_ERRORS = 20  # failures listed per check; the rest are counted in one line
MAX_MESSAGE = 2000  # characters of a finding message or fix; a check quoting a huge value is cut here


def describe_failure(rule: Rule, exc: BaseException, where: str) -> str:
    """The exception's type and code location only: its text may quote record content (PII)."""
    tb = traceback.extract_tb(exc.__traceback__)
    at = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"check {rule.check} (rule {rule.id}) failed at {where}: {type(exc).__name__}{at}"


def make_finding(rule: Rule, hit: Hit, path: str | None, line: int | None, key: str | None) -> Finding:
    """A hit stamped with its rule. The fingerprint is computed from the raw field, so it is the
    same whatever the masking shows."""
    path = hit.path or path
    line = hit.line if hit.line is not None else line
    key = hit.key or key
    return Finding(
        rule=rule.id,
        check=rule.check,
        severity=rule.severity,
        path=path,
        line=line,
        field=shown_pointer(hit.field),
        message=shown(hit.message, MAX_MESSAGE),
        fingerprint=fingerprint(rule.id, key or (path or ""), hit.field, hit.identity),
        key=key,
        fix=shown(hit.fix, MAX_MESSAGE) if hit.fix is not None else None,
        data=shown_tree(dict(hit.data)),
    )


@dataclass(slots=True)
class ErrorLog:
    """Check failures in arrival order: the first `MAX_CHECK_ERRORS` per check, then one line.

    `entries` keeps (check id, message) pairs, with message None marking the first failure past
    the limit; replaying another log's entries (`merge`) gives what one run would have listed."""

    entries: list[tuple[str, str | None]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, check: str, message: str | None) -> None:
        self.counts[check] += 1
        n = self.counts[check]
        if n <= MAX_CHECK_ERRORS and message is not None:
            self.entries.append((check, message))
        elif n == MAX_CHECK_ERRORS + 1:
            self.entries.append((check, None))

    def merge(self, other: ErrorLog) -> None:
        for check, message in other.entries:
            self.add(check, message)

    def lines(self) -> list[str]:
        return [m if m is not None else f"check {c}: further failures not listed" for c, m in self.entries]
