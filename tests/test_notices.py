"""Run notices are not findings: what the run could not do is said in every output, and never
changes the exit code, SARIF results, the baseline or the review queue (issue 17, item 4)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.checks.pii import analyzer
from curate.cli import app

NAMES = ("--select", "personal-names")
COST = ("--select", "cost-estimate")


def _clean(n: int = 12) -> str:
    lines = []
    for i in range(n):
        msgs = [{"role": "user", "content": f"What is {i} plus {i}?"}, {"role": "assistant", "content": f"{2 * i}."}]
        lines.append(json.dumps({"messages": msgs}))
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(analyzer, "ner_status", lambda: (False, "no NER model installed (test)"))
    (tmp_path / "clean.jsonl").write_text(_clean(), encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_missing_ner_model_is_a_notice_in_text_and_never_fails() -> None:
    code, out, _ = run("check", "clean.jsonl", *NAMES, "--fail-on", "info")
    assert code == 0
    assert "notes:" in out and "LOCATION, PERSON not checked" in out
    assert "no findings" in out


def test_json_lists_the_notice_and_no_finding() -> None:
    code, out, _ = run("check", "clean.jsonl", *NAMES, "--fail-on", "info", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["findings"] == [] and doc["summary"]["findings"] == 0
    assert len(doc["notices"]) == 1 and doc["notices"][0].startswith("personal-names: LOCATION, PERSON not checked")


def test_sarif_carries_the_notice_as_a_run_notification_not_a_result() -> None:
    code, out, _ = run("check", "clean.jsonl", *NAMES, "--fail-on", "info", "--format", "sarif")
    sarif = json.loads(out)["runs"][0]
    assert code == 0 and sarif["results"] == []
    notes = sarif["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["note"] and "not checked" in notes[0]["message"]["text"]
    assert sarif["invocations"][0]["executionSuccessful"] is True


def test_junit_carries_the_notice_as_a_property_and_nothing_fails() -> None:
    code, out, _ = run("check", "clean.jsonl", *NAMES, "--fail-on", "info", "--format", "junit")
    root = ET.fromstring(out.encode())
    assert code == 0 and root.get("failures") == "0"
    props = root.findall("testsuite/properties/property")
    assert [p.get("name") for p in props] == ["curate.notice"] and "not checked" in (props[0].get("value") or "")
    assert "not checked" in (root.findtext("testsuite/system-out") or "")
    assert root.find("testsuite/testcase/failure") is None


def test_report_files_have_one_notes_section(tmp_path: Path) -> None:
    code, _, err = run("report", "clean.jsonl", *NAMES, "--out", "rep")
    assert code == 0, err
    md = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    doc = json.loads((tmp_path / "rep" / "report.json").read_text(encoding="utf-8"))
    assert md.count("### Notes") == 1 and "LOCATION, PERSON not checked" in md
    assert html.count("<h2>Notes</h2>") == 1 and "LOCATION, PERSON not checked" in html
    assert doc["notices"] == doc["report"]["notices"] and len(doc["notices"]) == 1
    assert "No findings" in md


def test_notice_never_enters_the_baseline(tmp_path: Path) -> None:
    code, _, err = run("baseline", "clean.jsonl", *NAMES)
    assert code == 0, err
    baseline = json.loads((tmp_path / ".curate-baseline.json").read_text(encoding="utf-8"))
    assert baseline["findings"] == []


def test_notice_never_enters_the_review_queue(tmp_path: Path) -> None:
    from curate.config import load_ruleset, select_rules
    from curate.review import ReviewSession

    rules = select_rules(load_ruleset("default").rules, ["personal-names"], [])
    session = ReviewSession.open(tmp_path / "clean.jsonl", rules)
    assert session.items == []


def _project_target(tmp_path: Path, target: str) -> None:
    """A target from the repository's settings (an unknown `--target` is a usage error instead)."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.curate]\ntarget = {json.dumps(target)}\n", encoding="utf-8")


def test_unknown_target_is_a_notice_not_a_cost_note(tmp_path: Path) -> None:
    _project_target(tmp_path, "nobody/unknown-model")
    code, out, _ = run("check", "clean.jsonl", *COST, "--fail-on", "info", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["findings"] == []
    assert [n.split(":", 1)[0] for n in doc["notices"]] == ["cost-estimate"]
    assert "'nobody/unknown-model' is not in the model table" in doc["notices"][0]
    assert "note" not in doc["stats"].get("cost", {})


def test_a_known_target_gives_no_notice() -> None:
    code, out, _ = run(
        "check", "clean.jsonl", "--select", "cost-estimate", "--target", "openai/gpt-4o-mini", "-f", "json"
    )
    assert code == 0 and json.loads(out)["notices"] == []


def test_notices_are_shown_through_the_door(tmp_path: Path) -> None:
    _project_target(tmp_path, "evil\x1b]0;owned\x07/jane.roe@gmail.com")
    code, out, _ = run("check", "clean.jsonl", *COST)
    assert code == 0 and "\x1b" not in out and "jane.roe@gmail.com" not in out
    assert "\\x1b]0;owned" in out
