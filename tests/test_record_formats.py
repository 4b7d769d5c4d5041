# ruff: noqa: E501 - tables of records read best one case per line
"""Record formats of issue 16: HH transcripts, role aliases, rendered chat templates, question/answer,
OpenAssistant trees, prompt-only records; unreadable records kept out of duplicates and cost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curate.check import RunContext
from curate.checks.schema.messages import RoleAlias
from curate.config import load_ruleset, select_rules
from curate.formats import FORMATS, FormatHint, detect, normalise
from curate.formats.roles import RoleMapError, parse_role_map
from curate.formats.templates import detect_template
from curate.formats.transcript import is_transcript, split_transcript
from curate.model import Finding, Severity
from curate.run.engine import Engine, EngineOptions

# One conversation with defects the content checks find (an unfilled placeholder and leftover
# HTML in the answer, stray whitespace would be template spacing and must not count).
SYSTEM = "You are a helpful assistant."
USER = "Write a short greeting for our newsletter."
ANSWER = "Dear {{first_name}}, welcome to our <b>newsletter</b>! We are glad you are here."
REJECTED = "No."

OPENAI = {
    "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER},
        {"role": "assistant", "content": ANSWER},
    ]
}
OPENAI_PAIR = {
    "input": {"messages": [{"role": "user", "content": USER}]},
    "preferred_output": [{"role": "assistant", "content": ANSWER}],
    "non_preferred_output": [{"role": "assistant", "content": REJECTED}],
}

# (name, record, format): each is the OPENAI record (or OPENAI_PAIR, for pairs) in another shape
SAME_AS_CHAT = [
    (
        "chatml text",
        {
            "text": f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{USER}<|im_end|>\n<|im_start|>assistant\n{ANSWER}<|im_end|>\n"
        },
        "chatml",
    ),
    ("llama 2 text", {"text": f"<s>[INST] <<SYS>>\n{SYSTEM}\n<</SYS>>\n\n{USER} [/INST] {ANSWER} </s>"}, "llama2"),
    (
        "llama 3 text",
        {
            "text": f"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{SYSTEM}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n{USER}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n{ANSWER}<|eot_id|>"
        },
        "llama3",
    ),
    ("alpaca prompt text", {"text": f"{SYSTEM}\n\n### Instruction:\n{USER}\n\n### Response:\n{ANSWER}"}, "alpaca_text"),
    (
        "cohere roles",
        {
            "messages": [
                {"role": "System", "content": SYSTEM},
                {"role": "User", "content": USER},
                {"role": "Chatbot", "content": ANSWER},
            ]
        },
        "openai_chat",
    ),
    (
        "vicuna roles",
        {
            "messages": [
                {"role": "SYSTEM", "content": SYSTEM},
                {"role": "USER", "content": USER},
                {"role": "ASSISTANT", "content": ANSWER},
            ]
        },
        "openai_chat",
    ),
    (
        "vigogne french roles",
        {
            "system": SYSTEM,
            "conversation": [{"role": "UTILISATEUR", "content": USER}, {"role": "ASSISTANT", "content": ANSWER}],
        },
        "sharegpt",
    ),
    (
        "sharegpt human/gpt",
        {"system": SYSTEM, "conversations": [{"from": "human", "value": USER}, {"from": "gpt", "value": ANSWER}]},
        "sharegpt",
    ),
    ("question/answer", {"system": SYSTEM, "question": USER, "answer": ANSWER}, "question_answer"),
]
SAME_AS_PAIR = [
    (
        "hh transcripts",
        {
            "chosen": f"\n\nHuman: {USER}\n\nAssistant: {ANSWER}",
            "rejected": f"\n\nHuman: {USER}\n\nAssistant: {REJECTED}",
        },
        "anthropic_hh",
    ),
    (
        "hh with translated markers and rejected key",
        {"chosen": f"\n\nHuman: {USER}\n\n조수: {ANSWER}", "거부됨": f"\n\nHuman: {USER}\n\n보조자: {REJECTED}"},
        "anthropic_hh",
    ),
    (
        "hh prompt + answers (TRL)",
        {"prompt": f"\n\nHuman: {USER}\n\nAssistant:", "chosen": f" {ANSWER}", "rejected": f" {REJECTED}"},
        "preference",
    ),
]


def content_findings(tmp_path: Path, record: dict[str, Any], hint: FormatHint | None = None) -> list[tuple[str, str]]:
    """(rule, message) of the content families' findings on one record, written as JSONL and audited."""
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    rules = select_rules(load_ruleset("default").rules, ["quality", "pii"], ["personal-names"])
    report = Engine(rules, RunContext(), EngineOptions(jobs=1, input_format=hint)).run([str(path)])
    assert report.errors == []
    return sorted((f.rule, f.message) for f in report.findings)


