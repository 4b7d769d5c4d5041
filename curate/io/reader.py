"""Stream records out of dataset files with their 1-based line (or row) numbers.

A source turns bytes into raw records with a location: the container (plain, gzip, zstd, bzip2, xz)
is recognised by its magic bytes, then the layout: JSON Lines (streamed in blocks of whole lines),
one JSON document (array, single record, id-keyed object, wrapper: `jsondoc`), or a table
(Parquet, Arrow, CSV: `tables`, streamed by batch, located by row). Every defect of the raw bytes
becomes a ReadProblem on the record at its line, and reading goes on: one broken line never stops
an audit. Memory does not grow with the file.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from curate.io import containers
from curate.io.jsondoc import DOCUMENT_LIMIT, NotADocument, iter_document
from curate.model import ReadProblem, Record

BOM = b"\xef\xbb\xbf"
_KEY_RE = re.compile(rb'"\s*:')
DEFAULT_MAX_LINE_BYTES = 1_000_000


@dataclass(slots=True)
class ReadOptions:
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    id_field: str | None = None


@dataclass(slots=True)
class FileStats:
    """What the reader saw of a whole file; CRLF is reported once per file, not per line."""

    lines: int = 0  # lines of text (decompressed), or rows of a table
    records: int = 0
    crlf_lines: int = 0
    first_crlf_line: int | None = None
    layout: str = "jsonl"  # jsonl | json-array | json-object | json-keyed | json-wrapper:KEY | parquet | arrow | csv
    bytes_read: int = 0  # bytes of the file itself consumed so far (compressed bytes for a container)
    container: str = containers.PLAIN  # plain | gzip | zstd | bzip2 | xz
    skipped: str | None = None  # why nothing was read from this file (unsupported kind), else None

    def merge(self, other: FileStats) -> None:
        """Fold in what a worker saw of one block (lines, records, CRLF)."""
        self.lines = max(self.lines, other.lines)
        self.records += other.records
        self.crlf_lines += other.crlf_lines
        if other.first_crlf_line is not None and (
            self.first_crlf_line is None or other.first_crlf_line < self.first_crlf_line
        ):
            self.first_crlf_line = other.first_crlf_line

    @property
    def kind(self) -> str:
        """Container and layout in one word, as the summary shows it: `gzip+jsonl`, `parquet`."""
        return self.layout if self.container == containers.PLAIN else f"{self.container}+{self.layout}"

    extra: dict[str, Any] = field(default_factory=dict)


class DatasetReadError(OSError):
    """The file itself cannot be read (missing, a directory, permission): exit code 2."""


@dataclass(slots=True)
class RawItem:
    """One record's bytes and where it starts, before parsing (cheap to send to a worker)."""

    line: int
    raw: bytes | None  # None: nothing to parse (a blank line, an unclosed array)
    problems: list[ReadProblem]
    key: str | None = None  # a key the source gives (an id-keyed JSON object); else from content
    invalid: str | None = None  # the array splitter already knows this element is broken
    value: Any = None  # the record already decoded (a table row): `raw` is its JSON, not parsed again


def iter_records(path: str, options: ReadOptions | None = None, stats: FileStats | None = None) -> Iterator[Record]:
    """Yield every record of `path` ('-' is stdin), bad ones included, in file order."""
    options = options or ReadOptions()
    for item in iter_raw(path, options, stats):
        yield to_record(path, item, options)


def to_record(path: str, item: RawItem, options: ReadOptions) -> Record:
    if item.raw is None:
        return Record(path, item.line, None, tuple(item.problems), 0, key=item.key)
    if item.value is not None:
        key = item.key
        if options.id_field and isinstance(item.value.get(options.id_field), (str, int)):
            key = f"id:{item.value[options.id_field]}"
        return Record(path, item.line, item.value, tuple(item.problems), len(item.raw), key=key)
    record = parse_record(path, item.line, item.raw, options, item.problems)
    if item.invalid and record.ok:
        problems = (*record.problems, ReadProblem("schema.invalid_json", item.invalid))
        return Record(path, item.line, None, problems, record.raw_size, key=record.key)
    if item.key is not None and record.ok and not (options.id_field and options.id_field in record.data):
        return Record(path, item.line, record.data, record.problems, record.raw_size, key=item.key)
    return record


