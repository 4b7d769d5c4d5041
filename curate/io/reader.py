"""Stream records out of JSONL files and JSON arrays with their 1-based line numbers.

Every defect of the raw bytes becomes a ReadProblem on the record at its line, and reading
goes on: one broken line never stops an audit. JSONL is streamed line by line, so memory does
not grow with the file; a JSON array is read whole (they are small in practice).
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

    lines: int = 0
    records: int = 0
    crlf_lines: int = 0
    first_crlf_line: int | None = None
    layout: str = "jsonl"  # jsonl | json-array
    bytes_read: int = 0

    def merge(self, other: FileStats) -> None:
        """Fold in what a worker saw of one block (lines, records, CRLF)."""
        self.lines = max(self.lines, other.lines)
        self.records += other.records
        self.crlf_lines += other.crlf_lines
        if other.first_crlf_line is not None and (
            self.first_crlf_line is None or other.first_crlf_line < self.first_crlf_line
        ):
            self.first_crlf_line = other.first_crlf_line

    extra: dict[str, Any] = field(default_factory=dict)


class DatasetReadError(OSError):
    """The file itself cannot be read (missing, a directory, permission): exit code 2."""


@dataclass(slots=True)
class RawItem:
    """One record's bytes and where it starts, before parsing (cheap to send to a worker)."""

    line: int
    raw: bytes | None  # None: nothing to parse (a blank line, an unclosed array)
    problems: list[ReadProblem]
    key: str | None = None
    invalid: str | None = None  # the array splitter already knows this element is broken


def iter_records(path: str, options: ReadOptions | None = None, stats: FileStats | None = None) -> Iterator[Record]:
    """Yield every record of `path` ('-' is stdin), bad ones included, in file order."""
    options = options or ReadOptions()
    for item in iter_raw(path, options, stats):
        yield to_record(path, item, options)


def to_record(path: str, item: RawItem, options: ReadOptions) -> Record:
    if item.raw is None:
        return Record(path, item.line, None, tuple(item.problems), 0, key=item.key)
    record = parse_record(path, item.line, item.raw, options, item.problems)
    if item.invalid and record.ok:
        problems = (*record.problems, ReadProblem("schema.invalid_json", item.invalid))
        return Record(path, item.line, None, problems, record.raw_size, key=record.key)
    return record


@dataclass(frozen=True, slots=True)
class Block:
    """A run of whole lines of a JSONL file: the unit of work sent to a worker process."""

    first_line: int
    data: bytes
    at_file_start: bool


BLOCK_BYTES = 1 << 21


def iter_raw(path: str, options: ReadOptions | None = None, stats: FileStats | None = None) -> Iterator[RawItem]:
    """Split a file into raw records with line numbers; parsing is left to `to_record`."""
    stats = stats if stats is not None else FileStats()
    for unit in iter_units(path, stats):
        if isinstance(unit, Block):
            yield from block_items(unit, stats)
        else:
            yield from unit


def iter_units(path: str, stats: FileStats, block_bytes: int = BLOCK_BYTES) -> Iterator[Block | list[RawItem]]:
    """JSONL as blocks of whole lines (cheap for the reading process); a JSON array as raw items."""
    stream = _open(path)
    try:
        head = _peek_first_significant(stream)
        if head == b"[" and not _first_line_is_record(stream):
            stats.layout = "json-array"
            items = list(_iter_array(stream.read(), stats, path))
            for i in range(0, len(items), 2000):
                yield items[i : i + 2000]
            return
        line = 1
        while True:
            data = stream.read_block(block_bytes)
            if not data:
                return
            stats.bytes_read += len(data)
            yield Block(line, data, line == 1)
            line += data.count(b"\n")
    finally:
        if path != "-":
            stream.close()


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
        yield RawItem(lineno, raw, problems)


def _open(path: str) -> _PeekableFile:
    if path == "-":
        return _PeekableFile(sys.stdin.buffer)
    p = Path(path)
    if p.is_dir():
        raise DatasetReadError(f"{path}: is a directory")
    try:
        return _PeekableFile(open(p, "rb"))  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise DatasetReadError(f"{path}: no such file") from None
    except PermissionError:
        raise DatasetReadError(f"{path}: permission denied") from None