@pytest.mark.parametrize(("record", "fmt"), [c[1:] for c in SAME_AS_CHAT], ids=[c[0] for c in SAME_AS_CHAT])
def test_every_shape_gives_the_content_findings_of_openai_chat(tmp_path, record, fmt):
    assert detect(record) == fmt
    expected = content_findings(tmp_path, OPENAI)
    assert {r for r, _ in expected} >= {"unfilled-placeholder", "markup-leftovers"}
    assert content_findings(tmp_path, record) == expected
    turns = normalise(record).turns
    assert [(t.role, t.text) for t in turns] == [("system", SYSTEM), ("user", USER), ("assistant", ANSWER)]


@pytest.mark.parametrize(("record", "fmt"), [c[1:] for c in SAME_AS_PAIR], ids=[c[0] for c in SAME_AS_PAIR])
def test_preference_shapes_give_the_content_findings_of_an_openai_pair(tmp_path, record, fmt):
    assert detect(record) == fmt
    assert content_findings(tmp_path, record) == content_findings(tmp_path, OPENAI_PAIR)
    conv = normalise(record)
    assert [(t.role, t.text) for t in conv.turns] == [("user", USER), ("assistant", ANSWER)]
    assert [(t.role, t.text) for t in conv.rejected] == [("user", USER), ("assistant", REJECTED)]
    assert conv.rejected[0] is conv.turns[0]  # one prompt, checked once


