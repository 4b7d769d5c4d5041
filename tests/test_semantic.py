"""dedup.semantic: verified offline weights, paraphrase pairs found, findings shaped like near-duplicates,
clusters that cannot chain, the indexed search agreeing with the exact one, a notice when the weights are missing."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curate import embeddings
from curate.check import RecordRef, RunContext, RunState
from curate.checks.dedup import neighbours
from curate.checks.dedup.semantic import SemanticDuplicate, SemanticParams
from curate.config import Rule
from curate.engine import Engine, EngineOptions
from curate.registry import load_registry

PAIRS = Path(__file__).parent / "fixtures" / "semantic" / "pairs.jsonl"


def _pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]


def rule(check: str = "dedup.semantic", rule_id: str = "semantic-duplicate", **params: Any) -> Rule:
    cls = load_registry().checks[check]
    return Rule(rule_id, check, cls.default_severity, cls.Params.model_validate(params), None, "test", "")


def run(paths: list[Path], rules: list[Rule], against: tuple[str, ...] = (), jobs: int = 1):
    return Engine(rules, RunContext(against=against), EngineOptions(jobs=jobs)).run([str(p) for p in paths])


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def _chat(prompt: str, answer: str = "Here is a careful answer to that.") -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}


def test_the_weights_are_the_pinned_files_and_load_offline() -> None:
    ok, why = embeddings.embedder_status()
    assert ok, why
    root = embeddings._package_root()
    assert root is not None
    for rel, digest in embeddings.PINNED.items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest
    vec = embeddings.embedder().embed("Where is the Eiffel Tower?")
    assert vec is not None and vec.vector.shape == (embeddings.DIM,) and vec.vector.dtype == np.float16
    assert abs(float(np.linalg.norm(vec.vector.astype(np.float32))) - 1.0) < 1e-2
    assert embeddings.embedder().embed("   \n ") is None


def test_importing_wordllama_leaves_the_root_logger_alone() -> None:
    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    embeddings._import_quietly()
    assert (root.handlers, root.level) == before


def test_a_tampered_weights_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = embeddings._package_root()
    assert real is not None
    fake = tmp_path / "wordllama"
    for rel in embeddings.PINNED:
        (fake / rel).parent.mkdir(parents=True, exist_ok=True)
        (fake / rel).write_bytes((real / rel).read_bytes())
    weights = fake / embeddings.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(embeddings, "_package_root", lambda: fake)
    embeddings._verified_files.cache_clear()
    try:
        ok, why = embeddings.embedder_status()
        assert not ok and "sha256" in why and embeddings.EXTRA in why
        with pytest.raises(embeddings.EmbedderMissing):
            embeddings.Embedder()
    finally:
        embeddings._verified_files.cache_clear()


def test_without_the_weights_the_check_gives_a_notice_not_a_finding(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "_package_root", lambda: None)
    embeddings._verified_files.cache_clear()
    embeddings.embedder.cache_clear()
    try:
        path = tmp_path / "d.jsonl"
        path.write_text("".join(json.dumps(_chat(p["a"])) + "\n" for p in _pairs()[:6]), encoding="utf-8")
        report = run([path], [rule()])
        assert report.findings == []
        assert any("dedup.semantic did not run" in n and "curate[semantic]" in n for n in report.notices)
    finally:
        embeddings._verified_files.cache_clear()
        embeddings.embedder.cache_clear()


def _pair_similarities() -> tuple[np.ndarray, np.ndarray]:
    emb = embeddings.embedder()

    def vec(text: str) -> np.ndarray:
        e = emb.embed(text)
        assert e is not None
        return e.vector.astype(np.float32)

    rows = _pairs()
    sims = np.array([float(vec(r["a"]) @ vec(r["b"])) for r in rows])
    same = np.array([r["same"] for r in rows])
    return sims[same], sims[~same]


def test_hand_written_paraphrases_score_above_merely_related_prompts() -> None:
    """Measured on tests/fixtures/semantic/pairs.jsonl (docs/semantic.md has the table): prompts only."""
    pos, neg = _pair_similarities()
    assert len(pos) == len(neg) == 50
    assert pos.mean() > neg.mean() + 0.15
    tp, fp = int((pos >= 0.8).sum()), int((neg >= 0.8).sum())
    assert tp / len(pos) >= 0.35, tp  # recall of prompt paraphrases at 0.8
    assert tp / (tp + fp) >= 0.8, (tp, fp)  # precision against hand-made near misses


def test_paraphrases_are_found_through_the_engine_with_near_duplicate_shaped_findings(tmp_path: Path) -> None:
    rows = [r for r in _pairs() if r["same"]]
    records = []
    for r in rows:
        records += [_chat(r["a"], "Sure."), _chat(r["b"], "Sure.")]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    report = run([path], [rule(text="user", threshold=0.8)])
    found = report.findings
    assert len(found) >= 15
    for f in found:
        assert f.rule == "semantic-duplicate" and f.data["cluster"].startswith("semantic-")
        assert f.line % 2 == 0 and f.data["duplicate_of"] == f.line - 1  # each names its own pair's first line
        assert f.data["similarity"] >= 0.8 and f.data["margin"] == round(f.data["similarity"] - 0.8, 4)
    order = sorted(found, key=lambda f: f.data["review_order"])
    assert [f.data["similarity"] for f in order] == sorted(f.data["similarity"] for f in found)
    stats = report.stats["dedup"]["semantic"]
    assert stats["records"] == len(records) and stats["reported"] == len(found)
    assert sum(stats["nearest_similarity"]["counts"]) == len(records)


def _observe(check: SemanticDuplicate, vectors: np.ndarray, exact: list[int] | None = None) -> None:
    for i, v in enumerate(vectors):
        ref = RecordRef("d.jsonl", i + 1, f"k{i}", "openai_chat", {})
        check.observe(ref, (v.astype(np.float16), exact[i] if exact else i, 10))


def _unit(angle_deg: float) -> np.ndarray:
    v = np.zeros(embeddings.DIM, dtype=np.float32)
    v[0], v[1] = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    return v


def test_clusters_cannot_chain() -> None:
    """A~B and B~C but A!~C: C is not put in A's cluster (star clusters, as dedup.near)."""
    check = SemanticDuplicate(SemanticParams(threshold=0.9))
    _observe(check, np.stack([_unit(0), _unit(20), _unit(40)]))  # cos 20 deg = 0.94, cos 40 deg = 0.77
    hits = list(check.finalize(RunState({}, 3, [], RunContext())))
    assert [(h.line, h.data["duplicate_of"]) for h in hits] == [(2, 1)]


