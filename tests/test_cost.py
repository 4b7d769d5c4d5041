"""Cost arithmetic against hand-computed values, the epochs heuristic, the model table, the CLI's JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from curate import cost
from curate.targets import Model, SelfHosted, find_model, load_table, target_minimum
from curate.yamlfile import ConfigError


def model(**kw) -> Model:
    base = {"provider": "p", "model": "m", "encoding": "o200k_base", "tokenizer": "exact"}
    return Model(**{**base, **kw})


# n_examples -> epochs (cookbook: 3, but 100..25,000 example-epochs, 1..25 epochs)
@pytest.mark.parametrize(
    ("n", "epochs"),
    [
        (0, 0),
        (1, 25),
        (3, 25),
        (4, 25),
        (5, 20),
        (10, 10),
        (33, 3),
        (34, 3),
        (50, 3),
        (100, 3),
        (8333, 3),
        (8334, 2),
        (12_500, 2),
        (12_501, 1),
        (30_000, 1),
        (1_000_000, 1),
    ],
)
def test_auto_epochs_table(n, epochs):
    assert cost.auto_epochs(n) == epochs


def test_estimate_caps_each_example_at_the_limit_and_counts_truncations():
    m = model(example_limit=1000, training_price=3.0, sources={})
    est = cost.estimate(m, [500, 1000, 1500, 4000], epochs=2)
    assert est.tokens_per_epoch == 500 + 1000 + 1000 + 1000
    assert est.trained_tokens == 7000
    assert est.truncated_examples == 2
    assert est.cost == pytest.approx(7000 / 1e6 * 3.0)  # $0.021


@pytest.mark.parametrize(
    ("target", "lengths", "epochs", "expected"),
    [
        # hand-computed: tokens x epochs / 1e6 x price
        ("openai/gpt-4o-mini", [1000] * 200, None, 200_000 * 3 / 1e6 * 3.00),  # $1.80
        ("openai/gpt-4.1", [250] * 10, None, 2500 * 10 / 1e6 * 25.00),  # 10 examples -> 10 epochs: $0.625
        ("openai/gpt-4.1-nano", [2000] * 50_000, None, 100_000_000 * 1 / 1e6 * 1.50),  # 1 epoch: $150
        ("openai/gpt-3.5-turbo", [20_000, 100], 4, (16_385 + 100) * 4 / 1e6 * 8.00),  # capped at 16,385
        ("openai/gpt-4o", [70_000], 1, 65_536 / 1e6 * 25.00),
        ("openai/gpt-4.1-mini", [400] * 1000, 3, 1_200_000 / 1e6 * 5.00),  # $6.00
        ("fireworks/llama-v3p1-70b-instruct", [1000] * 1000, 3, 3_000_000 / 1e6 * 3.00),
    ],
)
def test_table_prices_against_hand_computed_costs(target, lengths, epochs, expected):
    est = cost.estimate(find_model(target), lengths, epochs)
    assert est.cost == pytest.approx(expected)
    assert est.price_source and est.price_date


def test_openai_training_prices_are_the_2026_08_figures():
    prices = {
        m: find_model(f"openai/{m}").training_price
        for m in ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo")
    }
    assert prices == {
        "gpt-4.1": 25.0,
        "gpt-4.1-mini": 5.0,
        "gpt-4.1-nano": 1.5,
        "gpt-4o": 25.0,
        "gpt-4o-mini": 3.0,
        "gpt-3.5-turbo": 8.0,
    }
    assert find_model("openai/gpt-3.5-turbo").encoding == "cl100k_base"
    assert find_model("openai/gpt-4o-mini").encoding == "o200k_base"


def test_every_figure_has_a_source_and_date_and_other_providers_exist():
    table = load_table()
    assert len({m.provider for m in table.models}) >= 3
    for m in table.models:
        for fig in ("training_price", "min_examples"):
            if getattr(m, fig) is not None:
                src = m.cite(fig)
                assert src and src.url and src.date, (m.name, fig)
        # tiktoken encodings are exact for OpenAI; Mistral counts through mistral-common; the rest estimate
        assert m.exact == (m.provider in ("openai", "mistral")), m.name


def test_target_minimum_and_lookups():
    assert target_minimum("openai/gpt-4o-mini") == 10
    assert target_minimum("openai/some-future-model") == 10
    assert target_minimum(None) is None
    assert find_model("gpt-4o-mini-2024-07-18").name == "openai/gpt-4o-mini"
    assert find_model("openai/ft:gpt-4o-mini-2024-07-18:acme::abc123").name == "openai/gpt-4o-mini"
    assert find_model("llama-3.1-8b-instruct") is None  # offered by two providers: ambiguous


def test_user_table_adds_and_overrides(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        "models:\n"
        "  - {provider: openai, model: gpt-4o-mini, encoding: o200k_base, example_limit: 1000,\n"
        "     training_price: 1.0, source: mine, date: 2027-01}\n"
        "  - {provider: acme, model: tiny, encoding: cl100k_base, tokenizer: acme-bpe, training_price: 0.1}\n"
    )
    table = load_table([str(f)])
    assert table.find("openai/gpt-4o-mini").training_price == 1.0
    assert table.find("acme/tiny").exact is False


def test_bad_user_table_names_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("models:\n  - provider: x\n    model: y\n    training_prize: 3\n")
    with pytest.raises(ConfigError) as err:
        load_table([str(f)])
    assert "bad.yaml:4" in str(err.value) and "unknown key" in str(err.value)


def test_self_hosted_flops_formula():
    m = model(parameters=8e9)
    hw = SelfHosted(gpu="H100", peak_tflops=1000, mfu_full=0.5, mfu_lora=0.25, gpu_hour_price=2.0, source="x", date="x")
    full = cost.self_hosted(m, 1_000_000, hw, "full")
    assert full.flops == 6 * 8e9 * 1e6
    assert full.gpu_hours == pytest.approx(6 * 8e9 * 1e6 / (1000e12 * 0.5) / 3600)  # 0.02667 h
    assert full.cost == pytest.approx(full.gpu_hours * 2.0)
    lora = cost.self_hosted(m, 1_000_000, hw, "lora")
    assert lora.flops == 4 * 8e9 * 1e6 and lora.mfu == 0.25
    assert cost.self_hosted(model(), 1, hw, "full") is None  # no parameter count, no estimate


def test_break_even_hand_computed():
    m = model(input_price=0.15, output_price=0.60, ft_input_price=0.30, ft_output_price=1.20)
    # 5 shots x 400 tokens at $0.15/1M = $0.0003; premium: 100 prompt x $0.15/1M + 50 answer x $0.60/1M = $0.000045
    be = cost.break_even(m, training_cost=2.55, shots=5, example_tokens=400, prompt_tokens=100, completion_tokens=50)
    assert be.saving_per_request == pytest.approx(0.0003 - 0.000045)
    assert be.requests == 10_000  # 2.55 / 0.000255
    expensive = model(input_price=0.5, output_price=1.5, ft_input_price=3.0, ft_output_price=6.0)
    assert cost.break_even(expensive, 10.0, 1, 10, 500, 500).requests is None
    assert cost.break_even(model(), 10.0, 1, 10, 5, 5).reason.startswith("inference prices unknown")


def test_describe_uses_true_percentiles():
    d = cost.describe(list(range(1, 101)))  # 1..100
    assert (d["count"], d["total"], d["min"], d["max"], d["mean"]) == (100, 5050, 1, 100, 50.5)
    assert d["median"] == 50.5
    assert d["p5"] == pytest.approx(5.95) and d["p95"] == pytest.approx(95.05) and d["p99"] == pytest.approx(99.01)
    assert cost.describe([]) == {"count": 0, "total": 0}


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True, timeout=120)


@pytest.fixture
def data(tmp_path: Path) -> str:
    p = tmp_path / "d.jsonl"
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"question {i}"},
                {"role": "assistant", "content": "answer " * (i + 1)},
            ]
        }
        for i in range(20)
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(p)


def test_cost_json_shape(data):
    proc = run("cost", data, "--model", "openai/gpt-4o-mini", "--model", "fireworks", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    keys = {
        "provider",
        "model",
        "encoding",
        "epochs",
        "tokens_per_epoch",
        "trained_tokens",
        "price_per_million",
        "cost",
        "currency",
        "truncated_examples",
        "price_source",
        "price_date",
    }
    assert [e["model"] for e in out["estimates"]] == [
        "gpt-4o-mini",
        "llama-v3p1-8b-instruct",
        "llama-v3p1-70b-instruct",
        "qwen2p5-7b-instruct",
    ]
    for e in out["estimates"]:
        assert keys <= set(e)
        assert e["epochs"] == 5  # 20 examples: 100 // 20
        assert e["trained_tokens"] == e["tokens_per_epoch"] * 5
        assert e["cost"] == pytest.approx(e["trained_tokens"] / 1e6 * e["price_per_million"], abs=1e-6)
    assert {s["method"] for s in out["self_hosted"]["estimates"]} == {"lora", "full"}
    assert out["self_hosted"]["assumptions"]["gpu"]
    assert out["break_even"][0]["shots"] == 5


def test_cost_text_and_options(data):
    proc = run("cost", data, "-m", "gpt-4o-mini", "--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    assert b"gpt-4o-mini" in proc.stdout and b"managed fine-tuning" in proc.stdout
    assert run("cost", data, "--epochs", "zero").returncode == 2
    bad = run("cost", data, "--model", "gpt-5-turbo-ultra")
    assert bad.returncode == 2 and b"not in the model table" in bad.stderr


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (8233, "8,233"),
        (12_870, "12.9k"),
        (84_602, "84.6k"),
        (999_999, "1M"),
        (3_782_622, "3.78M"),
        (4.2e9, "4.2B"),
    ],
)
def test_short_token_totals(n, text):
    from curate.checks.tokens.render import money, short

    assert short(n) == text
    assert money(0.49398) == "$0.49" and money(0.00026) == "$0.0003" and money(-0.0006) == "-$0.0006"
