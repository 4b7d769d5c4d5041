"""Run a rule set over datasets and return a Report. Never prints.

Flow: read (line-accurate, defects as problems) -> normalise -> record checks -> per-record
stats -> dataset checks (observe, finalize) -> findings minus suppressed -> Report.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.check import Check, DatasetCheck, RecordCheck, RecordRef, RunContext, RunState
from curate.config import Rule
from curate.io.reader import FileStats, ReadOptions, iter_records
from curate.model import Finding, Hit, Record, fingerprint
from curate.registry import Registry, load_registry
from curate.report import DatasetInfo, Report

MAX_CHECK_ERRORS = 20


@dataclass(slots=True)
class Progress:
    """What a progress display needs; the engine calls `on_progress` with it now and then."""

    path: str
    records: int
    stage: str


@dataclass(slots=True)
class _Bound:
    rule: Rule
    check: Check


@dataclass(slots=True)
class EngineOptions:
    input_format: str | None = None
    read: ReadOptions = field(default_factory=ReadOptions)
    suppress: frozenset[str] = frozenset()  # fingerprints accepted in review or in a baseline
    on_progress: Callable[[Progress], None] | None = None
    progress_every: int = 5000


class _Columns:
    """Per-record stats kept column-wise: far smaller than a dict per record at 1M rows."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {}
        self.n = 0

    def append(self, row: dict[str, Any]) -> None:
        for name, value in row.items():
            col = self.cols.get(name)
            if col is None:
                col = self.cols[name] = [None] * self.n
            col.append(value)
        self.n += 1
        for col in self.cols.values():
            if len(col) < self.n:
                col.append(None)

    def rows(self) -> list[dict[str, Any]]:
        names = list(self.cols)
        return [dict(zip(names, values, strict=True)) for values in zip(*self.cols.values(), strict=True)]


