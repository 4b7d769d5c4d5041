"""The values that cross from per-record work to everything else.

Per-record work (parse, normalise, record checks, dataset checks' `extract`) turns one raw
record into one frozen `RecordResult`; a unit of work (a block of lines, a slice of a table)
gives a `BlockResult`. Everything after that (the stats table, dataset checks' `observe`, the
result cache, shard state, the report) reads these values and nothing else of the workers.
Computing a result and replaying it from the cache give equal values (tests/test_run_results.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curate.io.reader import FileStats
    from curate.model import Finding


class _Skip:
    """Marks a dataset check that does not look at a record; pickled by name, so it stays the one object
    across worker processes (a plain `object()` would come back as a new object)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "SKIP_MARK"

    def __repr__(self) -> str:
        return "SKIP_MARK"


SKIP_MARK = _Skip()


@dataclass(frozen=True, slots=True)
class RecordResult:
    """Everything per-record work learnt about one record: no raw text, only values.

    `extracts` holds one value per dataset check of the run (in binding order), `SKIP_MARK` where
    the check did not look at the record. `failures` describes the checks that raised on this
    record (check id, message naming type and code location only: an exception text may quote
    the record). `stats` is the record's measurements; it is never mutated once made.
    """

    line: int
    key: str
    format: str
    ok: bool  # parsed and understood well enough for checks that skip invalid records
    stats: dict[str, Any]
    findings: tuple[Finding, ...] = ()
    extracts: tuple[Any, ...] = ()
    failures: tuple[tuple[str, str], ...] = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # one per record crosses from a worker: as constructor arguments it pickles faster than
        # a slotted dataclass's state
        return (
            RecordResult,
            (self.line, self.key, self.format, self.ok, self.stats, self.findings, self.extracts, self.failures),
        )


@dataclass(slots=True)
class BlockResult:
    """What one unit of work gives back, in file order: its records' results, what the reader saw
    of the block (`file_stats`, None for units the main process read itself) and, when the result
    cache is on, the entries to keep (written by the main process, which owns the cache file)."""

    records: list[RecordResult] = field(default_factory=list)
    file_stats: FileStats | None = None
    cache_entries: list[tuple[bytes, bytes]] = field(default_factory=list)  # (key, value) to store
    cache_damaged: int = 0  # damaged cache entries met (and recomputed) while making this result
