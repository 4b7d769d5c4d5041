"""Train/eval contamination: `curate check train.jsonl --against eval.jsonl`."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from dedup_data import chat, replace_words, sentence, vocabulary
from test_dedup import rule, run


def corpus(seed: int = 21, n: int = 40):
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    recs = [(sentence(rng, vocab, 25), " ".join(sentence(rng, vocab, 15) for _ in range(12))) for _ in range(n)]
    return rng, vocab, recs


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def files(tmp_path):
    rng, vocab, recs = corpus()
    train = write(tmp_path / "train.jsonl", [chat(u, a) for u, a in recs[:30]])
    eval_a = write(
        tmp_path / "eval_a.jsonl",
        [
            {"instruction": recs[3][0], "input": "", "output": recs[3][1]},  # line 4 of train, other format
            chat(*recs[31]),
            chat(recs[10][0], replace_words(rng, vocab, recs[10][1], 0.04)),  # near copy of train line 11
        ],
    )
    eval_b = write(
        tmp_path / "eval_b.jsonl", [chat(*recs[35]), chat(recs[20][0].upper(), recs[20][1])]
    )  # train line 21
    return train, eval_a, eval_b


def test_contamination_against_several_files(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    train, eval_a, eval_b = files(tmp_path)
    report = run([train], [rule("dedup.contamination")], against=(str(eval_a), str(eval_b)))
    got = {(f.line, f.data["kind"], f.data["duplicate_of_path"], f.data["duplicate_of"]) for f in report.findings}
    assert got == {(4, "exact", str(eval_a), 1), (11, "near", str(eval_a), 3), (21, "exact", str(eval_b), 2)}
    near = next(f for f in report.findings if f.data["kind"] == "near")
    assert 0.6 <= near.data["similarity"] < 1
    assert [f.data["review_order"] for f in sorted(report.findings, key=lambda f: f.data["similarity"])] == [0, 1, 2]
    stats = report.stats["dedup"]["contamination"]
    assert (stats["against_records"], stats["contaminated"], stats["exact"], stats["near"]) == (5, 3, 2, 1)


def test_no_against_means_no_contamination_work(tmp_path):
    train, _, _ = files(tmp_path)
    report = run([train], [rule("dedup.contamination")])
    assert not report.findings and "contamination" not in report.stats.get("dedup", {})


def test_cli_against_exits_1_and_reports_eval_location(tmp_path):
    train, eval_a, eval_b = files(tmp_path)
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "curate", "check", str(train), "--against", str(eval_a), "--against", str(eval_b)]
    proc = subprocess.run([*cmd, "-s", "dedup", "-f", "json"], capture_output=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    hits = [f for f in report["findings"] if f["rule"] == "eval-contamination"]
    assert {(f["line"], f["data"]["duplicate_of_path"]) for f in hits} == {
        (4, str(eval_a)),
        (11, str(eval_a)),
        (21, str(eval_b)),
    }
    assert all(f["severity"] == "error" for f in hits)
    missing = subprocess.run([*cmd[:-1], str(tmp_path / "nope.jsonl")], capture_output=True, env=env, timeout=120)
    assert missing.returncode == 2 and b"no such file" in missing.stderr


def _cached(train, against, rules):
    from curate.cache import ResultCache
    from curate.check import RunContext
    from curate.run.engine import Engine, EngineOptions

    cache = ResultCache()
    engine = Engine(rules, RunContext(against=against), EngineOptions(jobs=1, cache=cache, block_bytes=2048))
    return engine.run([str(train)]), cache


def _found(report):
    return sorted((f.rule, f.line, json.dumps(f.data, sort_keys=True)) for f in report.findings)


def test_a_grown_training_file_replays_contamination_from_the_cache(tmp_path, monkeypatch):
    """With dedup.near beside it (as in the default rules) the sketches come back from the
    signature cache; alone, the blocks are computed again. Either way: the uncached findings."""
    train, eval_a, eval_b = files(tmp_path)
    against = (str(eval_a), str(eval_b))
    _, _, recs = corpus()
    for rules, replays in (
        ([rule("dedup.contamination"), rule("dedup.near")], True),
        ([rule("dedup.contamination")], False),
    ):
        monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / f"cache-{len(rules)}"))  # fresh caches
        write(train, [chat(u, a) for u, a in recs[:30]])
        _cached(train, against, rules)
        write(train, [chat(u, a) for u, a in recs[:30] + recs[36:39]])  # grown by three records
        report, cache = _cached(train, against, rules)
        assert (cache.blocks_replayed >= 2) is replays and not report.errors
        plain = run([train], rules, against=against)  # no result cache
        assert _found(report) == _found(plain) and any(f.rule == "eval-contamination" for f in report.findings)
