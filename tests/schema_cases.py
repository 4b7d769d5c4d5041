"""Run one schema case (a YAML table row) through the real engine: file on disk -> reader -> check.

A case gives the dataset as `record` (one object), `records` (a list) or `text` (the raw file,
for defects of the bytes; `latin1: true` encodes it as Latin-1; `deep: N` turns
<DEEP> into N nested brackets); `input_format` and `role_map` are the CLI options. `expect` lists the hits in
file order: each may pin `line`, `field`, `message` (a substring) and `data` (a subset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml

from curate.check import RunContext
from curate.config import Rule
from curate.io.reader import ReadOptions
from curate.model import Finding
from curate.registry import load_registry
from curate.run.engine import Engine, EngineOptions

CASES_DIR = Path(__file__).parent / "cases" / "schema"


def load_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(check id, case name, case) for every case of every file."""
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append((doc["check"], case["name"], case))
    return out


def dataset_bytes(case: dict[str, Any]) -> bytes:
    if "text" in case:
        text = case["text"]
        if case.get("deep"):
            text = text.replace("<DEEP>", "[" * case["deep"] + "]" * case["deep"])
        return text.encode("latin-1" if case.get("latin1") else "utf-8")
    records = case["records"] if "records" in case else [case["record"]]
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def run_case(check_id: str, case: dict[str, Any], tmp: Path) -> list[Finding]:
    cls = load_registry().checks[check_id]
    rule = Rule(
        id="rule-under-test",
        check=check_id,
        severity=cls.default_severity,
        params=cls.Params.model_validate(case.get("params", {})),
        roles=frozenset(case["roles"]) if case.get("roles") else None,
        source="test",
        description=cls.description,
    )
    path = tmp / ("data" + case.get("suffix", ".jsonl"))
    path.write_bytes(dataset_bytes(case))
    read = ReadOptions(max_line_bytes=case.get("max_line_bytes", ReadOptions().max_line_bytes))
    hint = None
    if case.get("input_format") or case.get("role_map"):
        from curate.formats import FormatHint
        from curate.formats.roles import parse_role_map

        hint = FormatHint(case.get("input_format"), parse_role_map(case.get("role_map") or ()))
    options = EngineOptions(jobs=1, read=read, input_format=hint)
    settings: dict[str, Any] = {}
    if case.get("dataset_info"):  # schema.trainer_config: a LLaMA-Factory dataset_info.json beside the data
        import json

        (tmp / "dataset_info.json").write_text(json.dumps(case["dataset_info"]), encoding="utf-8")
        settings["trainer_config"] = f"llamafactory:{tmp / 'dataset_info.json'}"
    ctx = RunContext(target=case.get("target", "openai/gpt-4o-mini"), settings=settings)
    engine = Engine([rule], ctx, options)
    report = engine.run([str(path)])
    assert report.errors == [], report.errors
    return report.findings


def assert_matches(findings: list[Finding], expect: list[dict[str, Any]]) -> None:
    got = [f"{f.line}: {f.field} {f.message}" for f in findings]
    assert len(findings) == len(expect), f"expected {len(expect)} findings, got {got}"
    for finding, want in zip(findings, expect, strict=True):
        if "line" in want:
            assert finding.line == want["line"], got
        if "field" in want:
            assert finding.field == want["field"], got
        if "message" in want:
            assert want["message"] in finding.message, got
        for key, value in (want.get("data") or {}).items():
            assert finding.data.get(key) == value, (key, finding.data)
        # every finding says how to fix it
        assert finding.fix and len(finding.fix) > 10, finding
