"""One definition of duplicate counts: terminal, JSON, HTML, Markdown and export agree."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys


def run(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True, text=True, timeout=180, env=env)


def chat(q: str, a: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})


def write_data(tmp_path):
    import random

    vocab = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "po", "ru", "si", "tu") for b in range(250)]
    lines = []
    for i in range(30):
        rng = random.Random(i)
        q = " ".join(rng.choice(vocab) for _ in range(40))
        lines.append(chat(f"Question {i}: {q}", "Answer: " + " ".join(rng.choice(vocab) for _ in range(40))))
    lines.append(lines[0])  # exact copies
    lines.append(lines[0])
    lines.append(lines[3])
    lines.append(lines[5].replace("Question 5:", "Question five:"))  # near copies
    lines.append(lines[7].replace("Answer:", "The answer:"))
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_output_gives_the_same_duplicate_counts(tmp_path):
    path = write_data(tmp_path)
    proc = run(tmp_path, "check", str(path), "-s", "dedup.exact,dedup.near", "-f", "json")
    report = json.loads(proc.stdout)
    counts = report["summary"]["duplicates"]
    findings = [f for f in report["findings"] if f["check"] in ("dedup.exact", "dedup.near")]
    assert counts["would_drop"] == len({f["line"] for f in findings}) == 5
    assert counts["by_kind"]["exact"]["would_drop"] == 3 and counts["by_kind"]["near"]["would_drop"] == 2

    text = run(tmp_path, "check", str(path), "-s", "dedup.exact,dedup.near").stdout
    assert f"duplicates in all: {counts['would_drop']} records to drop in {counts['clusters']} clusters" in text

    out = tmp_path / "report"
    assert run(tmp_path, "report", str(path), "-s", "dedup.exact,dedup.near", "-o", str(out)).returncode in (0, 1)
    md = (out / "report.md").read_text()
    row = re.search(r"\| all \(what --drop-duplicates removes\) \| (\d+) \| (\d+) \|", md)
    assert row and (int(row.group(1)), int(row.group(2))) == (counts["clusters"], counts["would_drop"])
    html = (out / "report.html").read_text()
    card = re.search(r'<div class="n">(\d+)</div><div class="k">duplicates</div>', html)
    assert card and int(card.group(1)) == counts["would_drop"]

    exported = run(tmp_path, "export", str(path), "--drop-duplicates", "-o", str(tmp_path / "clean.jsonl"))
    assert exported.returncode == 0, exported.stderr
    kept = (tmp_path / "clean.jsonl").read_text().splitlines()
    assert len(kept) == 35 - counts["would_drop"]