def test_hh_transcript_markers_and_fields():
    text = "\n\nHuman: hi\n\nAssistant: hello\nsecond line\n\nHuman: Assistant: is not a marker here\n\nAssistant:"
    segs = split_transcript(text)
    assert [(s.role, s.text, s.open) for s in segs] == [
        ("user", "hi", False), ("assistant", "hello\nsecond line", False),
        ("user", "Assistant: is not a marker here", False), ("assistant", "", True),
    ]  # fmt: skip
    conv = normalise({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"})
    # a turn cut out of a string is POINTER#N: not a JSON pointer, so no fix rewrites the whole string
    assert [t.field for t in conv.turns] == ["/chosen#0", "/chosen#1"]
    assert [t.field for t in conv.rejected] == ["/chosen#0", "/rejected#1"]
    assert not is_transcript("Human: hi")  # one marker without hh-rlhf's opening blank line: plain text
    assert is_transcript("\n\nHuman: only the question survived translation")
    assert normalise({"text": "Our Human: Assistant: protocol is simple."}).format == "text"


def test_hh_pairs_with_different_prompts_are_reported(tmp_path):
    record = {
        "chosen": "\n\nHuman: bake bread?\n\nAssistant: Mix flour.",
        "rejected": "\n\nHuman: bake a cake?\n\nAssistant: No.",
    }
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(record) + "\n")
    rules = select_rules(load_ruleset("default").rules, ["schema"], None)
    report = Engine(rules, RunContext(), EngineOptions(jobs=1)).run([str(path)])
    by_rule = {f.rule: f for f in report.findings}
    assert "preference-prompt-mismatch" in by_rule
    assert "preference-prompt-ends-with-assistant" not in by_rule  # the mismatch explains it; said once


@pytest.mark.parametrize(
    ("text", "template", "turns"),
    [
        (
            "<s>[INST] q1 [/INST] a1 </s><s>[INST] q2 [/INST] a2 </s>",
            "llama2",
            [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")],
        ),
        ("<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n", "chatml", [("user", "q"), ("assistant", "")]),
        (
            "### Instruction:\nsum\n\n### Input:\n1 2\n\n### Response:\n3",
            "alpaca_text",
            [("user", "sum\n\n1 2"), ("assistant", "3")],
        ),
        (
            "<|start_header_id|>user<|end_header_id|>\n\nq<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\na<|eot_id|>",
            "llama3",
            [("user", "q"), ("assistant", "a")],
        ),
        (
            "A post about <|im_start|> tokens.",
            None,
            [("assistant", "A post about <|im_start|> tokens.")],
        ),  # prose, not a template
    ],
)
def test_rendered_templates_split_into_turns(text, template, turns):
    assert detect_template(text) == template
    conv = normalise({"text": text})
    assert conv.format == (template or "text")
    assert [(t.role, t.text) for t in conv.turns] == turns


def test_chatml_inside_a_prompt_message_rl_layout():
    """verl/Logic-RL: `prompt` is one user message holding a rendered ChatML conversation that ends
    with the generation prompt; the record has no answer to train on."""
    rendered = (
        "<|im_start|>system\nthink first<|im_end|>\n<|im_start|>user\npuzzle?<|im_end|>\n<|im_start|>assistant\n<think>"
    )
    record = {
        "prompt": [{"role": "user", "content": rendered}],
        "reward_model": {"ground_truth": "x"},
        "data_source": "kk",
    }
    conv = normalise(record)
    assert conv.format == "prompt_only"
    assert [(t.role, t.text, t.field) for t in conv.turns] == [
        ("system", "think first", "/prompt/0/content#0"), ("user", "puzzle?", "/prompt/0/content#1"),
    ]  # fmt: skip
    assert conv.readable and not conv.trainable


def test_oasst_tree_reads_the_best_ranked_path():
    record = {"message_tree_id": "t", "prompt": {"text": "q", "role": "prompter", "replies": [
        {"text": "worse", "role": "assistant", "rank": 1, "replies": []},
        {"text": "best", "role": "assistant", "rank": 0, "replies": [{"text": "follow-up nobody answered", "role": "prompter", "replies": []}]},
    ]}}  # fmt: skip
    conv = normalise(record)
    assert conv.format == "oasst_tree"
    assert [(t.role, t.raw_role, t.text, t.field) for t in conv.turns] == [
        ("user", "prompter", "q", "/prompt/text"), ("assistant", None, "best", "/prompt/replies/1/text"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("role", "canonical"),
    [("User", "user"), ("Chatbot", "assistant"), ("System", "system"), ("prompter", "user"), ("human", "user"),
     ("bot", "assistant"), ("USER", "user"), ("ASSISTANT", "assistant"), ("gpt", "assistant"), ("UTILISATEUR", "user"),
     ("model", "assistant"), ("developer", "system"), ("observation", "tool"), ("narrator", "narrator")],
)  # fmt: skip
def test_role_aliases(role, canonical):
    conv = normalise({"messages": [{"role": role, "content": "x"}]})
    assert conv.turns[0].role == canonical
    assert conv.turns[0].raw_role == (None if role == canonical else role)


def test_role_map_reads_a_datasets_own_spellings():
    record = {"messages": [{"role": "Q", "content": "q"}, {"role": "A", "content": "a"}]}
    assert not normalise(record).readable  # no recognised role: no conversation text at all
    hint = FormatHint(None, parse_role_map(["user=Q,assistant=A"]))
    conv = normalise(record, hint)
    assert [(t.role, t.raw_role) for t in conv.turns] == [("user", "Q"), ("assistant", "A")]
    assert conv.trainable


@pytest.mark.parametrize(
    ("value", "error"),
    [("user", "ROLE=SPELLING"), ("boss=Q", "not a role"), ("user=X,assistant=X", "both"), ("user=", "ROLE=SPELLING")],
)
def test_bad_role_maps_are_named(value, error):
    with pytest.raises(RoleMapError, match=error):
        parse_role_map([value])


def _audit(tmp_path: Path, records: list[Any], ruleset: str, hint: FormatHint | None = None) -> list[Finding]:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    rs = load_ruleset(ruleset)
    report = Engine(
        select_rules(rs.rules, ["schema"], None), RunContext(target=rs.target), EngineOptions(jobs=1, input_format=hint)
    ).run([str(path)])
    return report.findings


def test_openai_rules_still_reject_aliases_default_rules_name_them(tmp_path):
    cohere = {"messages": [{"role": "User", "content": "hi"}, {"role": "Chatbot", "content": "hello"}]}
    strict = [f for f in _audit(tmp_path, [cohere], "openai") if f.rule == "role-alias"]
    assert [f.severity for f in strict] == [Severity.ERROR]
    default = _audit(tmp_path, [cohere], "default")
    assert [f.severity for f in default if f.rule == "role-alias"] == [Severity.INFO]
    assert not any(f.rule == "invalid-role" for f in default)
    # a mapped spelling is read as the role, but is still not an OpenAI spelling
    mapped = _audit(
        tmp_path,
        [{"messages": [{"role": "Q", "content": "hi"}, {"role": "A", "content": "yo"}]}],
        "openai",
        FormatHint(None, parse_role_map(["user=Q", "assistant=A"])),
    )
    assert {f.rule for f in mapped} >= {"role-alias"} and "invalid-role" not in {f.rule for f in mapped}


def test_role_alias_fix_renames_builtin_aliases():
    record = {
        "messages": [
            {"role": "User", "content": "hi"},
            {"role": "Chatbot", "content": "hello"},
            {"role": "narrator", "content": "x"},
        ]
    }
    fixed = RoleAlias().fix(json.loads(json.dumps(record)), None)  # type: ignore[arg-type]
    assert [m["role"] for m in fixed["messages"]] == ["user", "assistant", "narrator"]


def test_unreadable_records_are_never_duplicates(tmp_path):
    unknown = [{"task_id": i, "payload": [i]} for i in range(30)]
    roles = [{"messages": [{"role": "A", "content": "same"}, {"role": "B", "content": "same"}]} for _ in range(5)]
    real = [OPENAI, OPENAI]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in unknown + roles + real))
    rules = select_rules(load_ruleset("default").rules, ["dedup"], None)
    report = Engine(rules, RunContext(), EngineOptions(jobs=1)).run([str(path)])
    dups = [(f.rule, f.line) for f in report.findings]
    assert dups == [("exact-duplicate", 37)]  # only the real copy; unknown records and unknown roles are not text


def test_unreadable_records_are_not_grouped_by_split(tmp_path):
    from curate.split import split_dataset

    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"task_id": i}) + "\n" for i in range(20)))
    summary = split_dataset([str(path)], tmp_path / "out", val=0.5, seed=1)
    assert summary.groups == 0 or summary.grouped_records == 0
    assert summary.val == 10 and summary.train == 10


