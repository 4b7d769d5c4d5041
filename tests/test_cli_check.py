# ruff: noqa: E501 - tables of CLI cases, one per line
"""`curate check` on malformed input: exit codes 0/1/2, --fail-on, the JSON report's keys, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app

GOOD = '{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", "content": "a%d"}]}\n'


def clean_lines(n: int = 10) -> str:
    return "".join(GOOD % (i, i) for i in range(n))


def curate(tmp_path: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """A real process: for standard input and anything that must not share this interpreter."""
    cmd = [sys.executable, "-m", "curate", *args]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(cmd, capture_output=True, input=stdin, cwd=tmp_path, env=env, timeout=120)


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes


def curate_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Run:
    """The CLI in this process (fast); an exception other than a clean exit is a test failure."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout_bytes, result.stderr_bytes)


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return name


NASTY = (
    b"\xef\xbb\xbf" + GOOD.replace("%d", "0").encode()
    + b'{"text": "caf\xe9"}\r\n'
    + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    + b'{"a": NaN, "a": 1}\n'
    + b"\n"
    + b"\x00\x01\x02 garbage\n"
    + b'"just a string"\n'
    + b'{"messages": [{"role": "user", "content": "\\ud800"}]}\n'
    + b"{" * 5000 + b"\n"
)  # fmt: skip

CASES = [
    # (name, file content, extra args, exit code, rules that must appear)
    ("clean", clean_lines(), [], 0, []),
    ("errors", clean_lines() + '{"messages": "x"}\n', [], 1, ["missing-messages"]),
    ("errors but --fail-on never", clean_lines() + '{"messages": "x"}\n', ["--fail-on", "never"], 0, ["missing-messages"]),
    ("warnings pass by default", clean_lines() + "\n", [], 0, ["blank-line"]),
    ("warnings fail with --fail-on warning", clean_lines() + "\n", ["--fail-on", "warning"], 1, ["blank-line"]),
    ("info fails only with --fail-on info", clean_lines().replace("\n", "\r\n"), ["--fail-on", "warning"], 0, ["crlf-line-endings"]),
    ("info with --fail-on info", clean_lines().replace("\n", "\r\n"), ["--fail-on", "info"], 1, ["crlf-line-endings"]),
    ("nasty bytes never crash", NASTY, [], 1, ["byte-order-mark", "invalid-utf8", "deep-nesting", "nan-literal", "duplicate-key", "blank-line", "invalid-json", "not-an-object"]),
    ("--ignore drops a rule", clean_lines() + '{"messages": "x"}\n', ["--ignore", "missing-messages"], 0, []),
    ("openai rules reject alpaca", json.dumps([{"instruction": "q", "output": "a"}] * 10), ["--rules", "openai"], 1, ["unsupported-format"]),
]  # fmt: skip


@pytest.mark.parametrize(("content", "args", "code", "rules"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_exit_codes_and_findings(tmp_path, monkeypatch, content, args, code, rules):
    name = write(tmp_path, "data.jsonl", content)
    proc = curate_here(
        tmp_path, monkeypatch, "check", name, "--select", "schema", "--format", "json", "--no-cache", *args
    )
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    assert proc.returncode == code, proc.stderr
    found = {f["rule"] for f in json.loads(proc.stdout)["findings"]}
    assert set(rules) <= found, found


def test_json_report_has_the_documented_keys(tmp_path, monkeypatch):
    name = write(tmp_path, "data.jsonl", clean_lines(3) + "{oops\n")
    proc = curate_here(tmp_path, monkeypatch, "check", name, "--select", "schema", "--format", "json", "--no-cache")
    report = json.loads(proc.stdout)
    assert {"version", "tool", "datasets", "summary", "findings", "stats"} <= set(report)
    assert report["version"] == "1.1" and report["tool"]["name"] == "curate"
    assert {"path", "records", "format"} <= set(report["datasets"][0])
    assert {"records", "records_with_findings", "by_severity", "by_rule"} <= set(report["summary"])
    finding = next(f for f in report["findings"] if f["rule"] == "invalid-json")
    assert {"rule", "check", "severity", "path", "line", "field", "message", "fingerprint", "data"} <= set(finding)
    assert (finding["line"], finding["path"], finding["severity"]) == (4, "data.jsonl", "error")
    dataset_level = next(f for f in report["findings"] if f["rule"] == "too-few-examples")
    assert dataset_level["line"] is None


def test_stdin_dash(tmp_path):
    proc = curate(
        tmp_path, "check", "-", "--select", "schema", "--format", "json", "--no-cache", stdin=clean_lines(3).encode()
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["datasets"][0]["records"] == 3


USAGE = [
    ("missing file", ["check", "nope.jsonl"], "no such file"),
    ("bad --fail-on", ["check", "data.jsonl", "--fail-on", "sometimes"], "--fail-on"),
    ("bad --format", ["check", "data.jsonl", "--format", "xml"], "--format"),
    ("bad --input-format", ["check", "data.jsonl", "--input-format", "csv"], "--input-format"),
    ("unknown --select token", ["check", "data.jsonl", "--select", "shema"], "matches no rule"),
    ("unknown rule set", ["check", "data.jsonl", "--rules", "lenient"], "unknown rule set"),
    ("bad rules file names file and line", ["check", "data.jsonl", "--rules", "bad.yaml"], "bad.yaml:2:"),
    ("directory without datasets", ["check", "empty"], "no dataset files in this directory"),
    ("unknown option", ["check", "data.jsonl", "--frobnicate"], "frobnicate"),
]


@pytest.mark.parametrize(("args", "words"), [u[1:] for u in USAGE], ids=[u[0] for u in USAGE])
def test_usage_config_and_io_errors_exit_2_without_traceback(tmp_path, monkeypatch, args, words):
    write(tmp_path, "data.jsonl", clean_lines())
    write(tmp_path, "bad.yaml", "rules:\n  a-rule:\n    check: schema.nope\n")
    (tmp_path / "empty").mkdir()
    proc = curate_here(tmp_path, monkeypatch, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert b"Traceback" not in proc.stderr
    assert words.encode() in proc.stderr, proc.stderr


def test_rules_list_and_explain(tmp_path, monkeypatch):
    listing = curate_here(tmp_path, monkeypatch, "rules")
    assert listing.returncode == 0
    for rule in (b"tool-call-id", b"special-tokens", b"preference-identical", b"unknown-top-level-key"):
        assert rule in listing.stdout
    explain = curate_here(tmp_path, monkeypatch, "rules", "explain", "special-tokens")
    assert explain.returncode == 0
    assert b"schema.special_tokens" in explain.stdout and b"extra_tokens" in explain.stdout
    assert b"example" in explain.stdout
