"""Baseline and decisions: accepted findings do not fail `curate check`, and stay accepted when lines move."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curate.baseline import Baseline, Entry, load_baseline
from curate.cli import app
from curate.decisions import Decision, load_decisions
from curate.yamlfile import ConfigError

SECRET = "Contact jane.roe@example.com"
GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}]}
NO_ANSWER = {"messages": [{"role": "user", "content": SECRET}]}
BAD_ROLE = {"messages": [{"role": "narrator", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
SCHEMA = ["--select", "schema"]


def good(i: int) -> dict:
    return {
        "messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i}."}]
    }


def write(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))


def test_baseline_accepts_current_findings_and_fails_on_new_ones(tmp_path: Path) -> None:
    data = write(tmp_path / "d.jsonl", [good(i) for i in range(10)] + [NO_ANSWER])
    assert run("check", "d.jsonl", *SCHEMA)[0] == 1
    code, _, err = run("baseline", "d.jsonl", *SCHEMA)
    assert code == 0 and "1 added" in err
    code, out, _ = run("check", "d.jsonl", *SCHEMA, "--format", "json")
    summary = json.loads(out)["summary"]
    assert code == 0 and summary["findings"] == 0 and summary["suppressed"] == 1
    write(data, [good(i) for i in range(10)] + [NO_ANSWER, BAD_ROLE])  # a new problem
    code, out, _ = run("check", "d.jsonl", *SCHEMA, "--format", "json")
    report = json.loads(out)
    assert code == 1 and [f["rule"] for f in report["findings"]] == ["invalid-role"]
    assert report["summary"]["suppressed"] == 1


def test_inserting_lines_above_does_not_reraise(tmp_path: Path) -> None:
    data = write(tmp_path / "d.jsonl", [good(i) for i in range(10)] + [NO_ANSWER])
    run("baseline", "d.jsonl", *SCHEMA)
    write(data, [good(i) for i in range(100, 105)] + [good(i) for i in range(10)] + [NO_ANSWER])
    code, out, _ = run("check", "d.jsonl", *SCHEMA, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["suppressed"] == 1
    write(data, [good(i) for i in range(10)] + [{**NO_ANSWER, "id": 7}])  # editing the record re-raises it
    assert run("check", "d.jsonl", *SCHEMA)[0] == 1


def test_baseline_file_is_sorted_and_holds_no_text_or_lines(tmp_path: Path) -> None:
    write(tmp_path / "b.jsonl", [good(i) for i in range(10)] + [NO_ANSWER, BAD_ROLE])
    write(tmp_path / "a.jsonl", [good(i) for i in range(10)] + [NO_ANSWER])
    run("baseline", "b.jsonl", "a.jsonl", *SCHEMA, "-o", "accepted.json")
    text = (tmp_path / "accepted.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    entries = doc["findings"]
    assert [e["path"] for e in entries] == ["a.jsonl", "b.jsonl", "b.jsonl"]
    assert entries == sorted(entries, key=lambda e: (e["path"], e["rule"], e["key"], e["fingerprint"]))
    assert set(entries[0]) == {"path", "rule", "key", "fingerprint"}
    assert "jane" not in text and "narrator" not in text and '"line"' not in text
    assert run("check", "a.jsonl", "b.jsonl", *SCHEMA, "--baseline", "accepted.json")[0] == 0
    assert run("check", "a.jsonl", "b.jsonl", *SCHEMA)[0] == 1  # not the default name: not found by itself


def test_update_replaces_checked_files_and_keeps_others(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", [good(i) for i in range(10)] + [NO_ANSWER])
    b = write(tmp_path / "b.jsonl", [good(i) for i in range(10)] + [BAD_ROLE])
    run("baseline", "a.jsonl", "b.jsonl", *SCHEMA)
    write(b, [good(i) for i in range(11)])  # b fixed
    code, _, err = run("baseline", "b.jsonl", *SCHEMA)
    assert code == 0 and "0 added, 1 removed" in err
    entries = load_baseline(tmp_path / ".curate-baseline.json").entries
    assert {e.path for e in entries} == {"a.jsonl"}


def test_decisions_file_accepts_a_finding(tmp_path: Path) -> None:
    write(tmp_path / "d.jsonl", [good(i) for i in range(10)] + [NO_ANSWER, BAD_ROLE])
    code, out, _ = run("check", "d.jsonl", *SCHEMA, "--format", "json")
    finding = next(f for f in json.loads(out)["findings"] if f["rule"] == "missing-assistant")
    log = load_decisions(tmp_path / "d.jsonl")
    log.add(Decision(finding["key"], "accept", rule=finding["rule"], fingerprint=finding["fingerprint"]))
    log.save()
    assert (tmp_path / "d.decisions.yaml").is_file()
    code, out, _ = run("check", "d.jsonl", *SCHEMA, "--format", "json")
    report = json.loads(out)
    assert code == 1 and [f["rule"] for f in report["findings"]] == ["invalid-role"]
    assert report["summary"]["suppressed"] == 1


def test_malformed_baseline_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "d.jsonl", [good(i) for i in range(10)])
    (tmp_path / ".curate-baseline.json").write_text('{"findings": 3}', encoding="utf-8")
    code, _, err = run("check", "d.jsonl", *SCHEMA)
    assert code == 2 and "baseline" in err
    with pytest.raises(ConfigError):
        load_baseline(tmp_path / ".curate-baseline.json")
    assert run("check", "d.jsonl", *SCHEMA, "--baseline", "missing.json")[0] == 2


def test_entry_paths_are_relative_to_the_baseline(tmp_path: Path) -> None:
    base = Baseline(tmp_path / "ci" / "baseline.json")
    assert base.rel(str(tmp_path / "data" / "x.jsonl")) == "../data/x.jsonl"
    base.entries = {Entry("b", "r", "k", "2"), Entry("a", "r", "k", "1")}
    base.save()
    assert [e.fingerprint for e in sorted(load_baseline(base.path).entries)] == ["1", "2"]


def test_check_reads_a_json_object_as_a_record(tmp_path: Path) -> None:
    """A file holding one JSON object is a record, not skipped: a gate that checked nothing never passes."""
    (tmp_path / "one.json").write_text(json.dumps(NO_ANSWER, indent=2), encoding="utf-8")
    code, out, _ = run("check", "one.json", *SCHEMA, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["datasets"][0]["layout"] == "json-object"
    assert "missing-assistant" in {f["rule"] for f in report["findings"]}


def test_check_of_nothing_readable_exits_2_naming_each_input(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_bytes(b"\n\n")
    code, _, err = run("check", "empty.jsonl", "blank.jsonl", *SCHEMA)
    assert code == 2
    assert "empty.jsonl (jsonl): empty file" in err and "blank.jsonl (jsonl): no records" in err


def test_project_checks_configured_datasets(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.curate]\ndatasets = ["data/*.jsonl"]\n', encoding="utf-8")
    (tmp_path / "data").mkdir()
    write(tmp_path / "data" / "a.jsonl", [good(i) for i in range(10)])
    write(tmp_path / "data" / "b.jsonl", [good(i) for i in range(10)] + [NO_ANSWER])
    write(tmp_path / "other.jsonl", [good(i) for i in range(10)])
    code, out, _ = run("check", "--project", "other.jsonl", *SCHEMA, "--format", "json")
    paths = [d["path"] for d in json.loads(out)["datasets"]]
    assert code == 1 and paths == ["other.jsonl", "data/a.jsonl", "data/b.jsonl"]
    code, out, _ = run("check", *SCHEMA, "--format", "json")  # no paths: the configured datasets
    assert [d["path"] for d in json.loads(out)["datasets"]] == ["data/a.jsonl", "data/b.jsonl"]


def test_project_without_datasets_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("check", "--project")
    assert code == 2 and "datasets" in err
