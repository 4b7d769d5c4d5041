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


# LLaMA-Factory's own data/dataset_info.json entries for its demo files, as the repository ships them
REAL_DATASET_INFO = {
    "identity": {"file_name": "identity.json"},
    "alpaca_en_demo": {"file_name": "alpaca_en_demo.json"},
    "glaive_toolcall_en_demo": {
        "file_name": "glaive_toolcall_en_demo.json",
        "formatting": "sharegpt",
        "columns": {"messages": "conversations", "tools": "tools"},
    },
    "dpo_en_demo": {
        "file_name": "dpo_en_demo.json",
        "ranking": True,
        "formatting": "sharegpt",
        "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"},
    },
    "kto_en_demo": {
        "file_name": "kto_en_demo.json",
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "kto_tag": "label"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
    },
    "c4_demo": {"file_name": "c4_demo.jsonl", "columns": {"prompt": "text"}},
    "alpaca_en": {"hf_hub_url": "llamafactory/alpaca_en", "ms_hub_url": "llamafactory/alpaca_en"},
}


def write_json(path: Path, records: list[dict]) -> str:
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_llamafactory_real_dataset_info_against_records_of_its_demo_shapes(tmp_path: Path) -> None:
    """The repository's entries as shipped: records in the demo files' shapes pass; what LLaMA-Factory
    itself would reject is found. `columns`/`tags` given means unnamed ones are None (DatasetAttr.set_attr):
    the c4 entry is pre-training text (no response column), the kto entry accepts no system message."""
    (tmp_path / "dataset_info.json").write_text(json.dumps(REAL_DATASET_INFO, indent=2), encoding="utf-8")
    spec = f"llamafactory:{tmp_path / 'dataset_info.json'}"
    files = [
        write_json(tmp_path / "identity.json", [{"instruction": "hi", "input": "", "output": "Hello! I am {{name}}."}]),
        write_json(tmp_path / "alpaca_en_demo.json", [ALPACA, {"instruction": "x", "input": "", "answer": "y"}]),
        write_json(
            tmp_path / "glaive_toolcall_en_demo.json",
            [{**SHAREGPT, "tools": '[{"name": "w", "description": "weather", "parameters": {}}]'}],
        ),
        write_json(
            tmp_path / "dpo_en_demo.json",
            [
                {
                    "conversations": [{"from": "human", "value": "Which is better?"}],
                    "chosen": {"from": "gpt", "value": "This one."},
                    "rejected": {"from": "gpt", "value": "No idea."},
                },
                {"conversations": [{"from": "human", "value": "Q"}], "chosen": {"from": "gpt", "value": "A"}},
            ],
        ),
        write_json(
            tmp_path / "kto_en_demo.json",
            [
                {
                    "messages": [{"content": "Q?", "role": "user"}, {"content": "A.", "role": "assistant"}],
                    "label": True,
                },
                {
                    "messages": [{"content": "Be kind.", "role": "system"}, *OPENAI_STYLE["messages"][1:]],
                    "label": False,
                },
            ],
        ),
        write_jsonl(tmp_path / "c4_demo.jsonl", [{"text": "Plain pre-training text."}, {"text": "More text."}]),
    ]
    found = run(files, spec)

    def second_record_line(name: str) -> int:  # where the array's second element starts
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        return [i for i, line in enumerate(lines, 1) if line == "  {"][1]

    assert sorted((m.split(": ")[1], line, key) for line, key, m in found) == [
        ("alpaca_en_demo", second_record_line("alpaca_en_demo.json"), "columns.response"),  # "answer", not "output"
        ("dpo_en_demo", second_record_line("dpo_en_demo.json"), "columns.rejected"),  # no rejected answer
        ("kto_en_demo", second_record_line("kto_en_demo.json"), "tags"),  # no system_tag: system is rejected
    ]
    assert not [m for *_, m in found if "c4_demo" in m]  # pre-training text needs no response column


def test_axolotl_real_config_shapes(tmp_path: Path) -> None:
    """axolotl's example configs: the llama-3 instruct LoRA (chat_template with the legacy
    message_field_role/_content keys and roles as lists, many keys left empty) and the alpaca LoRA."""
    (tmp_path / "instruct-lora-8b.yml").write_text(
        "base_model: NousResearch/Meta-Llama-3-8B-Instruct\n"
        "model_type: LlamaForCausalLM\n"
        "load_in_8bit: true\n"
        "chat_template: llama3\n"
        "datasets:\n"
        "  - path: chat.jsonl\n"
        "    ds_type: json\n"
        "    type: chat_template\n"
        "    field_messages: messages\n"
        "    message_field_role: role\n"
        "    message_field_content: content\n"
        "    roles:\n"
        "      user:\n"
        "        - user\n"
        "      assistant:\n"
        "        - assistant\n"
        "dataset_prepared_path:\n"
        "val_set_size: 0.05\n"
        "sequence_len: 4096\n"
        "lora_model_dir:\n"
        "special_tokens:\n"
        "   pad_token: <|end_of_text|>\n",
        encoding="utf-8",
    )
    chat = write_jsonl(
        tmp_path / "chat.jsonl",
        [
            {"messages": OPENAI_STYLE["messages"][1:]},
            SHAREGPT,  # ShareGPT keys: neither field_messages nor the role/content keys exist
            {"messages": [{"role": "human", "content": "a"}, {"role": "assistant", "content": "b"}]},
        ],
    )
    found = run([chat], f"axolotl:{tmp_path / 'instruct-lora-8b.yml'}")
    assert sorted((line, key) for line, key, _ in found) == [(2, "field_messages"), (3, "roles")]
    (tmp_path / "lora-1b.yml").write_text(
        "base_model: NousResearch/Llama-3.2-1B\n"
        "datasets:\n"
        "  - path: gpt4-llm.jsonl\n"
        "    type: alpaca\n"
        "dataset_prepared_path: last_run_prepared\n"
        "sample_packing: true\n",
        encoding="utf-8",
    )
    alpaca = write_jsonl(tmp_path / "gpt4-llm.jsonl", [ALPACA, {"instruction": "x", "response": "y"}])
    found = run([alpaca], f"axolotl:{tmp_path / 'lora-1b.yml'}")
    assert [(line, key) for line, key, _ in found] == [(2, "type: alpaca")]