def test_every_format_is_in_the_cli_help():
    from curate.cli.common import INPUT_FORMAT_HELP

    assert all(fmt in INPUT_FORMAT_HELP for fmt in FORMATS)


def _cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from curate.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cost_prices_exactly_what_check_calls_trainable(tmp_path):
    lines = [json.dumps(OPENAI)] * 3 + [
        json.dumps({"messages": [{"role": "user", "content": "no answer"}]}),  # no assistant turn
        json.dumps(
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0}]}
        ),
        json.dumps({"messages": [{"role": "Q", "content": "q"}, {"role": "A", "content": "a"}]}),  # no known role
        json.dumps({"task_id": 1}),  # unknown format
        '{"messages": [',  # not JSON
        json.dumps({"chosen": "\n\nHuman: q", "rejected": "\n\nHuman: q\n\nAssistant: a"}),  # chosen lost its answer
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = _cli(
        "check", str(path), "--select", "tokens", "--no-cache", "-j", "1", "-f", "json", "--fail-on", "never"
    )
    assert code == 0, err
    stats = json.loads(out)["stats"]
    trainable = stats["tokens"]["examples"] - stats["tokens"]["no_trainable"]
    assert trainable == 3
    code, out, err = _cli("cost", str(path), "-m", "gpt-4o-mini", "-f", "json", "-j", "1")
    assert code == 0, err
    result = json.loads(out)
    assert result["examples"] == trainable == stats["cost"]["estimates"][0]["examples"]
    assert sum(result["left_out"].values()) == len(lines) - 3
    assert any("not a JSON object" in k for k in result["left_out"])
    assert any("unknown record format" in k for k in result["left_out"])
    assert any("no conversation text" in k for k in result["left_out"])
    # the role map makes the unknown-role record trainable
    code, out, _ = _cli(
        "cost", str(path), "-m", "gpt-4o-mini", "-f", "json", "-j", "1", "--role-map", "user=Q,assistant=A"
    )
    assert json.loads(out)["examples"] == 4


@pytest.mark.parametrize("command", ["check", "cost", "export", "split", "review"])
def test_bad_input_format_and_role_map_exit_2(tmp_path, command):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(OPENAI) + "\n")
    extra = ["--out", str(tmp_path / "o")] if command == "split" else []
    code, _, err = _cli(command, str(path), *extra, "--input-format", "csv")
    assert code == 2 and "--input-format must be one of" in err and "anthropic_hh" in err
    code, _, err = _cli(command, str(path), *extra, "--role-map", "boss=X")
    assert code == 2 and "--role-map" in err and "not a role" in err


def test_role_map_reaches_the_schema_checks(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "Q", "content": "hi"}, {"role": "A", "content": "yo"}]}) + "\n")
    code, out, _ = _cli(
        "check", str(path), "--select", "invalid-role,role-alias", "--no-cache", "-j", "1", "-f", "json"
    )
    assert code == 1 and {f["rule"] for f in json.loads(out)["findings"]} == {"invalid-role"}
    code, out, _ = _cli(
        "check",
        str(path),
        "--select",
        "invalid-role,role-alias",
        "--no-cache",
        "-j",
        "1",
        "-f",
        "json",
        "--role-map",
        "user=Q,assistant=A",
    )
    assert code == 0 and {f["rule"] for f in json.loads(out)["findings"]} == {"role-alias"}


def test_input_format_overrides_template_detection():
    record = {"text": "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\na<|im_end|>"}
    assert normalise(record).format == "chatml"
    forced = normalise(record, FormatHint("text"))
    assert forced.format == "text" and forced.turns[0].text == record["text"]
    assert normalise({"text": "[INST] q [/INST] a"}, "chatml").turns == ()  # forced template that is not there
