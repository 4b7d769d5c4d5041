"""Per-record work over one unit (a block of lines, a slice of a table): raw records in, results out.

One `Runner` lives in each worker process (and one inline). For every raw record it parses,
normalises, runs the record checks and the dataset checks' `extract`, and returns one
`RecordResult`; with the result cache on, records and whole blocks seen before are replayed
from it instead (`curate.run.replay`), giving equal values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from curate.check import Check, DatasetCheck, RunContext
from curate.config import Rule
from curate.io.reader import Block, FileStats, RawItem, ReadOptions, block_items, to_record
from curate.model import Finding, Record
from curate.registry import Registry, load_registry
from curate.run import replay
from curate.run.findings import describe_failure, make_finding
from curate.run.results import SKIP_MARK, BlockResult, RecordResult

if TYPE_CHECKING:
    from curate.cache import ResultCache


def bind(
    rules: list[Rule], registry: Registry, ctx: RunContext
) -> tuple[list[tuple[Rule, Check]], list[tuple[Rule, Check]]]:
    """Each rule's check, instantiated with its parameters: (record checks, dataset checks), in rule order."""
    record_checks, dataset_checks = [], []
    for rule in rules:
        check = registry.checks[rule.check](rule.params, ctx, rule.roles)
        (dataset_checks if isinstance(check, DatasetCheck) else record_checks).append((rule, check))
    return record_checks, dataset_checks


class Runner:
    """The per-record half of an audit: a pure function of a unit of raw records (plus the cache)."""

    def __init__(
        self,
        rules: list[Rule],
        ctx: RunContext,
        read: ReadOptions,
        input_format: str | None,
        cache: ResultCache | None = None,
    ) -> None:
        self.record_checks, self.dataset_checks = bind(rules, load_registry(), ctx)
        self.cache = cache if cache is not None and cache.enabled and cache.run_id else None
        self.read = read
        self.input_format = input_format

    def run_unit(self, path: str, unit: Block | list[RawItem]) -> BlockResult:
        """Results for every record of `unit`, in order."""
        result = BlockResult()
        if isinstance(unit, Block):
            result.file_stats = FileStats()
            items: Iterable[RawItem] = block_items(unit, result.file_stats)
        else:
            items = unit
        if self.cache is None:
            result.records = [self.run_record(self.record(path, item)) for item in items]
            return result
        hashed = replay.run_items(self.cache, self, path, items, result)  # replays cached records, runs the rest
        if isinstance(unit, Block) and unit.rereadable and not any(r.failures for r in result.records):
            checks = [c for _, c in self.dataset_checks]
            entry = replay.block_entry(self.cache, path, unit, result, checks, hashed)
            if entry is not None:
                result.cache_entries.append(entry)
        return result

    def record(self, path: str, item: RawItem) -> Record:
        record = to_record(path, item, self.read)
        if self.input_format:
            record.format_hint = self.input_format
        return record

    def run_record(self, record: Record) -> RecordResult:
        """Record checks, then each dataset check's `extract`; a check that raises is a failure of
        this record (listed in the report's errors), never the end of the audit."""
        ok = record.ok
        findings: list[Finding] = []
        failures: list[tuple[str, str]] = []
        for rule, check in self.record_checks:
            if not ok and not check.runs_on_invalid:  # type: ignore[attr-defined]
                continue
            try:
                if not check.applies(record):  # type: ignore[attr-defined]
                    continue
                for hit in check.check(record):  # type: ignore[attr-defined]
                    findings.append(make_finding(rule, hit, record.path, record.line, record.key))
            except Exception as exc:  # noqa: BLE001 - one bad record never stops the audit
                failures.append((rule.check, describe_failure(rule, exc, f"{record.path}:{record.line}")))
        extracts: list[Any] = []
        if self.dataset_checks:
            readable: bool | None = None
            for rule, check in self.dataset_checks:
                if not ok and not check.runs_on_invalid:  # type: ignore[attr-defined]
                    extracts.append(SKIP_MARK)
                    continue
                if check.needs_text:  # type: ignore[attr-defined]
                    if readable is None:
                        readable = ok and record.conversation.readable
                    if not readable:
                        extracts.append(SKIP_MARK)
                        continue
                try:
                    extracts.append(check.extract(record))  # type: ignore[attr-defined]
                except Exception as exc:  # noqa: BLE001
                    failures.append((rule.check, describe_failure(rule, exc, f"{record.path}:{record.line}")))
                    extracts.append(SKIP_MARK)
        return RecordResult(
            record.line,
            record.key,
            record.format,
            ok,
            record.stats,
            tuple(findings),
            tuple(extracts),
            tuple(failures),
        )
