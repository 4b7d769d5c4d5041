"""Counting like the trainer with a real model folder: a BPE trained here and a chat template.

Counts are checked against an independent rendering (the ChatML text built by hand) tokenized with
`tokenizers` directly, and the trainer findings against records built to trigger exactly one each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from curate.check import RunContext
from curate.config import load_ruleset, select_rules
from curate.hf_tokenizer import load_folder
from curate.run.engine import Engine, EngineOptions
from tests.model_folder import PLAIN_TEMPLATE, build

TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("model") / "tiny-chatml")


@pytest.fixture(scope="module")
def plain_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("model") / "tiny-plain", template=PLAIN_TEMPLATE)


def chat(*turns: tuple[str, str], **extra: object) -> dict:
    return {"messages": [{"role": r, "content": c} for r, c in turns], **extra}


def chatml(messages: list[dict], tools: list | None = None) -> tuple[str, list[tuple[int, int]]]:
    """The reference rendering of GENERATION_TEMPLATE, by hand: text and the assistant spans."""
    text, spans = "<s>", []
    if tools:
        text += "<|im_start|>system\nTools: " + json.dumps(tools, ensure_ascii=False) + "<|im_end|>\n"
    for m in messages:
        text += f"<|im_start|>{m['role']}\n"
        if m["role"] == "assistant":
            start = len(text)
            text += m["content"] + "<|im_end|>"
            spans.append((start, len(text)))
        else:
            text += m["content"] + "<|im_end|>"
        text += "\n"
    return text, spans


def reference(folder: Path, messages: list[dict], tools: list | None = None) -> tuple[int, int]:
    """(tokens, tokens inside assistant spans) of the hand-built text, tokenized without special tokens."""
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    text, spans = chatml(messages, tools)
    enc = tok.encode(text, add_special_tokens=False)
    inside = sum(1 for a, b in enc.offsets if any(s <= a and b <= e for s, e in spans) and b > a)
    return len(enc.ids), inside


def write(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def audit(path: str, settings: dict, target: str | None = None):
    rules = select_rules(load_ruleset("default").rules, ["tokens"], None)
    ctx = RunContext(target=target, settings=settings)
    return Engine(rules, ctx, EngineOptions(jobs=1)).run([path])


def settings(folder: Path, **extra: object) -> dict:
    return {"tokenizer": str(folder), "tokenizer_digest": load_folder(str(folder)).digest, **extra}


SAMPLES = [
    chat(("user", "Hello there"), ("assistant", "Paris is the capital of France.")),
    chat(
        ("system", "You answer questions."),
        ("user", "How do I sort a list in Python?"),
        ("assistant", "Use sorted(list)."),
        ("user", "And in place?"),
        ("assistant", "list.sort() sorts in place."),
    ),
    chat(("user", "Bonjour, ça va? 日本語 🙂"), ("assistant", "Très bien, merci!")),
    chat(("user", "Weather in London?"), ("assistant", "Let me check."), tools=[TOOL]),
]


def test_counts_equal_rendering_plus_tokenizing(folder: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", SAMPLES)
    report = audit(path, settings(folder))
    table = report.table
    assert table is not None
    for i, record in enumerate(SAMPLES):
        tokens, trainable = reference(folder, record["messages"], record.get("tools"))
        assert table["tokens"][i] == tokens, i
        assert table["trainable_tokens"][i] == trainable, i
        assert table["trained_tokens"][i] == trainable, i  # no maximum length: nothing is cut
    stats = report.stats["tokens"]
    assert stats["labels"] == "generation"
    assert stats["estimate"] is False
    assert stats["trained_tokens"] == sum(reference(folder, r["messages"], r.get("tools"))[1] for r in SAMPLES)


def test_renderer_matches_hand_rendering_and_generation_spans(folder: Path) -> None:
    model = load_folder(str(folder))
    for record in SAMPLES:
        tools = record.get("tools")
        got = model.template(tools is not None).render(record["messages"], tools)
        text, spans = chatml(record["messages"], tools)
        assert got.text == text
        assert list(got.generation) == spans


LONG = "the quick brown fox jumps over the lazy dog " * 20  # ~200 tokens


@pytest.fixture
def trainer_data(tmp_path: Path) -> str:
    return write(
        tmp_path / "t.jsonl",
        [
            chat(("user", "Hello there"), ("assistant", "Paris.")),  # line 1: fits
            chat(("system", LONG), ("user", "Hello"), ("assistant", "Paris.")),  # line 2: answer after the cut
            chat(("user", "Hello"), ("assistant", LONG)),  # line 3: answer cut
            chat(("user", "Hello"), ("narrator", "x"), ("assistant", "Paris.")),  # line 4: template refuses
            chat(("user", "Hello"), ("assistant", "")),  # line 5: nothing to learn (no_trainable, not masked)
        ],
    )


def findings(report) -> set[tuple[str, int]]:
    rules = {"labels-all-masked", "assistant-truncated", "dropped-by-length", "chat-template-refuses"}
    return {(f.rule, f.line) for f in report.findings if f.rule in rules}


def test_truncate_findings_at_exactly_the_right_records(folder: Path, trainer_data: str) -> None:
    report = audit(trainer_data, settings(folder, max_length=100))
    assert findings(report) == {
        ("labels-all-masked", 2),
        ("assistant-truncated", 3),
        ("chat-template-refuses", 4),
    }
    stats = report.stats["tokens"]
    assert stats["max_length"] == 100 and stats["overflow"] == "truncate"
    assert stats["truncated_examples"] == 2
    assert stats["template_refused"] == 1
    table = report.table
    assert table["trained_tokens"][1] == 0
    assert 0 < table["trained_tokens"][2] < table["trainable_tokens"][2]
    assert stats["trained_tokens"] == sum(x for x in table["trained_tokens"].to_list() if x is not None)


def test_drop_findings_and_cost_on_what_trains(folder: Path, trainer_data: str) -> None:
    report = audit(trainer_data, settings(folder, max_length=100, overflow="drop"), target="openai/gpt-4o-mini")
    assert findings(report) == {("dropped-by-length", 2), ("dropped-by-length", 3), ("chat-template-refuses", 4)}
    assert report.stats["tokens"]["dropped_sequences"] == 2
    est = report.stats["cost"]["estimates"][0]
    table = report.table
    kept = [t for i, t in enumerate(table["tokens"].to_list()) if i in (0, 4)]  # dropped and refused not billed
    assert est["examples"] == 2 and est["tokens_per_epoch"] == sum(kept)
    assert est["exact"] is True


def test_response_marker_labels(plain_folder: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "m.jsonl", [SAMPLES[0], SAMPLES[1]])
    report = audit(path, settings(plain_folder, response_template="<|im_start|>assistant\n"))
    assert report.stats["tokens"]["labels"] == "marker"
    assert not findings(report)
    tok = Tokenizer.from_file(str(plain_folder / "tokenizer.json"))
    last = SAMPLES[1]["messages"][-1]["content"] + "<|im_end|>\n"
    # TRL: everything after the LAST marker trains
    assert report.table["trained_tokens"][1] == len(tok.encode(last, add_special_tokens=False).ids)
    missing = audit(path, settings(plain_folder, response_template="### Response:"))
    assert findings(missing) == {("labels-all-masked", 1), ("labels-all-masked", 2)}
    every = audit(path, settings(plain_folder))
    assert every.stats["tokens"]["labels"] == "all"
    assert every.table["trained_tokens"].to_list() == every.table["tokens"].to_list()


def test_preference_pairs_are_two_sequences(folder: Path, tmp_path: Path) -> None:
    pair = {
        "messages": [{"role": "user", "content": "Hello"}],
        "chosen": {"role": "assistant", "content": "Paris."},
        "rejected": {"role": "assistant", "content": LONG},
    }
    path = write(tmp_path / "p.jsonl", [pair])
    report = audit(path, settings(folder, max_length=60))
    hits = [f for f in report.findings if f.rule == "assistant-truncated"]
    assert len(hits) == 1 and hits[0].data["side"] == "rejected"
    chosen = reference(folder, [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Paris."}])
    rejected = reference(folder, [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": LONG}])
    assert report.table["trainable_tokens"][0] == chosen[1] + rejected[1]


@pytest.mark.parametrize(
    "template, why",
    [
        ("{{ 'a' * 100000000 }}", "larger than"),
        ("{% set ns = namespace(x='ab') %}{% for i in range(40) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}", "larger"),
        ("{% set ns = namespace(x='ab') %}{% for i in range(40) %}{% set ns.x = ns.x + ns.x %}{% endfor %}", "larger"),
        ("{{ 'a'.center(999999999) }}", "larger than"),
        ("{{ 'a' | center(999999999) }}", "larger than"),
        ("{{ '%0999999999d' % 1 }}", "larger than"),
        ("{{ '%0999999999d' | format(1) }}", "larger than"),
        ("{{ '{:0999999999}'.format(1) }}", "larger than"),
        ("{{ 'ab'.replace('a', 'x' * 9000) * 3000 }}", "larger than"),
        ("{{ messages.__class__.__mro__ }}", "was stopped"),  # the sandbox refuses unsafe attributes
        ("{{ raise_exception('no system role allowed') }}", "rejects this conversation: no system role allowed"),
    ],
)
def test_hostile_templates_are_stopped_per_record(tmp_path: Path, template: str, why: str) -> None:
    folder = build(tmp_path / "hostile", template=template)
    path = write(tmp_path / "d.jsonl", [SAMPLES[0]])
    report = audit(path, settings(folder))
    hits = [f for f in report.findings if f.rule == "chat-template-refuses"]
    assert len(hits) == 1 and why in hits[0].message


def test_endless_template_meets_the_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import curate.chat_template as ct

    monkeypatch.setattr(ct, "DEADLINE_S", 0.2)
    template = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    model = load_folder(str(build(tmp_path / "slow", template=template)))
    with pytest.raises(ct.RenderError, match="longer than"):
        model.template(False).render([{"role": "user", "content": "hi"}])


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_cli_missing_tokenizer_is_a_clear_error(tmp_path: Path, folder: Path) -> None:
    data = write(tmp_path / "d.jsonl", [SAMPLES[0]])
    empty = tmp_path / "empty-model"
    empty.mkdir()
    out = run_cli("check", data, "--tokenizer", str(empty), "--no-cache", cwd=tmp_path)
    assert out.returncode == 2
    assert "missing tokenizer.json and tokenizer_config.json" in out.stderr and "Traceback" not in out.stderr
    no_template = build(tmp_path / "no-template")
    config = json.loads((no_template / "tokenizer_config.json").read_text())
    del config["chat_template"]
    (no_template / "tokenizer_config.json").write_text(json.dumps(config))
    out = run_cli("check", data, "--tokenizer", str(no_template), "--no-cache", cwd=tmp_path)
    assert out.returncode == 2 and "has no chat_template" in out.stderr
    (no_template / "tokenizer.json").write_text("{not json")
    out = run_cli("check", data, "--tokenizer", str(no_template), "--no-cache", cwd=tmp_path)
    assert out.returncode == 2 and "not a tokenizer" in out.stderr
    out = run_cli("check", data, "--max-length", "10", "--no-cache", cwd=tmp_path)
    assert out.returncode == 2 and "needs --tokenizer" in out.stderr


def test_cli_json_report_with_tokenizer(tmp_path: Path, folder: Path) -> None:
    data = write(tmp_path / "d.jsonl", SAMPLES)
    out = run_cli(
        "check",
        data,
        "--tokenizer",
        str(folder),
        "--max-length",
        "40",
        "-f",
        "json",
        "--select",
        "tokens",
        "--no-cache",
        cwd=tmp_path,
    )
    assert out.returncode in (0, 1), out.stderr
    report = json.loads(out.stdout)
    assert report["stats"]["tokens"]["labels"] == "generation"
    assert any("generation" in n for n in report["notices"])
    assert {f["rule"] for f in report["findings"]} == {"assistant-truncated", "labels-all-masked"}


def test_cli_cost_prices_what_the_trainer_keeps(tmp_path: Path, folder: Path) -> None:
    data = write(tmp_path / "d.jsonl", [*SAMPLES, chat(("user", "Hello"), ("assistant", LONG))])
    args = ("cost", data, "--tokenizer", str(folder), "-m", "openai/gpt-4o-mini", "-f", "json", "--epochs", "1")
    full = json.loads(run_cli(*args, cwd=tmp_path).stdout)
    est = full["estimates"][0]
    assert est["exact"] is True and "chat template" in est["encoding"]
    lengths = [reference(folder, r["messages"], r.get("tools"))[0] for r in SAMPLES]
    expected = sum(lengths)
    long = reference(folder, [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": LONG}])[0]
    assert est["tokens_per_epoch"] == expected + long
    cut = json.loads(run_cli(*args, "--max-length", "100", cwd=tmp_path).stdout)["estimates"][0]
    # the tool-calling sample's answer starts after token 100: it trains nothing, so it is not priced
    trains = audit(data, settings(folder, max_length=100)).table["trained_tokens"].to_list()
    assert trains[3] == 0 and all(t > 0 for i, t in enumerate(trains) if i != 3)
    assert cut["tokens_per_epoch"] == sum(min(x, 100) for i, x in enumerate(lengths) if i != 3) + 100
    dropped = json.loads(run_cli(*args, "--max-length", "100", "--overflow", "drop", cwd=tmp_path).stdout)
    kept = [x for x in lengths if x <= 100]
    assert dropped["estimates"][0]["tokens_per_epoch"] == sum(kept) and dropped["examples"] == len(kept)
