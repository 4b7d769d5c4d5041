"""Near-duplicate clustering with crowded LSH buckets: same stars as all pairs, bounded work."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from dedup_data import sentence, vocabulary
from test_dedup import rule, run

from curate.checks.dedup import walk
from curate.checks.dedup.cluster import Buckets, band_buckets, verify
from curate.checks.dedup.sketch import jaccard


def clusters(keys, ids, offsets, shingles, threshold, **bounds):
    """walk.near_clusters over arrays held here, as dedup.near's local index calls it."""
    n = len(ids)
    return walk.near_clusters(
        Buckets.of(*band_buckets(keys)),
        n,
        lambda pairs, m: verify(pairs, m, ids, offsets, shingles),
        lambda a, b: jaccard(shingles[offsets[a] : offsets[a + 1]], shingles[offsets[b] : offsets[b + 1]]),
        threshold,
        **bounds,
    )


def templated(seed: int, n: int = 600, templates: int = 5, length: int = 60, bands: int = 8):
    """Records made of one of a few shingle sets with up to half of it replaced; band keys that
    name the template in most bands (so buckets are crowded whatever the similarity)."""
    rng = np.random.default_rng(seed)
    base = [rng.choice(2**31, length, replace=False) for _ in range(templates)]
    sets, keys = [], np.zeros((n, bands), dtype=np.uint64)
    for r in range(n):
        t = int(rng.integers(templates))
        s = base[t].copy()
        m = int(rng.integers(0, length // 2))
        s[rng.choice(length, m, replace=False)] = rng.choice(2**31, m)
        sets.append(np.unique(s).astype(np.uint32))
        keys[r] = np.where(rng.random(bands) < 0.7, t, rng.integers(1 << 40, size=bands))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=offsets[1:])
    return keys, np.arange(n), offsets, np.concatenate(sets)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_crowded_walk_gives_the_stars_of_all_pairs(seed, threshold):
    """Walking crowded buckets (each record verified against open records only) finds exactly the
    clusters, kept records and similarities that verifying every pair finds, with fewer pairs."""
    keys, ids, offsets, shingles = templated(seed)
    every_pair = clusters(keys, ids, offsets, shingles, threshold, crowded=10**9)
    walked = clusters(keys, ids, offsets, shingles, threshold, crowded=4, checks=10**9, open_per_bucket=10**9)
    assert walked.crowded_buckets > 0 and every_pair.crowded_buckets == 0
    assert np.array_equal(walked.stars.centre, every_pair.stars.centre)
    assert np.allclose(walked.stars.similarity, every_pair.stars.similarity)
    assert len(walked.sims) < len(every_pair.sims)
    assert (walked.check_limited, walked.list_full, walked.over_budget) == (0, 0, 0)


def test_walk_work_is_bounded_when_nothing_matches():
    """Records that all collide in LSH but are not similar (a shared passage, Jaccard ~0.4) are the
    worst case: verifications stay within the budget plus a few per record, and the summary says
    which bounds were reached."""
    n, bands = 3000, 8
    rng = np.random.default_rng(3)
    shared = rng.choice(2**31, 40, replace=False)
    sets = [np.unique(np.concatenate((shared, rng.choice(2**31, 60)))).astype(np.uint32) for _ in range(n)]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=offsets[1:])
    keys = np.tile(np.arange(bands, dtype=np.uint64), (n, 1))  # every record in the same bucket of every band
    got = clusters(keys, np.arange(n), offsets, np.concatenate(sets), 0.6, budget=20_000)
    assert not (got.stars.centre >= 0).any()
    assert len(got.sims) <= 20_000 + walk.CHECKS_PER_RECORD + n * walk.CHECKS_AFTER_BUDGET
    assert got.over_budget > 0 and got.list_full > 0
    assert len(got.sims) < n * (n - 1) / 20  # all pairs would be 4.5M


def test_duplicate_heavy_file_every_copy_found_with_linear_work(tmp_path):
    """Through the engine: light edits of 3 templates (crowded buckets in every band); every copy
    is reported against a kept record, and the pairs verified stay a small multiple of the records."""
    rng = random.Random(5)
    vocab = vocabulary(rng)
    answers = [sentence(rng, vocab, 200).split() for _ in range(3)]
    lines = []
    for _ in range(300):
        words = list(rng.choice(answers))
        for i in rng.sample(range(len(words)), 4):  # 2% of words
            words[i] = rng.choice(vocab)
        msgs = [{"role": "user", "content": "Tell me."}, {"role": "assistant", "content": " ".join(words)}]
        lines.append(json.dumps({"messages": msgs}))
    path = Path(tmp_path / "heavy.jsonl")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([path], [rule("dedup.near")])
    near = report.stats["dedup"]["near"]
    assert near["crowded_buckets"] > 0
    assert near["clusters"] == 3 and near["duplicates"] == 297
    assert len([f for f in report.findings if f.rule == "near-duplicate"]) == 297
    assert near["candidate_pairs"] < 300 * 20  # all pairs within the templates would be ~15,000
    assert (near["check_limited"], near["list_full"], near["over_budget"]) == (0, 0, 0)
