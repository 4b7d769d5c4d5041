"""Every schema check, driven by its YAML case file in tests/cases/schema/."""

from __future__ import annotations

import pytest
import yaml
from schema_cases import CASES_DIR, assert_matches, load_cases, run_case

from curate.registry import load_registry

CASES = load_cases()


@pytest.mark.parametrize(
    ("check_id", "case"), [(c, case) for c, _, case in CASES], ids=[f"{c}:{n}" for c, n, _ in CASES]
)
def test_schema_case(check_id, case, tmp_path):
    assert_matches(run_case(check_id, case, tmp_path), case["expect"])


def test_every_schema_check_has_passing_and_failing_cases():
    covered: dict[str, tuple[int, int]] = {}
    for path in CASES_DIR.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        passing = sum(1 for c in doc["cases"] if not c["expect"])
        failing = sum(1 for c in doc["cases"] if c["expect"])
        covered[doc["check"]] = (passing, failing)
    schema = sorted(c for c in load_registry().checks if c.startswith("schema."))
    missing = [c for c in schema if c not in covered or 0 in covered[c]]
    assert not missing, f"schema checks without both pass and fail cases: {missing}"


def test_every_schema_check_documents_itself():
    for check_id, cls in load_registry().checks.items():
        if not check_id.startswith("schema."):
            continue
        assert cls.description and cls.description.endswith((".", ")")), check_id
        assert cls.example, check_id
        assert cls.Params.model_config.get("extra") == "forbid", check_id