class Engine:
    def __init__(
        self,
        rules: list[Rule],
        ctx: RunContext | None = None,
        options: EngineOptions | None = None,
        registry: Registry | None = None,
        ruleset_name: str = "custom",
    ) -> None:
        self.registry = registry or load_registry()
        self.ctx = ctx or RunContext()
        self.options = options or EngineOptions()
        self.rules = rules
        self.ruleset_name = ruleset_name
        self.errors: list[str] = [f"plugin {e.source}: {e.message}" for e in self.registry.errors]
        self._check_errors = Counter[str]()
        self.record_checks: list[_Bound] = []
        self.dataset_checks: list[_Bound] = []
        for rule in rules:
            cls = self.registry.checks[rule.check]
            check = cls(rule.params, self.ctx, rule.roles)
            bound = _Bound(rule, check)
            (self.dataset_checks if isinstance(check, DatasetCheck) else self.record_checks).append(bound)

    def run(self, paths: Iterable[str]) -> Report:
        paths = list(paths)
        self.ctx.paths = tuple(paths)
        report = Report(ruleset=self.ruleset_name, rules=self.rules, target=self.ctx.target)
        columns = _Columns()
        findings: list[Finding] = []
        for path in paths:
            fstats = FileStats()
            formats: Counter[str] = Counter()
            for record in self._read(path, fstats):
                fmt = record.format
                if record.ok:
                    formats[fmt] += 1
                findings.extend(self._check_record(record))
                if record.data is not None or record.problems:
                    row = {"path": path, "line": record.line, "key": record.key, "format": fmt, **record.stats}
                    columns.append(row)
                self._observe(record)
            report.datasets.append(self._dataset_info(path, fstats, formats))
        state = RunState(columns.rows(), [], self.ctx)
        findings.extend(self._finalize(state))
        report.stats["formats"] = dict(Counter({d.path: d.format for d in report.datasets}.values()))
        for bound in self.dataset_checks:
            summary = self._safe(bound, lambda b=bound: b.check.summary(), default={})
            if summary:
                report.stats.setdefault(bound.check.family(), {}).update(summary)
        kept = [f for f in findings if f.fingerprint not in self.options.suppress]
        report.suppressed = len(findings) - len(kept)
        kept.sort(key=lambda f: (f.path or "", f.line if f.line is not None else 1 << 60, -f.severity, f.rule))
        report.findings = kept
        report.errors = self.errors
        report.table = state._table
        return report

    def _read(self, path: str, fstats: FileStats) -> Iterator[Record]:
        n = 0
        for record in iter_records(path, self.options.read, fstats):
            if self.options.input_format:
                record.format_hint = self.options.input_format
            n += 1
            if self.options.on_progress and n % self.options.progress_every == 0:
                self.options.on_progress(Progress(path, n, "checking"))
            yield record

    def _dataset_info(self, path: str, fstats: FileStats, formats: Counter[str]) -> DatasetInfo:
        records = sum(formats.values())
        if not formats:
            fmt = "empty"
        elif len(formats) == 1:
            fmt = next(iter(formats))
        else:
            top, count = formats.most_common(1)[0]
            fmt = top if count / records >= 0.99 else "mixed"
        return DatasetInfo(path, records, fmt, dict(formats.most_common()), fstats.layout, fstats.lines)

    def _check_record(self, record: Record) -> list[Finding]:
        out: list[Finding] = []
        for bound in self.record_checks:
            check = bound.check
            assert isinstance(check, RecordCheck)
            if not record.ok and not check.runs_on_invalid:
                continue
            try:
                hits = list(check.check(record))
            except Exception as exc:  # noqa: BLE001 - one bad record never stops the audit
                self._check_failed(bound, exc, f"{record.path}:{record.line}")
                continue
            for hit in hits:
                out.append(self._finding(bound.rule, hit, record.path, record.line, record.key))
        return out

    def _observe(self, record: Record) -> None:
        if not self.dataset_checks:
            return
        ref = None
        for bound in self.dataset_checks:
            check = bound.check
            assert isinstance(check, DatasetCheck)
            if not record.ok and not check.runs_on_invalid:
                continue
            if ref is None:
                ref = RecordRef(record.path, record.line, record.key, record.format, record.stats)
            try:
                check.observe(ref, check.extract(record))
            except Exception as exc:  # noqa: BLE001
                self._check_failed(bound, exc, f"{record.path}:{record.line}")

    def _finalize(self, state: RunState) -> list[Finding]:
        out = []
        for bound in self.dataset_checks:
            check = bound.check
            assert isinstance(check, DatasetCheck)
            hits = self._safe(bound, lambda c=check: list(c.finalize(state)), default=[])
            for hit in hits:
                out.append(self._finding(bound.rule, hit, hit.path, hit.line, hit.key))
        return out

    def _finding(self, rule: Rule, hit: Hit, path: str | None, line: int | None, key: str | None) -> Finding:
        path = hit.path or path
        line = hit.line if hit.line is not None else line
        key = hit.key or key
        return Finding(
            rule=rule.id,
            check=rule.check,
            severity=rule.severity,
            path=path,
            line=line,
            field=hit.field,
            message=hit.message,
            fingerprint=fingerprint(rule.id, key or (path or ""), hit.field, hit.identity),
            key=key,
            fix=hit.fix,
            data=dict(hit.data),
        )

    def _safe(self, bound: _Bound, fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            self._check_failed(bound, exc, "dataset")
            return default

    def _check_failed(self, bound: _Bound, exc: Exception, where: str) -> None:
        cid = bound.rule.check
        self._check_errors[cid] += 1
        n = self._check_errors[cid]
        if n <= MAX_CHECK_ERRORS:
            # the exception text may quote record content (PII): name the type and code location only
            tb = traceback.extract_tb(exc.__traceback__)
            at = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
            self.errors.append(f"check {cid} (rule {bound.rule.id}) failed at {where}: {type(exc).__name__}{at}")
        elif n == MAX_CHECK_ERRORS + 1:
            self.errors.append(f"check {cid}: further failures not listed")
