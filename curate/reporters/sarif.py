"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

Each finding becomes a result with the rule id, a level, the file and line, and the finding's
fingerprint as a partial fingerprint: it is built from the record's content, never its line,
so code scanning keeps a finding's identity (and its dismissal) when lines move.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from curate import __version__
from curate.display import shown
from curate.io.location import is_table_path
from curate.model import Finding, Severity
from curate.report import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "curateFingerprint/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def artifact_uri(path: str | None) -> str:
    """A relative, percent-encoded POSIX URI: code scanning resolves it against the repository root."""
    if not path or path == "-":
        return "stdin"
    p = Path(shown(path, None))  # a file name can hold PII or escapes too
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_uri()
    return quote(p.as_posix().removeprefix("./"), safe="/")


def _rule_descriptor(rule: Any) -> dict[str, Any]:
    family = rule.check.split(".", 1)[0]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": shown(rule.description or rule.check, None)},
        "fullDescription": {"text": shown(f"{rule.description} (check {rule.check})", None)},
        "help": {"text": f"curate rules explain {rule.id}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"check": rule.check, "tags": ["curate", family]},
    }


def _result(
    f: Finding, index: dict[str, int], fallback_path: str | None, row_paths: frozenset[str] = frozenset()
) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(f.path or fallback_path)}}
    by_row = f.line is not None and is_table_path(f.path, row_paths)
    if not by_row:  # a table's row is no line of the file: the row goes in the message and properties
        physical["region"] = {"startLine": f.line if f.line is not None and f.line >= 1 else 1}
    location: dict[str, Any] = {"physicalLocation": physical}
    if f.field:
        location["logicalLocations"] = [{"fullyQualifiedName": f.field, "kind": "member"}]
    message = shown(f.message, None)
    text = message if message.endswith(".") else message + "."
    if by_row:
        text = f"Row {f.line}: {text}"
    if f.fix:
        text += f" Fix: {shown(f.fix, None)}"
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "level": LEVELS[f.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"check": f.check, "severity": str(f.severity)},
    }
    if f.rule in index:
        result["ruleIndex"] = index[f.rule]
    if f.key:
        result["properties"]["recordKey"] = shown(f.key, None)
    if by_row:
        result["properties"]["row"] = f.line
    return result


def to_sarif(report: Report) -> dict[str, Any]:
    rules = sorted(report.rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    fallback = report.datasets[0].path if report.datasets else None
    # check failures are errors; run notices (a model missing, a target unknown) are notes about the
    # run, never results: code scanning shows them with the tool's run, not on any file's line
    notifications = [{"level": "error", "message": {"text": shown(err, None)}} for err in report.errors]
    notifications += [{"level": "note", "message": {"text": shown(note, None)}} for note in report.notices]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.errors,
        "workingDirectory": {"uri": Path.cwd().as_uri()},
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "curate",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule_descriptor(r) for r in rules],
                    }
                },
                "invocations": [invocation],
                "artifacts": [
                    {"location": {"uri": artifact_uri(d.path)}, "roles": ["analysisTarget"], "mimeType": _mime(d.path)}
                    for d in report.datasets
                ],
                "results": [_result(f, index, fallback, report.row_paths) for f in report.findings],
                "columnKind": "unicodeCodePoints",
                "properties": {"ruleset": report.ruleset, "target": report.target, "suppressed": report.suppressed},
            }
        ],
    }


def _mime(path: str) -> str:
    return "application/json" if os.path.splitext(path)[1] == ".json" else "application/jsonl"


def render_sarif(report: Report) -> bytes:
    return orjson.dumps(to_sarif(report), option=orjson.OPT_INDENT_2) + b"\n"
