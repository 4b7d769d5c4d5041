"""Mistral targets with a trainer's cut (--max-length): labels are the assistant turns as mistral-common
encodes them, and the three trainer findings land at exactly the right records.

Expected values are computed here with mistral-common alone: the prompt of a conversation is the same
request without its last answer (encoded in test mode, which allows a final user turn), so the answer's
tokens are what the full request adds after it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, UserMessage
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.protocol.instruct.validator import ValidationMode
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
from typer.testing import CliRunner

from curate.check import RunContext
from curate.cli import app
from curate.config import load_ruleset, select_rules
from curate.engine import Engine, EngineOptions
from curate.targets import load_table
from curate.tokenizer import MISTRAL_ENCODINGS

TARGET = "mistral/open-mistral-nemo"
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "again", "and", "again"]


def text(n: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(n))


def chat(system: str, question: str, answer: str) -> dict:
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def library(encoding: str, mode: ValidationMode) -> MistralTokenizer:
    return MistralTokenizer.from_file(str(MistralTokenizer._data_path() / MISTRAL_ENCODINGS[encoding]), mode=mode)


def prompt_and_total(encoding: str, record: dict) -> tuple[int, int]:
    """(tokens before the last answer, tokens of the whole request), from mistral-common alone."""
    classes = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
    msgs = [classes[m["role"]](content=m["content"]) for m in record["messages"]]
    full = library(encoding, ValidationMode.finetuning).encode_chat_completion(ChatCompletionRequest(messages=msgs))
    head = library(encoding, ValidationMode.test).encode_chat_completion(ChatCompletionRequest(messages=msgs[:-1]))
    assert full.tokens[: len(head.tokens)] == head.tokens  # the answer is appended, nothing before it changes
    return len(head.tokens), len(full.tokens)


def run(tmp_path: Path, records: list[dict], settings: dict, target: str = TARGET):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    rules = select_rules(load_ruleset("default").rules, ["tokens"], None)
    ctx = RunContext(target=target)
    ctx.settings.update(settings)
    return Engine(rules, ctx, EngineOptions(jobs=1)).run([str(path)])


RECORDS = [
    chat("Be brief.", "Short question?", "Short answer."),  # 1: fits
    chat(text(400), "Question after a long system prompt?", "The answer."),  # 2: answer past the cut
    chat("Be brief.", "Tell me a story.", text(400)),  # 3: answer cut in the middle
]


def test_findings_at_exactly_the_right_records_truncate(tmp_path: Path) -> None:
    encoding = load_table().find(TARGET).encoding
    sizes = [prompt_and_total(encoding, r) for r in RECORDS]
    limit = 200
    assert sizes[0][1] <= limit < sizes[1][0]  # record 2's prompt alone is longer than the cut
    assert sizes[2][0] < limit < sizes[2][1]  # record 3's answer straddles it
    report = run(tmp_path, RECORDS, {"max_length": limit, "overflow": "truncate"})
    hits = sorted((f.rule, f.line) for f in report.findings if f.check.startswith("tokens."))
    assert hits == [("assistant-truncated", 3), ("labels-all-masked", 2)]
    truncated = next(f for f in report.findings if f.rule == "assistant-truncated")
    prompt, total = sizes[2]
    assert truncated.data["trainable"] == total - prompt  # the answer's tokens, </s> included
    assert truncated.data["kept"] == limit - prompt
    table = report.table
    assert table["tokens"].to_list() == [t for _, t in sizes]
    assert table["trained_tokens"].to_list() == [sizes[0][1] - sizes[0][0], 0, limit - prompt]
    stats = report.stats["tokens"]
    assert stats["labels"] == "mistral-assistant-turns" and stats["max_length"] == limit
    assert stats["truncated_examples"] == 2 and stats["trained_tokens"] == sizes[0][1] - sizes[0][0] + limit - prompt


def test_overflow_drop_flags_every_longer_record_and_only_those(tmp_path: Path) -> None:
    encoding = load_table().find(TARGET).encoding
    sizes = [prompt_and_total(encoding, r) for r in RECORDS]
    report = run(tmp_path, RECORDS, {"max_length": 200, "overflow": "drop"})
    hits = sorted((f.rule, f.line) for f in report.findings if f.check.startswith("tokens."))
    assert hits == [("dropped-by-length", 2), ("dropped-by-length", 3)]
    assert [f.data["tokens"] for f in report.findings if f.rule == "dropped-by-length"] == [sizes[1][1], sizes[2][1]]


def test_a_weight_0_answer_carries_no_label(tmp_path: Path) -> None:
    """Two answers; the cut keeps the first only. Trained, it is a truncation; with weight 0, nothing trains."""
    turns = [
        {"role": "user", "content": "First?"},
        {"role": "assistant", "content": "First answer."},
        {"role": "user", "content": text(300)},
        {"role": "assistant", "content": "Second answer."},
    ]
    weighted = json.loads(json.dumps({"messages": turns}))
    weighted["messages"][1]["weight"] = 0
    report = run(tmp_path, [{"messages": turns}, weighted], {"max_length": 100, "overflow": "truncate"})
    hits = sorted((f.rule, f.line) for f in report.findings if f.check.startswith("tokens."))
    assert hits == [("assistant-truncated", 1), ("labels-all-masked", 2)]


@pytest.mark.parametrize("model", [m for m in load_table().models if m.provider == "mistral"], ids=str)
def test_counts_and_labels_equal_mistral_common_for_every_mistral_model(tmp_path: Path, model) -> None:  # noqa: ANN001
    """Exact on every Mistral model of the table, with and without the cut (no cut reached here)."""
    records = [RECORDS[0], chat("Answer in French.", "Bonjour ?", "Bonjour ! Comment puis-je aider ?")]
    target = f"{model.provider}/{model.model}"
    plain = run(tmp_path, records, {}, target)
    cut = run(tmp_path, records, {"max_length": 10_000, "overflow": "truncate"}, target)
    for i, record in enumerate(records):
        prompt, total = prompt_and_total(model.encoding, record)
        assert plain.table["tokens"][i] == total == cut.table["tokens"][i]
        assert cut.table["trained_tokens"][i] == total - prompt
    assert not [f for f in cut.findings if f.check.startswith("tokens.") and f.line is not None]


def test_cli_takes_max_length_with_a_mistral_target_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    args = ["check", str(path), "--select", "tokens", "--format", "json", "--no-cache", "--max-length", "200"]
    result = CliRunner().invoke(app, [*args, "--target", TARGET])
    assert result.exit_code == 0, result.output  # warnings: below the default fail level
    report = json.loads(result.stdout)
    assert sorted((f["rule"], f["line"]) for f in report["findings"] if f["line"]) == [
        ("assistant-truncated", 3),
        ("labels-all-masked", 2),
    ]
    assert any("mistral-common encodes each one" in n for n in report["notices"])
    other = CliRunner().invoke(app, [*args, "--target", "openai/gpt-4o-mini"])
    assert other.exit_code == 2 and "needs --tokenizer PATH" in other.output
    marker = CliRunner().invoke(app, [*args, "--target", TARGET, "--response-template", "[/INST]"])
    assert marker.exit_code == 2 and "--response-template" in marker.output


def test_cost_prices_mistral_models_on_what_the_cut_keeps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`curate cost -m mistral/... --max-length N`: billed tokens are the cut sequences (mistral-common's own
    counts), an example whose answer the cut removes is left out and said so; a non-Mistral model refuses."""
    monkeypatch.chdir(tmp_path)
    encoding = load_table().find(TARGET).encoding
    sizes = [prompt_and_total(encoding, r) for r in RECORDS]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    limit = 200
    result = CliRunner().invoke(app, ["cost", str(path), "-m", TARGET, "--max-length", str(limit), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["examples"] == 2  # record 2 keeps no label: not priced
    assert sum(doc["left_out"].values()) == 1 and "cut" in next(iter(doc["left_out"]))
    (estimate,) = doc["estimates"]
    assert estimate["exact"] and doc["tokenizer"] == {"max_length": limit, "overflow": "truncate"}
    assert estimate["tokens_per_epoch"] == sizes[0][1] + limit  # record 3 billed at the cut
    plain = json.loads(CliRunner().invoke(app, ["cost", str(path), "-m", TARGET, "-f", "json"]).stdout)
    assert plain["estimates"][0]["tokens_per_epoch"] == sum(t for _, t in sizes)
    mixed = CliRunner().invoke(app, ["cost", str(path), "-m", TARGET, "-m", "gpt-4o-mini", "--max-length", "200"])
    assert mixed.exit_code == 2 and "Mistral models only" in mixed.output
