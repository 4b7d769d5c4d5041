"""`RecordResult`, the one value per record: computing it and replaying it from the cache give equal values.

Every rule of the default set is bound (PII, dedup, balance, tokens, quality, schema), so every
dataset check's extract goes through the cache: by record entries and by whole-block entries.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import orjson
import pytest

from curate.cache import ResultCache
from curate.check import RunContext
from curate.config import load_ruleset
from curate.io.reader import FileStats, ReadOptions, iter_units
from curate.registry import load_registry
from curate.run.replay import prepare
from curate.run.results import SKIP_MARK, RecordResult
from curate.run.runner import Runner, bind
from curate.run.scheduling import Scheduler, Work

EMAIL = "jane.roe@example.com"


def _records() -> list[bytes]:
    out = []
    for i in range(30):
        answer = f"Answer {i}: the heron waits by the river until the fish forget it, on day {i % 9}."
        out.append(
            orjson.dumps(
                {"messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": answer}]}
            )
        )
    out[3] = orjson.dumps({"messages": [{"role": "user", "content": f"Mail {EMAIL} now"}]})
    out[5] = out[1]  # an exact duplicate
    out[7] = b"{broken"
    out[9] = orjson.dumps({"instruction": "Say hi in French", "output": "Bonjour"})
    return out


@pytest.fixture
def dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "checks-cache"))
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join(_records()) + b"\n\n")
    return path


def _work(path: Path, cache: ResultCache | None) -> tuple[Work, list]:
    rules = load_ruleset("default").rules
    ctx = RunContext(paths=(str(path),), use_cache=False)  # no signature cache: provenance stays the same
    read = ReadOptions()
    _, dataset_checks = bind(rules, load_registry(), ctx)
    if cache is not None:
        prepare(cache, rules, load_registry(), dataset_checks, ctx, read, None)
    return Work(rules, ctx, read, None, cache, 1, 1024), [c for _, c in dataset_checks]


def _results(path: Path, cache: ResultCache | None) -> list[RecordResult]:
    """Every record's result through the scheduler (which replays whole blocks the cache holds)."""
    work, checks = _work(path, cache)
    scheduler = Scheduler(work, checks)
    out = [r for block in scheduler.results(str(path), FileStats()) for r in block.records]
    scheduler.close(graceful=True)
    if cache is not None:
        cache.close()
    return out


def test_replayed_results_equal_computed_ones_by_block_and_by_record(tmp_path: Path, dataset: Path) -> None:
    computed = _results(dataset, None)
    assert len(computed) == 31 and any(r.findings for r in computed)  # 30 lines and the blank one
    assert any(x is not SKIP_MARK and x is not None for r in computed for x in r.extracts)
    assert any(r.failures == () and not r.ok for r in computed)  # the broken line: a result, not a failure

    first = ResultCache(tmp_path / "c")
    assert _results(dataset, first) == computed
    assert first.misses == 30 and first.hits == 0

    by_block = ResultCache(tmp_path / "c")
    assert _results(dataset, by_block) == computed
    assert by_block.blocks_replayed >= 2 and by_block.misses == 0

    by_record = ResultCache(tmp_path / "c")  # the runner alone: every record from its own entry
    work, _ = _work(dataset, by_record)
    runner = Runner(work.rules, work.ctx, work.read, None, by_record)
    replayed = [
        r for unit in iter_units(str(dataset), FileStats(), 1024) for r in runner.run_unit(str(dataset), unit).records
    ]
    assert replayed == computed
    assert by_record.hits == 30 and by_record.misses == 0


def test_a_result_is_a_frozen_value_that_survives_the_process_boundary(dataset: Path) -> None:
    results = _results(dataset, None)
    assert pickle.loads(pickle.dumps(results)) == results
    skipped = [r for r in results if SKIP_MARK in r.extracts]
    assert skipped and pickle.loads(pickle.dumps(skipped))[0].extracts.count(SKIP_MARK) == skipped[0].extracts.count(
        SKIP_MARK
    )
    with pytest.raises(AttributeError):
        results[0].key = "other"  # type: ignore[misc]
