"""balance.category (from a field or derived) and the shape checks (length, turns, prompts, openings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_balance_language import rule, run
from test_balance_texts import chat, write_jsonl

from curate.checks.balance._paths import get_path, is_missing, parse_path


@pytest.mark.parametrize(
    ("path", "data", "want"),
    [
        ("metadata.category", {"metadata": {"category": "math"}}, "math"),
        ("tags[1]", {"tags": ["a", "b"]}, "b"),
        ("tags[-1]", {"tags": ["a", "b"]}, "b"),
        ("/meta/kind", {"meta": {"kind": "qa"}}, "qa"),
        ("/a~1b", {"a/b": 1}, 1),
    ],
)
def test_paths(path: str, data: dict, want: object) -> None:
    assert get_path(data, parse_path(path)) == want


@pytest.mark.parametrize("data", [{}, {"metadata": "x"}, {"metadata": {"category": None}}, {"tags": []}])
def test_missing_paths(data: dict) -> None:
    assert (
        is_missing(get_path(data, parse_path("metadata.category")))
        or get_path(data, parse_path("metadata.category")) is None
    )


def records_with(categories: list[str | None]) -> list[dict]:
    out = []
    for i, c in enumerate(categories):
        rec = chat(f"question {i}", f"answer {i}")
        if c is not None:
            rec["metadata"] = {"category": c}
        out.append(rec)
    return out


def test_category_from_a_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", records_with(["math"] * 6 + ["code"] * 3 + ["chat"] + [None]))
    report = run(path, rule("balance.category", field="metadata.category", min_count=2, max_share=0.5))
    assert report.stats["categories"] == {"math": 6, "code": 3, "chat": 1, "unknown": 1}
    assert report.stats["balance"]["category"]["by"] == "field"
    assert sorted(f.data["category"] for f in report.findings) == ["chat", "math"]  # chat rare, math dominates
    assert report.table.get_column("category").to_list()[-1] == "unknown"


def test_category_targets(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", records_with(["math"] * 8 + ["code"] * 2))
    ok = run(path, rule("balance.category", field="metadata.category", targets={"math": 0.8, "code": 0.2}))
    assert ok.findings == []
    off = run(path, rule("balance.category", field="metadata.category", targets={"math": 0.5, "code": 0.5}))
    assert sorted(f.data["category"] for f in off.findings) == ["code", "math"]


def test_many_rare_categories_make_one_finding(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", records_with([f"c{i}" for i in range(30)] + ["big"] * 10))
    report = run(path, rule("balance.category", field="metadata.category", min_count=2))
    assert len(report.findings) == 1
    assert report.findings[0].data["labels"] == 30


def test_derived_categories(tmp_path: Path) -> None:
    records = [
        {
            "messages": [
                {"role": "system", "content": "You are a pirate."},
                {"role": "user", "content": "Write a poem"},
                {"role": "assistant", "content": "Arr"},
            ]
        },
        {
            "messages": [
                {"role": "user", "content": "Write a story about cats"},
                {"role": "assistant", "content": "Once"},
            ]
        },
        {"messages": [{"role": "user", "content": "写一首关于猫的诗"}, {"role": "assistant", "content": "好"}]},
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "1", "content": "sunny"},
                {"role": "assistant", "content": "Sunny."},
            ]
        },
    ]
    path = write_jsonl(tmp_path / "d.jsonl", records)
    words = run(path, rule("balance.category", by="first_words"))
    assert words.stats["categories"] == {"write a": 2, "weather": 1, "写一首关": 1}
    system = run(path, rule("balance.category", by="system"))
    assert system.stats["categories"] == {"(no system prompt)": 3, "You are a pirate.": 1}
    tools = run(path, rule("balance.category", by="tools"))
    assert tools.stats["categories"] == {"(no tool call)": 3, "get_weather": 1}


def test_length_and_turn_bounds(tmp_path: Path) -> None:
    long = chat("q" * 10, "a" * 500)
    multi = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}] * 3}
    path = write_jsonl(tmp_path / "s.jsonl", [chat("hi", "ok"), long, multi])
    report = run(path, rule("balance.length", "len", max_chars=100), rule("balance.turns", "turns", max_turns=4))
    assert [(f.rule, f.line) for f in report.findings] == [("len", 2), ("turns", 3)]
    assert report.stats["balance"]["length"]["max"] == 510
    assert report.stats["balance"]["turns"]["counts"] == {"2": 2, "6": 1}
    assert report.table.get_column("chars").to_list() == [4, 510, 6]
    quiet = run(path, rule("balance.length"), rule("balance.turns"))
    assert quiet.findings == []  # stats only without bounds


def test_system_prompt_variety(tmp_path: Path) -> None:
    same = {"role": "system", "content": "You are a helpful assistant."}
    records = [
        {"messages": [same, {"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(9)
    ]
    records.append(chat("q", "a"))
    path = write_jsonl(tmp_path / "p.jsonl", records)
    report = run(path, rule("balance.system_prompts", max_share=0.8, min_distinct=2))
    assert len(report.findings) == 2
    summary = report.stats["balance"]["system_prompts"]
    assert summary["distinct"] == 1 and summary["without"] == 1
    assert summary["top"] == [{"text": "You are a helpful assistant.", "count": 9}]


def test_repeated_openings(tmp_path: Path) -> None:
    records = [chat(f"q{i}", f"As an AI language model, I think {i}") for i in range(25)]
    records += [chat(f"x{i}", f"Sure thing number {i}") for i in range(25)]
    path = write_jsonl(tmp_path / "o.jsonl", records)
    report = run(path, rule("balance.openings", max_share=0.3, min_count=20))
    assert [f.data["opening"] for f in report.findings] == ["as an ai language"]
    assert report.stats["balance"]["openings"]["top"][0] == {"text": "as an ai language", "count": 25}
