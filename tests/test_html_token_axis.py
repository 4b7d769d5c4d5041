"""The report's token chart spans the data, not the model's 65k limit; a far limit is said in words."""

from __future__ import annotations

from curate.reporters.html import _to_the_data


def bins(counts: list[int]) -> list[dict]:
    return [{"label": str(2**i), "count": c, "lo": 2**i, "hi": 2 ** (i + 1), "axis": "t"} for i, c in enumerate(counts)]


def test_empty_bins_beyond_the_data_are_dropped_with_one_of_margin():
    out = _to_the_data(bins([0, 0, 3, 9, 2] + [0] * 12))
    assert [b["count"] for b in out] == [0, 3, 9, 2, 0]
    assert out[-1]["hi"] == 64


def test_no_data_keeps_the_bins():
    assert len(_to_the_data(bins([0, 0, 0]))) == 3


def test_report_says_when_the_limit_is_off_the_chart(tmp_path, sample_dir):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "curate", "report", str(sample_dir), "-o", str(tmp_path / "r"), "-s", "tokens"],
        capture_output=True,
        timeout=180,
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr
    html = (tmp_path / "r" / "report.html").read_text()
    assert "is right of the chart: every example is shorter" in html
    assert "65.5k" not in html and "65536</text>" not in html
