"""The signature cache: identical results, only new records sketched, no text stored."""

from __future__ import annotations

import json
import random

import pytest
from dedup_data import chat, planted, sentence, vocabulary
from test_dedup import rule, run

import curate.checks.dedup.common as common
from curate.check import RunContext
from curate.run.engine import Engine, EngineOptions


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def counted(monkeypatch):
    calls = {"n": 0}
    real = common.compute_sketch

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(common, "compute_sketch", counting)
    return calls


def findings(report):
    return sorted((f.rule, f.path, f.line, f.fingerprint, json.dumps(f.data, sort_keys=True)) for f in report.findings)


def test_cached_and_uncached_runs_are_identical(tmp_path, counted):
    path = planted(seed=5, originals=130).write(tmp_path / "d.jsonl")
    n = sum(1 for _ in path.open())
    uncached = run([path], [rule("dedup.near", cache=False)])
    first = run([path], [rule("dedup.near")])
    assert counted["n"] == 2 * n
    second = run([path], [rule("dedup.near")])
    assert counted["n"] == 2 * n, "the second run sketches nothing"
    assert findings(uncached) == findings(first) == findings(second) and findings(first)
    near1, near2 = first.stats["dedup"]["near"], second.stats["dedup"]["near"]
    assert (near1["sketched"], near1["from_cache"]) == (n, 0)
    assert (near2["sketched"], near2["from_cache"]) == (0, n)
    strip = {"sketched", "from_cache"}
    assert {k: v for k, v in near1.items() if k not in strip} == {k: v for k, v in near2.items() if k not in strip}


