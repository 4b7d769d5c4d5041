"""Defects of the raw bytes, found by the reader and reported here under their own rule ids."""

from __future__ import annotations

from collections.abc import Iterable

from curate.check import RecordCheck
from curate.model import Hit, Record, Severity


class ReadProblemCheck(RecordCheck):
    """Reports the reader's problems whose code equals this check's id."""

    runs_on_invalid = True
    fix_hint: str = ""

    def check(self, record: Record) -> Iterable[Hit]:
        # a plain function, not a generator: ten of these run on every record, and most have no problems
        if not record.problems:
            return ()
        return [
            Hit(p.message, data=dict(p.data), fix=self.fix_hint or None, identity=p.message)
            for p in record.problems
            if p.code == self.id
        ]


def _read_check(check_id: str, description: str, severity: Severity, fix: str, example: str) -> type[ReadProblemCheck]:
    name = "".join(part.title() for part in check_id.split(".")[1].split("_")) + "Check"
    return type(
        name,
        (ReadProblemCheck,),
        {
            "id": check_id,
            "description": description,
            "default_severity": severity,
            "fix_hint": fix,
            "example": example,
            "__doc__": description,
        },
    )


READ_CHECKS = [
    _read_check(
        "schema.invalid_json",
        "A line that is not valid JSON; the upload fails on it.",
        Severity.ERROR,
        "Repair the JSON on this line (an unescaped quote or a truncated line is the usual cause) or delete the line.",
        '{"messages": [{"role": "user", "content": "hi"}',
    ),
    _read_check(
        "schema.encoding",
        "Bytes that are not valid UTF-8; loaders either fail or silently corrupt the text.",
        Severity.ERROR,
        "Re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).",
        "caf\\xe9 written in Latin-1",
    ),
    _read_check(
        "schema.bom",
        "A UTF-8 byte-order mark at the start of the file; strict JSONL readers fail on the first line.",
        Severity.WARNING,
        "Save the file as UTF-8 without BOM.",
        "\\ufeff{...}",
    ),
    _read_check(
        "schema.crlf",
        "Windows (CRLF) line endings; most tools cope, some count the \\r as content.",
        Severity.INFO,
        "Convert line endings to LF (dos2unix).",
        '{"text": "hi"}\\r\\n',
    ),
    _read_check(
        "schema.blank_line",
        "An empty line inside a JSONL file; some uploaders reject it as an invalid record.",
        Severity.WARNING,
        "Delete the blank line.",
        "(an empty line)",
    ),
    _read_check(
        "schema.not_object",
        "A record that is valid JSON but not an object (an array, string or number).",
        Severity.ERROR,
        'Each line must be one JSON object, e.g. {"messages": [...]}.',
        '["user", "hi"]',
    ),
    _read_check(
        "schema.nan_literal",
        "NaN or Infinity literals: accepted by Python, rejected by strict JSON parsers.",
        Severity.ERROR,
        "Replace NaN/Infinity with null or a number.",
        '{"text": "hi", "score": NaN}',
    ),
    _read_check(
        "schema.duplicate_key",
        "The same key twice in one object; which value wins depends on the loader.",
        Severity.ERROR,
        "Keep one of the duplicated keys.",
        '{"text": "a", "text": "b"}',
    ),
    _read_check(
        "schema.nesting",
        "Pathologically deep nesting that crashes recursive JSON loaders.",
        Severity.ERROR,
        "Flatten the structure; chat data never needs more than a few levels.",
        "[[[[[[ ... 100,000 levels ... ]]]]]]",
    ),
    _read_check(
        "schema.long_line",
        "A line longer than the configured byte limit; usually a concatenation accident or an embedded file.",
        Severity.WARNING,
        "Split or shorten the record; check the line was not joined with the next one.",
        "(a 5 MB line)",
    ),
]
