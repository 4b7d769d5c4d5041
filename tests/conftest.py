from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sample_dir() -> Path:
    return ROOT / "sample_data"


@pytest.fixture(autouse=True)
def _one_run_pii_key_stays_in_its_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--no-cache` without a pii.key puts a one-run key in $CURATE_PII_KEY for its workers; in a
    CLI process that ends with the run, in the test process it would leak into every later test
    (and into a Ray runtime started later). Setting it here makes monkeypatch restore it."""
    import os

    monkeypatch.setenv("CURATE_PII_KEY", os.environ.get("CURATE_PII_KEY", ""))
