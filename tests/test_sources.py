"""Sources: containers by magic bytes, tables by row, JSON document shapes, directories, nothing-read.

Each kind is read record for record and gives the same findings as the same records in plain JSONL.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from curate.cli import app
from curate.io.lines import RecordStore
from curate.io.reader import FileStats, ReadOptions, iter_records

CHAT = [
    {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]},
    {"messages": [{"role": "user", "content": "Say hi"}]},  # no assistant turn
    {"messages": [{"role": "user", "content": "Mail me"}, {"role": "assistant", "content": "ok  <|im_end|>  "}]},
    {
        "messages": [
            {"role": "system", "content": ""},
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": "y"},
        ]
    },  # noqa: E501
]
COMPRESS = {
    "gzip": gzip.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}


def jsonl(records: list[dict]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def check_json(*args: str) -> tuple[int, dict, str]:
    code, out, err = run("check", *args, "--select", "schema", "--no-cache", "-f", "json", "-j", "1")
    return code, (json.loads(out) if out.strip() else {}), err


def content(report: dict) -> list[tuple]:
    """Findings minus where they came from (path), for comparing one source with another."""
    return sorted((f["rule"], f["line"], f["field"], f["message"]) for f in report["findings"])


def lines_and_codes(path: Path, **options) -> list[tuple[int, list[str], bool]]:
    return [(r.line, [p.code for p in r.problems], r.ok) for r in iter_records(str(path), ReadOptions(**options))]


# -- containers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("container", list(COMPRESS))
def test_containers_read_like_plain_jsonl_with_decompressed_line_numbers(tmp_path: Path, container: str) -> None:
    blob = jsonl(CHAT[:2]) + b"\n{broken\n" + jsonl(CHAT[2:])
    plain = tmp_path / "d.jsonl"
    plain.write_bytes(blob)
    packed = tmp_path / "d.jsonl.bin"  # no telling suffix: the magic bytes decide
    packed.write_bytes(COMPRESS[container](blob))
    stats = FileStats()
    records = list(iter_records(str(packed), ReadOptions(), stats))
    assert stats.container == container and stats.kind == f"{container}+jsonl"
    assert lines_and_codes(packed) == lines_and_codes(plain)
    assert [r.data for r in records] == [r.data for r in iter_records(str(plain))]
    _, a, _ = check_json(str(plain))
    _, b, _ = check_json(str(packed))
    assert content(a) == content(b) and content(a)
    assert b["datasets"][0]["kind"] == f"{container}+jsonl"


def test_small_blocks_of_a_compressed_file_keep_line_numbers(tmp_path: Path) -> None:
    from curate.io.reader import Block, iter_units

    records = [{"text": f"record {i} " + "x" * (i % 7) * 40} for i in range(300)]
    path = tmp_path / "d.jsonl.zst"
    path.write_bytes(COMPRESS["zstd"](jsonl(records)))
    stats = FileStats()
    units = list(iter_units(str(path), stats, block_bytes=4096))
    assert len(units) > 3 and all(isinstance(u, Block) and not u.rereadable for u in units)
    got = [r for r in iter_records(str(path))]
    assert [r.line for r in got] == list(range(1, 301)) and got[299].data == records[299]


def test_corrupt_stream_is_a_finding_at_the_line_where_it_stops(tmp_path: Path) -> None:
    packed = gzip.compress(jsonl(CHAT * 50))
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])  # truncated download
    records = list(iter_records(str(path)))
    last = records[-1]
    assert [p.code for p in last.problems] == ["schema.invalid_json"] and "truncated" in last.problems[0].message
    assert all(r.ok for r in records[:-2])
    code, report, err = check_json(str(path))
    assert code == 1 and "Traceback" not in err


def test_decompression_bomb_line_is_not_read_into_memory(tmp_path: Path) -> None:
    """50 MB of one line compresses to a few kB: it is reported over the limit, never parsed."""
    big = b'{"text": "' + b"a" * 50_000_000 + b'"}\n'
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(big + jsonl(CHAT[:1]), compresslevel=9))
    assert path.stat().st_size < 200_000
    records = list(iter_records(str(path), ReadOptions(max_line_bytes=1_000_000)))
    assert [(r.line, [p.code for p in r.problems], r.ok) for r in records] == [
        (1, ["schema.long_line"], False),
        (2, [], True),
    ]
    assert records[0].problems[0].data == {"limit": 1_000_000, "read": False}


def test_huge_integer_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    digits = "9" * 5000
    path = tmp_path / "d.jsonl"
    path.write_bytes(jsonl(CHAT[:1]) + f'{{"text": "x", "n": {digits}}}\n'.encode() + jsonl(CHAT[:1]))
    assert lines_and_codes(path) == [(1, [], True), (2, ["schema.invalid_json"], False), (3, [], True)]
    array = tmp_path / "a.json"
    array.write_text(f'[\n{json.dumps(CHAT[0])},\n{{"n": {digits}}}\n]\n', encoding="utf-8")
    assert lines_and_codes(array) == [(2, [], True), (3, ["schema.invalid_json"], False)]
    code, report, err = check_json(str(path))
    assert code == 1 and "digits" in report["findings"][0]["message"]


def test_binary_and_utf16_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    png = tmp_path / "image.jsonl"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    utf16 = tmp_path / "wide.jsonl"
    utf16.write_bytes(json.dumps(CHAT[0]).encode("utf-16"))
    code, _, err = run("check", str(png), str(utf16), "--select", "schema", "--no-cache")
    assert code == 2
    assert "binary data" in err and "UTF-16" in err


# -- tables -------------------------------------------------------------------------------------------


def write_table(tmp_path: Path, kind: str, records: list[dict]) -> Path:
    table = pa.Table.from_pylist(records)
    if kind == "parquet":
        path = tmp_path / "d.parquet"
        pq.write_table(table, path, row_group_size=2)
    elif kind == "arrow-file":
        path = tmp_path / "d.arrow"
        with pa.ipc.new_file(path, table.schema) as w:
            w.write_table(table, max_chunksize=3)
    else:  # what `datasets.Dataset.save_to_disk` writes: an Arrow stream plus metadata
        path = tmp_path / "saved"
        path.mkdir()
        with pa.ipc.new_stream(path / "data-00000-of-00001.arrow", table.schema) as w:
            w.write_table(table)
        (path / "dataset_info.json").write_text("{}", encoding="utf-8")
        (path / "state.json").write_text('{"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}', "utf-8")
    return path


@pytest.mark.parametrize("kind", ["parquet", "arrow-file", "save_to_disk"])
def test_tables_give_the_same_findings_as_jsonl_located_by_row(tmp_path: Path, kind: str) -> None:
    records = [
        *CHAT,
        {"messages": [{"role": "user", "content": "q", "name": "bob"}, {"role": "assistant", "content": "a"}]},
    ]  # noqa: E501
    plain = tmp_path / "d.jsonl"
    plain.write_bytes(jsonl(records))
    table = write_table(tmp_path, kind, records)
    _, a, _ = check_json(str(plain))
    code, b, err = check_json(str(table))
    assert content(a) == content(b) and content(a), err
    (info,) = b["datasets"]
    assert info["layout"] == "parquet" if kind == "parquet" else "arrow"
    assert info["read"] == len(records)
    if kind == "save_to_disk":
        assert "dataset_info.json: skipped, Hugging Face datasets metadata" in " ".join(b["notices"])
    # null fields Arrow adds for a key other rows have (`name`) are left out, as in the JSONL
    data = [r.data for r in iter_records(str(next(Path(table).glob("*.arrow")) if kind == "save_to_disk" else table))]
    assert data == records


def test_row_location_in_terminal_sarif_and_review(tmp_path: Path) -> None:
    path = write_table(tmp_path, "parquet", CHAT)
    code, out, _ = run("check", str(path), "--select", "schema", "--no-cache", "-j", "1")
    assert f"{path}:row 2: error missing-assistant" in out.replace("\n", " ")
    _, sarif, _ = run("check", str(path), "--select", "schema", "--no-cache", "-f", "sarif", "-j", "1")
    result = next(r for r in json.loads(sarif)["runs"][0]["results"] if r["ruleId"] == "missing-assistant")
    assert result["properties"]["row"] == 2 and result["message"]["text"].startswith("Row 2:")
    store = RecordStore(path)
    assert store.layout == "parquet" and store.record(2).data == CHAT[1]
    from curate.review import Item

    assert Item(str(path), 2, None, None, [], []).named == "row 2"


def test_csv_cells_with_python_or_json_lists_are_decoded(tmp_path: Path) -> None:
    prompt = repr([{"role": "user", "content": "Title ideas? It's for a 'blog'"}])
    chosen = json.dumps([{"role": "assistant", "content": "Ten ideas"}])
    rejected = repr([{"role": "assistant", "content": "no"}])
    path = tmp_path / "prefs.csv"
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["", "prompt", "chosen", "rejected", "note"])
        w.writerow([0, prompt, chosen, rejected, "[not a list"])
        w.writerow([1, prompt, chosen, "__import__('os').system('echo pwned')", "multi\nline"])
    records = list(iter_records(str(path)))
    assert [r.line for r in records] == [1, 2]
    assert records[0].data == {
        "prompt": [{"role": "user", "content": "Title ideas? It's for a 'blog'"}],
        "chosen": [{"role": "assistant", "content": "Ten ideas"}],
        "rejected": [{"role": "assistant", "content": "no"}],
        "note": "[not a list",
    }
    assert records[1].data["rejected"] == "__import__('os').system('echo pwned')"  # a literal, never run
    assert records[1].data["note"] == "multi\nline"
    gz = tmp_path / "prefs.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert [r.data for r in iter_records(str(gz))] == [r.data for r in records]


# -- JSON shapes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "layout", "lines", "keys"),
    [
        (json.dumps(CHAT[0], indent=2), "json-object", [1], None),
        (
            '{\n  "a1": ' + json.dumps(CHAT[0]) + ',\n  "b2": ' + json.dumps(CHAT[1]) + "\n}",
            "json-keyed",
            [2, 3],
            ["id:a1", "id:b2"],
        ),  # noqa: E501
        (
            '{"version": 2, "data": [\n' + json.dumps(CHAT[0]) + ",\n" + json.dumps(CHAT[1]) + "\n]}",
            "json-wrapper:data",
            [2, 3],
            None,
        ),  # noqa: E501
        (jsonl(CHAT[:2]).decode(), "jsonl", [1, 2], None),
        ("[\n" + json.dumps(CHAT[0]) + ",\n" + json.dumps(CHAT[1]) + "\n]", "json-array", [2, 3], None),
    ],
)
def test_json_shapes(tmp_path: Path, text: str, layout: str, lines: list[int], keys: list[str] | None) -> None:
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    stats = FileStats()
    records = list(iter_records(str(path), ReadOptions(), stats))
    assert stats.layout == layout
    assert [r.line for r in records] == lines and all(r.ok for r in records)
    assert [r.data for r in records] == CHAT[: len(lines)]
    if keys:
        assert [r.key for r in records] == keys


def test_jsonl_whose_first_line_is_broken_is_still_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(b'{"messages": [\n' + jsonl(CHAT[:2]))
    assert lines_and_codes(path) == [(1, ["schema.invalid_json"], False), (2, [], True), (3, [], True)]


# -- directories and nothing read ---------------------------------------------------------------------


def test_directory_of_one_object_per_file_lists_what_it_skips(tmp_path: Path) -> None:
    for i, record in enumerate(CHAT):
        (tmp_path / f"{i}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    (tmp_path / "README.md").write_text("# data", encoding="utf-8")
    (tmp_path / ".hidden.jsonl").write_text("junk", encoding="utf-8")
    code, report, err = check_json(str(tmp_path))
    assert [d["records"] for d in report["datasets"]] == [1, 1, 1, 1]
    assert any("README.md: skipped, unsupported kind (.md)" in n for n in report["notices"])
    assert not any("hidden" in n for n in report["notices"])


@pytest.mark.parametrize(
    "command", [["check"], ["cost"], ["report", "--out", "OUT"], ["split", "--out", "OUT"], ["export"]]
)  # noqa: E501
def test_nothing_read_exits_2_naming_the_input(tmp_path: Path, command: list[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    args = [a.replace("OUT", str(tmp_path / "out")) for a in command]
    code, out, err = run(args[0], str(empty), *args[1:])
    assert code == 2, (out, err)
    assert "nothing was" in err and "empty.jsonl (jsonl): empty file" in err


def test_broken_csv_row_is_a_finding_that_quotes_no_content(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,label\nhello,1\nsecret-value-123,2,3\n", encoding="utf-8")
    records = list(iter_records(str(path)))
    problems = [p for r in records for p in r.problems]
    assert [p.code for p in problems] == ["schema.invalid_json"]
    assert "Expected 2 columns, got 3" in problems[0].message and "secret" not in problems[0].message


def test_hub_cache_repository_reads_the_current_snapshot_once(tmp_path: Path) -> None:
    repo = tmp_path / "datasets--org--name"
    (repo / "blobs").mkdir(parents=True)
    blob = repo / "blobs" / "abc123"
    blob.write_bytes(jsonl(CHAT[:1]))
    snap = repo / "snapshots" / "f00d" / "data"
    snap.mkdir(parents=True)
    (snap / "train.jsonl").symlink_to(blob)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("f00d", encoding="utf-8")
    code, report, _ = check_json(str(repo))
    assert [d["path"].split("/")[-1] for d in report["datasets"]] == ["train.jsonl"]


def test_csv_header_with_a_bare_carriage_return_is_no_traceback(tmp_path):
    """Found by the loader fuzzer: b"\\r0" as a CSV made the stdlib header parser raise."""
    from curate.io.reader import iter_records

    path = tmp_path / "data.csv"
    path.write_bytes(b"\r0")
    try:
        records = list(iter_records(str(path)))
    except OSError:  # a read error the CLI reports (exit 2), never a csv.Error traceback
        records = []
    assert all(r.line >= 1 for r in records)
