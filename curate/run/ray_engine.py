"""The audit on Ray: the same Report as the local engine, with the per-block work spread over a cluster.

Imported only for `--engine ray` (Ray is an optional extra). The driver reads each file into the
same blocks as the local engine and sends them to Ray tasks; a task runs the per-record work and
observes its block's records into fresh dataset-check instances. Only the block's findings, stats
and errors come back to the driver; the check states stay in Ray's object store and are merged
pairwise in a tree (adjacent blocks, so arrival order is kept), then finalized on the driver.
Near-duplicate sketches never leave the workers: see `curate.run.ray_near`.
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ray

from curate.check import Check, DatasetCheck, RecordRef, RunContext, RunState
from curate.checks.dedup.near import NearDuplicate
from curate.config import Rule
from curate.engine import Engine, EngineOptions, _Batch, _Processor, describe_failure
from curate.io.reader import FileStats, ReadOptions, iter_units
from curate.model import Finding
from curate.registry import Registry, load_registry
from curate.run.ray_near import RayPairIndex
from curate.run.results import SKIP_MARK

RAY_PACKAGE = "pip install 'curate[ray]'"


@dataclass(frozen=True, slots=True)
class _Setup:
    """What every task needs to rebuild the run's checks; put in the object store once per run."""

    token: str  # one per run: a worker keeps the processor of the run it last served
    rules: list[Rule]
    ctx: RunContext
    read: ReadOptions
    input_format: str | None


_WORKER: dict[str, tuple[_Processor, Registry]] = {}  # in each Ray worker process: the current run's processor


def _processor(setup: _Setup) -> tuple[_Processor, Registry]:
    found = _WORKER.get(setup.token)
    if found is None:
        _WORKER.clear()
        found = _WORKER[setup.token] = (
            _Processor(setup.rules, setup.ctx, setup.read, setup.input_format),
            load_registry(),
        )
    return found


@ray.remote(num_returns=4)
def _block_task(setup: _Setup, path: str, unit: Any) -> tuple[_Batch, list[int], list[DatasetCheck], list[Any]]:
    """One block: per-record work, then its records observed into fresh dataset checks.

    Returns the block's batch without extracts and how many records each near-duplicate check kept
    (to the driver), the checks' states (merged in a tree) and each near-duplicate check's sketches
    of this block (they stay where they are)."""
    proc, registry = _processor(setup)
    batch = proc.process(path, unit)
    checks = [
        (rule, registry.checks[rule.check](rule.params, setup.ctx, rule.roles)) for rule, _ in proc.dataset_checks
    ]
    failures: dict[str, int] = {}
    for i, row in enumerate(batch.extracted):
        ref = RecordRef(path, batch.lines[i], batch.keys[i], batch.formats[i], batch.stats[i])
        for (rule, check), extracted in zip(checks, row, strict=True):
            if extracted is SKIP_MARK:
                continue
            try:
                check.observe(ref, extracted)  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - one bad record never stops the audit
                failures[rule.check] = failures.get(rule.check, 0) + 1
                if failures[rule.check] <= 20:
                    batch.errors.append(describe_failure(rule, exc, f"{path}:{ref.line}"))
    batch.extracted = []
    sketches = []
    for _, check in checks:
        if isinstance(check, NearDuplicate):
            sketches.append(check.store)
            check.store = check.store.without_sketches()
    return batch, [len(s) for s in sketches], [c for _, c in checks], sketches  # type: ignore[misc]


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


@ray.remote
def _wrap_task(checks: list[Any]) -> tuple[list[Any], list[str]]:
    return checks, []


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
            setup = _Setup(uuid.uuid4().hex, self.rules, self.ctx, self.options.read, self.options.input_format)
            self._setup = ray.put(setup)
            self._window = 2 * max(1, int(ray.cluster_resources().get("CPU", 1))) + 2
            return super().run(paths)
        finally:
            self._states, self._sketches, self._near_sizes = [], [], []
            if started:
                ray.shutdown()

    # -- per-block work on Ray ---------------------------------------------------------------------
    def _batches(self, path: str, fstats: FileStats) -> Iterator[_Batch]:
        """Batches in file order; at most `2 x CPUs + 2` blocks in flight (the driver's memory stays flat)."""
        flying: deque[Any] = deque()
        for unit in iter_units(path, fstats, self.options.block_bytes, self.options.read.max_line_bytes):
            flying.append(_block_task.remote(self._setup, path, unit))
            self.blocks_sent += 1
            while len(flying) > self._window:
                yield self._arrived(flying.popleft(), fstats)
        while flying:
            yield self._arrived(flying.popleft(), fstats)

    def _arrived(self, refs: list[Any], fstats: FileStats) -> _Batch:
        batch_ref, sizes_ref, states_ref, sketches_ref = refs
        batch, sizes = ray.get([batch_ref, sizes_ref])
        if self.dataset_checks:
            self._states.append(states_ref)
            self._sketches.append(sketches_ref)
            self._near_sizes.append(sizes)
        return self._merged(batch, fstats)

    # -- dataset checks: tree merge, then finalize on the driver -----------------------------------
    def _finalize(self, state: RunState) -> list[Finding]:
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
        return super()._finalize(state)

    @staticmethod
    def _tree_merge(states: list[Any]) -> Any:
        level = [_wrap_task.remote(s) for s in states]
        while len(level) > 1:
            nxt = [_merge_task.remote(level[k], level[k + 1]) for k in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        return level[0]
