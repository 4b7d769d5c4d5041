"""The per-record result cache: never changes a report, is reused, and never stores record text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curate.cache import ResultCache, cache_size, clear_cache
from curate.cli import app
from curate.config import load_ruleset, select_rules
from curate.run.engine import Engine, EngineOptions

EMAIL = "jane.roe@example.com"
SENTENCE = "The purple giraffe recites Portuguese poetry"
SYSTEM = "You are Zanzibar, the helpful assistant of the Kettlewell bakery"


def records(n: int, start: int = 0) -> list[dict]:
    out: list[dict] = []
    for i in range(start, start + n):
        answer = f"Answer number {i}: {SENTENCE} on Tuesdays, and the bill is due on day {i % 28 + 1}."
        out.append(
            {"messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": answer}]}
        )
    out[1]["messages"][0]["content"] = f"Write to {EMAIL} please"
    out[2] = {"messages": [{"role": "user", "content": "no answer here"}]}
    out[3] = {"instruction": "Say hi", "output": "hi"}
    out[4] = out[0]  # an exact duplicate
    return out


def write(path: Path, recs: list[dict], extra: bytes = b"") -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs) + extra)
    return path


# stats that say where the dedup check's own signatures came from (its cache): they differ by design
PROVENANCE = ("from_cache", "sketched")


def audit(path: Path, cache: ResultCache | None, jobs: int = 1, rules: str = "default", full: bool = False) -> dict:
    """The JSON report of a run (schema and quality rules only, unless `full`: the default set is slower)."""
    rs = load_ruleset(rules)
    chosen = rs.rules if full else select_rules(rs.rules, ["schema", "quality", "balance"], [])
    options = EngineOptions(jobs=jobs, cache=cache, block_bytes=2048)
    report = Engine(chosen, options=options, ruleset_name=rs.name).run([str(path)]).to_json()
    for key in PROVENANCE:
        report["stats"].get("dedup", {}).get("near", {}).pop(key, None)
    return report


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "default-cache"))  # other caches (dedup) stay here
    return write(tmp_path / "d.jsonl", records(40), b"\n{broken\n")


def test_cached_runs_equal_uncached_with_every_default_rule(tmp_path: Path, data: Path) -> None:
    """The whole default rule set (PII, dedup, balance, tokens ...): identical reports, replayed whole,
    by blocks (every dataset check's extract read back) and by records."""
    plain = audit(data, None, full=True)
    first = audit(data, ResultCache(tmp_path / "c"), full=True)
    second = audit(data, ResultCache(tmp_path / "c"), full=True)
    assert plain["findings"] and plain["stats"]["dedup"] and plain == first == second
    write(data, [*records(40), *records(5, start=200)[:3]], b"\n{broken\n")
    cache = ResultCache(tmp_path / "c")
    assert audit(data, cache, full=True) == audit(data, None, full=True)
    assert cache.blocks_replayed and 0 < cache.misses <= 3  # new records only (two repeat old ones)


@pytest.mark.parametrize("jobs", [1, 2])
def test_cached_runs_equal_uncached_on_grown_files(tmp_path: Path, data: Path, jobs: int) -> None:
    """Inline and on the process pool (blocks of 2 KB: many units of work), before and after growing."""
    plain = audit(data, None, jobs)
    assert not plain["errors"]  # a skipped extract (the broken line) stays skipped across processes
    assert plain["findings"] and plain == audit(data, ResultCache(tmp_path / "c"), jobs)
    write(data, records(45), b"\n{broken\n")  # grown by 5 records
    assert audit(data, None, jobs) == audit(data, ResultCache(tmp_path / "c"), jobs)


def test_second_run_replays_and_a_grown_file_computes_only_new_records(tmp_path: Path, data: Path) -> None:
    cache = ResultCache(tmp_path / "c")
    audit(data, cache)
    assert (cache.hits, cache.misses, cache.runs_replayed) == (0, 41, 0)  # 40 records, the broken line; not the blank
    cache = ResultCache(tmp_path / "c")
    audit(data, cache)
    assert (cache.hits, cache.misses, cache.runs_replayed) == (0, 0, 1)  # unchanged: the whole run is replayed
    write(data, [*records(40), *records(5, start=100)[:1]], b"\n{broken\n")
    cache = ResultCache(tmp_path / "c")
    audit(data, cache)
    # only the appended record ran: the old blocks replayed whole, the last block's records one by one
    assert (cache.hits, cache.misses, cache.runs_replayed) == (41, 1, 0)
    assert cache.blocks_replayed >= 2


@pytest.mark.parametrize("jobs", [1, 2])
def test_edited_and_shrunk_files_equal_uncached(tmp_path: Path, data: Path, jobs: int) -> None:
    """Same size, one byte changed: not the stored run; a removed line shifts every later block."""
    audit(data, ResultCache(tmp_path / "c"), jobs)
    recs = records(40)
    recs[30]["messages"][0]["content"] = "Question 3!?"  # same length as "Question 30?"
    write(data, recs, b"\n{broken\n")
    cache = ResultCache(tmp_path / "c")
    assert audit(data, cache, jobs) == audit(data, None, jobs)
    assert cache.runs_replayed == 0
    write(data, recs[:10] + recs[11:], b"\n{broken\n")
    assert audit(data, ResultCache(tmp_path / "c"), jobs) == audit(data, None, jobs)


def test_a_grown_copy_reuses_the_original_blocks_under_its_own_path(tmp_path: Path, data: Path) -> None:
    audit(data, ResultCache(tmp_path / "c"))
    copy = write(tmp_path / "copy.jsonl", [*records(40), *records(5, start=100)[:1]], b"\n{broken\n")
    cache = ResultCache(tmp_path / "c")
    replayed = audit(copy, cache)
    assert cache.blocks_replayed >= 2 and cache.misses == 1
    assert replayed == audit(copy, None) and all(f["path"] == str(copy) for f in replayed["findings"])


def test_a_replayed_run_applies_todays_suppressions_and_keeps_the_stats_table(tmp_path: Path, data: Path) -> None:
    rs = load_ruleset("default")
    chosen = select_rules(rs.rules, ["schema", "quality", "balance"], [])

    def run(cache: ResultCache | None, suppress: frozenset[str]) -> tuple[dict, object]:
        options = EngineOptions(jobs=1, cache=cache, block_bytes=2048, suppress=suppress)
        report = Engine(chosen, options=options, ruleset_name=rs.name).run([str(data)])
        return report.to_json(), report.table

    plain, table = run(None, frozenset())
    accepted = frozenset({plain["findings"][0]["fingerprint"]})
    run(ResultCache(tmp_path / "c"), frozenset())
    cache = ResultCache(tmp_path / "c")
    replayed, replayed_table = run(cache, accepted)
    assert cache.runs_replayed == 1
    assert replayed == run(None, accepted)[0] and replayed["summary"]["suppressed"] == 1
    assert replayed_table.equals(table)


def test_cache_holds_no_record_text(tmp_path: Path, data: Path) -> None:
    """Nor the text some dataset checks extract (system prompts, answer openings): block entries seal it."""
    recs = records(40)
    for r in recs[5:]:
        r["messages"].insert(0, {"role": "system", "content": SYSTEM})
    write(data, recs, b"\n{broken\n")
    for _ in range(2):
        audit(data, ResultCache(tmp_path / "c"), full=True)
    files = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert files
    blob = b"".join(p.read_bytes() for p in files)
    for secret in (EMAIL, SENTENCE, SYSTEM, "Question 7?", "no answer here", "Answer number"):
        assert secret.encode() not in blob


def test_rules_and_params_key_the_cache(tmp_path: Path, data: Path) -> None:
    cache_dir = tmp_path / "c"
    audit(data, ResultCache(cache_dir))
    audit(data, ResultCache(cache_dir))
    assert cache_size(cache_dir)[0] == 1
    audit(data, ResultCache(cache_dir), rules="strict")
    assert cache_size(cache_dir)[0] == 2
    rs = load_ruleset("default")
    changed = [
        r if r.id != "missing-assistant" else type(r)(**{**_fields(r), "severity": r.severity - 1}) for r in rs.rules
    ]
    a, b = ResultCache(cache_dir), ResultCache(cache_dir)
    reg = Engine(rs.rules).registry
    from curate.run.replay import prepare

    prepare(a, rs.rules, reg, [], Engine(rs.rules).ctx, EngineOptions().read, None)
    prepare(b, changed, reg, [], Engine(changed).ctx, EngineOptions().read, None)
    assert a.run_id != b.run_id


def _fields(rule: object) -> dict:
    return {name: getattr(rule, name) for name in rule.__dataclass_fields__}  # type: ignore[attr-defined]


def test_a_failing_check_is_not_cached(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curate.checks.schema.conversation import MissingAssistant

    def boom(self: object, record: object) -> list:
        raise RuntimeError("boom")

    monkeypatch.setattr(MissingAssistant, "check", boom)
    first = audit(data, ResultCache(tmp_path / "c"))
    second = audit(data, ResultCache(tmp_path / "c"))
    assert any("schema.missing_assistant" in e for e in first["errors"])
    assert first["errors"] == second["errors"]


def test_damaged_entries_are_misses(tmp_path: Path, data: Path) -> None:
    plain = audit(data, None)
    audit(data, ResultCache(tmp_path / "c"))
    (db,) = (tmp_path / "c").rglob("*.sqlite")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE results SET v = x'00ff'")
    assert audit(data, ResultCache(tmp_path / "c")) == plain


def test_cached_extracts_give_the_same_report(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curate.checks.schema.format import MinExamples, MixedFormats

    monkeypatch.setattr(MixedFormats, "cache_extract", True, raising=False)
    monkeypatch.setattr(MinExamples, "cache_extract", True, raising=False)
    plain = audit(data, None)
    audit(data, ResultCache(tmp_path / "c"))
    assert audit(data, ResultCache(tmp_path / "c")) == plain


def test_cli_cache_clear_and_no_cache(tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cli-cache"))
    runner = CliRunner()
    assert runner.invoke(app, ["check", str(data), "--select", "schema", "--no-cache"]).exit_code == 1
    assert not (tmp_path / "cli-cache").exists()
    assert runner.invoke(app, ["check", str(data), "--select", "schema"]).exit_code == 1
    assert cache_size(tmp_path / "cli-cache")[0] == 1
    assert (tmp_path / "cli-cache" / ".gitignore").read_text(encoding="utf-8").strip().endswith("*")
    result = runner.invoke(app, ["cache", "clear"])
    assert result.exit_code == 0 and "cleared" in result.stdout
    assert cache_size(tmp_path / "cli-cache") == (0, 0)
    assert clear_cache(tmp_path / "nothing-here") == 0


def test_an_unwritable_cache_only_warns(tmp_path: Path, data: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    cache = ResultCache(blocker / "cache")
    assert audit(data, cache) == audit(data, None)
    assert cache.warnings and "cache not written" in cache.warnings[0]


def test_entries_written_on_the_writer_thread_all_arrive_in_order(tmp_path: Path) -> None:
    from curate.cache.store import Store

    store = Store(tmp_path / "c" / "writer-test.sqlite")
    keys = [i.to_bytes(4, "big") for i in range(120_000)]
    for start in range(0, len(keys), 10_000):  # several hand-offs
        store.put_many([(k, b"v%d" % start) for k in keys[start : start + 10_000]])
    store.put_many([(keys[0], b"last")])  # a later write of the same key wins
    assert store.close() is None
    got = Store(tmp_path / "c" / "writer-test.sqlite").get_many(keys)
    assert len(got) == len(keys)
    assert got[keys[0]] == b"last" and got[keys[-1]] == b"v110000"


def test_a_fork_while_the_writer_works_gives_a_working_child(tmp_path: Path) -> None:
    import os

    from curate.cache.store import Store

    store = Store(tmp_path / "c" / "fork-test.sqlite")
    store.put_many([(i.to_bytes(4, "big"), b"x" * 100) for i in range(60_000)])  # starts a write
    pid = os.fork()  # the engine forks its workers from this process
    if pid == 0:  # the child reads through its own connection: no inherited lock may block it
        Store(tmp_path / "c" / "fork-test.sqlite").get_many([b"\0\0\0\1"])
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert store.close() is None
    assert os.waitstatus_to_exitcode(status) == 0


def test_blocks_that_cannot_be_replayed_keep_both_workers_busy(tmp_path: Path, data: Path) -> None:
    """Once replay is off, noted blocks go to the pool ahead of their turn: finished results waiting
    in the queue do not count as work in flight (they had left one core idle after an interrupted run)."""
    from collections import deque
    from concurrent.futures import Future

    from curate.check import RunContext
    from curate.io.reader import ReadOptions
    from curate.run.scheduling import CachedBlock, Scheduler, Work

    rs = load_ruleset("default")
    work = Work(select_rules(rs.rules, ["schema"], []), RunContext(), ReadOptions(), None, None, 2, 2048)
    scheduler = Scheduler(work, [])
    size = data.stat().st_size
    done: Future = Future()
    done.set_result(None)
    queue: deque = deque([["future", done], ["future", done]])
    queue.extend(["hit", CachedBlock((b"k", b"s"), 1, True, 0, size)] for _ in range(6))
    try:
        scheduler._submit_hits(queue, str(data))
        kinds = [entry[0] for entry in queue]
        assert kinds == ["future"] * 6 + ["hit"] * 2  # 2 x jobs submitted, besides the 2 finished ones
        batches = [entry[1].result() for entry in list(queue)[2:6]]
        assert [len(b.records) for b in batches] == [42] * 4  # every line of the file, read again and computed
    finally:
        scheduler.close(graceful=True)


def test_a_replayed_run_keeps_the_notices_its_checks_gave_at_the_end(tmp_path: Path) -> None:
    """Dataset checks say some notices only when they finalize (a tree-shaped set's sibling answers):
    the replayed run did not finalize, so the stored run carries them."""
    tree = []
    for k in range(5):
        opening = [{"role": "user", "content": f"Tell me about topic {k} please"}]
        for j in range(2):
            answer = f"Here is one view number {j} of topic {k}, with enough words to count as an answer."
            follow = f"And what about part {j} of it?"
            tree.append(
                {
                    "messages": [
                        *opening,
                        {"role": "assistant", "content": f"Topic {k} is broad."},
                        {"role": "user", "content": follow},
                        {"role": "assistant", "content": answer},
                    ]
                }
            )
            tree.append({"messages": [*opening, {"role": "assistant", "content": answer}]})
    data = write(tmp_path / "tree.jsonl", tree)
    plain = audit(data, None, full=True)
    assert any("tree-shaped" in n for n in plain["notices"])
    audit(data, ResultCache(tmp_path / "c"), full=True)
    cache = ResultCache(tmp_path / "c")
    replayed = audit(data, cache, full=True)
    assert cache.runs_replayed == 1
    assert replayed == plain