class _PeekableFile:
    """A binary file we can peek into without losing the bytes we looked at."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._buf = b""

    def peek_more(self, n: int) -> bytes:
        chunk = self._f.read(n)
        self._buf += chunk
        return chunk

    def read(self) -> bytes:
        data, self._buf = self._buf + self._f.read(), b""
        return data

    def read_block(self, n: int) -> bytes:
        """About n bytes ending at a line boundary (or at the end of the file)."""
        data, self._buf = self._buf + self._f.read(max(0, n - len(self._buf))), b""
        if data and not data.endswith(b"\n"):
            data += self._f.readline()
        return data

    def close(self) -> None:
        self._f.close()


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _first_line_is_record(stream: _PeekableFile) -> bool:
    """A file starting with `[` is still JSONL when its first line is a complete value and more follows
    (a JSONL file whose first record is an array, or 100,000 nested brackets)."""
    buf = stream._buf
    start = len(buf) - len(buf.removeprefix(BOM).lstrip())
    nl = buf.find(b"\n", start)
    while nl == -1:
        scanned = len(buf)
        if not stream.peek_more(max(1 << 16, scanned)):  # doubling keeps a huge one-line array linear
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
    seen = b""
    while True:
        chunk = stream.peek_more(4096)
        if not chunk:
            break
        seen += chunk
        stripped = seen.removeprefix(BOM).lstrip()
        if stripped:
            return stripped[:1]
    return b""


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


_ARRAY_SKIP = re.compile(r"[\s,]*")
_NEXT_OBJECT = re.compile(r"\n\s*\{")


def _iter_array(blob: bytes, stats: FileStats, path: str) -> Iterator[RawItem]:
    """Split a top-level JSON array into elements, each with the line where it starts."""
    problems: list[ReadProblem] = []
    stats.bytes_read = len(blob)
    if blob.startswith(BOM):
        blob = blob[len(BOM) :]
        problems.append(ReadProblem("schema.bom", "file starts with a UTF-8 byte-order mark; many loaders reject it"))
    if b"\r\n" in blob:
        stats.crlf_lines = blob.count(b"\r\n")
        stats.first_crlf_line = blob.count(b"\n", 0, blob.index(b"\r\n")) + 1
        problems.append(
            ReadProblem(
                "schema.crlf",
                f"Windows (CRLF) line endings ({stats.crlf_lines:,} lines, from line {stats.first_crlf_line})",
            )
        )
    stats.lines = blob.count(b"\n") + (0 if blob.endswith(b"\n") else 1)
    text = blob.decode("utf-8", "replace")
    start = text.index("[") + 1
    decoder = json.JSONDecoder()
    pos, line, counted_to = start, 1 + text.count("\n", 0, start), start
    while True:
        m = _ARRAY_SKIP.match(text, pos)
        pos = m.end() if m else pos
        if pos >= len(text):
            problems.append(ReadProblem("schema.invalid_json", "JSON array is not closed with ]"))
            yield RawItem(line, None, problems, key=f"array-end:{path}")
            return
        if text[pos] == "]":
            if text[pos + 1 :].strip():
                extra_line = line + text.count("\n", counted_to, pos)
                problem = ReadProblem("schema.invalid_json", "content after the closing ] of the JSON array")
                yield RawItem(extra_line, None, [problem], key=f"array-tail:{path}")
            return
        line += text.count("\n", counted_to, pos)
        counted_to = pos
        try:
            _, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            # diagnose this element alone, then resynchronise at the next line opening an object
            nxt = _NEXT_OBJECT.search(text, pos + 1)
            end = nxt.start() if nxt else len(text)
            chunk = text[pos:end].rstrip().rstrip(",").encode()
            invalid = exc.msg if isinstance(exc, json.JSONDecodeError) else None
            stats.records += 1
            yield RawItem(line, chunk, problems, invalid=invalid)
            problems = []
            pos = end
            continue
        stats.records += 1
        yield RawItem(line, text[pos:end].encode(), problems)
        problems = []
        pos = end