def test_identical_texts_are_left_to_the_exact_checks() -> None:
    check = SemanticDuplicate(SemanticParams(threshold=0.9))
    _observe(check, np.stack([_unit(0), _unit(0), _unit(10)]), exact=[7, 7, 8])
    hits = list(check.finalize(RunState({}, 3, [], RunContext())))
    assert [(h.line, h.data["duplicate_of"]) for h in hits] == [(3, 1)]


def test_the_indexed_search_finds_what_the_exact_one_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((200, embeddings.DIM)).astype(np.float32)  # groups of ~5: fewer than k
    x = centres[rng.integers(0, 200, 900)] + 0.25 * rng.standard_normal((900, embeddings.DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    exact = neighbours.similar_pairs(x, 0.9, 10)
    monkeypatch.setattr(neighbours, "EXACT_MAX", 100)
    indexed = neighbours.similar_pairs(x, 0.9, 10)
    assert exact.method == "exact" and indexed.method == "usearch"
    want = set(zip(exact.i.tolist(), exact.j.tolist(), strict=True))
    got = set(zip(indexed.i.tolist(), indexed.j.tolist(), strict=True))
    assert want and got <= want and len(got) >= 0.95 * len(want)
    np.testing.assert_allclose(indexed.nearest, exact.nearest, atol=1e-3)


def test_cached_runs_equal_uncached(tmp_path: Path) -> None:
    from curate.cache.result import ResultCache

    rows = _pairs()[:20]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(_chat(r["a"]) if i % 2 else _chat(r["b"])) + "\n" for i, r in enumerate(rows)))
    rules = [rule(text="user", threshold=0.7), rule("balance.topics", "topic-coverage")]

    def audit(cache: ResultCache | None) -> dict:
        return Engine(rules, RunContext(), EngineOptions(jobs=1, cache=cache)).run([str(path)]).to_json()

    plain = audit(None)
    first, second = audit(ResultCache(tmp_path / "c")), audit(ResultCache(tmp_path / "c"))
    assert plain["stats"]["dedup"]["semantic"]["records"] == 20 and plain["stats"]["coverage"]["records"] == 20
    assert plain == first == second


def test_a_state_that_does_not_fit_is_refused_not_used() -> None:
    """A merged shard state is data from disk: a vector of the wrong shape is an error, not a finding."""
    check = SemanticDuplicate(SemanticParams())
    _observe(check, np.stack([_unit(0), _unit(5)]))
    check.vectors[1] = np.zeros(3, dtype=np.float16)
    with pytest.raises(ValueError, match="not a vector"):
        list(check.finalize(RunState({}, 2, [], RunContext())))
    check.vectors.pop()
    with pytest.raises(ValueError, match="different lengths"):
        list(check.finalize(RunState({}, 2, [], RunContext())))
