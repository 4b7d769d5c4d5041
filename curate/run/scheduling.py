"""Units of work to results, in file order: inline for small inputs, else on a pool of worker processes.

The main process only cuts the input into units (counting lines: cheap); workers turn each unit
into a `BlockResult`. Blocks the result cache holds are only noted while reading on, so the blocks
to compute reach the workers early (a grown file's new tail is computed while its old part is
replayed). At most `2 x jobs + 2` units to compute are held or in flight, so memory does not grow
with the file.

Stopping (`curate/cli/stopping.py`): the first SIGINT/SIGTERM raises in the main process; `close`
then terminates the workers at once instead of waiting for their blocks. The pool forks inside
`interruption.deferred()` and waits poll `raise_if_requested()`, so a stop is never lost. Workers ignore SIGINT,
drop the inherited SIGTERM handler and ask the kernel to end them with the main process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curate.check import Check, RunContext
from curate.config import Rule
from curate.interruption import deferred, raise_if_requested
from curate.io.reader import Block, FileStats, RawItem, ReadOptions, iter_units
from curate.run import replay
from curate.run.results import BlockResult
from curate.run.runner import Runner

if TYPE_CHECKING:
    from curate.cache import ResultCache


@dataclass(frozen=True, slots=True)
class Work:
    """What every runner of a run is made from (sent once to each worker process)."""

    rules: list[Rule]
    ctx: RunContext
    read: ReadOptions
    input_format: str | None
    cache: ResultCache | None
    jobs: int  # worker processes; 0 = one per CPU core, 1 = inline
    block_bytes: int

    def runner(self) -> Runner:
        return Runner(self.rules, self.ctx, self.read, self.input_format, self.cache)

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class CachedBlock:
    """A block of lines whose result the cache holds: its keys and where to read it again if the entry fails."""

    keys: tuple[bytes, bytes]
    first_line: int
    at_file_start: bool
    offset: int
    size: int

    def reread(self, path: str) -> Block:
        with open(path, "rb") as f:
            f.seek(self.offset)
            return Block(self.first_line, f.read(self.size), self.at_file_start)


# -- worker processes --------------------------------------------------------------------------

_WORKER: Runner | None = None


def _init_worker(work: Work, parent: int = 0) -> None:
    global _WORKER
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C and shuts us down
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's handler (inherited by fork)
    _die_with_parent(parent)
    _WORKER = work.runner()


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


def _work(path: str, unit: Block | list[RawItem]) -> BlockResult:
    assert _WORKER is not None
    return _WORKER.run_unit(path, unit)


_SIGNAL_POLL = 0.1  # seconds: the longest a recorded stop waits for the main thread to raise it


def _submit(pool: ProcessPoolExecutor, path: str, block: Block) -> Future[BlockResult]:
    """Queue a block on the pool, with stop signals deferred while it may fork its workers: Python
    runs at-fork hooks there, and drops the `Interrupted` a handler raises inside them."""
    with deferred():
        return pool.submit(_work, path, block)


def _result_in_time_for_signals(future: Future[BlockResult]) -> BlockResult:
    """`future.result()`, waking every `_SIGNAL_POLL` s to raise a stop whose exception was lost."""
    while True:
        raise_if_requested()
        try:
            return future.result(timeout=_SIGNAL_POLL)
        except TimeoutError:
            continue


_STOP_GRACE = 1.0  # seconds a terminated worker gets to exit before it is killed


def stop_workers(pool: ProcessPoolExecutor) -> None:
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


# -- the scheduler -----------------------------------------------------------------------------


class Scheduler:
    """Results of a file's units in file order; a pool only once there are two units to compute."""

    def __init__(self, work: Work, dataset_checks: Sequence[Check]) -> None:
        self.work = work
        self.dataset_checks = list(dataset_checks)  # the main process's: they restore cached extracts
        self._inline: Runner | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._replay_blocks = True  # off for the rest of a file once one of its stored blocks could not be replayed

    def results(self, path: str, fstats: FileStats, owns: Callable[[int], bool] | None = None) -> Iterator[BlockResult]:
        """Every unit's result, in file order. `owns(end)` (a shard's) says whether the unit that ends
        at byte `end` of the file is this run's; other units are read past, not computed."""
        queue: deque[list[Any]] = deque()  # in file order: ["hit", CachedBlock] | ["held", unit] | ["future", Future]
        computing = 0
        self._replay_blocks = True
        work = self.work
        for unit in iter_units(path, fstats, work.block_bytes, work.read.max_line_bytes):
            if owns is not None and not owns(fstats.bytes_read):
                continue
            hit = self._cached_block(path, unit, fstats)
            if hit is not None:
                queue.append(["hit", hit])
                continue
            queue.append(["held", unit])
            computing += 1
            if computing >= 2 and (pool := self._get_pool()) is not None:
                for entry in queue:
                    if entry[0] == "held":
                        entry[:] = ["future", _submit(pool, path, entry[1])]
            while computing > 2 * work.workers + 2:
                computing -= queue[0][0] != "hit"
                yield self._kept(self._take(queue, path))
        while queue:
            yield self._kept(self._take(queue, path))

    def close(self, graceful: bool) -> None:
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
                stop_workers(pool)
                raise
        stop_workers(pool)

    def _kept(self, result: BlockResult) -> BlockResult:
        """The main process owns the cache file: what a worker computed is stored from here."""
        cache = self.work.cache
        if cache is not None:
            cache.note_damaged(result.cache_damaged)
            if result.cache_entries:
                cache.store(result.cache_entries)
        return result

    def _take(self, queue: deque[list[Any]], path: str) -> BlockResult:
        kind, payload = queue.popleft()
        if kind == "hit" and self._replay_blocks:
            assert self.work.cache is not None
            result = replay.load_block(self.work.cache, path, payload.keys, self.dataset_checks)
            if result is not None:
                return result
            # a damaged entry, or a check cannot restore its extracts (the signature cache is gone):
            # compute this block and every later block of the file, on the pool
            self._replay_blocks = False
        if kind == "hit":
            self._submit_hits(queue, path)
            kind, payload = self._compute(path, payload.reread(path))
        if kind == "future":
            return _result_in_time_for_signals(payload)
        if self._inline is None:
            self._inline = self.work.runner()
        return self._inline.run_unit(path, payload)

    def _compute(self, path: str, block: Block) -> list[Any]:
        """A block to compute, as a queue entry: on the pool when there is one, else held for inline."""
        pool = self._get_pool()
        return ["future", _submit(pool, path, block)] if pool is not None else ["held", block]

    def _submit_hits(self, queue: deque[list[Any]], path: str) -> None:
        """Once replay is off, the next noted blocks go to the pool ahead of their turn (both cores busy)."""
        if self._get_pool() is None:
            return
        ahead = sum(1 for entry in queue if entry[0] == "future" and not entry[1].done())
        for entry in queue:
            if ahead >= 2 * self.work.workers:
                break
            if entry[0] == "hit":
                entry[:] = self._compute(path, entry[1].reread(path))
                ahead += 1

    def _cached_block(self, path: str, unit: Block | list[RawItem], fstats: FileStats) -> CachedBlock | None:
        cache = self.work.cache
        if cache is None or path == "-" or not isinstance(unit, Block) or not self._replay_blocks:
            return None
        if not unit.rereadable:  # out of a decompressor: no file offset to read it again from
            return None
        keys = cache.find_block(unit)
        if keys is None:
            return None
        return CachedBlock(
            keys, unit.first_line, unit.at_file_start, fstats.bytes_read - len(unit.data), len(unit.data)
        )

    def _get_pool(self) -> ProcessPoolExecutor | None:
        if self.work.workers <= 1:
            return None
        if self._pool is None:
            method = "fork" if sys.platform == "linux" else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=self.work.workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_init_worker,
                initargs=(self.work, os.getpid()),
            )
        return self._pool
