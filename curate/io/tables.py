"""Records out of tables: Parquet, Arrow IPC (file, stream, Feather; what Hugging Face `datasets`
writes with `save_to_disk`), CSV and TSV, streamed batch by batch with pyarrow.

A record's location is its 1-based row (`data.parquet:row 42`). Each row becomes the JSON object
its JSONL equivalent would hold, so every check reads it the same way:
- Arrow gives every row every field of its schema; a null there (a missing key in the data the table
  was built from) is left out, at any depth, so `{"role": "user", "content": "hi", "name": null}`
  reads as `{"role": "user", "content": "hi"}`.
- CSV has no types: every cell is a string, except a cell holding a JSON array or object, or a Python
  list/dict literal (what pandas writes for a list column), which is decoded to that value. An unnamed
  first column (pandas' index) is left out.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from curate.io import containers

if TYPE_CHECKING:
    import pyarrow as pa

    from curate.io.reader import FileStats, RawItem

TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow"}
TEXT_TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}
_RANDOM_ACCESS = ("parquet", "arrow")
_SAFE_REASON = re.compile(  # the parts of pyarrow's reasons that quote no data
    r"Expected \d+ columns, got \d+|straddling object straddles two block boundaries|Invalid: [A-Za-z ]{1,60}"
    r"|Not an Arrow file|Parquet magic bytes not found[a-z ]*|[A-Za-z ]{1,40} is not valid UTF-8"
)
CELL_LIMIT = 1_000_000  # a CSV cell larger than this is never decoded as a list (it stays a string)


def sniff(head: bytes, path: str) -> str | None:
    """The table layout of a file from its first (decompressed) bytes, else its name; None: not a table."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"ARROW1", b"\xff\xff\xff\xff", b"FEA1")):
        return "arrow"
    return TEXT_TABLE_SUFFIXES.get(inner_suffix(path))


def inner_suffix(path: str) -> str:
    """The suffix that names the layout, under any container suffix (`d.csv.gz` -> `.csv`)."""
    name = os.path.basename(path).lower()
    stem, suffix = os.path.splitext(name)
    if suffix in containers.SUFFIXES:
        suffix = os.path.splitext(stem)[1]
    return suffix


def unreadable(layout: str, container: str, path: str) -> str | None:
    """Why a table cannot be read as it is stored (Parquet and Arrow need random access), else None."""
    if layout in _RANDOM_ACCESS and container != containers.PLAIN:
        return f"unsupported kind: {layout} inside {container} (decompress it first)"
    if path == "-":
        return f"unsupported kind: {layout} on stdin (give the file)"
    return None


class TableRows:
    """A slice of a table as a unit of work: pickled as Arrow (cheap), turned into raw records where it
    is processed (in a worker process), so the reading process only reads."""

    __slots__ = ("batch", "first_row", "layout")

    def __init__(self, batch: pa.RecordBatch, first_row: int, layout: str) -> None:
        self.batch = batch
        self.first_row = first_row
        self.layout = layout

    def __len__(self) -> int:
        return int(self.batch.num_rows)

    def __iter__(self) -> Iterator[RawItem]:
        return iter(_items(self.batch, self.first_row, self.layout))

    def __getstate__(self) -> tuple[Any, int, str]:
        return self.batch, self.first_row, self.layout

    def __setstate__(self, state: tuple[Any, int, str]) -> None:
        self.batch, self.first_row, self.layout = state


def iter_units(path: str, layout: str, stats: FileStats, rows: int) -> Iterator[TableRows | list[RawItem]]:
    """Slices of about `rows` rows, in row order; `stats.lines` counts rows."""
    import pyarrow as pa

    batches = _batches(path, layout, stats, rows)
    row = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, *containers.CORRUPT_ERRORS) as exc:
            yield [_broken(path, layout, row + 1, exc)]
            return
        unit = TableRows(batch, row, layout)
        row += batch.num_rows
        stats.records += len(unit)
        stats.lines = row
        stats.bytes_read = _tell(stats)
        yield unit


def _tell(stats: FileStats) -> int:
    return int(stats.extra.get("tell", lambda: 0)())


def _broken(path: str, layout: str, row: int, exc: BaseException) -> RawItem:
    from curate.io.reader import RawItem
    from curate.model import ReadProblem

    problem = ReadProblem("schema.invalid_json", f"the {layout} data cannot be read from here on: {_reason(exc)}")
    return RawItem(row, None, [problem], key=f"table-broken:{path}:{row}")


