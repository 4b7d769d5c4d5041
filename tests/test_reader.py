# ruff: noqa: E501 - tables of records read best one case per line
"""The reader: every defect of the raw bytes becomes a problem at its line, and reading goes on."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from curate.io.reader import FileStats, ReadOptions, iter_records

GOOD = b'{"text": "ok"}'


def read(tmp_path, blob: bytes, name: str = "d.jsonl", **options):
    path = tmp_path / name
    path.write_bytes(blob)
    stats = FileStats()
    records = list(iter_records(str(path), ReadOptions(**options), stats))
    return records, stats


def codes(record) -> list[str]:
    return [p.code for p in record.problems]


# (name, file bytes, [(line, problem codes, parsed ok)])
TABLE = [
    ("clean", GOOD + b"\n" + GOOD + b"\n", [(1, [], True), (2, [], True)]),
    ("no final newline", GOOD + b"\n" + GOOD, [(1, [], True), (2, [], True)]),
    ("invalid JSON", GOOD + b'\n{"text": \n' + GOOD + b"\n", [(1, [], True), (2, ["schema.invalid_json"], False), (3, [], True)]),
    ("invalid UTF-8", b'{"text": "caf\xe9"}\n' + GOOD + b"\n", [(1, ["schema.encoding"], True), (2, [], True)]),
    ("BOM", b"\xef\xbb\xbf" + GOOD + b"\n" + GOOD + b"\n", [(1, ["schema.bom"], True), (2, [], True)]),
    ("CRLF once per file", GOOD + b"\r\n" + GOOD + b"\r\n", [(1, ["schema.crlf"], True), (2, [], True)]),
    ("blank lines", GOOD + b"\n\n  \n" + GOOD + b"\n", [(1, [], True), (2, ["schema.blank_line"], False), (3, ["schema.blank_line"], False), (4, [], True)]),
    ("not an object", b"[1, 2]\n" + GOOD + b"\n", [(1, ["schema.not_object"], False), (2, [], True)]),
    ("NaN and Infinity", b'{"a": NaN, "b": -Infinity}\n', [(1, ["schema.nan_literal"], True)]),
    ("duplicate keys", b'{"text": "a", "text": "b"}\n', [(1, ["schema.duplicate_key"], True)]),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000 + b"\n" + GOOD + b"\n", [(1, ["schema.nesting"], False), (2, [], True)]),
]  # fmt: skip


@pytest.mark.parametrize(("blob", "expected"), [(b, e) for _, b, e in TABLE], ids=[n for n, _, _ in TABLE])
def test_defects_become_problems_at_their_line(tmp_path, blob, expected):
    records, _ = read(tmp_path, blob)
    assert [(r.line, codes(r), r.ok) for r in records] == expected


def test_invalid_json_names_the_column(tmp_path):
    records, _ = read(tmp_path, b'{"text": "a" "b"}\n')
    (problem,) = records[0].problems
    assert problem.data == {"column": 14}
    assert "column 14" in problem.message


def test_duplicate_key_keeps_a_value_and_names_the_key(tmp_path):
    records, _ = read(tmp_path, b'{"messages": [{"role": "user", "role": "assistant", "content": "x"}]}\n')
    assert records[0].ok
    assert [p.data for p in records[0].problems] == [{"key": "role"}]


def test_very_long_line_is_flagged_and_still_parsed(tmp_path):
    big = orjson.dumps({"text": "x" * 3_000_000})
    records, _ = read(tmp_path, big + b"\n" + GOOD + b"\n", max_line_bytes=1_000_000)
    assert codes(records[0]) == ["schema.long_line"]
    assert records[0].ok and len(records[0].data["text"]) == 3_000_000
    assert records[0].problems[0].data == {"bytes": len(big), "limit": 1_000_000}
    assert records[1].line == 2


def test_crlf_counts_every_line_but_reports_once(tmp_path):
    _, stats = read(tmp_path, GOOD + b"\n" + (GOOD + b"\r\n") * 3)
    assert stats.crlf_lines == 3
    assert stats.first_crlf_line == 2


def test_json_array_elements_start_at_their_own_line(tmp_path):
    blob = b'[\n  {"text": "a"},\n  {\n    "text": "b"\n  },\n\n  {"text": "c"}\n]\n'
    records, stats = read(tmp_path, blob, name="d.json")
    assert stats.layout == "json-array"
    assert [(r.line, r.data) for r in records] == [(2, {"text": "a"}), (3, {"text": "b"}), (7, {"text": "c"})]


def test_malformed_element_inside_a_json_array_does_not_hide_the_good_ones(tmp_path):
    blob = b'[\n  {"text": "a"},\n  {"text": "b" "oops"},\n  {"text": "c"},\n  {"text": "d"}\n]\n'
    records, _ = read(tmp_path, blob, name="d.json")
    assert [(r.line, r.ok) for r in records] == [(2, True), (3, False), (4, True), (5, True)]
    assert codes(records[1]) == ["schema.invalid_json"]
    assert [r.data["text"] for r in records if r.ok] == ["a", "c", "d"]


def test_json_array_with_bom_and_crlf(tmp_path):
    blob = b'\xef\xbb\xbf[\r\n{"text": "a"},\r\n{"text": "b"}\r\n]\r\n'
    records, stats = read(tmp_path, blob, name="d.json")
    assert [r.data for r in records] == [{"text": "a"}, {"text": "b"}]
    assert {"schema.bom", "schema.crlf"} <= set(codes(records[0]))
    assert stats.crlf_lines == 4


def test_jsonl_whose_first_record_is_an_array_stays_jsonl(tmp_path):
    records, stats = read(tmp_path, b'["user", "hi"]\n' + GOOD + b"\n")
    assert stats.layout == "jsonl"
    assert [(r.line, r.ok) for r in records] == [(1, False), (2, True)]


def test_single_line_json_array_is_an_array(tmp_path):
    records, stats = read(tmp_path, b'[{"text": "a"}, {"text": "b"}]', name="d.json")
    assert stats.layout == "json-array"
    assert [r.data for r in records] == [{"text": "a"}, {"text": "b"}]


def test_empty_file_has_no_records(tmp_path):
    records, _ = read(tmp_path, b"")
    assert records == []


def test_keys_are_stable_when_lines_move(tmp_path):
    first, _ = read(tmp_path, GOOD + b"\n" + b'{"text": "other"}\n')
    second, _ = read(tmp_path, b"\n" + b'{"text": "other"}\n' + GOOD + b"\n")
    assert first[0].key == second[2].key


def test_stdin_dash_reads_standard_input():
    code = "from curate.io.reader import iter_records\nprint([(r.line, r.ok) for r in iter_records('-')])\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], input=GOOD + b"\nnope\n" + GOOD + b"\n", capture_output=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == b"[(1, True), (2, False), (3, True)]"
