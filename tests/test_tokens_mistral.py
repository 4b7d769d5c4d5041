"""Mistral targets are counted exactly with mistral-common's own tokenizers (shipped in its wheel)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, ToolMessage, UserMessage
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.protocol.instruct.tool_calls import Function, FunctionCall, Tool, ToolCall
from mistral_common.protocol.instruct.validator import ValidationMode
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

from curate.check import RunContext
from curate.config import load_ruleset, select_rules
from curate.run.engine import Engine, EngineOptions
from curate.targets import load_table
from curate.tokenizer import MISTRAL_ENCODINGS

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}

RECORDS = [
    {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call00001",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call00001", "content": '{"celsius": 21}'},
            {"role": "assistant", "content": "21 degrees, sunny."},
        ],
        "tools": [WEATHER],
    },
]


def library_tokens(encoding: str, index: int) -> int:
    """The same conversations built with mistral-common's own message classes and encoded by it."""
    tok = MistralTokenizer.from_file(
        str(MistralTokenizer._data_path() / MISTRAL_ENCODINGS[encoding]), mode=ValidationMode.finetuning
    )
    if index == 0:
        request = ChatCompletionRequest(
            messages=[
                SystemMessage(content="Be brief."),
                UserMessage(content="Capital of France?"),
                AssistantMessage(content="Paris."),
            ]
        )
    else:
        call = ToolCall(id="call00001", function=FunctionCall(name="get_weather", arguments='{"city": "Paris"}'))
        request = ChatCompletionRequest(
            messages=[
                UserMessage(content="Weather in Paris?"),
                AssistantMessage(tool_calls=[call]),
                ToolMessage(tool_call_id="call00001", content='{"celsius": 21}'),
                AssistantMessage(content="21 degrees, sunny."),
            ],
            tools=[Tool(function=Function(**WEATHER["function"]))],
        )
    return len(tok.encode_chat_completion(request).tokens)


def audit(tmp_path: Path, records: list[dict], target: str):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    rules = select_rules(load_ruleset("default").rules, ["tokens"], None)
    return Engine(rules, RunContext(target=target), EngineOptions(jobs=1)).run([str(path)])


@pytest.mark.parametrize("target", ["mistral/codestral-latest", "mistral/mistral-large-2407"])
def test_counts_equal_mistral_common(tmp_path: Path, target: str) -> None:
    report = audit(tmp_path, RECORDS, target)
    model = load_table().find(target)
    assert model is not None and model.exact
    stats = report.stats["tokens"]
    assert stats["estimate"] is False and stats["counted_as"] == model.encoding
    for i in range(len(RECORDS)):
        assert report.table["tokens"][i] == library_tokens(model.encoding, i)


def test_rejected_conversation_is_a_finding_at_its_record(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(RECORDS[1]))
    bad["messages"][1]["tool_calls"][0]["id"] = "x"  # Mistral wants 9 letters or digits
    bad["messages"][2]["tool_call_id"] = "x"
    report = audit(tmp_path, [RECORDS[0], bad], "mistral/codestral-latest")
    hits = [(f.rule, f.line) for f in report.findings if f.rule == "chat-template-refuses"]
    assert hits == [("chat-template-refuses", 2)]
    assert report.stats["tokens"]["examples"] == 1


def test_every_mistral_model_names_a_shipped_tokenizer() -> None:
    mistral = [m for m in load_table().models if m.provider == "mistral"]
    assert len(mistral) >= 4
    for m in mistral:
        assert m.exact and m.encoding in MISTRAL_ENCODINGS
        assert (MistralTokenizer._data_path() / MISTRAL_ENCODINGS[m.encoding]).is_file()
        assert m.training_price and m.cite("training_price") and m.cite("training_price").date
