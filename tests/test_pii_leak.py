"""The tool must not leak: no planted value in stdout, stderr, reports, fingerprints or caches."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from curate.checks.pii.synth import TEMPLATES, faker, planted

TYPES = [e for e in TEMPLATES if e not in ("PERSON", "LOCATION")]


@pytest.fixture(scope="module")
def planted_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    r, fake = random.Random(11), faker(11)
    lines, values = [], []
    for i in range(12):
        entity = TYPES[i % len(TYPES)]
        p = planted(entity, fake, r)
        s, e, _ = p.spans[0]
        values.append(p.text[s:e])
        other = planted(TYPES[(i + 5) % len(TYPES)], fake, r)
        values.append(other.text[other.spans[0][0] : other.spans[0][1]])
        msgs = [
            {"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": p.text},
            {"role": "assistant", "content": other.text},
        ]
        lines.append(json.dumps({"messages": msgs}))
    # a malformed line quoting PII: read errors must not echo it either
    lines.append('{"messages": [{"role": "user", "content": "' + values[0] + '"')
    path = tmp_path_factory.mktemp("leak") / "planted.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, values


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "curate", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _assert_clean(blob: str, values: list[str], where: str) -> None:
    for v in values:
        assert v not in blob, f"{where} leaks a planted value ({len(v)} chars)"
        core = v.split("\n")[1] if "PRIVATE KEY" in v else v  # a key's body alone is a leak too
        assert core not in blob, f"{where} leaks part of a planted value"


def test_check_outputs_and_cache_hold_no_raw_value(planted_file: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, values = planted_file
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("CURATE_PII_KEY", None)
    report_json = _run(["check", str(path), "--format", "json"], env)
    report = json.loads(report_json.stdout)
    pii = [f for f in report["findings"] if f["check"].startswith("pii.")]
    assert len(pii) >= len(values) - 2  # the planted values are found (masked) ...
    assert all(f["data"]["masked"] != "" and f["fingerprint"] for f in pii if "masked" in f["data"])
    assert "active_entities" in report["stats"]["pii"]
    text = _run(["check", str(path), "--all", "--verbose"], env)  # second run reads the cache
    sarif = _run(["check", str(path), "--format", "sarif"], env)
    for name, proc in (("json", report_json), ("text", text), ("sarif", sarif)):
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        _assert_clean(proc.stdout, values, f"{name} stdout")  # ... but never shown raw
        _assert_clean(proc.stderr, values, f"{name} stderr")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files, "expected the result cache and the key file to be written"
    for p in files:
        _assert_clean(p.read_bytes().decode("utf-8", "replace"), values, f"file {p.name}")
    import sqlite3

    stores = [sqlite3.connect(p) for p in files if p.suffix == ".sqlite"]
    entries = sum(con.execute("select count(*) from results").fetchone()[0] for con in stores)
    for con in stores:
        con.close()
    assert entries > 0  # the findings really are in the cache that was scanned (sealed: not readable here)
    assert path.read_text(encoding="utf-8").count(values[0]) >= 1  # the input itself is untouched
