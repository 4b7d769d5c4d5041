"""balance.language: which languages the dataset speaks, and whether that is the mix you want."""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from curate.check import DatasetCheck, RecordRef, RunState
from curate.checks.balance import _lang
from curate.checks.balance._mix import MixParams, counts_json, mix_hits
from curate.model import Hit, Record, Severity

BATCH = 400  # records per pool task: big enough to amortise pickling, small enough to stream
START = 3000  # fewer records than this in all: detect in-process, starting processes costs more
MAX_MISMATCH_KEPT = 100_000


class LanguageParams(MixParams):
    on: Literal["user", "assistant", "both"] = "both"  # which turns decide the language
    min_letters: int = Field(20, ge=1)  # fewer letters than this: "unknown" (Han/kana/hangul: a third)
    max_chars: int = Field(2000, ge=100)  # only the first N characters of each side are read
    min_confidence: float = Field(0.9, ge=0, le=1)  # langdetect's probability under this: "unknown"
    mismatch: bool = True  # report records whose user and assistant turns disagree (needs on: both)
    mismatch_min_letters: int = Field(40, ge=1)  # ... only when both sides have this many letters
    processes: int = Field(0, ge=0)  # detection processes; 0 = one per CPU, 1 = in this process


def _side(record: Record, role: str) -> str | None:
    texts = [t.text for t in record.conversation.turns if t.role == role and t.text]
    return "\n".join(texts) if texts else None


def record_language(found: _lang.Detected, on: str) -> str:
    """One language per record: the side asked for; with both, the one known side, else the longer."""
    user, assistant, n_user, n_assistant = found
    if on == "user":
        return user or _lang.UNKNOWN
    if on == "assistant":
        return assistant or _lang.UNKNOWN
    user_known = bool(user) and user != _lang.UNKNOWN
    assistant_known = bool(assistant) and assistant != _lang.UNKNOWN
    if user_known and assistant_known:
        return user if n_user > n_assistant else assistant
    return user if user_known else assistant if assistant_known else _lang.UNKNOWN


