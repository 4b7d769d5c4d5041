"""JUnit output: one test case per rule; failures list the findings at or above the fail level."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.config import load_ruleset
from curate.reporters.junit import render_junit
from curate.run.engine import Engine, EngineOptions

GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}]}


def _report(tmp_path: Path):  # noqa: ANN202
    lines = [orjson.dumps(GOOD).decode() for _ in range(12)]
    lines[3] = '{"messages": [{"role": "user", "content": "no answer"}]}'
    lines[5] = '{"messages": [{"role": "user", "content": "x\\u0001y"}]}'  # a control character in a message
    lines[7] = ""  # a blank line: a warning
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rs = load_ruleset("default")
    rules = [r for r in rs.rules if r.check.startswith("schema.")]
    return Engine(rules, options=EngineOptions(jobs=1)).run([str(path)]), rules


def test_one_testcase_per_rule_and_failures_at_fail_level(tmp_path: Path) -> None:
    report, rules = _report(tmp_path)
    root = ET.fromstring(render_junit(report, "error"))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(rules) == int(suite.get("tests", "-1")) == int(root.get("tests", "-1"))
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {"missing-assistant"}
    assert suite.get("failures") == "1" and root.get("failures") == "1"
    text = failed["missing-assistant"].text or ""
    assert text.count("\n") == 1 and ":4: error missing-assistant" in text  # two records, lines 4 and 6
    blank = next(c for c in cases if c.get("name") == "blank-line")
    assert blank.find("failure") is None and ":8: warning blank-line" in (blank.findtext("system-out") or "")


def test_fail_on_warning_and_never(tmp_path: Path) -> None:
    report, _ = _report(tmp_path)
    warn = ET.fromstring(render_junit(report, "warning"))
    assert warn.get("failures") == "2"
    never = ET.fromstring(render_junit(report, "never"))
    assert never.get("failures") == "0"
    assert len([c for c in never.iter("testcase") if c.find("system-out") is not None]) == 2


def test_cli_format_junit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "d.jsonl").write_text(orjson.dumps(GOOD).decode() + "\n{bad\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "d.jsonl", "--format", "junit", "--select", "schema"])
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout_bytes)
    failing = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failing == ["invalid-json"]


def test_control_characters_never_break_the_xml() -> None:
    from curate.model import Finding, Severity
    from curate.report import Report

    rule = load_ruleset("default").rules[0]
    bad = Finding(rule.id, rule.check, Severity.ERROR, "d.jsonl", 1, None, "odd \x01\x1b text", "f" * 16)
    root = ET.fromstring(render_junit(Report(ruleset="x", rules=[rule], findings=[bad])))
    # shown visibly (curate.display), so the XML stays valid and a terminal showing it is not driven
    assert "odd \\x01\\x1b text" in (root.find("testsuite/testcase/failure").text or "")  # type: ignore[union-attr]
