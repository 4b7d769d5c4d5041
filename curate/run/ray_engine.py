"""The audit on Ray: the same Report as the local engine, with the per-block work spread over a cluster.

Imported only for `--engine ray` (Ray is an optional extra). The driver reads each file into the
same blocks as the local engine and sends them to Ray tasks; a task runs the per-record work and
observes its block's records into fresh dataset-check instances. Only the block's findings, stats
and errors come back to the driver; the check states stay in Ray's object store and are merged
pairwise in a tree (adjacent blocks, so arrival order is kept), then finalized on the driver.
Near-duplicate sketches never leave the workers: see `curate.run.ray_near`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import ray

from curate.check import Check, DatasetCheck, RecordRef, RunContext
from curate.checks.dedup.near import NearDuplicate
from curate.config import Rule
from curate.io.reader import FileStats, ReadOptions, iter_units
from curate.model import Finding
from curate.privacy import pii_key, use_key
from curate.registry import Registry, load_registry
from curate.run.engine import Engine, EngineOptions, Partial
from curate.run.findings import describe_failure
from curate.run.ray_near import RayPairIndex
from curate.run.results import SKIP_MARK, BlockResult
from curate.run.runner import Runner
from curate.run.scheduling import Work

RAY_PACKAGE = "pip install 'curate[ray]'"


@dataclass(frozen=True, slots=True)
class _Setup:
    """What every task needs to rebuild the run's checks; put in the object store once per run."""

    token: str  # one per run: a worker keeps the processor of the run it last served
    rules: list[Rule]
    ctx: RunContext
    read: ReadOptions
    input_format: str | None
    pii_key: bytes  # the driver's: value hashes must agree across machines (each has its own pii.key)


_WORKER: dict[str, tuple[Runner, Registry]] = {}  # in each Ray worker process: the current run's runner


def _runner(setup: _Setup) -> tuple[Runner, Registry]:
    found = _WORKER.get(setup.token)
    if found is None:
        _WORKER.clear()
        use_key(setup.pii_key)
        found = _WORKER[setup.token] = (
            Runner(setup.rules, setup.ctx, setup.read, setup.input_format),
            load_registry(),
        )
    return found


@ray.remote(num_returns=4)
def _block_task(
    setup: _Setup, path: str, unit: Any
) -> tuple[BlockResult, list[int], tuple[list[DatasetCheck], list[str]], list[Any]]:
    """One block: per-record work, then its records observed into fresh dataset checks.

    Returns the block's results without extracts (a failure to observe added to its record's
    failures) and how many records each near-duplicate check kept (to the driver), the checks'
    states (merged in a tree) and each near-duplicate check's sketches of this block (they stay
    where they are)."""
    runner, registry = _runner(setup)
    result = runner.run_unit(path, unit)
    checks = [
        (rule, registry.checks[rule.check](rule.params, setup.ctx, rule.roles)) for rule, _ in runner.dataset_checks
    ]
    records = []
    for r in result.records:
        failures = list(r.failures)
        if r.extracts:
            ref = RecordRef(path, r.line, r.key, r.format, r.stats)
            for (rule, check), extracted in zip(checks, r.extracts, strict=True):
                if extracted is SKIP_MARK:
                    continue
                try:
                    check.observe(ref, extracted)  # type: ignore[attr-defined]
                except Exception as exc:  # noqa: BLE001 - one bad record never stops the audit
                    failures.append((rule.check, describe_failure(rule, exc, f"{path}:{r.line}")))
        records.append(replace(r, extracts=(), failures=tuple(failures)))
    result.records = records
    sketches = []
    for _, check in checks:
        if isinstance(check, NearDuplicate):
            sketches.append(check.store)
            check.store = check.store.without_sketches()
    return result, [len(s) for s in sketches], ([c for _, c in checks], []), sketches


@ray.remote
def _merge_task(left: tuple[list[Any], list[str]], right: tuple[list[Any], list[str]]) -> tuple[list[Any], list[str]]:
    """Two adjacent runs of blocks' check states as one (left first); a check that cannot merge says so."""
    checks, errors = left
    for index, (mine, theirs) in enumerate(zip(checks, right[0], strict=True)):
        if mine is None or theirs is None:
            checks[index] = None
            continue
        try:
            mine.merge(theirs)
        except Exception as exc:  # noqa: BLE001
            checks[index] = None
            errors.append(f"check {mine.id}: state could not be merged on Ray: {type(exc).__name__}")
    return checks, errors + right[1]


def connect(address: str | None) -> bool:
    """Join the cluster at `address` (else `RAY_ADDRESS`, else a new local Ray); True when this call
    started Ray (and the run should shut it down)."""
    if ray.is_initialized():
        return False
    import logging

    ray.init(
        address=address or os.environ.get("RAY_ADDRESS") or None,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,  # a worker's stray output would mix with the report on stdout
        configure_logging=False,
    )
    return True


