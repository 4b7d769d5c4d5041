"""Run a rule set over datasets and return a Report. Never prints.

Flow: read raw records (line-accurate, defects as problems) -> in batches, on worker processes:
parse, normalise, record checks, dataset checks' `extract` -> back in order in the main
process: per-record stats, dataset checks' `observe` -> `finalize` -> findings minus
suppressed -> Report. Small inputs run inline: a pool costs more than it saves.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.check import Check, DatasetCheck, RecordRef, RunContext, RunState
from curate.config import Rule
from curate.display import shown, shown_pointer, shown_tree
from curate.io.reader import BLOCK_BYTES, Block, FileStats, RawItem, ReadOptions, block_items, iter_units, to_record
from curate.model import Finding, Hit, Record, fingerprint
from curate.registry import Registry, load_registry
from curate.report import DatasetInfo, Report
from curate.run import replay
from curate.run.results import SKIP_MARK

if TYPE_CHECKING:
    from curate.cache import ResultCache

MAX_CHECK_ERRORS = 20
MAX_MESSAGE = 2000  # characters of a finding message or fix; a check quoting a huge value is cut here


_SKIP = SKIP_MARK  # a dataset check that did not look at a record (curate.run.results)


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
    cache: ResultCache | None = None  # per-record results keyed by raw content (curate/cache.py)


@dataclass(slots=True)
class _Batch:
    """What a worker sends back for a block of records: columns, so pickling stays cheap.

    No raw text crosses the process boundary, only keys, stats, findings and extracts.
    """

    lines: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    oks: list[bool] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    extracted: list[list[Any]] = field(default_factory=list)  # per record: one per dataset check
    errors: list[str] = field(default_factory=list)
    file_stats: FileStats | None = None
    cached: list[tuple[bytes, bytes]] = field(default_factory=list)  # new cache entries (record hash, value)
    block_entry: tuple[bytes, bytes] | None = None  # the whole block's cache entry, when every record was cacheable
    cache_damaged: int = 0  # cache entries found damaged (tampered, truncated) while computing this batch


def _bind(
    rules: list[Rule], registry: Registry, ctx: RunContext
) -> tuple[list[tuple[Rule, Check]], list[tuple[Rule, Check]]]:
    record_checks, dataset_checks = [], []
    for rule in rules:
        check = registry.checks[rule.check](rule.params, ctx, rule.roles)
        (dataset_checks if isinstance(check, DatasetCheck) else record_checks).append((rule, check))
    return record_checks, dataset_checks


@dataclass(frozen=True, slots=True)
class _CachedBlock:
    """A block of lines whose batch the cache holds: its keys and where to read it again if the entry fails."""

    keys: tuple[bytes, bytes]
    first_line: int
    at_file_start: bool
    offset: int
    size: int

    def reread(self, path: str) -> Block:
        with open(path, "rb") as f:
            f.seek(self.offset)
            return Block(self.first_line, f.read(self.size), self.at_file_start)


class _Processor:
    """The per-record half of an audit; one lives in each worker process (and one inline)."""

    def __init__(
        self,
        rules: list[Rule],
        ctx: RunContext,
        read: ReadOptions,
        input_format: str | None,
        cache: ResultCache | None = None,
    ) -> None:
        self.record_checks, self.dataset_checks = _bind(rules, load_registry(), ctx)
        self.cache = cache if cache is not None and cache.enabled and cache.run_id else None
        self.read = read
        self.input_format = input_format
        self.errors: list[str] = []
        self._error_counts: Counter[str] = Counter()

    def process(self, path: str, unit: Block | list[RawItem]) -> _Batch:
        batch = _Batch()
        if isinstance(unit, Block):
            batch.file_stats = FileStats()
            items: Iterable[RawItem] = block_items(unit, batch.file_stats)
        else:
            items = unit
        if self.cache is not None:
            failures = sum(self._error_counts.values())
            hashed = replay.process(self.cache, self, path, items, batch)  # replays cached records, runs the rest
            if isinstance(unit, Block) and unit.rereadable and sum(self._error_counts.values()) == failures:
                checks = [c for _, c in self.dataset_checks]
                batch.block_entry = replay.block_entry(self.cache, path, unit, batch, checks, hashed)
        else:
            for item in items:
                self.process_one(to_record(path, item, self.read), batch)
        batch.errors, self.errors = self.errors, []
        return batch

    def process_one(self, record: Record, batch: _Batch) -> None:
        if self.input_format:
            record.format_hint = self.input_format
        ok = record.ok
        findings = batch.findings
        for rule, check in self.record_checks:
            if not ok and not check.runs_on_invalid:  # type: ignore[attr-defined]
                continue
            try:
                if not check.applies(record):  # type: ignore[attr-defined]
                    continue
                for hit in check.check(record):  # type: ignore[attr-defined]
                    findings.append(make_finding(rule, hit, record.path, record.line, record.key))
            except Exception as exc:  # noqa: BLE001 - one bad record never stops the audit
                self.failed(rule, exc, f"{record.path}:{record.line}")
        if self.dataset_checks:
            extracted: list[Any] = []
            readable: bool | None = None
            for rule, check in self.dataset_checks:
                if not ok and not check.runs_on_invalid:  # type: ignore[attr-defined]
                    extracted.append(_SKIP)
                    continue
                if check.needs_text:  # type: ignore[attr-defined]
                    if readable is None:
                        readable = ok and record.conversation.readable
                    if not readable:
                        extracted.append(_SKIP)
                        continue
                try:
                    extracted.append(check.extract(record))  # type: ignore[attr-defined]
                except Exception as exc:  # noqa: BLE001
                    self.failed(rule, exc, f"{record.path}:{record.line}")
                    extracted.append(_SKIP)
            batch.extracted.append(extracted)
        batch.lines.append(record.line)
        batch.keys.append(record.key)
        batch.formats.append(record.format)
        batch.oks.append(ok)
        batch.stats.append(record.stats)

    def failed(self, rule: Rule, exc: Exception, where: str) -> None:
        self._error_counts[rule.check] += 1
        n = self._error_counts[rule.check]
        if n <= MAX_CHECK_ERRORS:
            self.errors.append(describe_failure(rule, exc, where))
        elif n == MAX_CHECK_ERRORS + 1:
            self.errors.append(f"check {rule.check}: further failures not listed")


def describe_failure(rule: Rule, exc: BaseException, where: str) -> str:
    # the exception text may quote record content (PII): name the type and code location only
    tb = traceback.extract_tb(exc.__traceback__)
    at = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"check {rule.check} (rule {rule.id}) failed at {where}: {type(exc).__name__}{at}"


def make_finding(rule: Rule, hit: Hit, path: str | None, line: int | None, key: str | None) -> Finding:
    """A hit stamped with its rule; its message, fix, field and data pass `curate.display` here, so
    no check (built-in or plugin) can put a raw value or a terminal escape into any output. The
    fingerprint is computed from the raw field, so it is the same whatever the masking shows."""
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


_WORKER: _Processor | None = None


def _init_worker(
    rules: list[Rule],
    ctx: RunContext,
    read: ReadOptions,
    input_format: str | None,
    cache: ResultCache | None = None,
    parent: int = 0,
) -> None:
    global _WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C and shuts us down
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's handler (inherited by fork)
    _die_with_parent(parent)
    _WORKER = _Processor(rules, ctx, read, input_format, cache)


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel sends this worker SIGTERM when the main process dies, however it dies
    (even SIGKILL), so no worker is ever left running on its own."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the call: go now
            os._exit(1)


def _work(path: str, unit: Block | list[RawItem]) -> _Batch:
    assert _WORKER is not None
    return _WORKER.process(path, unit)


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
        self.record_checks, self.dataset_checks = _bind(rules, self.registry, self.ctx)
        self._inline: _Processor | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._replay_blocks = True  # off for the rest of a file once one of its stored blocks could not be replayed
        self._check_warnings: list[str] = []

    @property
    def warnings(self) -> list[str]:
        """What went wrong around the run without changing its report (a damaged cache entry
        ignored, a cache that could not be written): one line each, for the command to print."""
        cache = self.options.cache.warnings if self.options.cache is not None else []
        return list(dict.fromkeys([*cache, *self._check_warnings]))

    # -- running -----------------------------------------------------------------------------
    def run(self, paths: Iterable[str]) -> Report:
        paths = list(paths)
        self.ctx.paths = tuple(paths)
        report = Report(ruleset=self.ruleset_name, rules=self.rules, target=self.ctx.target)
        report.notices.extend(self.ctx.notices)
        columns = _Columns()
        findings: list[Finding] = []
        cache = self.options.cache
        if cache is not None:
            cache.prepare(
                self.rules, self.registry, self.dataset_checks, self.ctx, self.options.read, self.options.input_format
            )
            stored = cache.load_run(paths)
            if stored is not None:
                return self._replay_run(stored, report)
        finished = False
        try:
            for index, path in enumerate(paths):
                fstats = FileStats()
                formats: Counter[str] = Counter()
                total = _size(path)
                once: set[str] = set()
                for batch in self._batches(path, fstats):
                    for f in batch.findings:
                        if f.data.get("once_per_file"):
                            if f.rule in once:
                                continue
                            once.add(f.rule)
                        findings.append(f)
                    for i, line in enumerate(batch.lines):
                        if batch.oks[i]:
                            formats[batch.formats[i]] += 1
                        row = {"path": path, "line": line, "key": batch.keys[i], "format": batch.formats[i]}
                        columns.append({**row, **batch.stats[i]} if batch.stats[i] else row)
                    if self.dataset_checks:
                        self._observe(path, batch)
                    self._progress(
                        Progress(path, fstats.records, "checking", fstats.bytes_read, total, index, len(paths))
                    )
                report.datasets.append(_dataset_info(path, fstats, formats))
                if fstats.skipped:
                    report.notices.append(f"{shown(path)}: skipped, {fstats.skipped}")
            finished = True
        finally:
            # interrupted (Ctrl-C, SIGTERM) or failed: workers are stopped now, not when their blocks end
            self._close_pool(graceful=finished)
            if cache is not None:
                cache.close() if finished else cache.abort()  # writes the new entries, or drops them
        self._progress(Progress(paths[-1] if paths else "", columns.n, "finalizing"))
        state = RunState(columns.cols, columns.n, [], self.ctx)
        findings.extend(self._finalize(state))
        report.stats["formats"] = dict(Counter(d.format for d in report.datasets))
        for rule, check in self.dataset_checks:
            summary = self._safe(rule, check.summary, default={})  # type: ignore[attr-defined]
            if summary:
                report.stats.setdefault(check.family(), {}).update(summary)
                for key in check.top_level_stats:  # type: ignore[attr-defined]
                    if key in summary:
                        report.stats[key] = summary[key]
        for rule, check in self.dataset_checks:
            self._check_warnings.extend(self._safe(rule, check.warnings, default=[]))  # type: ignore[attr-defined]
        report.stats = shown_tree(report.stats)  # category values, prompts, openings: masked and escaped
        # stable: within a line and rule, findings keep the order their check yielded them (span order)
        findings.sort(key=lambda f: (f.path or "", f.line if f.line is not None else 1 << 60, -f.severity, f.rule))
        if cache is not None and not self.errors:  # a failed check is run again next time, so its error shows
            from curate.cache import StoredRun

            cache.store_run(StoredRun(report.datasets, findings, report.stats, columns.cols, columns.n))
        return self._finish(report, findings, state)

    def _finish(self, report: Report, findings: list[Finding], state: RunState) -> Report:
        suppress = self.options.suppress
        accepted = suppress(findings) if callable(suppress) else suppress
        kept = [f for f in findings if f.fingerprint not in accepted]
        report.suppressed = len(findings) - len(kept)
        report.findings = kept
        report.errors = self.errors
        report.notices = [*report.notices, *self._notices()]
        report.state = state
        return report

    def _notices(self) -> list[str]:
        """Every bound check's run notices, `rule-id: text`, each once (masked and escaped)."""
        out: dict[str, None] = {}
        for rule, check in (*self.record_checks, *self.dataset_checks):
            for text in self._safe(rule, check.notices, default=[]):
                out[shown(f"{rule.id}: {text}", MAX_MESSAGE)] = None
        return list(out)

    def _replay_run(self, stored: Any, report: Report) -> Report:
        """An unchanged set of files: the stored run, with today's suppressions (decisions, baseline)."""
        for index, info in enumerate(stored.datasets):
            size = _size(info.path)
            self._progress(Progress(info.path, info.records, "checking", size, size, index, len(stored.datasets)))
        report.datasets = stored.datasets
        report.stats = stored.stats
        return self._finish(report, stored.findings, RunState(stored.columns, stored.records, [], self.ctx))

    def _batches(self, path: str, fstats: FileStats) -> Iterator[_Batch]:
        """Batches in file order; a pool only once there are two units of work to compute.

        Blocks the cache holds are only noted while reading on (their key, not their data), so the
        blocks to compute reach the workers early: a grown file's new tail is computed while its old
        part is replayed. At most `2 x jobs + 2` blocks to compute are held or in flight.
        """
        queue: deque[list[Any]] = deque()  # in file order: ["hit", _CachedBlock] | ["held", unit] | ["future", Future]
        computing = 0
        self._replay_blocks = True
        for unit in iter_units(path, fstats, self.options.block_bytes, self.options.read.max_line_bytes):
            hit = self._cached_block(path, unit, fstats)
            if hit is not None:
                queue.append(["hit", hit])
                continue
            queue.append(["held", unit])
            computing += 1
            if computing >= 2 and (pool := self._get_pool()) is not None:
                for entry in queue:
                    if entry[0] == "held":
                        entry[:] = ["future", pool.submit(_work, path, entry[1])]
            while computing > 2 * self._jobs() + 2:
                computing -= queue[0][0] != "hit"
                yield self._take(queue, path, fstats)
        while queue:
            yield self._take(queue, path, fstats)

    def _take(self, queue: deque[list[Any]], path: str, fstats: FileStats) -> _Batch:
        kind, payload = queue.popleft()
        if kind == "hit" and self._replay_blocks:
            assert self.options.cache is not None
            checks = [c for _, c in self.dataset_checks]
            batch = replay.load_block(self.options.cache, path, payload.keys, _Batch, checks)
            if batch is not None:
                return self._merged(batch, fstats)
            # a damaged entry, or a check cannot restore its extracts (the signature cache is gone):
            # compute this block and every later block of the file, on the pool
            self._replay_blocks = False
        if kind == "hit":
            self._submit_hits(queue, path)
            kind, payload = self._compute(path, payload.reread(path))
        if kind == "future":
            return self._collect(payload, fstats)
        return self._inline_process(path, payload, fstats)

    def _compute(self, path: str, block: Block) -> list[Any]:
        """A block to compute, as a queue entry: on the pool when there is one, else held for inline."""
        pool = self._get_pool()
        return ["future", pool.submit(_work, path, block)] if pool is not None else ["held", block]

    def _submit_hits(self, queue: deque[list[Any]], path: str) -> None:
        """Once replay is off, the next noted blocks go to the pool ahead of their turn (both cores busy)."""
        if self._get_pool() is None:
            return
        ahead = sum(1 for entry in queue if entry[0] == "future" and not entry[1].done())
        for entry in queue:
            if ahead >= 2 * self._jobs():
                break
            if entry[0] == "hit":
                entry[:] = self._compute(path, entry[1].reread(path))
                ahead += 1

    def _cached_block(self, path: str, unit: Block | list[RawItem], fstats: FileStats) -> _CachedBlock | None:
        cache = self.options.cache
        if cache is None or path == "-" or not isinstance(unit, Block) or not self._replay_blocks:
            return None
        if not unit.rereadable:  # out of a decompressor: no file offset to read it again from
            return None
        keys = cache.find_block(unit)
        if keys is None:
            return None
        return _CachedBlock(
            keys, unit.first_line, unit.at_file_start, fstats.bytes_read - len(unit.data), len(unit.data)
        )

    def _jobs(self) -> int:
        return self.options.jobs or os.cpu_count() or 1

    def _get_pool(self) -> ProcessPoolExecutor | None:
        if self._jobs() <= 1:
            return None
        if self._pool is None:
            method = "fork" if sys.platform == "linux" else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=self._jobs(),
                mp_context=multiprocessing.get_context(method),
                initializer=_init_worker,
                initargs=(
                    self.rules,
                    self.ctx,
                    self.options.read,
                    self.options.input_format,
                    self.options.cache,
                    os.getpid(),
                ),
            )
        return self._pool

    def _close_pool(self, graceful: bool) -> None:
        """Shut the pool down: after its work (`graceful`), else at once. A signal arriving during a
        graceful shutdown turns it into an immediate one, so no worker outlives the run."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if graceful:
            try:
                pool.shutdown(wait=True)
                return
            except BaseException:
                _stop_workers(pool)
                raise
        _stop_workers(pool)

    def _inline_process(self, path: str, unit: Block | list[RawItem], fstats: FileStats) -> _Batch:
        if self._inline is None:
            self._inline = _Processor(
                self.rules, self.ctx, self.options.read, self.options.input_format, self.options.cache
            )
        return self._merged(self._inline.process(path, unit), fstats)

    def _collect(self, future: Future[_Batch], fstats: FileStats) -> _Batch:
        return self._merged(future.result(), fstats)

    def _merged(self, batch: _Batch, fstats: FileStats) -> _Batch:
        self.errors.extend(batch.errors)
        if batch.file_stats is not None:
            fstats.merge(batch.file_stats)
        if self.options.cache is not None:
            self.options.cache.note_damaged(batch.cache_damaged)
            if batch.cached:
                self.options.cache.store(batch.cached)
            if batch.block_entry is not None:
                self.options.cache.store([batch.block_entry])
        return batch

    def _progress(self, progress: Progress) -> None:
        if self.options.on_progress:
            self.options.on_progress(progress)

    # -- dataset checks ----------------------------------------------------------------------
    def _observe(self, path: str, batch: _Batch) -> None:
        for i, extracted_row in enumerate(batch.extracted):
            ref = RecordRef(path, batch.lines[i], batch.keys[i], batch.formats[i], batch.stats[i])
            for (rule, check), extracted in zip(self.dataset_checks, extracted_row, strict=True):
                if extracted is _SKIP:
                    continue
                try:
                    check.observe(ref, extracted)  # type: ignore[attr-defined]
                except Exception as exc:  # noqa: BLE001
                    self._failed(rule, exc, f"{path}:{ref.line}")

    def _finalize(self, state: RunState) -> list[Finding]:
        out = []
        for rule, check in self.dataset_checks:
            hits = self._safe(rule, lambda c=check: list(c.finalize(state)), default=[])  # type: ignore[attr-defined]
            out.extend(make_finding(rule, hit, hit.path, hit.line, hit.key) for hit in hits)
        return out

    def _safe(self, rule: Rule, fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            self._failed(rule, exc, "dataset")
            return default

    def _failed(self, rule: Rule, exc: Exception, where: str) -> None:
        if sum(1 for e in self.errors if e.startswith(f"check {rule.check} ")) < MAX_CHECK_ERRORS:
            self.errors.append(describe_failure(rule, exc, where))


_STOP_GRACE = 1.0  # seconds a terminated worker gets to exit before it is killed


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate every worker now (SIGTERM, then SIGKILL after `_STOP_GRACE`), then release the pool.

    `shutdown(wait=True)` would wait for the blocks in progress (18-37 s after one Ctrl-C), and
    waiting on it a second time hung in the exit handler; the executor has no public way to stop
    its workers before Python 3.14, hence its `_processes`."""
    import time

    processes = list(getattr(pool, "_processes", {}).values())
    for proc in processes:  # first signal them all: even if this is cut short, none keeps running
        with contextlib.suppress(Exception):
            proc.terminate()
    deadline = time.monotonic() + _STOP_GRACE
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(max(0.0, deadline - time.monotonic()))
    for proc in processes:
        with contextlib.suppress(Exception):
            if proc.is_alive():
                proc.kill()
                proc.join(0.5)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=False, cancel_futures=True)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path) if path != "-" else 0
    except OSError:
        return 0


def _dataset_info(path: str, fstats: FileStats, formats: Counter[str]) -> DatasetInfo:
    records = sum(formats.values())
    if not formats:
        fmt = "empty"
    elif len(formats) == 1:
        fmt = next(iter(formats))
    else:
        top, count = formats.most_common(1)[0]
        fmt = top if count / records >= 0.99 else "mixed"
    return DatasetInfo(
        path,
        records,
        fmt,
        dict(formats.most_common()),
        fstats.layout,
        fstats.lines,
        fstats.container,
        fstats.skipped,
        fstats.records,
    )
