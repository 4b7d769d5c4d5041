"""balance.category `by: topics` (rules/semantic.yaml): a record's category is its topic from
balance.topics when no field is named; without topics, the first words as before, and why.
Also `curate diff -r semantic`: the topics of the records that came and went."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_coverage import SUBJECTS, _records, _write
from typer.testing import CliRunner

from curate.cache import ResultCache
from curate.check import RunContext
from curate.cli import app
from curate.config import load_ruleset
from curate.engine import Engine, EngineOptions
from curate.registry import load_registry


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def _run(paths: list[Path], rules: str | Path, *, select: tuple[str, ...] = ("category-mix", "topic-coverage")):
    ruleset = load_ruleset(str(rules), load_registry())
    chosen = [r for r in ruleset.rules if r.id in select]
    options = EngineOptions(jobs=1, cache=ResultCache())
    return Engine(chosen, RunContext(), options, ruleset_name=ruleset.name).run([str(p) for p in paths])


def _semantic_with(tmp_path: Path, **params: Any) -> Path:
    """The semantic set with the topic count fixed (the subjects are known) and category params."""
    rules = tmp_path / "topics.yaml"
    category = json.dumps({"params": {"by": "topics", **params}})
    topics = "topic-coverage: {params: {topics: 4}}"
    rules.write_text(f"extends: semantic\nrules:\n  {topics}\n  category-mix: {category}\n")
    return rules


def test_the_semantic_set_counts_categories_by_topic(tmp_path: Path) -> None:
    semantic = {r.id: r for r in load_ruleset("semantic", load_registry()).rules}
    assert semantic["category-mix"].params.by == "topics"
    recs = _records(list(SUBJECTS), 120)
    recs.append({"note": "a record of no known format: no text to place in a topic"})
    path = _write(tmp_path / "train.jsonl", recs)
    # category-mix comes before topic-coverage in the rule order: it still finalizes after it
    report = _run([path], _semantic_with(tmp_path))
    cats = report.stats["categories"]
    topic_labels = {r["label"] for r in report.stats["coverage"]["rows"]}
    assert report.stats["balance"]["category"]["by"] == "topics"
    assert sorted(cats.values()) == [1, 30, 30, 30, 30] and set(cats) == topic_labels | {"unknown"}
    table = report.table
    assert table["category"].to_list()[:120] == table["topic"].to_list()[:120]
    replayed = _run([path], _semantic_with(tmp_path))  # from the cache: the same columns and counts
    assert replayed.table["topic"].to_list() == table["topic"].to_list() and replayed.stats == report.stats
    for label in topic_labels:  # each topic holds one subject's records
        rows = [i for i, c in enumerate(table["category"].to_list()) if c == label]
        assert len({i % len(SUBJECTS) for i in rows}) == 1


def test_without_the_topic_rule_categories_stay_the_first_words(tmp_path: Path) -> None:
    path = _write(tmp_path / "train.jsonl", _records(list(SUBJECTS), 40))
    report = _run([path], _semantic_with(tmp_path), select=("category-mix",))
    category = report.stats["balance"]["category"]
    assert category["by"] == "first_words" and "topic-coverage" in category["fallback"]
    first_words = {"how do", "tell me", "why does", "what is"}
    assert set(report.stats["categories"]) == first_words and "topic" not in report.table.columns
    assert any("categories from the first words, not topics: no topics" in n for n in report.notices)
    replayed = _run([path], _semantic_with(tmp_path), select=("category-mix",))  # from the cache: the same
    assert replayed.notices == report.notices and replayed.stats == report.stats
    assert replayed.table["category"].to_list() == report.table["category"].to_list()


def test_a_named_field_wins_over_topics(tmp_path: Path) -> None:
    recs = _records(list(SUBJECTS), 40)
    for i, r in enumerate(recs):
        r["kind"] = "even" if i % 2 == 0 else "odd"
    path = _write(tmp_path / "train.jsonl", recs)
    report = _run([path], _semantic_with(tmp_path, field="kind"))
    assert report.stats["categories"] == {"even": 20, "odd": 20}
    assert report.stats["balance"]["category"]["by"] == "field"


def test_without_the_semantic_extra_a_notice_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import curate.checks.embedded as embedded

    monkeypatch.setattr(embedded, "embedder_status", lambda: (False, "pip install 'curate[semantic]'"))
    cls = load_registry().checks["balance.category"]
    topics = cls(cls.Params(by="topics"), RunContext())
    assert topics.notices() == ["categories from the first words, not topics: pip install 'curate[semantic]'"]
    assert cls(cls.Params(), RunContext()).notices() == []  # first words by choice: nothing to say


def test_diff_names_the_topics_of_added_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _records(list(SUBJECTS), 80)
    new = old[:70] + _records(["garden"], 20, seed=3)  # ten records go, 20 garden records come
    _write(tmp_path / "v1.jsonl", old)
    _write(tmp_path / "v2.jsonl", new)
    rules = _semantic_with(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["diff", "v1.jsonl", "v2.jsonl", "-r", str(rules), "-f", "json", "-j", "1"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["records"] == {"added": 20, "removed": 10, "changed": 0, "unchanged": 70, "matched_by": "content hash"}
    assert doc["categories"] is None and doc["category_by"] == "topics"  # per-side labels are not compared
    assert [r["records"] for r in doc["topics"]["added"]] == [20]
    assert set(doc["topics"]["added"][0]["label"].split(" · ")) <= set(SUBJECTS["garden"])
    # records 70-79 were space, garden, baking, python, space, garden, baking, python, space, garden
    removed = {r["label"]: r["records"] for r in doc["topics"]["removed"]}
    assert sorted(removed.values()) == [2, 2, 3, 3]
