"""Run a rule set over datasets and return a Report. Never prints.

Two halves. `collect` drives the scheduler over every file and folds each `RecordResult` into a
`Partial` (per-file tallies, record findings, the stats table, check failures) while the dataset
checks `observe` it. `conclude` finalizes the dataset checks, gathers their summaries and turns
the findings minus suppressed ones into a Report. A plain run is collect then conclude; a shard
(`--shard K/N`) collects its slice and saves the partial and check states (`curate.run.shards`);
`curate merge` merges the partials and states, then concludes: the same report as one run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curate.check import RecordRef, RunContext, RunState
from curate.config import Rule
from curate.display import shown, shown_tree
from curate.io.reader import BLOCK_BYTES, FileStats, ReadOptions
from curate.model import Finding
from curate.registry import Registry, load_registry
from curate.report import DatasetInfo, Report
from curate.run import replay
from curate.run.findings import MAX_MESSAGE, ErrorLog, describe_failure, make_finding
from curate.run.results import SKIP_MARK, BlockResult
from curate.run.runner import bind
from curate.run.scheduling import Scheduler, Work

if TYPE_CHECKING:
    from curate.cache import ResultCache


@dataclass(slots=True)
class Progress:
    """What a progress display needs; the engine calls `on_progress` with it now and then."""

    path: str
    records: int  # records read so far in this file
    stage: str  # "checking" | "finalizing"
    bytes_done: int = 0
    bytes_total: int = 0  # 0 when unknown (stdin)
    file_index: int = 0
    files: int = 1


@dataclass(slots=True)
class EngineOptions:
    input_format: str | None = None
    read: ReadOptions = field(default_factory=ReadOptions)
    # fingerprints accepted in review or in a baseline, or a function of the run's findings that gives
    # them (sealed decisions and baselines are matched against the findings: curate.gate.Accepted)
    suppress: frozenset[str] | Callable[[list[Finding]], frozenset[str]] = frozenset()
    on_progress: Callable[[Progress], None] | None = None
    jobs: int = 0  # worker processes; 0 = one per CPU core, 1 = run inline
    block_bytes: int = BLOCK_BYTES  # JSONL is cut into blocks of whole lines of about this size
    cache: ResultCache | None = None  # per-record results keyed by raw content (curate/cache)


class Columns:
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

    def merge(self, other: Columns) -> None:
        """Append another table's rows (a later shard's): columns in order of first appearance."""
        for name, values in other.cols.items():
            col = self.cols.get(name)
            if col is None:
                col = self.cols[name] = [None] * self.n
            col.extend(values)
        self.n += other.n
        for col in self.cols.values():
            if len(col) < self.n:
                col.extend([None] * (self.n - len(col)))


@dataclass(slots=True)
class FileTally:
    """What a run learnt of one file: the reader's view (`read`, the main process's, the same in every
    shard), the workers' view of the blocks they computed (`seen`) and the records per format."""

    path: str
    read: FileStats = field(default_factory=FileStats)
    seen: FileStats = field(default_factory=FileStats)
    formats: Counter[str] = field(default_factory=Counter)

    def merge(self, other: FileTally) -> None:
        self.seen.merge(other.seen)
        self.formats.update(other.formats)

    def info(self) -> DatasetInfo:
        stats = FileStats(**{k: getattr(self.read, k) for k in _READ_FIELDS})
        stats.merge(self.seen)
        formats = self.formats
        records = sum(formats.values())
        if not formats:
            fmt = "empty"
        elif len(formats) == 1:
            fmt = next(iter(formats))
        else:
            top, count = formats.most_common(1)[0]
            fmt = top if count / records >= 0.99 else "mixed"
        return DatasetInfo(
            self.path,
            records,
            fmt,
            dict(formats.most_common()),
            stats.layout,
            stats.lines,
            stats.container,
            stats.skipped,
            stats.records,
        )


_READ_FIELDS = ("lines", "records", "crlf_lines", "first_crlf_line", "layout", "bytes_read", "container", "skipped")


