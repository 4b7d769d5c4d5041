"""Non-interactive cleanup for pipelines: the decisions a reviewer would make, made by policy.

`curate export --apply-fixes` applies every suggested fix (as review's `f` key does, one fix at a
time, re-checking the record after each so the next fix sees where its text now is);
`--drop-rule RULE` and `--drop-severity LEVEL` drop the records that still have such findings after
the fixes. Findings accepted in review or in the baseline never drop or change a record, and a record
the reviewer dropped, fixed or edited is taken as the reviewer left it: policy never overrides a person.

Like review's drop decisions, a reason names rule ids only, never a finding's message (messages may
quote the record), so the summary and the quarantine file say why without repeating any value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from curate.display import shown
from curate.fixes import suggest
from curate.model import Finding, Record, Severity

MAX_FIX_ROUNDS = 32  # fixes applied to one record at most (each round re-checks it): a fixer that keeps
# proposing changes (a fix that re-creates its own finding) cannot loop forever


@dataclass(frozen=True, slots=True)
class CleanupPolicy:
    apply_fixes: bool = False
    drop_rules: frozenset[str] = frozenset()
    drop_severity: Severity | None = None

    def __bool__(self) -> bool:
        return self.apply_fixes or bool(self.drop_rules) or self.drop_severity is not None

    def drops(self, finding: Finding) -> bool:
        if finding.rule in self.drop_rules:
            return True
        return self.drop_severity is not None and finding.severity >= self.drop_severity

    def describe(self, findings: list[Finding]) -> str:
        """Why these findings drop a record: the options that chose them and their rule ids (as review)."""
        by_rule = [f.rule for f in findings if f.rule in self.drop_rules]
        by_level = [f.rule for f in findings if f.rule not in self.drop_rules]
        parts = []
        if by_rule:
            parts.append(f"--drop-rule: {', '.join(dict.fromkeys(by_rule))}")
        if by_level and self.drop_severity is not None:
            parts.append(f"--drop-severity {self.drop_severity}: {', '.join(dict.fromkeys(by_level))}")
        return shown("; ".join(parts), 500)


@dataclass(frozen=True, slots=True)
class AutoDecision:
    """What the policy did to one record: dropped (with why), or fixed (the new record and the rules fixed)."""

    action: str  # "drop" | "fix"
    reason: str = ""
    data: Any = None
    rules: tuple[str, ...] = ()
    dropped_after_fix: tuple[str, ...] = field(default=())  # rules fixed before the record was dropped anyway


Recheck = Callable[[Record], list[Finding]]


class Cleanup:
    """Decides, per record, from one run's findings: `decide(record)` -> AutoDecision or None."""

    def __init__(
        self,
        policy: CleanupPolicy,
        findings: Iterable[Finding],
        checks: dict[str, Any],
        recheck: Recheck | None,
        dataset_rules: frozenset[str] = frozenset(),
    ) -> None:
        self.policy = policy
        self.checks = checks  # rule id -> check instance (for suggested fixes)
        self.recheck = recheck  # the record checks on one record, as the engine runs them
        self.dataset_rules = dataset_rules  # their findings stay as they were after a fix
        self.by_line: dict[int, list[Finding]] = {}
        for f in findings:
            if f.line is not None:
                self.by_line.setdefault(f.line, []).append(f)

    def decide(self, record: Record) -> AutoDecision | None:
        findings = self.by_line.get(record.line)
        if not findings or record.data is None:
            return None
        data, fixed = record.data, []
        if self.policy.apply_fixes and isinstance(data, dict):
            data, fixed, findings = self._fix(record, findings)
        dropping = [f for f in findings if self.policy.drops(f)]
        if dropping:
            return AutoDecision("drop", self.policy.describe(dropping), dropped_after_fix=tuple(fixed))
        if fixed:
            return AutoDecision("fix", shown(", ".join(dict.fromkeys(fixed)), 500), data, tuple(fixed))
        return None

    def _fix(self, record: Record, findings: list[Finding]) -> tuple[Any, list[str], list[Finding]]:
        """Apply suggested fixes one at a time; after each, the record's findings are checked again."""
        data, fixed, current = record.data, [], list(findings)
        kept = [f for f in findings if f.rule in self.dataset_rules]
        for _ in range(MAX_FIX_ROUNDS):
            new, rule = self._first_fix(data, current)
            if new is None:
                break
            data = new
            fixed.append(rule)
            if self.recheck is None:  # no way to see the new findings: one fix, then stop
                current = [f for f in current if f.rule != rule]
                break
            rec = Record(record.path, record.line, data, (), 0, key=record.key)
            rec.format_hint = record.format_hint
            try:
                current = [*self.recheck(rec), *kept]
            except Exception:  # noqa: BLE001 - a check failing on the fixed record keeps what is fixed so far
                current = kept
                break
        return data, fixed, current

    def _first_fix(self, data: Any, findings: list[Finding]) -> tuple[Any, str]:
        for f in findings:
            check = self.checks.get(f.rule)
            if check is None:
                continue
            new = suggest(check, data, f)
            if new is not None:
                return new, f.rule
        return None, ""


def record_rechecker(rules: list[Any], checks: dict[str, Any]) -> Recheck:
    """The record checks of `rules` on one record, stamped as the engine stamps findings."""
    from curate.check import RecordCheck
    from curate.run.findings import make_finding

    record_checks = [(r, checks[r.id]) for r in rules if isinstance(checks.get(r.id), RecordCheck)]

    def recheck(record: Record) -> list[Finding]:
        out = []
        for rule, check in record_checks:
            if (record.ok or check.runs_on_invalid) and check.applies(record):
                out += [make_finding(rule, h, record.path, record.line, record.key) for h in check.check(record)]
        return out

    return recheck
