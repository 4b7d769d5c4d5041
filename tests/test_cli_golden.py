"""Golden output of the terminal and JSON reporters on a file with planted defects.

Regenerate after an intended change with `CURATE_UPDATE_GOLDEN=1 pytest tests/test_cli_golden.py`
and review the diff. Runs with `--select schema` so other families' checks do not move it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CURATE_UPDATE_GOLDEN") == "1"


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(GOLDEN / "input.jsonl", tmp_path / "input.jsonl")
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    cmd = [sys.executable, "-m", "curate", "check", "input.jsonl", "--select", "schema", "--no-cache", "-j", "1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


def normalise_json(text: str) -> str:
    report = json.loads(text)
    report["tool"]["version"] = "<VERSION>"
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def normalise_terminal(text: str) -> str:
    return re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)


def compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; if intended, regenerate with CURATE_UPDATE_GOLDEN=1"


@pytest.mark.parametrize(
    ("args", "golden", "normalise"),
    [((), "terminal.txt", normalise_terminal), (("--format", "json"), "report.json", normalise_json)],
    ids=["terminal", "json"],
)
def test_golden_output(tmp_path, args, golden, normalise):
    proc = run_cli(tmp_path, *args)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    compare(golden, normalise(proc.stdout))
