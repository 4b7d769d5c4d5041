# ruff: noqa: E501 - a table of hostile files, one case per line
"""Hostile repository files (decisions, baseline, pyproject, rules) give exit 2 naming file and
line: never a traceback, never unbounded memory or time."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app

RECORD = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
ALIAS_BOMB = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8)
)  # 1 KB that would expand to 9^9 strings
DEEP_YAML = b"decisions: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
HUGE_INT = b"9" * 5000

# (file name, content, words expected in the message, expected line or None)
CASES = [
    # decisions files
    ("data.decisions.yaml", b"version: 1\ndecisions:\n" + ALIAS_BOMB, "aliases", 4),
    ("data.decisions.yaml", ALIAS_BOMB, "aliases", 2),
    ("data.decisions.yaml", DEEP_YAML, "nested deeper", 1),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- key: \xff\xfe\n  action: drop\n", "not valid UTF-8", 3),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- key: x\n  action: nuke\n", "action", 4),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- key: [1, 2]\n  action: drop\n", "key", 3),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- key: x\n  action: drop\n  reasn: typo\n", "did you mean reason", 5),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- key: x\n  action: drop\n  occurrence: 0\n", "occurrence", 3),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- key: x\n  action: drop\n  occurrence: " + HUGE_INT + b"\n", "too many digits", 5),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- key: x\n  action: fix\n  record: " + DEEP_JSON + b"\n", "nested deeper", 5),
    ("data.decisions.yaml", b"version: 99\ndecisions: []\n", "newer", None),
    ("data.decisions.yaml", b"- just\n- a list\n", "not a curate decisions file", 1),
    ("data.decisions.yaml", b"version: 1\ndecisions: 5\n", "decisions", None),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- {key: x, action: drop\n", "invalid YAML", None),
    ("data.decisions.yaml", b"version: 1\ndecisions:\n- ? [1]\n  : 2\n", "plain value", 3),
    # baselines
    (".curate-baseline.json", b'{"version": 1, "findings": [\n  {"path": "a", "rule": "r", "key": "k", "fingerprint": "f"},\n  {"path": "a", "rule": 7, "key": "k", "fingerprint": "f"}\n]}', "entry 2: rule", 3),
    (".curate-baseline.json", b'{"version": 1, "findings": [{"path": "a", "rule": "r", "key": "k", "fingerprint": "f", "extra": 1}]}', "unknown key 'extra'", 1),
    (".curate-baseline.json", DEEP_JSON, "not valid JSON", 1),
    (".curate-baseline.json", b'{"version": 1, "findings": [' + HUGE_INT + b"]}", "not valid JSON", 1),
    (".curate-baseline.json", b'{"version": 1,\n "findings": "\xff"}', "not valid UTF-8", 2),
    (".curate-baseline.json", b'{"version": "3", "findings": []}', "newer", None),
    (".curate-baseline.json", b'{"version": [], "findings": []}', "version", 1),
    (".curate-baseline.json", b"[]", "not a curate baseline", 1),
    (".curate-baseline.json", b'{"version": 1}', "not a curate baseline", 1),
    (".curate-baseline.json", b'{"version": 1, "findings": [1, "x", null]}', "entry 1", 1),
    # pyproject.toml
    ("pyproject.toml", b'[tool.curate]\nselct = ["schema"]\n', "did you mean select", 2),
    ("pyproject.toml", b'[tool.curate]\nfail_on = "sometimes"\n', "fail_on", 2),
    ("pyproject.toml", b"[tool.curate]\nselect = 5\n", "select", 2),
    ("pyproject.toml", b'[tool.curate]\nrules = "\xff"\n', "not valid UTF-8", 2),
    ("pyproject.toml", b"[tool.curate]\nx = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "TOML", None),
    ("pyproject.toml", b"[tool.curate\n", "not valid TOML", 1),
    ("pyproject.toml", b"[tool]\ncurate = 5\n", "must be a table", None),
]  # fmt: skip


def run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr, result.exception


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "data.jsonl").write_bytes(RECORD)


@pytest.mark.parametrize(("name", "content", "words", "line"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_hostile_file_exits_2_naming_file_and_line(
    tmp_path: Path, name: str, content: bytes, words: str, line: int | None
) -> None:
    (tmp_path / name).write_bytes(content)
    code, err, exc = run("check", "data.jsonl", "--select", "schema", "--no-cache")
    assert code == 2, err
    assert isinstance(exc, SystemExit), exc  # no traceback
    assert words in err
    assert name in err
    if line is not None:
        assert f"{name}:{line}: " in err, err


def test_huge_file_is_refused_without_reading_it_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import curate.loading

    monkeypatch.setattr(curate.loading, "DECISIONS_LIMIT", 1000)
    monkeypatch.setattr("curate.decisions.DECISIONS_LIMIT", 1000)
    (tmp_path / "data.decisions.yaml").write_bytes(b"version: 1\ndecisions: []\n" + b"#" * 2000)
    code, err, _ = run("check", "data.jsonl", "--select", "schema", "--no-cache")
    assert code == 2 and "larger than" in err


def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    import os

    from curate.loading import read_bytes_bounded
    from curate.yamlfile import ConfigError

    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(ConfigError, match="not a regular file"):
        read_bytes_bounded(tmp_path / "pipe.yaml", 100)  # would block forever on a read


RULE_CASES = [
    ("alias bomb", ALIAS_BOMB, "aliases", 2),
    ("deep nesting", b"rules: " + b"{a: " * 100_000 + b"}" * 100_000, "nested deeper", 1),
    ("invalid UTF-8", b"rules:\n  a: {check: schema.weight, description: \xff}\n", "not valid UTF-8", 2),
    ("huge integer", b"rules:\n  a:\n    check: schema.min_examples\n    params: {minimum: " + HUGE_INT + b"}\n", "too many digits", 4),
    ("rules not a mapping", b"rules: [a, b]\n", "must be a mapping", 1),
    ("rule not a mapping", b"rules:\n  a: 5\n", "must be a mapping", 2),
    ("rule id not a string", b"rules:\n  5: {check: schema.weight}\n", "kebab-case", 2),
    ("a list at the top", b"- a\n", "must be a mapping", 1),
    ("params not a mapping", b"rules:\n  a: {check: schema.weight, params: [1]}\n", "params", 2),
]  # fmt: skip


@pytest.mark.parametrize(("content", "words", "line"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_hostile_rule_file_exits_2(tmp_path: Path, content: bytes, words: str, line: int) -> None:
    (tmp_path / "bad.yaml").write_bytes(content)
    code, err, exc = run("rules", "--rules", "bad.yaml")
    assert code == 2 and isinstance(exc, SystemExit), (err, exc)
    assert words in err
    assert f"bad.yaml:{line}: " in err, err


def test_a_large_decisions_file_not_in_curates_layout_is_not_parsed_as_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("curate.decisions.HAND_EDITED_LIMIT", 100)
    (tmp_path / "data.decisions.yaml").write_bytes(b"decisions:\n  - {key: x, action: drop}\n" + b"# pad\n" * 40)
    code, err, _ = run("check", "data.jsonl", "--select", "schema", "--no-cache")
    assert code == 2 and "not in the layout curate writes" in err


def test_extends_cannot_grow_exponentially(tmp_path: Path) -> None:
    for name, parent in (("a", "b"), ("b", "c"), ("c", "d"), ("d", "default")):
        (tmp_path / f"{name}.yaml").write_text(f"extends: [{', '.join([parent] * 8)}]\n", encoding="utf-8")
    code, err, _ = run("rules", "--rules", "a.yaml")  # 8^4 = 4096 loads without a bound
    assert code == 2 and "extend more than 64 files" in err


def test_thousands_of_mistakes_print_fifty_and_a_count(tmp_path: Path) -> None:
    rules = "".join(f"  r-{i}: {{severity: warning}}\n" for i in range(3000))
    (tmp_path / "many.yaml").write_text("extends: default\nrules:\n" + rules, encoding="utf-8")
    code, err, _ = run("rules", "--rules", "many.yaml")
    assert code == 2
    assert len(err.splitlines()) == 51 and err.splitlines()[-1] == "curate: ... and 2950 more problems"


def test_too_many_select_tokens_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.curate]\nselect = {['x'] * 5000!r}\n".replace("'", '"'))
    code, err, _ = run("check", "data.jsonl", "--no-cache")
    assert code == 2 and "more than 1000" in err


@pytest.mark.parametrize("value", ["0", "-5", str(1 << 40)])
def test_rules_file_cannot_lift_the_line_limit_without_bound(tmp_path: Path, value: str) -> None:
    (tmp_path / "r.yaml").write_text(f"extends: default\nsettings:\n  max_line_bytes: {value}\n", encoding="utf-8")
    code, err, _ = run("rules", "--rules", "r.yaml")
    assert code == 2 and "r.yaml:3: " in err and "max_line_bytes" in err