@dataclass(frozen=True, slots=True)
class Block:
    """A run of whole lines of a JSONL file: the unit of work sent to a worker process."""

    first_line: int
    data: bytes
    at_file_start: bool
    # lines longer than this are not parsed (decompressed input: a bomb must not reach the parser);
    # None for a plain file, whose long lines are parsed and flagged
    line_limit: int | None = None
    rereadable: bool = True  # False when the block came out of a decompressor: no file offset to seek to


BLOCK_BYTES = 1 << 21
TABLE_ROWS = 2000  # rows of a table per unit of work


def iter_raw(path: str, options: ReadOptions | None = None, stats: FileStats | None = None) -> Iterator[RawItem]:
    """Split a file into raw records with line numbers; parsing is left to `to_record`."""
    options = options or ReadOptions()
    stats = stats if stats is not None else FileStats()
    for unit in iter_units(path, stats, line_limit=options.max_line_bytes):
        if isinstance(unit, Block):
            yield from block_items(unit, stats)
        else:
            yield from unit


def probe(path: str, options: ReadOptions | None = None) -> FileStats:
    """What a file turns out to be, reading only until its first record (for commands that must know
    before they write anything whether there is anything to read); `records` is 0 or 1."""
    stats = FileStats()
    for item in iter_raw(path, options, stats):
        if stats.records:
            del item
            break
    return stats


