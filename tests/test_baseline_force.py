"""`curate baseline` never buries a leaked secret or an unreadable record unless told to (--force)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys


def run(cwd, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CURATE_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True, timeout=120, cwd=cwd, env=env)


def remaining_rules(cwd) -> set[str]:
    proc = run(cwd, "check", "support_chat.jsonl", "--format", "json")
    return {f["rule"] for f in json.loads(proc.stdout)["findings"]}


def test_secrets_and_unreadable_records_are_held_back(tmp_path, sample_dir):
    shutil.copy(sample_dir / "support_chat.jsonl", tmp_path)
    proc = run(tmp_path, "baseline", "support_chat.jsonl")
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "not baselined:" in err and "secret-in-text" in err and "invalid-json" in err and "--force" in err
    assert {"secret-in-text", "invalid-json"} <= remaining_rules(tmp_path)
    # everything else was accepted: only the held-back rules remain
    assert remaining_rules(tmp_path) <= {"secret-in-text", "invalid-json", "invalid-utf8", "not-an-object"}


def test_force_baselines_everything(tmp_path, sample_dir):
    shutil.copy(sample_dir / "support_chat.jsonl", tmp_path)
    proc = run(tmp_path, "baseline", "support_chat.jsonl", "--force")
    assert proc.returncode == 0, proc.stderr
    assert b"not baselined" not in proc.stderr
    assert remaining_rules(tmp_path) == set()