class RayEngine(Engine):
    """`Engine` with blocks computed on Ray and dataset-check state merged there (see the module doc)."""

    def __init__(
        self,
        rules: list[Rule],
        ctx: RunContext | None = None,
        options: EngineOptions | None = None,
        registry: Registry | None = None,
        ruleset_name: str = "custom",
        address: str | None = None,
    ) -> None:
        options = options or EngineOptions()
        options.cache = None  # workers on other machines do not share the driver's cache folder
        ctx = ctx or RunContext()
        ctx.use_cache = False  # nor the checks' own caches
        super().__init__(rules, ctx, options, registry, ruleset_name)
        self.address = address
        self._states: list[Any] = []  # per block computed: ref to its dataset checks' states
        self._sketches: list[Any] = []  # per block: ref to its near-duplicate sketches
        self._near_sizes: list[list[int]] = []  # per block: records each near-duplicate check observed
        self._setup: Any = None
        self._window = 2
        self.blocks_sent = 0  # units of work sent to Ray in the last run

    def run(self, paths: Any) -> Any:
        started = connect(self.address)
        try:
            setup = _Setup(
                uuid.uuid4().hex, self.rules, self.ctx, self.options.read, self.options.input_format, pii_key()
            )
            self._setup = ray.put(setup)
            self._window = 2 * max(1, int(ray.cluster_resources().get("CPU", 1))) + 2
            return super().run(paths)
        finally:
            self._states, self._sketches, self._near_sizes = [], [], []
            if started:
                ray.shutdown()

    # -- per-block work on Ray ---------------------------------------------------------------------
    def _scheduler(self, work: Work) -> _RayScheduler:  # type: ignore[override]
        return _RayScheduler(self, work)

    def _arrived(self, refs: list[Any]) -> BlockResult:
        result_ref, sizes_ref, states_ref, sketches_ref = refs
        result, sizes = ray.get([result_ref, sizes_ref])
        if self.dataset_checks:
            self._states.append(states_ref)
            self._sketches.append(sketches_ref)
            self._near_sizes.append(sizes)
        return result

    # -- dataset checks: tree merge, then finalize on the driver -----------------------------------
    def _conclude(self, partial: Partial) -> tuple[Any, list[Finding]]:
        if self._states:
            merged, errors = ray.get(self._tree_merge(self._states))
            self.errors.extend(errors)
            bound: list[tuple[Rule, Check]] = []
            near = 0
            for (rule, _), state_check in zip(self.dataset_checks, merged, strict=True):
                if state_check is None:  # could not merge: finalize nothing rather than half the data
                    state_check = self.registry.checks[rule.check](rule.params, self.ctx, rule.roles)
                if isinstance(state_check, NearDuplicate):
                    sizes = [block[near] for block in self._near_sizes]
                    state_check.index = RayPairIndex(self._sketches, near, sizes)
                    near += 1
                bound.append((rule, state_check))
            self.dataset_checks = bound
        return super()._conclude(partial)

    @staticmethod
    def _tree_merge(states: list[Any]) -> Any:
        level = list(states)  # each block's (checks, merge errors)
        while len(level) > 1:
            nxt = [_merge_task.remote(level[k], level[k + 1]) for k in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        return level[0]


class _RayScheduler:
    """Blocks to Ray tasks, results back in file order; at most `2 x CPUs + 2` blocks in flight (the
    driver's memory stays flat). Each task's dataset-check state stays in the object store."""

    def __init__(self, engine: RayEngine, work: Work) -> None:
        self.engine = engine
        self.work = work
        self.flying: deque[Any] = deque()  # per block sent and not yet taken: its task's result refs

    def results(self, path: str, fstats: FileStats, owns: Any = None) -> Iterator[BlockResult]:
        engine = self.engine
        flying = self.flying
        for unit in iter_units(path, fstats, self.work.block_bytes, self.work.read.max_line_bytes):
            if owns is not None and not owns(fstats.bytes_read):
                continue
            flying.append(_block_task.remote(engine._setup, path, unit))
            engine.blocks_sent += 1
            while len(flying) > engine._window:
                yield engine._arrived(flying.popleft())
        while flying:
            yield engine._arrived(flying.popleft())

    def close(self, graceful: bool) -> None:
        """Interrupted (Ctrl-C, SIGTERM) or failed: the blocks still running on the cluster are cancelled,
        so a stopped run leaves no work behind (a local Ray is shut down with the run anyway)."""
        if graceful:
            return
        while self.flying:
            refs = self.flying.popleft()
            with contextlib.suppress(Exception):  # already finished or gone: nothing to stop
                ray.cancel(refs[0], force=True)
