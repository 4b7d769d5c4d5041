"""YAML case files for the quality checks: one file per check, each case a record and what it should raise.

A case gives `record` (any format), or `text` (an assistant answer, with `prompt` as the user
turn), or `records` (a list, for dataset checks); optional `params` and `roles`; and `expect`:
a list of hits, each with optional `field`, `contains` (in the message), `data` (a subset),
`spans` (the matched substrings, checked against the text at `field`) and `fixed` (the text at
`field` after the check's fix, or null for no fix). `expect: []` is a non-hit.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from curate.check import DatasetCheck, RecordRef, RunContext, RunState
from curate.fixes import get_pointer
from curate.model import Hit, Record
from curate.registry import load_registry

CASES = Path(__file__).parent / "cases" / "quality"


def _load() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append((doc["check"], path.stem, case))
    return out


ALL = _load()


def _record(case: dict[str, Any], data: Any = None, line: int = 1) -> Record:
    if data is None:
        data = case.get("record")
    if data is None:
        prompt = case.get("prompt", "Please help me with this task, thank you.")
        data = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": case["text"]}]}
    return Record("case.jsonl", line, data)


def run_case(check_id: str, case: dict[str, Any]) -> tuple[list[Hit], list[Record], Any]:
    cls = load_registry().get(check_id)
    assert cls is not None, f"{check_id} is not registered"
    params = cls.Params.model_validate(case.get("params") or {})
    roles = frozenset(case["roles"]) if case.get("roles") else None
    check = cls(params, RunContext(), roles)
    if isinstance(check, DatasetCheck):
        records = [_record(case, data, i + 1) for i, data in enumerate(case["records"])]
        for r in records:
            check.observe(RecordRef(r.path, r.line, r.key, r.format, r.stats), check.extract(r))
        return list(check.finalize(RunState({}, len(records), [], RunContext()))), records, check
    record = _record(case)
    return list(check.check(record)), [record], check


@pytest.mark.parametrize(
    ("check_id", "case"), [(c, k) for c, _, k in ALL], ids=[f"{f}::{k['name']}" for _, f, k in ALL]
)
def test_case(check_id: str, case: dict[str, Any]) -> None:
    hits, records, check = run_case(check_id, case)
    expect = case["expect"]
    assert len(hits) == len(expect), [h.message for h in hits]
    for hit, want in zip(hits, expect, strict=True):
        if "field" in want:
            assert hit.field == want["field"]
        if "contains" in want:
            assert want["contains"] in hit.message
        for key, value in (want.get("data") or {}).items():
            assert hit.data.get(key) == value, (key, hit.data)
        text = get_pointer(records[0].data, hit.field) if hit.field else None
        if "spans" in want:
            assert isinstance(text, str)
            assert [text[s:e] for s, e in hit.data["spans"]] == want["spans"]
        if "fixed" in want:
            new = check.fix(copy.deepcopy(records[0].data), hit)
            if want["fixed"] is None:
                assert new is None
            else:
                assert new is not None and get_pointer(new, hit.field) == want["fixed"]
                assert records[0].data != new  # the input record is never changed


def test_every_quality_check_has_hits_and_non_hits() -> None:
    from curate.checks.quality import CHECKS

    by_check: dict[str, list[dict[str, Any]]] = {}
    for check_id, _, case in ALL:
        by_check.setdefault(check_id, []).append(case)
    for cls in CHECKS:
        cases = by_check.get(cls.id, [])
        assert any(c["expect"] for c in cases), f"{cls.id}: no case with a hit"
        assert any(not c["expect"] for c in cases), f"{cls.id}: no case without a hit"


def test_every_quality_check_example_triggers_it() -> None:
    """The `example` shown by `curate rules explain` must really raise the check (with defaults)."""
    import json

    from curate.checks.quality import CHECKS

    for cls in CHECKS:
        if cls.id in ("quality.length", "quality.pattern", "quality.field", "quality.refusal_share"):
            continue  # configured per rule: no finding without parameters
        hits, _, _ = run_case(cls.id, {"record": json.loads(cls.example)})
        assert hits, f"{cls.id}: its example raises nothing"