@dataclass(slots=True)
class Partial:
    """A run (or one shard of it) before the dataset checks finalize: everything that merges."""

    files: list[FileTally] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # record findings, in file order
    columns: Columns = field(default_factory=Columns)
    errors: ErrorLog = field(default_factory=ErrorLog)

    def merge(self, other: Partial) -> None:
        """Fold in a later slice of the same files (shards merge in order)."""
        for mine, theirs in zip(self.files, other.files, strict=True):
            mine.merge(theirs)
        self.findings.extend(other.findings)
        self.columns.merge(other.columns)
        self.errors.merge(other.errors)


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
        self.record_checks, self.dataset_checks = bind(rules, self.registry, self.ctx)
        self._check_warnings: list[str] = []
        self._check_notices: list[str] = []

    @property
    def warnings(self) -> list[str]:
        """What went wrong around the run without changing its report (a damaged cache entry
        ignored, a cache that could not be written): one line each, for the command to print."""
        cache = self.options.cache.warnings if self.options.cache is not None else []
        return list(dict.fromkeys([*cache, *self._check_warnings]))

    # -- a whole run -------------------------------------------------------------------------
    def run(self, paths: Iterable[str]) -> Report:
        paths = list(paths)
        cache = self.options.cache
        if cache is not None:
            self._prepare_cache(paths)
            stored = cache.load_run(paths)
            if stored is not None:
                return self._replay_run(stored)
        partial = self.collect(paths)
        report, findings = self._conclude(partial)
        if cache is not None and not report.errors:  # a failed check is run again next time, so its error shows
            from curate.cache import StoredRun

            cache.store_run(
                StoredRun(
                    report.datasets,
                    findings,
                    report.stats,
                    partial.columns.cols,
                    partial.columns.n,
                    self._check_notices,
                )
            )
        return report

    def _prepare_cache(self, paths: list[str]) -> None:
        assert self.options.cache is not None
        self.ctx.paths = tuple(paths)
        replay.prepare(
            self.options.cache,
            self.rules,
            self.registry,
            self.dataset_checks,
            self.ctx,
            self.options.read,
            self.options.input_format,
        )

    # -- collect: per-record work, observed ----------------------------------------------------
    def collect(self, paths: list[str], owns: Callable[[int, int], bool] | None = None) -> Partial:
        """Every file's records, computed (or replayed) and observed by the dataset checks.

        `owns(file_index, end)` (a shard's) says which units are this run's: the unit of file
        `file_index` that ends at byte `end`. Other units are read past, not computed."""
        self.ctx.paths = tuple(paths)
        cache = self.options.cache
        if cache is not None and cache.run_id is None and cache.enabled:
            self._prepare_cache(paths)
        options = self.options
        work = Work(self.rules, self.ctx, options.read, options.input_format, cache, options.jobs, options.block_bytes)
        scheduler = self._scheduler(work)
        partial = Partial()
        finished = False
        try:
            for index, path in enumerate(paths):
                tally = FileTally(path)
                partial.files.append(tally)
                total = _size(path)
                file_owns = None if owns is None else (lambda end, i=index: owns(i, end))
                for result in scheduler.results(path, tally.read, file_owns):
                    self._fold(path, result, tally, partial)
                    records = tally.read.records + tally.seen.records
                    self._progress(Progress(path, records, "checking", tally.read.bytes_read, total, index, len(paths)))
            finished = True
        finally:
            # interrupted (Ctrl-C, SIGTERM) or failed: workers are stopped now, not when their blocks end
            scheduler.close(graceful=finished)
            if cache is not None:
                cache.close() if finished else cache.abort()  # writes the new entries, or drops them
        return partial

    def _scheduler(self, work: Work) -> Scheduler:
        """What turns units into results: local workers here; `RayEngine` gives Ray tasks."""
        return Scheduler(work, [c for _, c in self.dataset_checks])

    def _fold(self, path: str, result: BlockResult, tally: FileTally, partial: Partial) -> None:
        if result.file_stats is not None:
            tally.seen.merge(result.file_stats)
        columns, findings, errors = partial.columns, partial.findings, partial.errors
        checks = self.dataset_checks
        for r in result.records:
            if r.ok:
                tally.formats[r.format] += 1
            row = {"path": path, "line": r.line, "key": r.key, "format": r.format}
            columns.append({**row, **r.stats} if r.stats else row)
            findings.extend(r.findings)
            for check_id, message in r.failures:
                errors.add(check_id, message)
            if not r.extracts:
                continue
            ref = RecordRef(path, r.line, r.key, r.format, r.stats)
            for (rule, check), extracted in zip(checks, r.extracts, strict=True):
                if extracted is SKIP_MARK:
                    continue
                try:
                    check.observe(ref, extracted)  # type: ignore[attr-defined]
                except Exception as exc:  # noqa: BLE001
                    errors.add(rule.check, describe_failure(rule, exc, f"{path}:{r.line}"))

    # -- conclude: finalize, summaries, suppression --------------------------------------------
    def conclude(self, partial: Partial) -> Report:
        """The Report of a collected (or merged) run."""
        return self._conclude(partial)[0]

    def _conclude(self, partial: Partial) -> tuple[Report, list[Finding]]:
        """The report, and every finding before suppression (what the whole-run cache keeps)."""
        report = self._report([t.info() for t in partial.files])
        self._progress(Progress(report.datasets[-1].path if report.datasets else "", partial.columns.n, "finalizing"))
        findings = _once_per_file(partial.findings)
        state = RunState(partial.columns.cols, partial.columns.n, [], self.ctx)
        errors = partial.errors
        for rule, check in _finalize_order(self.dataset_checks):
            hits = self._safe(rule, lambda c=check: list(c.finalize(state)), [], errors)  # type: ignore[attr-defined]
            findings.extend(make_finding(rule, hit, hit.path, hit.line, hit.key) for hit in hits)
        report.stats["formats"] = dict(Counter(d.format for d in report.datasets))
        for rule, check in self.dataset_checks:
            summary = self._safe(rule, check.summary, {}, errors)  # type: ignore[attr-defined]
            if summary:
                report.stats.setdefault(check.family(), {}).update(summary)
                for key in check.top_level_stats:  # type: ignore[attr-defined]
                    if key in summary:
                        report.stats[key] = summary[key]
        for rule, check in self.dataset_checks:
            self._check_warnings.extend(self._safe(rule, check.warnings, [], errors))  # type: ignore[attr-defined]
        report.stats = shown_tree(report.stats)  # category values, prompts, openings: masked and escaped
        # stable: within a line and rule, findings keep the order their check yielded them (span order)
        findings.sort(key=lambda f: (f.path or "", f.line if f.line is not None else 1 << 60, -f.severity, f.rule))
        return self._finish(report, findings, state, errors), findings

    def _report(self, datasets: list[DatasetInfo]) -> Report:
        report = Report(ruleset=self.ruleset_name, rules=self.rules, target=self.ctx.target, datasets=datasets)
        report.notices.extend(self.ctx.notices)
        for info in datasets:
            if info.skipped:
                report.notices.append(f"{shown(info.path)}: skipped, {info.skipped}")
        return report

    def _finish(
        self,
        report: Report,
        findings: list[Finding],
        state: RunState,
        errors: ErrorLog,
        check_notices: list[str] | None = None,
    ) -> Report:
        """Suppress and assemble; `check_notices`: a replayed run's stored notices (its checks did not run)."""
        suppress = self.options.suppress
        accepted = suppress(findings) if callable(suppress) else suppress
        kept = [f for f in findings if f.fingerprint not in accepted]
        report.suppressed = len(findings) - len(kept)
        report.findings = kept
        if check_notices is None:
            check_notices = self._check_notices = self._notices(errors)
        report.notices = [*report.notices, *check_notices]
        report.errors = [*self.errors, *errors.lines()]
        report.state = state
        return report

    def _notices(self, errors: ErrorLog) -> list[str]:
        """Every bound check's run notices, `rule-id: text`, each once (masked and escaped)."""
        out: dict[str, None] = {}
        for rule, check in (*self.record_checks, *self.dataset_checks):
            for text in self._safe(rule, check.notices, [], errors):
                out[shown(f"{rule.id}: {text}", MAX_MESSAGE)] = None
        return list(out)

    def _replay_run(self, stored: Any) -> Report:
        """An unchanged set of files: the stored run, with today's suppressions (decisions, baseline)."""
        for index, info in enumerate(stored.datasets):
            size = _size(info.path)
            self._progress(Progress(info.path, info.records, "checking", size, size, index, len(stored.datasets)))
        report = self._report(stored.datasets)
        report.stats = stored.stats
        state = RunState(stored.columns, stored.records, [], self.ctx)
        return self._finish(report, stored.findings, state, ErrorLog(), stored.notices)

    def _progress(self, progress: Progress) -> None:
        if self.options.on_progress:
            self.options.on_progress(progress)

    @staticmethod
    def _safe(rule: Rule, fn: Callable[[], Any], default: Any, errors: ErrorLog) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            errors.add(rule.check, describe_failure(rule, exc, "dataset"))
            return default


def _finalize_order(checks: list[tuple[Rule, Any]]) -> list[tuple[Rule, Any]]:
    """Rule order, except that a check finalizes after the checks it names in `finalize_after`
    (whose columns it reads); one level deep is all the built-in checks need."""
    bound = {check.id for _, check in checks}
    return sorted(checks, key=lambda rc: any(c in bound for c in getattr(rc[1], "finalize_after", ())))


def _once_per_file(findings: list[Finding]) -> list[Finding]:
    """Findings marked `once_per_file` (CRLF line endings) kept once per file and rule: the first."""
    seen: set[tuple[str | None, str]] = set()
    out = []
    for f in findings:
        if f.data.get("once_per_file"):
            if (f.path, f.rule) in seen:
                continue
            seen.add((f.path, f.rule))
        out.append(f)
    return out


def _size(path: str) -> int:
    try:
        return os.path.getsize(path) if path != "-" else 0
    except OSError:
        return 0