def _reason(exc: BaseException) -> str:
    """pyarrow's reason without what it quotes: a CSV parse error ends with the offending row's text."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    m = _SAFE_REASON.search(first)
    return m.group(0) if m else type(exc).__name__


def _batches(path: str, layout: str, stats: FileStats, rows: int) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    if layout == "parquet":
        import pyarrow.parquet as pq

        # pyarrow's own file reader: through a Python file object every page read is a Python bytes
        # object, and the allocator kept ~100 MB more at 200k rows. pre_buffer off: with it, iterating
        # every row group buffered the whole file's column chunks (peak 192 -> 335 MB from 100k to
        # 400k rows; without it 182 -> 194 MB)
        with pq.ParquetFile(path, pre_buffer=False) as table:
            total, size, done = max(1, table.metadata.num_rows), os.path.getsize(path), 0
            for batch in table.iter_batches(batch_size=rows):
                done += batch.num_rows
                stats.extra["tell"] = lambda d=done: size * d // total  # progress: the share of rows read
                yield batch
        return
    if layout == "arrow":
        with pa.memory_map(path) as source:
            head = source.read(8)
            source.seek(0)
            if head.startswith(b"FEA1"):
                import pyarrow.feather as feather

                yield from feather.read_table(source).to_batches(rows)
                return
            reader = pa.ipc.open_file(source) if head.startswith(b"ARROW1") else pa.ipc.open_stream(source)
            stats.extra["tell"] = source.tell
            # an IPC file's offsets are not checked when it is read: validate before anything walks them
            if isinstance(reader, pa.ipc.RecordBatchFileReader):
                for i in range(reader.num_record_batches):
                    batch = reader.get_batch(i)
                    batch.validate(full=True)
                    yield from _slices(batch, rows)
            else:
                for batch in reader:
                    batch.validate(full=True)
                    yield from _slices(batch, rows)
        return
    yield from _csv_batches(path, layout, stats)


def _slices(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


def _csv_batches(path: str, layout: str, stats: FileStats) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from curate.io.reader import _open

    stream = _open(path, type(stats)())  # a fresh handle on the decompressed bytes
    try:
        stats.extra["tell"] = stream.consumed
        delimiter = "\t" if layout == "tsv" else ","
        names = _header(stream.peek(1 << 20), delimiter)
        reader = pacsv.open_csv(
            _Readable(stream),
            read_options=pacsv.ReadOptions(block_size=1 << 20, column_names=names, skip_rows=1 if names else 0),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names or []}),
        )
        yield from reader
        if stream.error is not None:
            raise stream.error
    finally:
        stream.close()


def _header(head: bytes, delimiter: str) -> list[str] | None:
    """Column names from the first line (the stdlib csv module knows quoting); unnamed ones get a name."""
    import csv
    import io

    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    try:  # newline="": the csv module reads a bare "\r" as a line end instead of raising
        row = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    except csv.Error:  # a header line it cannot parse: pyarrow's reader says what is wrong with the file
        return None
    if not row:
        return None
    return [name if name else f"__unnamed_{i}" for i, name in enumerate(row)]


class _Readable:
    """What pyarrow needs of a Python stream: `read(n)` and `closed`."""

    def __init__(self, stream: Any) -> None:
        self._s = stream
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        return self._s.read(n)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def _items(batch: pa.RecordBatch, row: int, layout: str) -> list[RawItem]:
    from curate.io.reader import RawItem

    if layout in ("csv", "tsv"):
        rows = [_csv_row(r) for r in batch.to_pylist()]
    else:
        rows = batch.to_pylist()
        if _has_nulls(batch):
            rows = [_without_nulls(r) for r in rows]
    out = []
    native = _json_native(batch.schema)
    for i, r in enumerate(rows):
        raw = orjson.dumps(r, default=_json_default)
        # values of types JSON has are the record as they are; others (binary, dates, floats that may be
        # NaN) are what their JSON reads back as, exactly as the JSONL equivalent would hold them
        out.append(RawItem(row + i + 1, raw, [], value=r if native else orjson.loads(raw)))
    return out


def _json_native(schema: pa.Schema) -> bool:
    return all(_native_type(f.type) for f in schema)


def _native_type(t: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t) or pa.types.is_null(t):
        return True
    if pa.types.is_integer(t):
        return True
    if pa.types.is_struct(t):
        return all(_native_type(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _native_type(t.value_type)
    return False


def _has_nulls(batch: pa.RecordBatch) -> bool:
    return any(_array_has_nulls(col) for col in batch.columns)


def _array_has_nulls(arr: Any) -> bool:
    """Any null anywhere in a (nested) Arrow array: only then do rows need cleaning (the fast path skips it)."""
    import pyarrow as pa

    if arr.null_count:
        return True
    t = arr.type
    if pa.types.is_struct(t):
        return any(_array_has_nulls(arr.field(i)) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _array_has_nulls(arr.flatten())
    if pa.types.is_map(t):
        return _array_has_nulls(arr.items)
    return False


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, (name, cell) in enumerate(row.items()):
        if i == 0 and name == "__unnamed_0":
            continue  # pandas' index column
        out[name] = _cell(cell) if isinstance(cell, str) else cell
    return out


def _cell(text: str) -> Any:
    """A cell holding a JSON array/object or a Python list/dict literal, decoded; anything else as is."""
    s = text.strip()
    if len(s) < 2 or len(s) > CELL_LIMIT or (s[0], s[-1]) not in (("[", "]"), ("{", "}")):
        return text
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError:
        pass
    try:
        value = ast.literal_eval(s)  # literals only: never runs code
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    try:
        orjson.dumps(value)  # only plain JSON-like values (no sets, bytes, complex numbers)
    except (TypeError, orjson.JSONEncodeError):
        return text
    return value


def _json_default(value: Any) -> Any:
    """Arrow values orjson does not know: binary as text, decimals as numbers' text, the rest as str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)
