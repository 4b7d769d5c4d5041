"""Shingle hashes spilled to a temporary file give the same findings, caches and shard states."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from dedup_data import planted
from test_dedup import rule, run

import curate.checks.dedup.spill as spill
from curate.cache.codec import decode, encode
from curate.check import RecordRef, RunContext
from curate.checks.dedup.near import NearDuplicate
from curate.checks.dedup.spill import ShingleBuffer, forget
from curate.checks.dedup.store import Sketch
from curate.run.checkstate import StateError, dump_state, load_state

CHUNKS = [np.arange(n, n + k, dtype=np.uint32).tobytes() for n, k in ((0, 5), (100, 40), (7, 0), (3, 300))]


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def filled(limit: int | None) -> ShingleBuffer:
    buf = ShingleBuffer(limit=limit)
    for c in CHUNKS:
        buf += c
    return buf


@pytest.mark.parametrize("limit", [None, 1, 64, 1000])
def test_buffer_reads_back_what_was_appended(limit):
    buf = filled(limit)
    whole = b"".join(CHUNKS)
    assert buf.spilled == (limit is not None and limit <= len(whole))
    assert len(buf) == len(whole) and buf.to_bytes() == whole
    assert buf.array().tolist() == np.frombuffer(whole, dtype=np.uint32).tolist()
    assert pickle.loads(pickle.dumps(buf)).to_bytes() == whole
    buf += b"\x01\x00\x00\x00"  # appending after a read (a merge after numpy()) still works
    assert buf.array()[-1] == 1 and len(buf.array()) == len(whole) // 4 + 1


def test_a_full_disk_keeps_the_rest_in_memory(monkeypatch):
    buf = ShingleBuffer(limit=64)
    buf += CHUNKS[1]  # 160 bytes: written to the file
    assert buf.spilled

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spill.os, "pwrite", full)
    buf += CHUNKS[3]
    buf += CHUNKS[0]
    assert buf.to_bytes() == CHUNKS[1] + CHUNKS[3] + CHUNKS[0]
    assert buf.array().tobytes() == CHUNKS[1] + CHUNKS[3] + CHUNKS[0]


def test_forgotten_pages_read_back_from_the_file():
    buf = filled(1)
    arr = buf.array()
    before = arr.tolist()
    forget(arr)
    forget(arr[10:20])
    forget(np.zeros(3, dtype=np.uint32))  # in memory: nothing to drop
    assert arr.tolist() == before


def findings(report):
    return sorted((f.rule, f.path, f.line, f.fingerprint, json.dumps(f.data, sort_keys=True)) for f in report.findings)


@pytest.mark.parametrize("cache", [False, True])
def test_spilled_store_finds_the_same_duplicates(tmp_path, monkeypatch, cache):
    path = planted(seed=7, originals=120).write(tmp_path / "d.jsonl")
    kept = run([path], [rule("dedup.near", cache=cache)])
    monkeypatch.setattr(spill, "SPILL_BYTES", 256)  # a few records' hashes: everything else goes to disk
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache2"))  # sketched again, cache written from disk
    spilled = run([path], [rule("dedup.near", cache=cache)])
    assert findings(kept) == findings(spilled) and findings(kept)
    assert kept.stats["dedup"]["near"] == spilled.stats["dedup"]["near"]
    if cache:  # the cache written from the spilled store replays in a run that sketches nothing
        again = run([path], [rule("dedup.near", cache=cache)])
        assert findings(again) == findings(kept) and again.stats["dedup"]["near"]["from_cache"] > 0


def _sketch(i: int) -> Sketch:
    sh = np.arange(i, i + 30, dtype=np.uint32).tobytes()
    return Sketch(i.to_bytes(16, "little"), i, i, 30, np.arange(9, dtype=np.uint64).tobytes(), sh)


def test_spilled_state_survives_a_shard_file(monkeypatch):
    monkeypatch.setattr(spill, "SPILL_BYTES", 100)
    r = rule("dedup.near", cache=False)
    check = NearDuplicate(r.params, RunContext(), r.roles)
    for i in range(12):
        check.observe(RecordRef("f.jsonl", i + 1, f"k{i}", "openai_chat", {}), _sketch(i))
    assert check.store.shingles.spilled
    fresh = NearDuplicate(r.params, RunContext(), r.roles)
    load_state(fresh, decode(encode(dump_state(check))))
    assert fresh.store.shingles.to_bytes() == check.store.shingles.to_bytes()
    state = dump_state(check)
    state["store"]["shingles"] = b"\x00" * 5  # not whole uint32 hashes
    with pytest.raises(StateError, match="whole items"):
        load_state(NearDuplicate(r.params, RunContext(), r.roles), state)
