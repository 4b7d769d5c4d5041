"""End-to-end: the CLI on the sample data, as the README's first command runs it."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True, input=stdin, timeout=120)


def test_check_sample_data_reports_planted_defects_and_exits_1(sample_dir):
    proc = run("check", str(sample_dir), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    rules = {(f["rule"], f["line"]) for f in report["findings"]}
    support = str(sample_dir / "support_chat.jsonl")
    assert ("invalid-json", 12) in rules
    assert ("blank-line", 9) in rules
    assert ("missing-assistant", 16) in rules
    assert {d["format"] for d in report["datasets"]} == {"openai_chat", "alpaca", "sharegpt"}
    assert any(f["path"] == support for f in report["findings"])


def test_usage_error_exits_2_without_traceback(tmp_path):
    proc = run("check", str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr
    assert b"no such file" in proc.stderr
