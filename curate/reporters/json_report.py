"""The versioned JSON report (format documented in docs/report-format.md)."""

from __future__ import annotations

import orjson

from curate.report import Report


def render_json(report: Report) -> bytes:
    return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
