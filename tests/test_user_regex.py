"""Patterns from rule files run on RE2: a catastrophic pattern cannot hang a run, a feature RE2
lacks is refused at load time saying so, and \\w \\d \\s keep Python's Unicode meaning."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from curate.config import load_ruleset
from curate.run.engine import Engine, EngineOptions
from curate.userregex import UserPatternError, compile_user, unicode_classes
from curate.yamlfile import ConfigError

EVIL = "^(a+)+$"  # exponential on Python's re for 'aaa...ab'
EVIL_TEXT = "a" * 40 + "b"


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail (rather than hang the suite) if the body takes more than 20 s."""

    def expired(*_: object) -> None:
        raise TimeoutError("a user pattern took too long: catastrophic backtracking")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(?<!\w)cheap", "lookaround"),
        (r"cheap(?=ly)", "lookaround"),
        (r"(?<=a)b", "lookaround"),
        (r"(\w+) \1", "backreferences"),
        (r"(?P<w>a)(?P=w)", "backreferences"),
        (r"a++", "possessive"),
        (r"(?>ab)", "atomic"),
        (r"(?x) a b", "verbose"),
        (r"(unclosed", "invalid regex"),
        (r"*oops", "invalid regex"),
        ("a" * 20_000, "longer than"),
    ],
)
def test_unsupported_or_invalid_patterns_are_refused_saying_why(pattern: str, words: str) -> None:
    with pytest.raises(UserPatternError) as err:
        compile_user(pattern)
    assert words in str(err.value)
    if words not in ("invalid regex", "longer than"):
        assert "RE2" in str(err.value)


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        (r"\w+", "héllo wörld", ["héllo", "wörld"]),
        (r"\d+", "١٢٣ and 42", ["١٢٣", "42"]),
        (r"[\w-]+", "drei-fünf x", ["drei-fünf", "x"]),
        (r"\s+", "a\u00a0\u2003b", ["\u00a0\u2003"]),
        (r"\W+", "ü, ö", [", "]),
        (r"[^\d]+", "ab١c", ["ab", "c"]),
        (r"[]x]+", "a]x]b", ["]x]"]),
        (r"\\d", r"a\d", [r"\d"]),  # an escaped backslash stays a backslash
    ],
)
def test_classes_keep_pythons_unicode_meaning(pattern: str, text: str, found: list[str]) -> None:
    assert compile_user(pattern).findall(text) == found


def test_translation_leaves_other_escapes_alone() -> None:
    assert unicode_classes(r"\bfoo\.\n") == r"\bfoo\.\n"
    assert unicode_classes(r"[\d.]") == r"[\p{Nd}.]"


def test_catastrophic_pattern_runs_in_linear_time(deadline: None) -> None:
    assert compile_user(EVIL).search(EVIL_TEXT * 1000) is None


RULES = f"""
rules:
  evil-pattern:
    check: quality.pattern
    params: {{patterns: ['{EVIL}'], ignore_case: false}}
  evil-field:
    check: quality.field
    params: {{path: /id, match: '{EVIL}'}}
  evil-refusal:
    check: quality.refusal
    params: {{extra_phrases: ['{EVIL}'], allow: ['(x+x+)+y']}}
  evil-short:
    check: quality.short_answer
    params: {{allow_prompts: ['{EVIL}'], min_prompt_words: 1}}
  evil-names:
    check: schema.function_name
    params: {{pattern: '{EVIL}'}}
"""


def test_every_user_pattern_in_a_run_is_linear(tmp_path: Path, deadline: None) -> None:
    """Every parameter that takes a regex, with a catastrophic one, over texts that trigger it."""
    rules = tmp_path / "evil.yaml"
    rules.write_text(RULES, encoding="utf-8")
    ruleset = load_ruleset(str(rules))
    tool = {"type": "function", "function": {"name": EVIL_TEXT, "parameters": {"type": "object"}}}
    record = {
        "id": EVIL_TEXT,
        "messages": [{"role": "user", "content": EVIL_TEXT}, {"role": "assistant", "content": EVIL_TEXT}],
        "tools": [tool],
    }
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(record) + "\n" for _ in range(20)), encoding="utf-8")
    report = Engine(ruleset.rules, options=EngineOptions(jobs=1)).run([str(data)])
    hits = {f.rule for f in report.findings}
    assert "evil-field" in hits  # the id does not match: proves the pattern really ran
    assert "evil-names" in hits


def test_lookaround_in_a_rules_file_is_a_load_error_naming_the_line(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "rules:\n  brand:\n    check: quality.pattern\n    params:\n      patterns: ['(?<!\\w)cheap']\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_ruleset(str(rules))
    assert err.value.line == 5
    assert "lookaround" in str(err.value) and "RE2" in str(err.value)


def test_literals_with_whole_words_still_work_beside_patterns(tmp_path: Path) -> None:
    from curate.checks.quality.pattern import Pattern, PatternParams

    check = Pattern(PatternParams(patterns=[r"\bglobex\b"], literals=["art", "ü-bahn"]))
    text = "start art Globex ü-bahnhof ü-bahn"
    spans = [text[m.start() : m.end()] for m in check.regex.finditer(text)]
    assert spans == ["art", "Globex", "ü-bahn"]
    assert check.regex.sub(lambda m: "X", text) == "start X X ü-bahnhof X"


def test_every_regex_parameter_compiles_with_re2() -> None:
    """A parameter whose description says it is a regex must be validated (and so compiled) by RE2."""
    from curate.registry import load_registry
    from curate.userregex import check_user

    def validators(annotation: object) -> list[object]:
        found = [m.func for m in getattr(annotation, "__metadata__", ()) if hasattr(m, "func")]
        for arg in getattr(annotation, "__args__", ()):
            found += validators(arg)
        return found

    checked = []
    for check_id, cls in load_registry().checks.items():
        for name, info in cls.Params.model_fields.items():
            if "regex" not in (info.description or "").lower() and "regular expression" not in (info.description or ""):
                continue
            found = [m.func for m in info.metadata if hasattr(m, "func")] + validators(info.annotation)
            assert check_user in found, f"{check_id}.{name} takes a regex from a rules file: type it UserRegex"
            checked.append(f"{check_id}.{name}")
    assert {"quality.pattern.patterns", "quality.field.match", "schema.function_name.pattern"} <= set(checked)
