"""After a review, `curate check` says which findings wait for `curate export` instead of hiding it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from review_data import open_session, write_dataset  # noqa: E402


def check_json(path: Path) -> dict:
    env = {**os.environ, "CURATE_CACHE_DIR": str(path.parent / "cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "curate", "check", str(path), "-f", "json", "-s", "schema,dedup.exact"],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_dropped_record_findings_are_announced_as_pending_export(tmp_path):
    path = write_dataset(tmp_path)
    assert not any("curate export" in n for n in check_json(path)["notices"])
    session = open_session(path)
    session.goto(next(p for p, i in enumerate(session.view) if session.items[i].line == 6))
    session.drop()  # line 6: missing assistant
    report = check_json(path)
    notices = [n for n in report["notices"] if "curate export" in n]
    assert len(notices) == 1
    on_line_6 = sum(1 for f in report["findings"] if f["line"] == 6)
    assert notices[0].startswith(f"{on_line_6} finding")
    assert report["summary"]["findings"] == len(report["findings"])  # notices are not findings