class Language(DatasetCheck):
    id = "balance.language"
    description = (
        "Language mix (langdetect): targets missed, too few examples, question and answer in different languages."
    )
    default_severity = Severity.WARNING
    Params = LanguageParams
    example = (
        '{"messages": [{"role": "user", "content": "Wie spät ist es in Tokio gerade?"}, '
        '{"role": "assistant", "content": "It is currently nine in the evening in Tokyo."}]}'
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p: LanguageParams = self.params  # type: ignore[assignment]
        self.p = p
        self.counts: Counter[str] = Counter()
        self.mismatches: list[tuple[str, int, str, str | None, str, str]] = []
        self.mismatched = 0
        self.keep_labels = False  # split turns this on to stratify by language
        self.labels: dict[str, str] = {}
        procs = p.processes or (os.cpu_count() or 1)
        # defer: extract only collects text and observe detects in a pool of `procs` processes.
        # An engine that runs `extract` in its own workers sets `defer = False` first.
        self.defer = procs > 1
        self._procs = procs
        self._opts = (p.min_letters, p.max_chars, p.min_confidence)
        self._pool: Any = None
        self._batch: list[tuple[tuple[str, int, str, str | None], _lang.Sides]] = []
        self._pending: deque[tuple[list[Any], Any]] = deque()

    # -- per record -------------------------------------------------------------------------
    def _sides(self, record: Record) -> _lang.Sides:
        on = self.p.on
        user = _side(record, "user") if on in ("user", "both") else None
        assistant = _side(record, "assistant") if on in ("assistant", "both") else None
        if user is not None:
            user = _lang.clean(user, self.p.max_chars)
        if assistant is not None:
            assistant = _lang.clean(assistant, self.p.max_chars)
        return (user, assistant)

    def extract(self, record: Record) -> Any:
        """(field of the first answer, (user language, assistant language)), or texts when deferred."""
        field = next((t.field for t in record.conversation.turns if t.role == "assistant"), None)
        sides = self._sides(record)
        if self.defer:
            return ("texts", field, sides)
        return ("langs", field, _lang.detect_sides(sides, *self._opts))

    def observe(self, ref: RecordRef, extracted: Any) -> None:
        kind, field, payload = extracted
        where = (ref.path, ref.line, ref.key, field)
        if kind == "langs":
            self._count(where, payload, ref.stats)
            return
        self._batch.append((where, payload))
        if len(self._batch) >= BATCH:
            self._submit()

    def _count(
        self, where: tuple[str, int, str, str | None], found: _lang.Detected, stats: dict[str, Any] | None
    ) -> None:
        lang = record_language(found, self.p.on)
        self.counts[lang] += 1
        if stats is not None:
            stats["language"] = lang
        if self.keep_labels:
            self.labels[where[2]] = lang
        user, assistant, n_user, n_assistant = found
        if (
            self.p.on == "both"
            and user != assistant
            and _lang.UNKNOWN not in (user, assistant)
            and min(n_user, n_assistant) >= self.p.mismatch_min_letters
        ):
            self.mismatched += 1
            if len(self.mismatches) < MAX_MISMATCH_KEPT:
                self.mismatches.append((*where, user, assistant))

    # -- the pool -------------------------------------------------------------------------
    def _submit(self, final: bool = False) -> None:
        """Send full batches to the pool; below START records in all, detect here at the end."""
        if self._pool is None and len(self._batch) < START and not final:
            return
        if self._pool is None and final:
            for where, sides in self._batch:
                self._count(where, _lang.detect_sides(sides, *self._opts), None)
            self._batch = []
            return
        pool = self._get_pool()
        while len(self._batch) >= BATCH or (final and self._batch):
            chunk, self._batch = self._batch[:BATCH], self._batch[BATCH:]
            fut = pool.submit(_lang.detect_batch, [s for _, s in chunk], *self._opts)
            self._pending.append(([w for w, _ in chunk], fut))
            while len(self._pending) > 2 * self._procs:
                self._collect_one()

    def _get_pool(self) -> Any:
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(self._procs, mp.get_context(method), initializer=_lang.init_worker)
        return self._pool

    def _collect_one(self) -> None:
        wheres, fut = self._pending.popleft()
        for where, langs in zip(wheres, fut.result(), strict=True):
            self._count(where, langs, None)

    def drain(self) -> None:
        """Finish every pending detection and stop the pool (finalize calls it; split too)."""
        try:
            self._submit(final=True)
            while self._pending:
                self._collect_one()
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None

    # -- dataset --------------------------------------------------------------------------
    def merge(self, other: DatasetCheck) -> None:
        assert isinstance(other, Language)
        other.drain()
        self.counts.update(other.counts)
        self.mismatched += other.mismatched
        self.mismatches.extend(other.mismatches[: MAX_MISMATCH_KEPT - len(self.mismatches)])
        self.labels.update(other.labels)

    def finalize(self, run: RunState) -> Iterable[Hit]:
        self.drain()
        if self.p.mismatch:
            for path, line, key, field, user, assistant in self.mismatches:
                yield Hit(
                    f"question is in {user}, answer in {assistant}",
                    field=field,
                    data={"user": user, "assistant": assistant},
                    fix="Translate one side, or drop the record if the switch of language is not intended.",
                    line=line,
                    key=key,
                    path=path,
                )
        yield from mix_hits(self.counts, self.p, "language")

    def summary(self) -> dict[str, Any]:
        self.drain()
        return {
            "languages": counts_json(self.counts),
            "language": {
                "on": self.p.on,
                "backend": "langdetect",
                "min_letters": self.p.min_letters,
                "min_confidence": self.p.min_confidence,
                "mismatched": self.mismatched,
                "targets": dict(self.p.targets or {}),
                "tolerance": self.p.tolerance,
                "min_count": self.p.min_count,
            },
        }
