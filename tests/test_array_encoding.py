"""Invalid UTF-8 inside a JSON array is the same `invalid-utf8` error, at the element's line, as in JSONL."""

from __future__ import annotations

from curate.io.reader import FileStats, ReadOptions, iter_raw, to_record

GOOD = b'{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"ok"}]}'
BAD = b'{"messages":[{"role":"user","content":"caf\xe9"},{"role":"assistant","content":"ok"}]}'


def problems_by_line(path) -> dict[int, list[str]]:
    out = {}
    for item in iter_raw(str(path), ReadOptions(), FileStats()):
        record = to_record(str(path), item, ReadOptions())
        out[record.line] = [p.code for p in record.problems]
    return out


def test_array_element_with_invalid_utf8_has_the_encoding_error(tmp_path):
    path = tmp_path / "data.json"
    path.write_bytes(b"[\n" + GOOD + b",\n" + BAD + b",\n" + GOOD + b"\n]\n")
    found = problems_by_line(path)
    assert found[3] == ["schema.encoding"]
    assert "schema.encoding" not in found[2] and "schema.encoding" not in found[4]


def test_same_error_code_as_jsonl(tmp_path):
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_bytes(GOOD + b"\n" + BAD + b"\n")
    array = tmp_path / "data.json"
    array.write_bytes(b"[" + GOOD + b",\n" + BAD + b"]")
    assert "schema.encoding" in problems_by_line(jsonl)[2]
    assert "schema.encoding" in problems_by_line(array)[2]


def test_export_never_rewrites_invalid_bytes(tmp_path):
    import os
    import subprocess
    import sys

    array = tmp_path / "data.json"
    array.write_bytes(b"[" + GOOD + b",\n" + BAD + b"]")
    env = {**os.environ, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "curate", "export", str(array), "-o", str(out)],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    written = out.read_bytes()
    assert "\ufffd".encode() not in written and written.count(b"\n") == 1  # only the good record
    assert b"invalid UTF-8" in (tmp_path / "data.quarantine.jsonl").read_bytes()
