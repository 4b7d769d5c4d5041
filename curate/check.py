"""The check protocol that built-in and third-party checks implement.

A check detects one thing. Record checks see one record at a time (and may run in worker
processes); dataset checks have two phases, `observe` per record then `finalize`, with state
that `merge` can combine across shards. Heavy libraries are imported inside methods, never at
module import, so loading every check stays cheap.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from curate.model import Hit, Record, Severity

if TYPE_CHECKING:
    import polars as pl


class Params(BaseModel):
    """Base for a check's parameters: unknown keys are errors, so typos in rules files surface."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


@dataclass(slots=True)
class RunContext:
    """What every check may know about the run: the target model and run-wide options."""

    target: str | None = None
    against: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()  # what the configuration switched off (e.g. by [tool.curate]): to the report
    use_cache: bool = True  # False (`--no-cache`): checks read and write no cache of their own either


class Check:
    """Helper base class; subclasses set the class attributes and one of the two method sets."""

    id: ClassVar[str]  # "family.thing"
    description: ClassVar[str]  # one line: what it detects and why it matters
    default_severity: ClassVar[Severity] = Severity.WARNING
    Params: ClassVar[type[Params]] = NoParams
    example: ClassVar[str] = ""  # a record that triggers it, shown by `curate rules explain`
    scope: ClassVar[str] = "record"
    # False: results depend on more than the record and the run's settings; the result cache turns off
    cacheable: ClassVar[bool] = True

    def __init__(
        self, params: Params | None = None, ctx: RunContext | None = None, roles: frozenset[str] | None = None
    ):
        self.params = params if params is not None else self.Params()
        self.ctx = ctx or RunContext()
        self.roles = roles  # which conversation roles a text check reads (None: all)

    @classmethod
    def family(cls) -> str:
        return cls.id.split(".", 1)[0]

    def notices(self) -> list[str]:
        """What this check could not do on this run (a model not installed, a target unknown).

        Run notices, not findings: the engine adds them to `Report.notices` (shown in every output,
        never in the exit code, SARIF results, baselines or the review queue)."""
        return []


class RecordCheck(Check, abc.ABC):
    scope: ClassVar[str] = "record"
    # read checks also look at records that failed to parse (bad JSON, blank lines)
    runs_on_invalid: ClassVar[bool] = False

    def applies(self, record: Record) -> bool:
        """A cheap test the engine runs first: False skips `check` (most records have nothing to report)."""
        return True

    @abc.abstractmethod
    def check(self, record: Record) -> Iterable[Hit]:
        """Yield hits for one record; may add per-record measurements to `record.stats`."""


class DatasetCheck(Check):
    scope: ClassVar[str] = "dataset"
    # keys of summary() also published at the top of `stats` (e.g. stats.languages), not only under the family
    top_level_stats: ClassVar[tuple[str, ...]] = ()
    runs_on_invalid: ClassVar[bool] = False
    # True for checks that compare conversation text across records (duplicates, conflicts, cost):
    # records with no text (unknown format, no recognised role) are not observed, or they would
    # all look alike
    needs_text: ClassVar[bool] = False
    # may the result cache keep this check's extracts? True: they hold no text (kept as they are);
    # False: never (computed again on replay); None: only when they are plain numbers
    cache_extract: ClassVar[bool | None] = None
    # checks whose finalize must run before this one's: it reads the columns they add (`RunState.set_column`)
    finalize_after: ClassVar[tuple[str, ...]] = ()

    def extract(self, record: Record) -> Any:
        """Per-record work that can run in a worker; returns something small and picklable."""
        return None

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        """Accumulate state for one record (main process or one shard)."""

    def merge(self, other: DatasetCheck) -> None:
        """Fold another shard's state into this one."""
        raise TypeError(f"{self.id} cannot merge shards")

    def finalize(self, run: RunState) -> Iterable[Hit]:
        """Decide, once every record has been observed."""
        return ()

    def summary(self) -> dict[str, Any]:
        """Dataset statistics for the report's `stats` section (keyed by the check's family)."""
        return {}

    def warnings(self) -> list[str]:
        """What went wrong around the check without changing its result (a damaged cache file
        ignored and recomputed): printed once by the command, never a finding."""
        return []

    def cache_extracts(self, values: Sequence[Any]) -> Any:
        """What the result cache keeps of one block's extracts (default: the values themselves).

        A check whose extract is large but kept elsewhere too returns a small stand-in: the
        near-duplicate sketches (~1.4 KB each) are in the signature cache already, so a block
        entry holds their 16-byte keys; storing them twice cost more than the check at 1M records."""
        return values

    def restore_extracts(self, stored: Any, path: str) -> Sequence[Any] | None:
        """The extracts back from what `cache_extracts` returned; None when they cannot be found
        (the block is then computed again)."""
        return stored


@dataclass(frozen=True, slots=True)
class RecordRef:
    """What a dataset check keeps of a record: where it is and its key, never its text."""

    path: str
    line: int
    key: str
    format: str
    stats: dict[str, Any]


class RunState:
    """What finalize may read: counts and the per-record stats table (built on first use)."""

    def __init__(self, columns: dict[str, list[Any]], records: int, datasets: list[dict[str, Any]], ctx: RunContext):
        self._columns = columns
        self._records = records
        self.datasets = datasets
        self.ctx = ctx
        self._table: pl.DataFrame | None = None

    @property
    def records(self) -> int:
        return self._records

    def column(self, name: str) -> list[Any]:
        """One column of the stats table as a plain list (None where no record has a value)."""
        return self._columns.get(name) or [None] * self._records

    def has_column(self, name: str) -> bool:
        return name in self._columns

    def set_column(self, name: str, values: list[Any]) -> None:
        """A column a dataset check learns only at finalize (a record's topic): for the checks that
        finalize after it (`finalize_after`), the stats table and the reports."""
        if len(values) != self._records:
            raise ValueError(f"column {name} has {len(values)} values for {self._records} records")
        self._columns[name] = values
        self._table = None

    @property
    def table(self) -> pl.DataFrame:
        """One row per record: path, line, key, format and every `record.stats` column."""
        if self._table is None:
            import polars as pl

            self._table = pl.DataFrame(self._columns, strict=False) if self._records else pl.DataFrame()
        return self._table
