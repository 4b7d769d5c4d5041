"""The tokens family inside a real audit: findings, the stats table, stats.tokens and stats.cost."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from curate.check import RunContext
from curate.checks.tokens.outlier import threshold
from curate.config import load_ruleset, select_rules
from curate.run.engine import Engine, EngineOptions


def chat(user: str, answer: str, weight: int | None = None) -> dict:
    a: dict = {"role": "assistant", "content": answer}
    if weight is not None:
        a["weight"] = weight
    return {"messages": [{"role": "user", "content": user}, a]}


def write(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def audit(path: str, target: str | None = "openai/gpt-4o-mini", overrides: dict | None = None):
    rules = select_rules(load_ruleset("default").rules, ["tokens"], None)
    if overrides:
        rules = [r if r.id not in overrides else overrides[r.id](r) for r in rules]
    return Engine(rules, RunContext(target=target), EngineOptions(jobs=1)).run([path])


@pytest.fixture
def dataset(tmp_path: Path) -> str:
    words = "the quick brown fox jumps over the lazy dog "
    records = [chat(f"question {i}: " + words * (3 + i % 4), "answer " + words * (2 + i % 3)) for i in range(40)]
    records.append(chat("hi", "nothing to learn here", weight=0))  # line 41
    records.append(chat("summarise: " + words * 800, "ok"))  # line 42: an outlier
    records.append({"question": "not an example"})  # line 43: unknown format, not counted
    return write(tmp_path / "d.jsonl", records)


def test_findings_stats_table_and_report_sections(dataset):
    report = audit(dataset)
    by_rule = {(f.rule, f.line) for f in report.findings}
    assert ("no-trainable-tokens", 41) in by_rule
    assert ("token-length-outlier", 42) in by_rule
    assert not any(f.rule == "token-length-outlier" and f.line != 42 for f in report.findings)
    assert not any(f.rule == "token-limit" for f in report.findings)

    table = report.table
    assert {"tokens", "trainable_tokens", "messages"} <= set(table.columns)
    assert table["trainable_tokens"][40] == 0

    tokens = report.stats["tokens"]
    assert tokens["encoding"] == "o200k_base" and tokens["estimate"] is False
    assert tokens["examples"] == 42  # line 43 has no conversation: not an example
    assert table["tokens"][42] is None
    assert tokens["tokens_per_example"]["total"] == int(table["tokens"].sum())
    assert tokens["tokens_per_example"]["max"] == int(table["tokens"].max())
    assert tokens["no_trainable"] == 1 and tokens["over_limit"] == 0 and tokens["limit"] == 65536

    cost = report.stats["cost"]
    est = cost["estimates"][0]
    # priced: the 41 examples with trainable tokens (line 41 teaches nothing: counted, not priced)
    total = int(table.filter(table["trainable_tokens"] > 0)["tokens"].sum())
    assert est["examples"] == 41 and cost["left_out"] == {"no trainable tokens": 1}
    assert est["epochs"] == 3  # 41 examples x 3 = 123 example-epochs, inside 100..25,000
    assert est["trained_tokens"] == 3 * total
    assert est["cost"] == pytest.approx(3 * total / 1e6 * 3.00)


def test_over_limit_with_a_rule_parameter(dataset):
    report = audit(dataset, overrides={"token-limit": lambda r: replace(r, params=r.params.__class__(limit=500))})
    over = [f for f in report.findings if f.rule == "token-limit"]
    assert [f.line for f in over] == [42]
    assert over[0].data["limit"] == 500 and over[0].data["tokens"] > 500
    assert "truncated" in over[0].message


def test_unknown_target_counts_with_o200k_and_says_so(dataset):
    report = audit(dataset, target="acme/unknown-model")
    assert report.stats["tokens"]["encoding"] == "o200k_base"
    assert "not in the model table" in report.stats["tokens"]["note"]
    assert "estimates" not in report.stats["cost"]


def test_non_openai_target_is_labelled_an_estimate(dataset):
    report = audit(dataset, target="fireworks/llama-v3p1-8b-instruct")
    tokens = report.stats["tokens"]
    assert tokens["encoding"] == "cl100k_base" and tokens["estimate"] is True
    assert "estimate with cl100k_base" in tokens["counted_as"]
    assert report.stats["cost"]["estimates"][0]["exact"] is False


@pytest.mark.parametrize(
    ("lengths", "flagged"),
    [
        ([100] * 30, None),  # no spread: nothing is an outlier
        ([100, 110, 120, 130, 90, 80] * 5 + [5000], 5000),
        ([100, 110, 120, 130, 90, 80] * 5 + [200], None),  # twice the median is not an outlier
    ],
)
def test_outlier_threshold(lengths, flagged):
    found = threshold(lengths, 3.5)
    if flagged is None:
        assert found is None or max(lengths) <= found[0]
    else:
        assert found is not None and flagged > found[0] > sorted(lengths)[-2]


def test_terminal_section_shows_distribution_and_cost(dataset):
    import io

    from rich.console import Console

    from curate.reporters.terminal import render_stat_sections

    report = audit(dataset)
    buf = io.StringIO()
    render_stat_sections(report, Console(file=buf, width=120, highlight=False))
    out = buf.getvalue()
    assert "tokens per example (o200k_base)" in out
    assert "p99" in out and "trainable" in out
    assert "estimated training cost on openai/gpt-4o-mini" in out
    assert "1 with no trainable tokens" in out
