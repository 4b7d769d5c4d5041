"""Records out of one JSON document: an array, a single record, an object of records keyed by id, or a
`{"data" | "examples" | "rows": [...]}` wrapper, each record with the line where it starts.

A document is read whole (bounded by `DOCUMENT_LIMIT`); JSON Lines are streamed by the reader instead.
The shape decides the layout name shown in the summary (`json-array`, `json-object`, `json-keyed`,
`json-wrapper:data`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from curate.model import ReadProblem

if TYPE_CHECKING:
    from curate.io.reader import FileStats, RawItem

BOM = b"\xef\xbb\xbf"
DOCUMENT_LIMIT = 1 << 30  # a JSON document is read whole: never more than this (decompressed)
WRAPPER_KEYS = ("data", "examples", "rows")
_SKIP_WS = re.compile(r"\s*")
_ARRAY_SKIP = re.compile(r"[\s,]*")
_NEXT_OBJECT = re.compile(r"\n\s*\{")
# finding where values start and end needs no numbers: integers stay text (one over Python's digit
# limit would raise), so the element holding one is cut out whole and diagnosed by the record parser
_STRUCTURE = json.JSONDecoder(parse_int=len)


def iter_document(blob: bytes, stats: FileStats, path: str) -> Iterator[RawItem]:
    """Split a whole JSON document into raw records; defects of the file go on the first record."""
    from curate.io.reader import RawItem

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
    try:
        text = blob.decode("utf-8")
        lossless = True
    except UnicodeDecodeError:
        text, lossless = blob.decode("utf-8", "replace"), False
    start = _SKIP_WS.match(text).end()  # type: ignore[union-attr]
    line = 1 + text.count("\n", 0, start)
    if not lossless and not text.startswith("[", start):
        # records cut out of re-decoded text would lose the bad bytes: one record, diagnosed as it is
        stats.layout = "jsonl" if stats.lines == 1 else "json-object"
        stats.records += 1
        yield RawItem(line, blob.strip(), problems)
        return
    if text.startswith("[", start):
        stats.layout = "json-array"
        items = _elements(text, start, line, problems, path, stats)
        yield from (items if lossless else _with_encoding_problems(items, blob))
        return
    try:
        value, end = _STRUCTURE.raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError):
        if _looks_like_lines(blob):
            raise NotADocument from None  # JSON Lines whose first line is broken: the reader streams them
        # not one valid document: one record, diagnosed exactly by the record parser
        stats.layout = "jsonl" if stats.lines == 1 else "json-object"
        stats.records += 1
        yield RawItem(line, blob.strip(), problems)
        return
    tail = _tail_item(text, end, path)
    if isinstance(value, dict):
        wrapper = _wrapper_key(value)
        if wrapper is not None:
            stats.layout = f"json-wrapper:{wrapper}"
            for key, vstart, vline in _members(text, start, line):
                if key == wrapper:
                    yield from _elements(text, vstart, vline, problems, path, stats)
                    problems = []
            yield from tail
            return
        if _is_keyed(value):
            stats.layout = "json-keyed"
            for key, vstart, vline in _members(text, start, line):
                _, vend = _STRUCTURE.raw_decode(text, vstart)
                stats.records += 1
                yield RawItem(vline, text[vstart:vend].encode(), problems, key=f"id:{key}")
                problems = []
            yield from tail
            return
    stats.layout = "jsonl" if stats.lines == 1 else "json-object"  # one line, one object: JSONL too
    stats.records += 1
    yield RawItem(line, text[start:end].encode(), problems)
    yield from tail


class NotADocument(Exception):
    """The bytes are JSON Lines after all (a broken first line hid it): read them line by line."""


def _looks_like_lines(blob: bytes) -> bool:
    """Some line after the first is a whole JSON object on its own: JSON Lines, not a broken document."""
    import orjson

    for raw in blob.split(b"\n", 1000)[1:1000]:
        raw = raw.strip()
        if raw.startswith(b"{") and raw.endswith(b"}"):
            try:
                if isinstance(orjson.loads(raw), dict):
                    return True
            except orjson.JSONDecodeError:
                continue
    return False


def _tail_item(text: str, end: int, path: str) -> list[RawItem]:
    from curate.io.reader import RawItem

    if not text[end:].strip():
        return []
    extra_line = 1 + text.count("\n", 0, _SKIP_WS.match(text, end).end())  # type: ignore[union-attr]
    problem = ReadProblem("schema.invalid_json", "content after the end of the JSON document")
    return [RawItem(extra_line, None, [problem], key=f"doc-tail:{path}")]


def _wrapper_key(value: dict[str, Any]) -> str | None:
    """`{"data": [...records...], "version": ...}`: exactly one of the wrapper keys holds a list of objects."""
    found = [
        k
        for k in WRAPPER_KEYS
        if isinstance(value.get(k), list) and value[k] and all(isinstance(x, dict) for x in value[k])
    ]
    return found[0] if len(found) == 1 else None


def _is_keyed(value: dict[str, Any]) -> bool:
    """`{"1187": {...}, "29800": {...}}`: two or more members, every one an object, and the object
    itself is not a record of a known format (a record whose fields happen to be objects)."""
    if len(value) < 2 or not all(isinstance(v, dict) for v in value.values()):
        return False
    from curate.formats import detect

    return detect(value) == "unknown" and (any(detect(v) != "unknown" for v in value.values()) or _same_keys(value))


def _same_keys(value: dict[str, Any]) -> bool:
    """Members that all share one set of keys look like records (ToolBench's query-id objects)."""
    shapes = {frozenset(v) for v in value.values()}
    return len(shapes) == 1 and len(next(iter(shapes))) >= 2


def _members(text: str, start: int, line: int) -> Iterator[tuple[str, int, int]]:
    """(key, value start, value line) of each member of the valid object starting at `start`."""
    decoder = _STRUCTURE
    pos = start + 1
    counted = start
    while True:
        pos = _ARRAY_SKIP.match(text, pos).end()  # type: ignore[union-attr]
        if text[pos] == "}":
            return
        key, pos = decoder.raw_decode(text, pos)
        pos = _SKIP_WS.match(text, pos).end() + 1  # type: ignore[union-attr]  # the colon
        pos = _SKIP_WS.match(text, pos).end()  # type: ignore[union-attr]
        line += text.count("\n", counted, pos)
        counted = pos
        yield key, pos, line
        _, pos = decoder.raw_decode(text, pos)


def _elements(
    text: str, start: int, line: int, problems: list[ReadProblem], path: str, stats: FileStats
) -> Iterator[RawItem]:
    """Split the array starting at `start` into elements, each with the line where it starts;
    a broken element is diagnosed alone and reading resumes at the next line opening an object."""
    from curate.io.reader import RawItem

    decoder = _STRUCTURE
    pos = counted_to = start + 1
    while True:
        m = _ARRAY_SKIP.match(text, pos)
        pos = m.end() if m else pos
        if pos >= len(text):
            problems.append(ReadProblem("schema.invalid_json", "JSON array is not closed with ]"))
            yield RawItem(line + text.count("\n", counted_to, pos), None, problems, key=f"array-end:{path}")
            return
        if text[pos] == "]":
            if stats.layout == "json-array" and text[pos + 1 :].strip():
                extra_line = line + text.count("\n", counted_to, pos)
                problem = ReadProblem("schema.invalid_json", "content after the closing ] of the JSON array")
                yield RawItem(extra_line, None, [problem], key=f"array-tail:{path}")
            return
        line += text.count("\n", counted_to, pos)
        counted_to = pos
        try:
            _, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
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


def _invalid_utf8(blob: bytes) -> list[tuple[int, int, int]]:
    """(line, byte offset, byte value) of each invalid UTF-8 sequence in the document."""
    out: list[tuple[int, int, int]] = []
    pos = 0
    while pos < len(blob):
        try:
            blob[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            at = pos + exc.start
            out.append((1 + blob.count(b"\n", 0, at), at, blob[at]))
            pos = pos + exc.end
    return out


def _with_encoding_problems(items: Iterator[RawItem], blob: bytes) -> Iterator[RawItem]:
    """Array elements whose bytes were not valid UTF-8 carry the same `invalid-utf8` error a JSONL
    line would: the element was read from text with U+FFFD in place of the bad bytes."""
    bad = _invalid_utf8(blob)
    pending: RawItem | None = None
    for item in items:
        if pending is not None:
            yield _mark(pending, [b for b in bad if pending.line <= b[0] < item.line])
        pending = item
    if pending is not None:
        yield _mark(pending, [b for b in bad if b[0] >= pending.line])


def _mark(item: RawItem, bad: list[tuple[int, int, int]]) -> RawItem:
    if bad:
        _, at, value = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        item.problems = [
            *item.problems,
            ReadProblem(
                "schema.encoding",
                f"invalid UTF-8 at byte {at + 1:,} of the file (0x{value:02x}){more}; re-encode the file as UTF-8",
                {"byte": at + 1},
            ),
        ]
    return item