def unique_records(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    return [json.dumps(chat(sentence(rng, vocab, 20), sentence(rng, vocab, 120))) + "\n" for _ in range(n)]


def test_grown_file_sketches_only_new_records(tmp_path, counted):
    path = tmp_path / "grow.jsonl"
    old, new = unique_records(1, 50), unique_records(2, 7)
    path.write_text("".join(old), encoding="utf-8")
    run([path], [rule("dedup.near")])
    assert counted["n"] == 50
    path.write_text("".join(old + new), encoding="utf-8")
    report = run([path], [rule("dedup.near")])
    assert counted["n"] == 57
    near = report.stats["dedup"]["near"]
    assert (near["sketched"], near["from_cache"]) == (7, 50)


def test_cache_holds_no_text_and_changes_with_parameters(tmp_path, counted):
    marker = "Zanzibarquux"
    recs = [
        chat(f"{marker} asks a question about {i} things", f"{marker} gets an answer number {i} today")
        for i in range(20)
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    run([path], [rule("dedup.near", min_words=2)])
    files = list((tmp_path / "cache").rglob("*.dedup"))
    assert len(files) == 1
    blob = files[0].read_bytes()
    assert marker.encode() not in blob and marker.lower().encode() not in blob
    run([path], [rule("dedup.near", min_words=2, shingle=4)])
    assert counted["n"] == 40, "other shingling parameters use another cache file"
    assert len(list((tmp_path / "cache").rglob("*.dedup"))) == 2


def test_cache_keys_on_datasketch_version(tmp_path, counted, monkeypatch):
    import importlib.metadata

    installed = importlib.metadata.version
    path = tmp_path / "v.jsonl"
    path.write_text("".join(unique_records(3, 10)), encoding="utf-8")
    run([path], [rule("dedup.near")])
    fake = lambda name: "9.9.9" if name == "datasketch" else installed(name)  # noqa: E731
    monkeypatch.setattr(importlib.metadata, "version", fake)
    run([path], [rule("dedup.near")])
    assert counted["n"] == 20


def test_damaged_cache_is_ignored(tmp_path, counted):
    path = tmp_path / "x.jsonl"
    path.write_text("".join(unique_records(4, 10)), encoding="utf-8")
    clean = run([path], [rule("dedup.near")])
    for f in (tmp_path / "cache").rglob("*.dedup"):
        f.write_bytes(b"garbage" * 10)
    again = run([path], [rule("dedup.near")])
    assert counted["n"] == 20 and not again.errors
    assert findings(clean) == findings(again)


# -- with the result cache: its block entries keep near's sketches as keys into this cache ------


def cached_run(paths, rules, jobs=1):
    from curate.cache import ResultCache
    from curate.check import RunContext
    from curate.run.engine import Engine, EngineOptions

    cache = ResultCache()  # $CURATE_CACHE_DIR, beside the signature cache
    options = EngineOptions(jobs=jobs, cache=cache, block_bytes=4096)
    return Engine(rules, RunContext(), options).run([str(p) for p in paths]), cache


def grow(path, seed):
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(unique_records(seed, 5)))


NEAR_RULES = [rule("dedup.near"), rule("dedup.exact")]


def test_block_entries_replay_sketches_from_the_signature_cache(tmp_path, counted):
    path = planted(seed=7, originals=120).write(tmp_path / "d.jsonl")
    cached_run([path], NEAR_RULES)
    sketched = counted["n"]
    grow(path, 8)
    report, cache = cached_run([path], NEAR_RULES)
    assert cache.blocks_replayed >= 2 and counted["n"] - sketched <= 5 + 1  # new records (and the last block)
    assert findings(report) == findings(run([path], [rule("dedup.near", cache=False), rule("dedup.exact")]))


def test_block_entries_hold_keys_not_sketches(tmp_path):
    from curate.check import RunContext
    from curate.checks.dedup.near import NearDuplicate
    from curate.io.reader import iter_records

    path = tmp_path / "k.jsonl"
    path.write_text("".join(unique_records(9, 6)), encoding="utf-8")
    run([path], [rule("dedup.near")])  # writes the signature cache
    near_rule = rule("dedup.near")
    near = NearDuplicate(near_rule.params, RunContext(), None)
    sketches = [near.extract(r) for r in iter_records(str(path))]
    stored = near.cache_extracts(sketches)
    assert stored == [s.text_hash for s in sketches] and all(len(k) == 16 for k in stored)
    restored = near.restore_extracts(stored, str(path))
    assert restored is not None
    assert [(s.exact, s.bands, s.shingles) for s in restored] == [(s.exact, s.bands, s.shingles) for s in sketches]
    assert near.restore_extracts([b"\x00" * 16], str(path)) is None  # not in the cache: the block is computed


@pytest.mark.parametrize("jobs", [1, 2])
def test_without_the_signature_cache_blocks_are_computed_again(tmp_path, jobs):
    path = planted(seed=3, originals=120).write(tmp_path / "d.jsonl")
    cached_run([path], NEAR_RULES, jobs)
    for f in (tmp_path / "cache").rglob("*.dedup"):
        f.unlink()
    grow(path, 4)
    report, cache = cached_run([path], NEAR_RULES, jobs)
    assert cache.blocks_replayed == 0 and not report.errors
    assert findings(report) == findings(run([path], [rule("dedup.near", cache=False), rule("dedup.exact")]))


def test_a_grown_copy_finds_the_sketches_of_its_original(tmp_path, counted):
    path = planted(seed=11, originals=120).write(tmp_path / "d.jsonl")
    cached_run([path], NEAR_RULES)
    copy = tmp_path / "elsewhere" / "d.jsonl"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    grow(copy, 12)
    sketched = counted["n"]
    report, cache = cached_run([copy], NEAR_RULES)
    assert cache.blocks_replayed >= 2 and counted["n"] - sketched < 60
    assert findings(report) == findings(run([copy], [rule("dedup.near", cache=False), rule("dedup.exact")]))
    assert all(f.path == str(copy) for f in report.findings)


def test_many_lookups_agree_with_one_by_one(tmp_path):
    from curate.check import RunContext
    from curate.checks.dedup.near import NearDuplicate, make_cache
    from curate.io.reader import iter_records

    path = tmp_path / "m.jsonl"
    path.write_text("".join(unique_records(13, 40)), encoding="utf-8")
    run([path], [rule("dedup.near")])
    params = rule("dedup.near").params
    near = NearDuplicate(params, RunContext(), None)
    keys = [near.extract(r).text_hash for r in iter_records(str(path))]
    rng = random.Random(0)
    missing = [rng.randbytes(16) for _ in range(5)]
    mixed = keys[:10] + missing[:2] + keys[10:] + missing[2:]
    cache = make_cache(params)
    reader = cache._reader(str(path))
    found = reader.get_many(mixed)
    assert found == [reader.get(k) for k in mixed]
    assert [f is None for f in found] == [k in missing for k in mixed]
    assert cache.lookup_many(str(path), keys) == found[:10] + found[12:-3]
    assert cache.lookup_many(str(path), mixed) is None and cache.lookup_many(str(path), []) == []


def _truncate(data: bytes) -> bytes:
    return data[:-3000]  # the shingle hashes are stored last: the last records would lose theirs


def _flip(data: bytes) -> bytes:
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :]


