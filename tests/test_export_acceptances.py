"""Findings accepted in review stay accepted on the exported file (issue 21): committing the export
must not bring them back in pre-commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from review_data import open_session, write_dataset  # noqa: E402


def findings(path: Path, env: dict) -> set[tuple[str, int | None]]:
    proc = subprocess.run(
        [sys.executable, "-m", "curate", "check", str(path), "-s", "schema,dedup.exact", "-f", "json"],
        capture_output=True,
        timeout=120,
        env=env,
    )
    return {(f["rule"], f["line"]) for f in json.loads(proc.stdout)["findings"]}


def test_acceptances_are_carried_to_the_export(tmp_path):
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    path = write_dataset(tmp_path)
    session = open_session(path)
    session.goto(next(i for i, at in enumerate(session.view) if session.items[at].line == 3))
    session.accept()  # special-tokens on line 3
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "curate", "export", str(path), "-o", str(out)], capture_output=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert b"carried to" in proc.stderr
    assert (tmp_path / "out.decisions.yaml").is_file()
    assert not any(rule == "special-tokens" for rule, _ in findings(out, env))
    (tmp_path / "out.decisions.yaml").unlink()  # without the carried decisions it would come back
    assert ("special-tokens", 3) in findings(out, env)