def iter_units(
    path: str, stats: FileStats, block_bytes: int = BLOCK_BYTES, line_limit: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[Block | list[RawItem]]:
    """The units of work of one file: JSONL as blocks of whole lines (cheap for the reading process);
    a JSON document or a table as lists of raw items. `stats` says what the file turned out to be."""
    from curate.io import tables

    stream = _open(path, stats)
    try:
        head = stream.peek(4096)
        layout = tables.sniff(head, path)
        if layout is not None:
            stats.layout = layout
            stats.skipped = tables.unreadable(layout, stats.container, path)
            if stats.skipped is None:
                stream.close()
                yield from tables.iter_units(path, layout, stats, TABLE_ROWS)
            return
        why = _unsupported(head)
        if why is not None:
            stats.skipped = why
            return
        first = _peek_first_significant(stream)
        if first in (b"[", b"{") and not _first_line_is_record(stream):
            blob = stream.read_limited(DOCUMENT_LIMIT)
            if len(blob) > DOCUMENT_LIMIT:
                problem = ReadProblem(
                    "schema.long_line",
                    f"one JSON document over {DOCUMENT_LIMIT:,} bytes: not read; convert it to JSON Lines",
                    {"limit": DOCUMENT_LIMIT},
                )
                stats.layout = "json-array" if first == b"[" else "json-object"
                yield [RawItem(1, None, [problem], key=f"huge:{path}")]
                return
            stats.bytes_read = stream.consumed()
            try:
                items = list(iter_document(blob, stats, path))
            except NotADocument:
                stats.layout = "jsonl"
                plain = stats.container == containers.PLAIN
                yield Block(1, blob, True, None if plain else line_limit, plain)
                return
            if stream.error is not None:
                problem = ReadProblem("schema.invalid_json", containers.corrupt_message(stats.container, stream.error))
                items.append(RawItem(max(stats.lines, 1), None, [problem], key=f"corrupt:{path}"))
            for i in range(0, len(items), 2000):
                yield items[i : i + 2000]
            return
        line = 1
        plain = stats.container == containers.PLAIN
        limit = None if plain else line_limit
        while True:
            data = stream.read_block(block_bytes, limit)
            if not data:
                if stream.error is not None:
                    problem = ReadProblem(
                        "schema.invalid_json", containers.corrupt_message(stats.container, stream.error)
                    )
                    yield [RawItem(line, None, [problem], key=f"corrupt:{path}")]
                return
            stats.bytes_read = stream.consumed()
            yield Block(line, data, line == 1, limit, plain)
            line += data.count(b"\n")
    finally:
        if path != "-":
            stream.close()


def _unsupported(head: bytes) -> str | None:
    """Why bytes that are no known container or table cannot be records (they would be thousands of
    invalid-JSON lines); None for text."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "unsupported kind: UTF-16 text (re-encode the file as UTF-8)"
    if b"\x00" in head:
        return "unsupported kind: binary data (not text, not gzip/zstd/bzip2/xz, not Parquet/Arrow)"
    return None


def block_items(block: Block, stats: FileStats) -> Iterator[RawItem]:
    """The raw records of a block, with BOM, CRLF and blank lines turned into problems.

    CRLF is reported at the first CRLF line of each block, marked `once_per_file`: the engine
    keeps only the first such finding of a file.
    """
    data = block.data
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    crlf_reported = False
    for offset, raw in enumerate(lines):
        lineno = block.first_line + offset
        problems: list[ReadProblem] = []
        if offset == 0 and block.at_file_start and raw.startswith(BOM):
            raw = raw[len(BOM) :]
            problems.append(
                ReadProblem("schema.bom", "file starts with a UTF-8 byte-order mark; many loaders reject it")
            )
        if raw.endswith(b"\r"):
            stats.crlf_lines += 1
            if stats.first_crlf_line is None or stats.first_crlf_line > lineno:
                stats.first_crlf_line = lineno
            if not crlf_reported:
                crlf_reported = True
                problems.append(
                    ReadProblem(
                        "schema.crlf",
                        "Windows (CRLF) line endings start here; later lines are not listed",
                        {"once_per_file": True},
                    )
                )
            raw = raw[:-1]
        stats.lines = max(stats.lines, lineno)
        if not raw.strip():
            problems.append(ReadProblem("schema.blank_line", "blank line"))
            yield RawItem(lineno, None, problems, key=f"blank:{lineno}")
            continue
        stats.records += 1
        if block.line_limit is not None and len(raw) > block.line_limit:
            problems.append(_not_read(block.line_limit))
            yield RawItem(lineno, None, problems, key=f"long:{lineno}")
            continue
        yield RawItem(lineno, raw, problems)


def _not_read(limit: int) -> ReadProblem:
    return ReadProblem(
        "schema.long_line",
        f"line is over {limit:,} bytes decompressed (the limit): not read",
        {"limit": limit, "read": False},
    )


def _open(path: str, stats: FileStats) -> _PeekableFile:
    """The file's decompressed bytes; `stats.container` says which container it was in."""
    if path == "-":
        raw: Any = sys.stdin.buffer
    else:
        p = Path(path)
        if p.is_dir():
            raise DatasetReadError(f"{path}: is a directory")
        try:
            raw = open(p, "rb")  # noqa: SIM115 - closed by the caller
        except FileNotFoundError:
            raise DatasetReadError(f"{path}: no such file") from None
        except PermissionError:
            raise DatasetReadError(f"{path}: permission denied") from None
    stats.container = containers.sniff(raw.peek(8)[:8])
    if stats.container == containers.PLAIN:
        return _PeekableFile(raw, raw)
    return _PeekableFile(containers.decompressed(raw, stats.container), raw)


class _PeekableFile:
    """A binary stream we can peek into without losing the bytes we looked at."""

    def __init__(self, f: BinaryIO, underlying: Any) -> None:
        self._f = f
        self._raw = underlying  # the file on disk: how far into it we are
        self._buf = b""
        self.error: BaseException | None = None  # a corrupt or truncated container: the stream ends here

    def _read(self, n: int = -1) -> bytes:
        """Like read(n); out of a decompressor piece by piece, so a corrupt stream keeps what came before."""
        if self.error is not None:
            return b""
        if self._f is self._raw:
            return self._f.read(n)
        parts: list[bytes] = []
        got = 0
        try:
            while n < 0 or got < n:
                chunk = self._f.read1(1 << 16 if n < 0 else min(n - got, 1 << 16))
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except containers.CORRUPT_ERRORS as exc:
            self.error = exc
        return b"".join(parts)

    def _readline(self, limit: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            return self._f.readline(limit)
        except containers.CORRUPT_ERRORS as exc:
            self.error = exc
            return b""

    def consumed(self) -> int:
        """Bytes of the file on disk read so far (for progress)."""
        try:
            return int(self._raw.tell())
        except (OSError, ValueError):
            return 0

    def peek(self, n: int) -> bytes:
        """At least the first `n` bytes (fewer at the end of the stream), kept for later reads."""
        while len(self._buf) < n:
            chunk = self._read(n - len(self._buf))
            if not chunk:
                break
            self._buf += chunk
        return self._buf[:n]

    def peek_more(self, n: int) -> bytes:
        chunk = self._read(n)
        self._buf += chunk
        return chunk

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes (all that is left when n < 0), peeked ones first."""
        if n is None or n < 0:
            data, self._buf = self._buf + self._read(), b""
            return data
        if self._buf:
            data, self._buf = self._buf[:n], self._buf[n:]
            return data
        return self._read(n)

    def read_limited(self, limit: int) -> bytes:
        """The rest of the stream, but never more than `limit` + 1 bytes (more means too long)."""
        data, self._buf = self._buf + self._read(max(0, limit + 1 - len(self._buf))), b""
        return data

    def read_block(self, n: int, line_limit: int | None = None) -> bytes:
        """About n bytes ending at a line boundary (or at the end of the file).

        With `line_limit`, the line cut by the block's end is read up to the limit only: the rest of an
        over-long line is skipped unread (its first bytes stay, so the line is still there to report).
        """
        data, self._buf = self._buf + self._read(max(0, n - len(self._buf))), b""
        if not data or data.endswith(b"\n"):
            return data
        if line_limit is None:
            return data + self._readline()
        rest = self._readline(line_limit + 1)
        if rest.endswith(b"\n") or len(rest) <= line_limit:
            return data + rest
        self._discard_rest_of_line()
        return data + rest + b"\n"

    def _discard_rest_of_line(self) -> None:
        """Read past the rest of an over-long line, 1 MB at a time: never held in memory whole."""
        more = self._readline(1 << 20)
        while more and not more.endswith(b"\n"):
            more = self._readline(1 << 20)

    def close(self) -> None:
        self._f.close()
        if self._raw is not self._f:
            self._raw.close()


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _first_line_is_record(stream: _PeekableFile) -> bool:
    """A file starting with `[` or `{` is JSONL when its first line is a complete value and more
    follows: a JSONL file whose first record is an array, 100,000 nested brackets, JSON Lines
    in a `.json` file. Never looks further than a document may be long."""
    buf = stream._buf
    start = len(buf) - len(buf.removeprefix(BOM).lstrip())
    nl = buf.find(b"\n", start)
    while nl == -1:
        scanned = len(buf)
        if scanned > DOCUMENT_LIMIT or not stream.peek_more(max(1 << 16, scanned)):  # doubling: linear
            return False
        buf = stream._buf
        nl = buf.find(b"\n", scanned)
    first = _JSON_STRING.sub(b"", buf[start:nl])
    if first.count(b"[") + first.count(b"{") != first.count(b"]") + first.count(b"}"):
        return False
    rest = nl
    while not buf[rest:].strip():
        rest = len(buf)
        if not stream.peek_more(1 << 16):
            return False
        buf = stream._buf
    return True


def _peek_first_significant(stream: _PeekableFile) -> bytes:
    seen = stream._buf
    stripped = seen.removeprefix(BOM).lstrip()
    while not stripped:
        chunk = stream.peek_more(4096)
        if not chunk:
            return b""
        seen += chunk
        stripped = seen.removeprefix(BOM).lstrip()
    return stripped[:1]


def parse_record(
    path: str, lineno: int, raw: bytes, options: ReadOptions, problems: list[ReadProblem] | None = None
) -> Record:
    """Parse one record's bytes: fast path with orjson, exact diagnosis with the stdlib when it fails."""
    problems = problems if problems is not None else []
    size = len(raw)
    if size > options.max_line_bytes:
        problems.append(
            ReadProblem(
                "schema.long_line",
                f"line is {size:,} bytes (limit {options.max_line_bytes:,})",
                {"bytes": size, "limit": options.max_line_bytes},
            )
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = _diagnose(raw, problems)
    else:
        if _may_have_duplicate_keys(raw, data):
            _find_duplicate_keys(raw, problems)
    key = None
    if data is _UNPARSED:
        data = None
        key = "raw:" + _raw_hash(raw)
    elif not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        kind = {"list": "array", "str": "string", "int": "number", "float": "number", "bool": "boolean"}.get(kind, kind)
        problems.append(
            ReadProblem(
                "schema.not_object",
                f"record is a JSON {kind}, not an object",
                {"type": kind},
            )
        )
        key = "raw:" + _raw_hash(raw)
    elif options.id_field and isinstance(data.get(options.id_field), (str, int)):
        key = f"id:{data[options.id_field]}"
    return Record(path, lineno, data, tuple(problems), size, key=key)


_UNPARSED = object()


def _raw_hash(raw: bytes) -> str:
    import hashlib

    return hashlib.blake2b(raw, digest_size=10).hexdigest()


def _diagnose(raw: bytes, problems: list[ReadProblem]) -> Any:
    """orjson refused the line: find out exactly why, and recover what can be recovered."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(
            ReadProblem(
                "schema.encoding",
                f"invalid UTF-8 at byte {exc.start + 1} (0x{raw[exc.start]:02x}); re-encode the file as UTF-8",
                {"byte": exc.start + 1},
            )
        )
        text = raw.decode("utf-8", "replace")
    constants: list[str] = []

    def on_constant(name: str) -> float:
        constants.append(name)
        return float(name.replace("Infinity", "inf"))

    def on_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return _check_pairs(pairs, problems)

    try:
        data = json.loads(text, parse_constant=on_constant, object_pairs_hook=on_pairs)
    except RecursionError:
        depth = _max_depth(raw)
        problems.append(
            ReadProblem(
                "schema.nesting",
                f"nesting is {depth:,} levels deep; no JSON loader used for training accepts that",
                {"depth": depth},
            )
        )
        return _UNPARSED
    except json.JSONDecodeError as exc:
        problems.append(
            ReadProblem(
                "schema.invalid_json",
                f"invalid JSON at column {exc.colno}: {exc.msg}",
                {"column": exc.colno},
            )
        )
        return _UNPARSED
    except ValueError:  # an integer longer than Python's digit limit (sys.get_int_max_str_digits)
        digits = sys.get_int_max_str_digits()
        problems.append(
            ReadProblem(
                "schema.invalid_json",
                f"a number with over {digits:,} digits: Python's json (and loaders built on it) refuse it",
                {"max_digits": digits},
            )
        )
        return _UNPARSED
    if constants:
        names = ", ".join(sorted(set(constants)))
        problems.append(
            ReadProblem(
                "schema.nan_literal",
                f"{names} is not valid JSON; strict parsers (and the OpenAI upload) reject it",
                {"literals": sorted(set(constants))},
            )
        )
    elif not any(p.code in ("schema.encoding", "schema.duplicate_key") for p in problems):
        # parsed by the stdlib but not by orjson: usually lone surrogates or huge numbers
        problems.append(ReadProblem("schema.invalid_json", "JSON that strict parsers reject (e.g. a lone surrogate)"))
    return data


def _max_depth(raw: bytes) -> int:
    depth = best = 0
    for b in raw.translate(None, delete=bytes(set(range(256)) - set(b"[]{}"))):
        if b in (0x5B, 0x7B):
            depth += 1
            best = max(best, depth)
        else:
            depth -= 1
    return best


def _may_have_duplicate_keys(raw: bytes, data: Any) -> bool:
    """Cheap screen, exact in one direction: re-serialising drops duplicate keys, so equal counts of
    `":` in the input and in the compact re-serialisation mean there were none."""
    return len(_KEY_RE.findall(raw)) != orjson.dumps(data).count(b'":')


def _check_pairs(pairs: list[tuple[str, Any]], problems: list[ReadProblem]) -> dict[str, Any]:
    seen: set[str] = set()
    for k, _ in pairs:
        if k in seen:
            problems.append(
                ReadProblem(
                    "schema.duplicate_key",
                    f'duplicate key "{k[:40]}": loaders disagree on which value wins',
                    {"key": k[:40]},
                )
            )
        seen.add(k)
    return dict(pairs)


def _find_duplicate_keys(raw: bytes, problems: list[ReadProblem]) -> None:
    with contextlib.suppress(ValueError, RecursionError):
        json.loads(raw, object_pairs_hook=lambda pairs: _check_pairs(pairs, problems))
