"""SARIF output: valid against the official SARIF 2.1.0 schema, and carrying what code scanning needs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import orjson
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.config import load_ruleset
from curate.reporters.sarif import FINGERPRINT_KEY, artifact_uri, to_sarif
from curate.run.engine import Engine, EngineOptions

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
GOOD = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}]}


def _dataset(tmp_path: Path) -> Path:
    lines = [orjson.dumps(GOOD).decode() for _ in range(3)]
    lines.insert(1, '{"messages": [{"role": "user", "content": "no answer"}]}')
    lines.insert(2, "{broken json")
    path = tmp_path / "data set.jsonl"  # a space: the URI must be percent-encoded
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(tmp_path)
    path = _dataset(tmp_path)
    rs = load_ruleset("default")
    report = Engine(rs.rules, options=EngineOptions(jobs=1), ruleset_name=rs.name).run([path.name])
    return to_sarif(report)


def test_validates_against_the_sarif_schema(sarif: dict) -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    errors = sorted(jsonschema.Draft4Validator(SCHEMA).iter_errors(sarif), key=str)
    assert errors == []


def test_schema_rejects_a_broken_log(sarif: dict) -> None:
    """The vendored schema is strict enough to catch mistakes (so the test above means something)."""
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    del broken["runs"][0]["tool"]["driver"]["name"]
    assert len(list(jsonschema.Draft4Validator(SCHEMA).iter_errors(broken))) == 2


def test_results_carry_rule_level_location_and_fingerprint(sarif: dict) -> None:
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids) and all(r["shortDescription"]["text"] for r in rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    missing = by_rule["missing-assistant"]
    assert missing["level"] == "error"
    assert rules[missing["ruleIndex"]]["id"] == "missing-assistant"
    loc = missing["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "data%20set.jsonl"
    assert loc["region"]["startLine"] == 2
    assert by_rule["invalid-json"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert all(len(r["partialFingerprints"][FINGERPRINT_KEY]) == 16 for r in run["results"])


def test_fingerprints_survive_inserted_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = _dataset(tmp_path)
    rs = load_ruleset("default")
    rules = [r for r in rs.rules if r.id == "missing-assistant"]

    def prints() -> tuple[list[str], list[int]]:
        run = to_sarif(Engine(rules, options=EngineOptions(jobs=1)).run([path.name]))["runs"][0]
        fps = [r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]]
        return fps, [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]]

    before, lines_before = prints()
    path.write_text(orjson.dumps(GOOD).decode() + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    after, lines_after = prints()
    assert before == after and lines_after == [n + 1 for n in lines_before]


def test_cli_format_sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CURATE_CACHE_DIR", str(tmp_path / "cache"))
    path = _dataset(tmp_path)
    result = CliRunner().invoke(app, ["check", path.name, "--format", "sarif", "--select", "schema"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["version"] == "2.1.0" and doc["runs"][0]["results"]
    assert list(jsonschema.Draft4Validator(SCHEMA).iter_errors(doc)) == []


@pytest.mark.parametrize(
    ("path", "uri"),
    [("data/train.jsonl", "data/train.jsonl"), ("./a b.json", "a%20b.json"), ("-", "stdin"), (None, "stdin")],
)
def test_artifact_uri(path: str | None, uri: str) -> None:
    assert artifact_uri(path) == uri
