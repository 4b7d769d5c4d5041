"""Random access to the records of one dataset file by line (or row) number, without parsing it all.

Review shows one record at a time out of files of any size. A plain JSONL file is indexed by the byte
offset of each line (8 bytes a line, toolong-style) and a line is read when asked for. Every other
source (a compressed file, a JSON document, a table) is read once through the same reader the audit
uses and kept as raw items (each record's bytes, decompressed): seeking inside a gzip/zstd stream or
re-reading a Parquet row group per record would be far slower, and review is for files a person
reads through, so this holds their records in memory.
"""

from __future__ import annotations

from array import array
from pathlib import Path

from curate.io import containers
from curate.io.reader import Block, FileStats, RawItem, ReadOptions, block_items, iter_raw, to_record
from curate.io.tables import sniff as sniff_table
from curate.model import Record

_CHUNK = 1 << 20


class RecordStore:
    def __init__(self, path: str | Path, options: ReadOptions | None = None, input_format: str | None = None) -> None:
        self.path = str(path)
        self.options = options or ReadOptions()
        self.input_format = input_format
        self._items: dict[int, RawItem] | None = None
        self._offsets = array("q")
        with open(self.path, "rb") as f:
            first = f.read(4096)
        head = first.lstrip(b"\xef\xbb\xbf \t\r\n")
        plain_lines = (
            containers.sniff(first) == containers.PLAIN
            and sniff_table(first, self.path) is None
            and not head.startswith((b"[", b"{"))
        )
        if plain_lines:
            self.layout = "jsonl"
            self._index()
        else:
            stats = FileStats()
            self._items = {item.line: item for item in iter_raw(self.path, self.options, stats)}
            self.layout = stats.kind
            if stats.layout == "jsonl" and stats.container == containers.PLAIN:
                self._items = None  # JSON Lines after all (a first line that is a whole object)
                self._index()

    def _index(self) -> None:
        offsets = self._offsets
        offsets.append(0)
        pos = 0
        with open(self.path, "rb") as f:
            while chunk := f.read(_CHUNK):
                start = 0
                while (nl := chunk.find(b"\n", start)) != -1:
                    offsets.append(pos + nl + 1)
                    start = nl + 1
                pos += len(chunk)
        if offsets[-1] == pos:  # the file ends with a newline: no record after it
            offsets.pop()

    @property
    def lines(self) -> int:
        return len(self._offsets) if self._items is None else max(self._items, default=0)

    def raw_bytes(self, line: int) -> bytes | None:
        """The bytes of a JSONL line as written (newline removed), or the element of a JSON array."""
        if self._items is not None:
            item = self._items.get(line)
            return item.raw if item else None
        if not 1 <= line <= len(self._offsets):
            return None
        start = self._offsets[line - 1]
        end = self._offsets[line] if line < len(self._offsets) else None
        with open(self.path, "rb") as f:
            f.seek(start)
            data = f.read(end - start) if end is not None else f.read()
        return data.removesuffix(b"\n")

    def raw_item(self, line: int) -> RawItem | None:
        if self._items is not None:
            return self._items.get(line)
        data = self.raw_bytes(line)
        if data is None:
            return None
        # the newline back on, so a blank line is still a (blank) item, not nothing
        return next(iter(block_items(Block(line, data + b"\n", line == 1), FileStats())), None)

    def record(self, line: int) -> Record | None:
        item = self.raw_item(line)
        if item is None:
            return None
        record = to_record(self.path, item, self.options)
        if self.input_format:
            record.format_hint = self.input_format
        return record

    def lines_containing(self, needle: str) -> set[int]:
        """Lines whose raw text contains `needle` (case-insensitive): a search over content."""
        low = needle.lower()
        if not low:
            return set()
        if self._items is not None:
            return {n for n, it in self._items.items() if it.raw and low in it.raw.decode("utf-8", "replace").lower()}
        out: set[int] = set()
        with open(self.path, "rb") as f:
            for n, raw in enumerate(f, start=1):
                if low in raw.decode("utf-8", "replace").lower():
                    out.add(n)
        return out
