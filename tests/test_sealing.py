"""Committed files do not give short values back: brute force over every SSN must take over a day."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from curate.baseline import Baseline, load_baseline
from curate.model import Finding, Severity, content_key, fingerprint
from curate.sealing import SCRYPT_N, Seal, SealSpec

SSN_SPACE = 10**9  # every ddd-dd-dddd
ONE_DAY = 86_400.0


def _ssn_record(ssn: str) -> dict:
    return {"text": ssn}


def _finding(path: str, data: dict, rule: str = "personal-data") -> Finding:
    key = content_key(data)
    return Finding(
        rule, "pii.entities", Severity.ERROR, path, 1, "text", "US_SSN found", fingerprint(rule, key, "text"), key
    )


def test_brute_force_over_every_ssn_takes_more_than_a_day_of_one_core(tmp_path: Path) -> None:
    """The attacker's loop: guess an SSN, build the record, key it, seal it, compare with the file.
    Timed for N guesses in CPU seconds, extrapolated to all 10^9 SSNs."""
    secret = "536-22-8714"
    base = Baseline(tmp_path / ".curate-baseline.json")
    base.update([str(tmp_path / "d.jsonl")], [_finding(str(tmp_path / "d.jsonl"), _ssn_record(secret))])
    base.save()
    doc = json.loads(base.path.read_text())
    entry = doc["findings"][0]
    seal = Seal(SealSpec(**doc["seal"]))
    plain_key = content_key(_ssn_record(secret))
    assert plain_key not in base.path.read_text()  # the fast key is not in the file
    rng = random.Random(5)
    guesses = [f"{rng.randrange(1000):03d}-{rng.randrange(100):02d}-{rng.randrange(10000):04d}" for _ in range(40)]
    start = time.process_time()
    for g in guesses:
        fresh = Seal(seal.spec)  # no memo: every guess pays
        if (
            fresh.finding(
                content_key(_ssn_record(g)), fingerprint("personal-data", content_key(_ssn_record(g)), "text")
            )
            == entry["fingerprint"]
        ):
            break
    per_guess = (time.process_time() - start) / len(guesses)
    total = per_guess * SSN_SPACE
    assert total > ONE_DAY, f"{per_guess * 1e6:.0f} us a guess: all SSNs in {total / 3600:.1f} h"
    # and the right guess is found, so the timing measured the real comparison
    assert Seal(seal.spec).finding(plain_key, fingerprint("personal-data", plain_key, "text")) == entry["fingerprint"]


def test_plain_hash_would_fall_in_minutes() -> None:
    """The reason for the seal: the unsealed key costs about a microsecond a guess."""
    rng = random.Random(1)
    start = time.process_time()
    for _ in range(20_000):
        content_key(_ssn_record(f"{rng.randrange(1000):03d}-{rng.randrange(100):02d}-{rng.randrange(10000):04d}"))
    per_guess = (time.process_time() - start) / 20_000
    assert per_guess * SSN_SPACE < ONE_DAY / 10


def test_a_file_cannot_ask_for_a_weaker_or_huge_cost() -> None:
    with pytest.raises(ValueError):
        SealSpec(salt="00" * 16, n=SCRYPT_N // 2)
    with pytest.raises(ValueError):
        SealSpec(salt="00" * 16, n=2**20)
    with pytest.raises(ValueError):
        SealSpec(salt="00" * 16, n=SCRYPT_N * 3)
    with pytest.raises(ValueError):
        SealSpec(salt="short")
    with pytest.raises(ValueError):
        SealSpec(salt="00" * 16, r=64)
    assert SealSpec(salt="00" * 16, n=SCRYPT_N * 4).n == SCRYPT_N * 4  # more cost is allowed


def test_baseline_v1_still_matches_and_is_sealed_on_save(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    f = _finding(str(data), _ssn_record("536-22-8714"))
    path = tmp_path / ".curate-baseline.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "findings": [{"path": "d.jsonl", "rule": f.rule, "key": f.key, "fingerprint": f.fingerprint}],
            }
        )
    )
    base = load_baseline(path)
    assert base.accepted([f]) == {f.fingerprint}
    base.save()
    text = path.read_text()
    assert f.key not in text and f.fingerprint not in text and '"version": 2' in text
    again = load_baseline(path)
    assert again.accepted([f]) == {f.fingerprint}
    other = _finding(str(data), _ssn_record("536-22-8715"))
    assert again.accepted([other]) == frozenset()


def test_baseline_is_portable_across_machines(tmp_path: Path) -> None:
    """The salt travels in the file: another checkout (no shared cache, other key) matches it."""
    data = tmp_path / "d.jsonl"
    f = _finding(str(data), _ssn_record("536-22-8714"))
    base = Baseline(tmp_path / "b.json")
    base.update([str(data)], [f])
    base.save()
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    (copy / "b.json").write_bytes((tmp_path / "b.json").read_bytes())
    moved = _finding(str(copy / "d.jsonl"), _ssn_record("536-22-8714"))
    assert load_baseline(copy / "b.json").accepted([moved]) == {moved.fingerprint}
