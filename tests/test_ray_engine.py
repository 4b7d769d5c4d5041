"""`--engine ray` gives the local engine's report, with near-duplicate sketches left on the workers.

One local Ray runtime (`num_cpus=2`) for the whole module: starting Ray takes seconds.
"""

from __future__ import annotations

import difflib
import logging
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
import ray
from typer.testing import CliRunner

from curate.check import RunContext
from curate.checks.dedup.near import NearDuplicate
from curate.cli import app
from curate.config import load_ruleset
from curate.reporters.json_report import render_json
from curate.run.engine import Engine, EngineOptions
from curate.run.ray_engine import RayEngine
from curate.run.ray_near import RayPairIndex

WORDS = [
    "river", "stone", "lantern", "orchard", "velvet", "harbor", "maple", "cinder", "quartz", "meadow", "saffron",
    "garnet", "willow", "ember", "thistle", "falcon", "marble", "juniper", "copper", "lagoon", "prairie", "cobalt",
]  # fmt: skip


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    yield
    ray.shutdown()


def _answer(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _dataset(tmp_path: Path) -> list[str]:
    """Two files, many small blocks: exact copies and light edits far apart (other blocks, the other
    file), e-mail addresses and phone numbers, a 9-to-1 category skew, a line that is not JSON; and
    an evaluation file (`eval.jsonl`, for --against) holding a copy of two training records and a
    question one training record wraps in instructions."""
    rng = random.Random(7)
    lines: list[bytes] = []
    for i in range(240):
        rec = {
            "messages": [
                {"role": "user", "content": f"Explain {rng.choice(WORDS)} and {rng.choice(WORDS)} (question {i})"},
                {"role": "assistant", "content": _answer(rng, 40 + i % 17)},
            ],
            "category": "science" if i % 10 else "art",
        }
        if i % 40 == 7:  # a few records in French among English ones
            rec["messages"][1]["content"] = "Bonjour, voici la réponse complète à votre question sur le sujet demandé."
        if i % 37 == 5:
            rec["messages"][0]["content"] += f" Write to user{i}@example.com or call +1 415 555 {1000 + i}."
        lines.append(orjson.dumps(rec))
    for src, dst in ((3, 150), (40, 200), (41, 230)):
        lines[dst] = lines[src]  # exact copies
    for src, dst in ((10, 120), (60, 190), (61, 215), (62, 99)):
        rec = orjson.loads(lines[src])
        words = rec["messages"][1]["content"].split()
        words[5] = "granite"
        rec["messages"][1]["content"] = " ".join(words)
        lines[dst] = orjson.dumps(rec)  # near copies: one word changed
    lines[77] = b'{"messages": [oops'
    question = "A farmer plants 12 rows of 15 apple trees and sells the apples of every third row at the market."
    answer = {"role": "assistant", "content": " ".join(WORDS * 3)}  # so the record is no near copy of it
    wrapped = {"messages": [{"role": "user", "content": f"Solve carefully: {question.upper()} Answer it."}, answer]}
    lines[130] = orjson.dumps({**wrapped, "category": "science"})  # contamination that only n-grams find
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    benchmark = orjson.dumps({"question": question, "answer": "60"})
    (tmp_path / "eval.jsonl").write_bytes(lines[30] + b"\n" + lines[180] + b"\n" + benchmark + b"\n")
    first.write_bytes(b"\n".join(lines[:160]) + b"\n")
    second.write_bytes(b"\n".join(lines[160:]) + b"\n")
    return [str(first), str(second)]


def _run(engine_type: type[Engine], paths: list[str], **kwargs: object) -> tuple[Engine, bytes]:
    """The default rules, with language targets (a balance finding: French is 3% of 50% wanted)."""
    rules = [
        replace(r, params=r.params.model_copy(update={"targets": {"en": 0.5, "fr": 0.5}}))
        if r.check == "balance.language"
        else r
        for r in load_ruleset("default").rules
    ]
    ctx = RunContext(use_cache=False, against=(str(Path(paths[0]).parent / "eval.jsonl"),))
    engine = engine_type(rules, ctx, EngineOptions(jobs=1, block_bytes=4096), ruleset_name="default", **kwargs)
    return engine, render_json(engine.run(paths))


def test_ray_report_equals_local_report(local_ray: None, tmp_path: Path) -> None:
    paths = _dataset(tmp_path)
    _, local = _run(Engine, paths)
    engine, on_ray = _run(RayEngine, paths)
    assert on_ray == local
    report = orjson.loads(on_ray)
    rules = Counter(f["rule"] for f in report["findings"])
    wanted = (
        "exact-duplicate",
        "near-duplicate",
        "personal-data",
        "invalid-json",
        "eval-contamination",
        "language-mix",
    )
    for rule in wanted:
        assert rules[rule] > 0, rule
    assert report["stats"]["dedup"]["near"]["candidate_pairs"] >= 4
    kinds = Counter(f["data"]["kind"] for f in report["findings"] if f["rule"] == "eval-contamination")
    assert kinds["exact"] >= 2 and kinds["ngram"] == 1
    assert engine.blocks_sent > 10  # the dataset checks' state really was merged from many blocks
    near = [c for _, c in engine.dataset_checks if isinstance(c, NearDuplicate)]
    assert near and all(isinstance(c.index, RayPairIndex) for c in near)
    assert all(c.store.light and not c.store.shingles and not c.store.bands for c in near)  # no sketch on the driver


def test_cli_engine_ray_exit_code_and_report(local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "pii.key").write_bytes(b"k" * 64)  # the driver's key; Ray's workers have none
    monkeypatch.delenv("CURATE_PII_KEY", raising=False)
    monkeypatch.setattr("curate.privacy._key_cache", None)
    paths = _dataset(tmp_path)
    runner = CliRunner()
    local = runner.invoke(app, ["check", *paths, "--no-cache", "-f", "json"])
    on_ray = runner.invoke(app, ["check", *paths, "--engine", "ray", "-f", "json"])
    assert "near-duplicate" in on_ray.stdout
    diff = difflib.unified_diff(local.stdout.splitlines(), on_ray.stdout.splitlines(), lineterm="")
    assert on_ray.stdout == local.stdout, "\n".join(list(diff)[:40])
    assert on_ray.exit_code == local.exit_code == 1


def test_engine_ray_without_ray_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _dataset(tmp_path)
    for name in [m for m in sys.modules if m == "ray" or m.startswith(("ray.", "curate.run.ray_"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as when it is not installed
    result = CliRunner().invoke(app, ["check", *paths, "--engine", "ray"])
    assert result.exit_code == 2
    assert "pip install 'curate[ray]'" in result.stderr
