"""`--trainer`: records held to LLaMA-Factory's dataset_info.json and axolotl's config, in their real shapes
(LLaMA-Factory data/README.md: columns, tags and their defaults; axolotl chat_template datasets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.check import RunContext
from curate.checks.schema.trainer_config import TrainerConfigMismatch
from curate.config import Rule
from curate.model import Severity
from curate.run.engine import Engine, EngineOptions
from curate.trainer_config import load
from curate.yamlfile import ConfigError

OPENAI_STYLE = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
}
SHAREGPT = {
    "conversations": [
        {"from": "human", "value": "Weather?"},
        {"from": "function_call", "value": '{"name": "w", "arguments": {}}'},
        {"from": "observation", "value": "sunny"},
        {"from": "gpt", "value": "Sunny."},
    ]
}
ALPACA = {"instruction": "Say hi.", "input": "", "output": "hi"}


def write_jsonl(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def run(paths: list[str], spec: str) -> list[tuple[int, str, str]]:
    rule = Rule(
        "trainer-config", TrainerConfigMismatch.id, Severity.ERROR, TrainerConfigMismatch.Params(), None, "t", ""
    )
    ctx = RunContext(settings={"trainer_config": spec})
    report = Engine([rule], ctx, EngineOptions(jobs=1)).run(paths)
    return [(f.line or 0, f.data.get("config_key", ""), f.message) for f in report.findings]


def test_llamafactory_alpaca_and_sharegpt_entries(tmp_path: Path) -> None:
    info = {
        "alpaca_demo": {
            "file_name": "alpaca.jsonl",
            "columns": {"prompt": "instruction", "query": "input", "response": "output"},
        },
        "glaive": {"file_name": "glaive.jsonl", "formatting": "sharegpt", "columns": {"messages": "conversations"}},
        "openai_style": {
            "file_name": "chat.jsonl",
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "system_tag": "system",
            },
        },
        "hub": {"hf_hub_url": "someone/dataset"},
    }
    (tmp_path / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    spec = f"llamafactory:{tmp_path / 'dataset_info.json'}"
    alpaca = write_jsonl(tmp_path / "alpaca.jsonl", [ALPACA, {"prompt": "x", "output": "y"}])
    short = {"conversations": SHAREGPT["conversations"][:3]}
    glaive = write_jsonl(tmp_path / "glaive.jsonl", [SHAREGPT, OPENAI_STYLE, short])
    bot = {"messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]}
    chat = write_jsonl(tmp_path / "chat.jsonl", [OPENAI_STYLE, bot])
    found = run([alpaca, glaive, chat], spec)
    by_file = sorted((line, key) for line, key, _ in found)
    assert by_file == sorted(
        [
            (2, "columns.prompt"),  # alpaca line 2 has "prompt", not "instruction"
            (2, "columns.messages"),  # glaive line 2 is OpenAI-style: no "conversations"
            (3, "tags"),  # glaive line 3 ends on an observation: LLaMA-Factory skips it
            (2, "tags"),  # chat line 2: role "bot" is not declared
        ]
    )
    messages = " | ".join(m for _, _, m in found)
    assert "dataset_info.json: alpaca_demo: columns.prompt is 'instruction'" in messages
    assert "'bot', which is none of the roles tags declares" in messages
    assert "LLaMA-Factory skips this example: it ends without an assistant message" in messages


def test_default_sharegpt_tags_against_openai_style_data(tmp_path: Path) -> None:
    info = {"d": {"file_name": "d.jsonl", "formatting": "sharegpt", "columns": {"messages": "messages"}}}
    (tmp_path / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    d = write_jsonl(tmp_path / "d.jsonl", [OPENAI_STYLE])
    found = run([d], f"llamafactory:{tmp_path / 'dataset_info.json'}")
    assert sorted(k for _, k, _ in found) == ["tags.content_tag", "tags.role_tag"]
    assert any("tags.role_tag is 'from', but message 0 has no such key (it has: role, content)" in m for *_, m in found)


def test_axolotl_chat_template_mappings(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text(
        "base_model: some/model\n"
        "datasets:\n"
        "  - path: data.jsonl\n"
        "    type: chat_template\n"
        "    field_messages: conversations\n"
        "    message_property_mappings:\n"
        "      role: from\n"
        "      content: value\n"
        "    roles:\n"
        "      user: [human]\n"
        "      assistant: [gpt]\n",
        encoding="utf-8",
    )
    data = write_jsonl(tmp_path / "data.jsonl", [SHAREGPT, {"conversations": [{"role": "user", "content": "a"}]}])
    found = run([data], f"axolotl:{tmp_path / 'config.yml'}")
    assert sorted((line, key) for line, key, _ in found) == [
        (1, "roles"),  # function_call / observation are not mapped in roles
        (2, "message_property_mappings.content"),
        (2, "message_property_mappings.role"),
    ]


@pytest.mark.parametrize(
    "spec, why",
    [("nope:x.json", "KIND:PATH"), ("llamafactory:/no/such/file.json", "cannot read"), ("axolotl", "KIND:PATH")],
)
def test_bad_trainer_spec_is_a_config_error(spec: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        load(spec)


def test_unknown_formatting_names_the_entry(tmp_path: Path) -> None:
    (tmp_path / "dataset_info.json").write_text(json.dumps({"x": {"file_name": "a.json", "formatting": "weird"}}))
    with pytest.raises(ConfigError, match="dataset_info.json: x: formatting must be alpaca or sharegpt"):
        load(f"llamafactory:{tmp_path / 'dataset_info.json'}")
