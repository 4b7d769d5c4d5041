"""How a record's place is written: `data.jsonl:12` for a line of text, `data.parquet:row 42` for a
row of a table. A file is a table by its name here (reporters see findings, not bytes); a Report also
knows which files turned out to be tables by their magic bytes (`Report.row_paths`)."""

from __future__ import annotations

from collections.abc import Collection

from curate.io.tables import TABLE_SUFFIXES, TEXT_TABLE_SUFFIXES, inner_suffix


def is_table_path(path: str | None, row_paths: Collection[str] = ()) -> bool:
    if not path:
        return False
    return path in row_paths or inner_suffix(path) in TABLE_SUFFIXES or inner_suffix(path) in TEXT_TABLE_SUFFIXES


def place(line: int | None, path: str | None = None, row_paths: Collection[str] = ()) -> str:
    """The record's place inside its file: `12` or `row 42`."""
    return f"row {line}" if is_table_path(path, row_paths) else f"{line}"


def location(path: str | None, line: int | None, row_paths: Collection[str] = ()) -> str:
    """`path:line`, `path:row N`, or the path alone for a finding about the whole file; the path is
    shown through `curate.display.shown` (a file name can hold PII or terminal escapes)."""
    from curate.display import shown

    name = shown(path, None) if path else "<dataset>"
    if line is None:
        return name
    return f"{name}:{place(line, path, row_paths)}"
