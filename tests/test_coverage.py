"""balance.topics: topics found in data made of known subjects, labelled by their words, examples masked,
topics one side of --against lacks, and the HTML report's Topics section."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curate.check import RunContext
from curate.config import Rule
from curate.coverage.kmeans import choose, kmeans, silhouette
from curate.engine import Engine, EngineOptions
from curate.registry import load_registry
from curate.reporters.html import render_html
from curate.reporters.markdown import render_markdown

SUBJECTS = {
    "baking": ["bread", "flour", "oven", "dough", "yeast", "butter", "sugar", "cake", "bake", "recipe"],
    "python": ["python", "function", "list", "variable", "loop", "error", "class", "module", "import", "string"],
    "space": ["planet", "star", "galaxy", "orbit", "telescope", "moon", "rocket", "astronaut", "solar", "comet"],
    "garden": ["garden", "soil", "seeds", "water", "plants", "flowers", "tomato", "compost", "weeds", "roots"],
}
TEMPLATES = [
    "How do I use {a} and {b} with {c}?",
    "Tell me about {a}, {b} and {c}.",
    "Why does my {a} need {b} before the {c}?",
    "What is the best {a} for {b} and {c}?",
]


def _records(subjects: list[str], n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = SUBJECTS[subjects[i % len(subjects)]]
        a, b, c = rng.sample(words, 3)
        answer = " ".join(rng.choices(words, k=25))
        prompt = rng.choice(TEMPLATES).format(a=a, b=b, c=c)
        out.append({"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]})
    return out


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _rule(**params: Any) -> Rule:
    cls = load_registry().checks["balance.topics"]
    return Rule(
        "topic-coverage", "balance.topics", cls.default_severity, cls.Params.model_validate(params), None, "t", ""
    )


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def _run(paths: list[Path], against: tuple[str, ...] = (), **params: Any):
    return Engine([_rule(**params)], RunContext(against=against), EngineOptions(jobs=1)).run([str(p) for p in paths])


def test_kmeans_separates_clear_groups_and_the_silhouette_prefers_the_true_k() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((6, 32))
    x = centres[np.repeat(np.arange(6), 50)] + 0.2 * rng.standard_normal((300, 32))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    _, labels = kmeans(x, 6)
    truth = np.repeat(np.arange(6), 50)
    assert all(len(np.unique(labels[truth == g])) == 1 for g in range(6))
    assert silhouette(x, labels, 6) > 0.5
    fit = choose(x)
    assert fit.k == 6 and fit.tried[6] == max(fit.tried.values())


def test_topics_follow_the_subjects_and_are_labelled_by_their_words(tmp_path: Path) -> None:
    path = _write(tmp_path / "train.jsonl", _records(list(SUBJECTS), 240))
    report = _run([path], topics=4)
    cov = report.stats["coverage"]
    assert cov["records"] == 240 and cov["topics"] == 4 and cov["k_chosen_by"] == "given"
    assert sum(r["count"] for r in cov["rows"]) == 240
    for row in cov["rows"]:
        assert row["count"] == 60 and row["share"] == 0.25 and not row["few"]
        subject = [s for s, words in SUBJECTS.items() if set(row["words"]) & set(words)]
        assert len(subject) == 1, row["words"]  # a topic's words come from one subject
        assert len(row["examples"]) == 3 and all(e["at"].startswith(str(path)) for e in row["examples"])
    assert report.findings == []  # a statistic: it fails nothing


def test_examples_are_masked_and_escaped(tmp_path: Path) -> None:
    recs = _records(["baking"], 30)
    recs[0]["messages"][0]["content"] = "Mail jane.doe@corp-mail.org \x1b[31m about bread flour oven"
    path = _write(tmp_path / "train.jsonl", recs)
    report = _run([path], topics=1)
    texts = [e["text"] for r in report.stats["coverage"]["rows"] for e in r["examples"]]
    dump = json.dumps(report.stats["coverage"])
    assert "jane.doe" not in dump and "corp-mail.org" not in dump and "\x1b" not in dump, texts


def test_against_shows_topics_the_training_data_lacks(tmp_path: Path) -> None:
    train = _write(tmp_path / "train.jsonl", _records(["baking", "python", "space"], 150))
    evals = _write(tmp_path / "eval.jsonl", _records(["garden", "python"], 60, seed=1))
    report = _run([train], against=(str(evals),), topics=4)
    cov = report.stats["coverage"]
    assert cov["against_records"] == 60
    rows = {r["topic"]: r for r in cov["rows"]}
    missing = [rows[t] for t in cov["only_in_against"]]
    assert len(missing) == 1 and missing[0]["count"] == 0 and missing[0]["against_count"] == 30
    assert set(missing[0]["words"]) <= set(SUBJECTS["garden"]) and missing[0]["words"]
    assert all(e["at"].startswith(str(evals)) for e in missing[0]["examples"])
    only_train = {w for t in cov["only_in_training"] for w in rows[t]["words"]}
    assert only_train and only_train <= set(SUBJECTS["baking"]) | set(SUBJECTS["space"])
    html = render_html(report)
    assert 'id="topics"' in html and "missing from training" in html and "not in eval" in html
    markdown = render_markdown(report)
    assert "### Topics" in markdown and "missing from training" in markdown and "eval share" in markdown


def test_too_few_records_give_no_topics(tmp_path: Path) -> None:
    path = _write(tmp_path / "one.jsonl", _records(["baking"], 1))
    report = _run([path])
    assert report.stats["coverage"]["topics"] == 0 and "Too few records" in render_html(report)
