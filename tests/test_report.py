"""curate report: three files, the HTML self-contained and escaped, Markdown and JSON with the sections."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_balance_texts import mixed, write_jsonl
from typer.testing import CliRunner

from curate.cli import app
from curate.reporters._svg import columns, hbars
from curate.reporters.markdown import code, esc

runner = CliRunner()


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    records = mixed({"en": 30, "de": 15, "zh": 5}, dup_every=10)
    records[0]["metadata"] = {"category": "<script>alert(1)</script>"}
    records[1]["messages"][1]["content"] = "Write me at jane.doe@example.com | <b>bold</b>"
    path = write_jsonl(tmp / "data.jsonl", records)
    out = tmp / "out"
    result = runner.invoke(
        app, ["report", str(path), "-o", str(out), "--select", "schema,tokens,balance,dedup,pii.secrets"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_three_files(reported: Path) -> None:
    assert sorted(p.name for p in reported.iterdir()) == ["report.html", "report.json", "report.md"]


def test_html_is_self_contained(reported: Path) -> None:
    page = (reported / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<svg" in page
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(", page, re.I)
    assert not re.search(r"(src|href)\s*=\s*['\"]?\s*(https?:)?//", page, re.I)


def test_html_escapes_dataset_text(reported: Path) -> None:
    page = (reported / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "<b>bold" not in page


def test_html_sections(reported: Path) -> None:
    page = (reported / "report.html").read_text(encoding="utf-8")
    for title in ("Findings by rule", "Token lengths", "Training cost", "Languages", "Categories", "Turns per example"):
        assert title in page
    # the target's limit is marked on the token histogram, or said in words when far right of the data
    assert "limit 65,536" in page or "the limit (65,536) is right of the chart" in page
    assert "Worst records per rule" in page


def test_json_sections(reported: Path) -> None:
    doc = json.loads((reported / "report.json").read_text(encoding="utf-8"))
    langs = doc["stats"]["languages"]
    assert set(langs) == {"en", "de", "zh"} and sum(langs.values()) == 55 and langs["en"] >= 30
    sections = doc["report"]
    assert {r["label"] for r in sections["languages"]["rows"]} >= {"en", "de", "zh"}
    assert sections["tokens"]["available"] and sections["tokens"]["limit"] == 65536
    assert sum(b["count"] for b in sections["tokens"]["histogram"]) == 55
    assert sections["turns"] == {"2": 55}
    assert any(r["rule"] == "exact-duplicate" for r in sections["rules"])
    assert sections["duplicates"]["clusters"]


def test_markdown(reported: Path) -> None:
    md = (reported / "report.md").read_text(encoding="utf-8")
    assert md.startswith("## curate dataset report")
    assert "| language | records | share | target |" in md
    assert "### Findings by rule" in md and "`exact-duplicate`" in md
    assert "<script>" not in md


def test_missing_families_say_not_available(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", mixed({"en": 5}))
    out = tmp_path / "o"
    result = runner.invoke(app, ["report", str(path), "-o", str(out), "--select", "schema"])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Token counts not available" in page and "Languages not available" in page
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "_Token counts not available" in md
    assert json.loads((out / "report.json").read_text())["report"]["tokens"]["available"] is False


def test_markdown_escaping() -> None:
    assert esc("a|b\n<c>") == "a\\|b \\<c\\>"
    assert code("x|`y`") == "`x\\|'y'`"


def test_svg_builders_escape_and_mark() -> None:
    svg = hbars([{"label": "<x>", "value": 3, "target": 0.5}])
    assert "&lt;x&gt;" in svg and "target 50%" in svg
    bins = [{"label": "1", "count": 2, "lo": 1, "hi": 2}, {"label": "2", "count": 0, "lo": 2, "hi": 4}]
    assert "limit 3" in columns(bins, marker=3, marker_label="limit 3")
    assert hbars([]) == "" and columns([]) == ""


def test_worst_records_are_distinct_records() -> None:
    from curate.model import Finding, Severity
    from curate.report import Report
    from curate.reporters.overview import findings_by_rule

    def f(line: int, n: int) -> Finding:
        return Finding("pii", "pii.entities", Severity.WARNING, "a.jsonl", line, "/x", f"hit {n}", f"fp{line}{n}")

    report = Report("t", [], findings=[f(1, i) for i in range(6)] + [f(2, 0), f(3, 0)])
    rows = findings_by_rule(report)
    assert [w["line"] for w in rows[0]["worst"]] == [1, 2, 3]  # line 1 first: most findings on the record
    assert rows[0]["findings"] == 8 and rows[0]["records"] == 3