def _halve_bands(data: bytes) -> bytes:
    """Overwrite the band keys' half of the file with zeros (on the old format this silently lost
    half of the duplicate findings): the MAC still covers it."""
    import numpy as np

    meta_size = int.from_bytes(data[16:24], "little")
    meta = json.loads(data[24 : 24 + meta_size])
    start = (24 + meta_size + 63) // 64 * 64
    _, shape, pos = meta["arrays"]["bands"]
    n = int(np.prod(shape)) * 8
    return data[: start + pos] + b"\x00" * (n // 2) + data[start + pos + n // 2 :]


@pytest.mark.parametrize("damage", [_truncate, _flip, _halve_bands, lambda d: b"garbage" * 10], ids=str)
def test_a_damaged_cache_file_is_a_miss_with_one_warning(tmp_path, counted, damage):
    path = planted(seed=5, originals=120).write(tmp_path / "t.jsonl")
    n = sum(1 for _ in path.open())
    clean = run([path], [rule("dedup.near")])
    (f,) = (tmp_path / "cache").rglob("*.dedup")
    f.write_bytes(damage(f.read_bytes()))
    engine = Engine([rule("dedup.near")], RunContext(), EngineOptions(jobs=1))
    again = engine.run([str(path)])
    near = again.stats["dedup"]["near"]
    assert near["sketched"] == n and near["from_cache"] == 0 and not again.errors
    assert findings(clean) == findings(again) and findings(clean)
    assert len(engine.warnings) == 1 and "damaged" in engine.warnings[0]
    assert counted["n"] == 2 * n
    third = run([path], [rule("dedup.near")])  # rewritten whole by the second run
    assert third.stats["dedup"]["near"]["from_cache"] == n


def test_a_foreign_key_makes_every_file_a_miss(tmp_path, counted):
    from curate.io.cachedir import KEY_FILE

    path = planted(seed=6, originals=120).write(tmp_path / "k.jsonl")
    clean = run([path], [rule("dedup.near")])
    (key,) = (tmp_path / "cache").rglob(KEY_FILE)
    assert key.stat().st_mode & 0o777 == 0o600
    key.write_bytes(bytes(32))  # someone else's key: nothing signed with ours verifies
    again = run([path], [rule("dedup.near")])
    assert again.stats["dedup"]["near"]["from_cache"] == 0 and findings(clean) == findings(again)


def test_no_cache_writes_no_signature_file(tmp_path):
    path = planted(seed=8, originals=120).write(tmp_path / "n.jsonl")
    Engine([rule("dedup.near")], RunContext(use_cache=False), EngineOptions(jobs=1)).run([str(path)])
    assert not (tmp_path / "cache").exists()
