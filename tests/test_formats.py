# ruff: noqa: E501 - tables of records read best one case per line
"""Format detection and normalisation: every format of issue 2 becomes the same Conversation view."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.check import RunContext
from curate.config import load_ruleset
from curate.formats import detect, normalise
from curate.run.engine import Engine, EngineOptions

FIXTURES = Path(__file__).parent / "fixtures" / "formats"

CALL = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}

# (name, record, format, turns as (role, text, field), rejected as (role, text, field))
TABLE = [
    (
        "openai chat with tools, tool_calls, weight, name and content parts",
        {"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "name": "dana", "content": [{"type": "text", "text": "weather"}, {"type": "text", "text": "in Paris?"}]},
            {"role": "assistant", "content": None, "tool_calls": [CALL], "weight": 1},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "Sunny.", "weight": 0},
        ], "tools": [{"type": "function", "function": {"name": "get_weather"}}]},
        "openai_chat",
        [("system", "be brief", "/messages/0/content"), ("user", "weather\nin Paris?", "/messages/1/content"),
         ("assistant", "", "/messages/2/content"), ("tool", "sunny", "/messages/3/content"),
         ("assistant", "Sunny.", "/messages/4/content")],
        [],
    ),
    (
        "developer role is a system turn",
        {"messages": [{"role": "developer", "content": "rules"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
        "openai_chat",
        [("system", "rules", "/messages/0/content"), ("user", "q", "/messages/1/content"), ("assistant", "a", "/messages/2/content")],
        [],
    ),
    (
        "openai preference",
        {"input": {"messages": [{"role": "user", "content": "q"}]}, "preferred_output": [{"role": "assistant", "content": "good"}],
         "non_preferred_output": [{"role": "assistant", "content": "bad"}]},
        "openai_preference",
        [("user", "q", "/input/messages/0/content"), ("assistant", "good", "/preferred_output/0/content")],
        [("user", "q", "/input/messages/0/content"), ("assistant", "bad", "/non_preferred_output/0/content")],
    ),
    (
        "prompt/completion strings",
        {"prompt": "The sky is", "completion": " blue."},
        "prompt_completion",
        [("user", "The sky is", "/prompt"), ("assistant", " blue.", "/completion")],
        [],
    ),
    (
        "prompt/completion messages",
        {"prompt": [{"role": "user", "content": "color?"}], "completion": [{"role": "assistant", "content": "blue"}]},
        "prompt_completion",
        [("user", "color?", "/prompt/0/content"), ("assistant", "blue", "/completion/0/content")],
        [],
    ),
    (
        "alpaca with input, system and history",
        {"instruction": "Translate", "input": "hello", "output": "bonjour", "system": "You translate.",
         "history": [["hi", "salut"]]},
        "alpaca",
        [("system", "You translate.", "/system"), ("user", "hi", "/history/0/0"), ("assistant", "salut", "/history/0/1"),
         ("user", "Translate\n\nhello", "/instruction"), ("assistant", "bonjour", "/output")],
        [],
    ),
    (
        "alpaca ranking (output = [chosen, rejected])",
        {"instruction": "q", "input": "", "output": ["good", "bad"]},
        "alpaca",
        [("user", "q", "/instruction"), ("assistant", "good", "/output/0")],
        [("user", "q", "/instruction"), ("assistant", "bad", "/output/1")],
    ),
    (
        "sharegpt with every role and tools",
        {"conversations": [
            {"from": "system", "value": "s"}, {"from": "human", "value": "q"},
            {"from": "function_call", "value": '{"name": "f", "arguments": {}}'}, {"from": "observation", "value": "r"},
            {"from": "gpt", "value": "a"}], "tools": '[{"name": "f"}]'},
        "sharegpt",
        [("system", "s", "/conversations/0/value"), ("user", "q", "/conversations/1/value"),
         ("assistant", '{"name": "f", "arguments": {}}', "/conversations/2/value"), ("tool", "r", "/conversations/3/value"),
         ("assistant", "a", "/conversations/4/value")],
        [],
    ),
    (
        "sharegpt with a top-level system",
        {"conversations": [{"from": "user", "value": "q"}, {"from": "assistant", "value": "a"}], "system": "s"},
        "sharegpt",
        [("system", "s", "/system"), ("user", "q", "/conversations/0/value"), ("assistant", "a", "/conversations/1/value")],
        [],
    ),
    (
        "chosen/rejected strings with a prompt",
        {"prompt": "q", "chosen": "good", "rejected": "bad"},
        "preference",
        [("user", "q", "/prompt"), ("assistant", "good", "/chosen")],
        [("user", "q", "/prompt"), ("assistant", "bad", "/rejected")],
    ),
    (
        "chosen/rejected implicit prompt (whole conversations)",
        {"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "good"}],
         "rejected": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "bad"}]},
        "preference",
        [("user", "q", "/chosen/0/content"), ("assistant", "good", "/chosen/1/content")],
        [("user", "q", "/rejected/0/content"), ("assistant", "bad", "/rejected/1/content")],
    ),
    (
        "chosen/rejected ShareGPT style (LLaMA-Factory dpo)",
        {"conversations": [{"from": "human", "value": "q"}], "chosen": {"from": "gpt", "value": "good"},
         "rejected": {"from": "gpt", "value": "bad"}},
        "preference",
        [("user", "q", "/conversations/0/value"), ("assistant", "good", "/chosen/value")],
        [("user", "q", "/conversations/0/value"), ("assistant", "bad", "/rejected/value")],
    ),
    (
        "chosen_messages/rejected_messages with LLaMA-Factory v1 parts",
        {"chosen_messages": [{"role": "user", "content": [{"type": "text", "value": "q"}], "loss_weight": 0.0},
                             {"role": "assistant", "content": [{"type": "text", "value": "good"}], "loss_weight": 1.0}],
         "rejected_messages": [{"role": "user", "content": [{"type": "text", "value": "q"}]},
                               {"role": "assistant", "content": [{"type": "text", "value": "bad"}]}]},
        "preference",
        [("user", "q", "/chosen_messages/0/content"), ("assistant", "good", "/chosen_messages/1/content")],
        [("user", "q", "/rejected_messages/0/content"), ("assistant", "bad", "/rejected_messages/1/content")],
    ),
    (
        "question/chosen/rejected",
        {"question": "q", "chosen": "good", "rejected": "bad"},
        "preference",
        [("user", "q", "/question"), ("assistant", "good", "/chosen")],
        [("user", "q", "/question"), ("assistant", "bad", "/rejected")],
    ),
    (
        "plain text",
        {"text": "Once upon a time."},
        "text",
        [("assistant", "Once upon a time.", "/text")],
        [],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("record", "fmt", "turns", "rejected"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_detect_and_normalise(record, fmt, turns, rejected):
    assert detect(record) == fmt
    conv = normalise(record)
    assert conv.format == fmt
    assert [(t.role, t.text, t.field) for t in conv.turns] == turns
    assert [(t.role, t.text, t.field) for t in conv.rejected] == rejected


def test_normalise_keeps_tool_calls_weights_and_names():
    record = TABLE[0][1]
    conv = normalise(record)
    call_turn = conv.turns[2]
    assert [(c.id, c.name, c.arguments) for c in call_turn.tool_calls] == [("c1", "get_weather", '{"city": "Paris"}')]
    assert call_turn.weight == 1.0 and conv.turns[4].weight == 0.0
    assert conv.turns[1].name == "dana"
    assert len(conv.tools) == 1


def test_llamafactory_parts_reasoning_and_tool_call_are_read():
    record = {"messages": [
        {"role": "user", "content": [{"type": "text", "value": "area?"}]},
        {"role": "assistant", "content": [{"type": "reasoning", "value": "think"}, {"type": "tool_call", "value": '{"name": "circle_area", "arguments": {"r": 2}}'}]},
    ], "tools": '[{"name": "circle_area"}]'}  # fmt: skip
    conv = normalise(record)
    assert conv.turns[1].text.startswith("think")
    assert [c.name for c in conv.turns[1].tool_calls] == ["circle_area"]
    assert conv.tools == ({"name": "circle_area"},)


@pytest.mark.parametrize(
    "record",
    [{"task": "q", "result": "a"}, {}, {"messages_": []}, {"conversations": "nope"}],
    ids=["unknown-keys", "empty", "typo", "conversations-not-list"],
)
def test_unknown_records(record):
    assert detect(record) == "unknown"
    assert normalise(record).turns == ()


@pytest.mark.parametrize(
    "record",
    [{"messages": "x"}, {"messages": [1, None]}, {"instruction": 1, "output": None}, {"conversations": [None, 3]},
     {"input": "x", "preferred_output": 1}, {"prompt": None, "completion": {}}, {"chosen": 1, "rejected": None}],
)  # fmt: skip
def test_malformed_records_of_known_formats_never_raise(record):
    conv = normalise(record)
    assert conv.format == detect(record) != "unknown"


def test_input_format_overrides_detection():
    assert normalise({"instruction": "q", "output": "a", "text": "t"}, "text").format == "text"


FIXTURE_FILES = sorted(FIXTURES.iterdir())


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.name for p in FIXTURE_FILES])
def test_realistic_fixture_is_detected_and_clean_of_schema_errors(path):
    """Small imitations of real datasets (LLaMA-Factory, TRL, OpenAI): none is unknown, none gets a schema error."""
    ruleset = load_ruleset("default")
    rules = [r for r in ruleset.rules if r.check.startswith("schema.") and r.check != "schema.min_examples"]
    report = Engine(rules, RunContext(target=ruleset.target), EngineOptions(jobs=1)).run([str(path)])
    (dataset,) = report.datasets
    assert dataset.format not in ("unknown", "mixed", "empty", "invalid"), dataset
    assert dataset.records >= 1
    problems = [(f.line, f.rule, f.message) for f in report.findings if f.severity >= 2]
    assert problems == []
