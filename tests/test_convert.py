"""`export --to`: every pair of formats that can hold each other round-trips to the same conversation;
what a target cannot hold is refused with the reason (export quarantines it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.convert import TARGETS, convert
from curate.formats import normalise

FORMAT_OF = {"openai-chat": "openai_chat", "messages": "openai_chat", "sharegpt": "sharegpt", "alpaca": "alpaca"}

SINGLE = {"instruction": "Name the capital of France.", "input": "", "output": "Paris.", "system": "Be brief."}
MULTI = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Italy?"},
        {"role": "assistant", "content": "Rome."},
    ]
}
TOOLS = {
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"celsius": 21}'},
        {"role": "assistant", "content": "21 degrees."},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
}
PAIR = {
    "prompt": [{"role": "user", "content": "Capital of France?"}],
    "chosen": [{"role": "assistant", "content": "Paris."}],
    "rejected": [{"role": "assistant", "content": "Lyon."}],
}

PAIR_MULTI = {  # system, history and a follow-up question: every ranking format holds it
    "prompt": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Italy?"},
    ],
    "chosen": [{"role": "assistant", "content": "Rome."}],
    "rejected": [{"role": "assistant", "content": "Milan."}],
}
PAIR_TWO = {  # answers of two messages: LLaMA-Factory's ranking formats hold one answer message each
    "prompt": [{"role": "user", "content": "Capital of France?"}],
    "chosen": [{"role": "assistant", "content": "Let me think."}, {"role": "assistant", "content": "Paris."}],
    "rejected": [{"role": "assistant", "content": "Lyon."}],
}


def view(data: dict, fmt: str | None = None) -> list[tuple]:
    conv = normalise(data, fmt)
    turns = [
        (
            t.role,
            t.text if not t.tool_calls else "",
            [(c.name, json.loads(_args(c.arguments, c.name))) for c in t.tool_calls],
        )
        for t in conv.turns
    ]
    rejected = [(t.role, t.text) for t in conv.rejected]
    return [turns, rejected, [_bare(t) for t in conv.tools]]


def _args(arguments: str, name: str) -> str:
    value = json.loads(arguments)
    if isinstance(value, dict) and set(value) == {"name", "arguments"} and value["name"] == name:
        return json.dumps(value["arguments"])
    return arguments


def _bare(tool: dict) -> dict:
    return tool.get("function", tool)


# which records each target can hold (alpaca: no tools; openai-chat: no pairs; sharegpt and alpaca hold a
# pair in LLaMA-Factory's ranking form, one answer message each)
HOLDS = {
    "openai-chat": ["SINGLE", "MULTI", "TOOLS"],
    "messages": ["SINGLE", "MULTI", "TOOLS", "PAIR", "PAIR_MULTI", "PAIR_TWO", "PAIR_TOOLS"],
    "sharegpt": ["SINGLE", "MULTI", "TOOLS", "PAIR", "PAIR_MULTI"],
    "alpaca": ["SINGLE", "MULTI", "PAIR", "PAIR_MULTI"],
}
RECORDS = {
    "SINGLE": SINGLE,
    "MULTI": MULTI,
    "TOOLS": TOOLS,
    "PAIR": PAIR,
    "PAIR_MULTI": PAIR_MULTI,
    "PAIR_TWO": PAIR_TWO,
    "PAIR_TOOLS": {**PAIR, "tools": TOOLS["tools"]},  # a pair's tools are read and kept
}


@pytest.mark.parametrize("a", TARGETS)
@pytest.mark.parametrize("b", TARGETS)
def test_round_trip_between_formats_that_hold_the_record(a: str, b: str) -> None:
    for name in set(HOLDS[a]) & set(HOLDS[b]):
        original = RECORDS[name]
        first = convert(original, a)
        assert first.data is not None, (name, a, first.reason)
        second = convert(first.data, b)
        assert second.data is not None, (name, a, b, second.reason)
        back = convert(second.data, a)
        assert back.data == first.data, (name, a, b)
        assert view(second.data) == view(original), (name, a, b)


@pytest.mark.parametrize(
    "record, target, why",
    [
        (PAIR, "openai-chat", "preference pair"),
        (PAIR_TWO, "sharegpt", "a preference pair whose answers are not one message each"),
        (PAIR_TWO, "alpaca", "a preference pair whose answers are not one message each"),
        ({**PAIR, "tools": TOOLS["tools"]}, "sharegpt", "tools in a preference pair"),
        (TOOLS, "alpaca", "tools"),
        ({"text": "just text"}, "messages", "plain text"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "weight": 0}]},
            "sharegpt",
            "weights",
        ),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}, "alpaca", "pairs"),
        ({"messages": [{"role": "narrator", "content": "a"}]}, "openai-chat", "role of message 1"),
        ({"nothing": 1}, "openai-chat", "not a conversation"),
    ],
)
def test_what_a_target_cannot_hold_is_refused_with_the_reason(record: dict, target: str, why: str) -> None:
    out = convert(record, target)
    assert out.data is None and why in (out.reason or "")


def test_alpaca_to_openai_chat_passes_the_openai_rules(tmp_path: Path) -> None:
    from curate.check import RunContext
    from curate.config import load_ruleset
    from curate.model import Severity
    from curate.run.engine import Engine, EngineOptions

    real = [
        {"instruction": "Translate to French.", "input": "good morning", "output": "bonjour"},
        {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5", "system": "You are a calculator."},
        {"instruction": "Say hi.", "input": "", "output": "hi", "history": [["hello", "hello!"]]},
    ] * 4  # the openai rules want at least 10 examples
    path = tmp_path / "chat.jsonl"
    rows = [convert(r, "openai-chat").data for r in real]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ruleset = load_ruleset("openai")
    rules = [r for r in ruleset.rules if r.check.startswith("schema.")]
    report = Engine(rules, RunContext(target=ruleset.target), EngineOptions(jobs=1)).run([str(path)])
    errors = [(f.rule, f.message) for f in report.findings if f.severity >= Severity.ERROR]
    assert not errors
    assert normalise(rows[0]).turns[0].text == "Translate to French.\n\ngood morning"


def test_export_to_writes_the_format_and_quarantines_what_it_cannot_hold(tmp_path: Path) -> None:
    import subprocess
    import sys

    src = tmp_path / "mixed.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in (SINGLE, TOOLS, PAIR_TWO, MULTI)), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "curate", "export", str(src), "--to", "sharegpt"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    written = [json.loads(x) for x in (tmp_path / "mixed.curated.jsonl").read_text().splitlines()]
    assert [view(w) for w in written] == [view(SINGLE), view(TOOLS), view(MULTI)]
    assert all("conversations" in w for w in written)
    quarantined = [json.loads(x) for x in (tmp_path / "mixed.quarantine.jsonl").read_text().splitlines()]
    assert [(q["line"], q["reasons"]) for q in quarantined] == [
        (3, ["not converted: sharegpt cannot hold a preference pair whose answers are not one message each"])
    ]
    assert quarantined[0]["record"] == PAIR_TWO
    bad = subprocess.run(
        [sys.executable, "-m", "curate", "export", str(src), "--to", "parquet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert bad.returncode == 2 and "--to must be one of" in bad.stderr
