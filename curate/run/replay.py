"""Replaying per-record work from the result cache, and keeping it there (the run's side of the cache).

The cache (`curate.cache`) is a store of authenticated data-only values and knows nothing of the
engine; this module turns the engine's per-record results into those values and back:

- a record entry: key, format, stats, findings (their path and line are the record's own) and
  the extracts of dataset checks whose extracts are plain or declared text-free (`cache_extract`);
  other extracts are computed again from the record on replay (LIVE);
- a block entry: a whole batch as columns, each dataset check's extracts as the check keeps them
  (`cache_extracts` / `restore_extracts`), sealed unless declared text-free.

Replaying a record appends exactly what computing it appends (tested: cached == uncached).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from curate.cache.codec import Unencodable, decode, encode
from curate.cache.keys import CACHE_FORMAT, item_hash
from curate.cache.result import fields_of, finding_from_row, finding_row, from_fields
from curate.cache.seal import seal, unseal
from curate.io.reader import to_record
from curate.run.results import SKIP_MARK

if TYPE_CHECKING:
    from curate.cache import ResultCache
    from curate.io.reader import Block, RawItem
    from curate.model import Finding


def load_block(
    cache: ResultCache, path: str, keys: tuple[bytes, bytes], batch_type: type, checks: Sequence[Any]
) -> Any | None:
    """The batch a worker computed for this block (of this file or a copy) on an earlier run, or None.

    `checks`: the run's dataset checks, which restore their extracts (`restore_extracts`)."""
    payload = cache.get(keys[0])
    if payload is None:
        return None
    try:
        batch = unpack_block(payload, path, keys[1], batch_type, cache.extract_cached, checks)
    except Exception:  # noqa: BLE001 - authentic but unreadable: a miss, never a wrong answer
        cache.damaged += 1
        return None
    if batch is None:
        return None
    batch, hashed = batch
    cache.blocks_replayed += 1
    cache.hits += hashed
    return batch


def block_entry(
    cache: ResultCache, path: str, block: Block, batch: Any, checks: Sequence[Any], hashed: int
) -> tuple[bytes, bytes] | None:
    """A block's cache entry (in a worker, right after computing it); None: not cacheable."""
    keys = cache.block_keys(block)
    if keys is None:
        return None
    try:
        return keys[0], pack_block(batch, path, hashed, keys[1], cache.extract_cached, checks)
    except Unencodable:  # stats or an extract the codec does not store: just not cached
        return None


def process(cache: ResultCache, proc: Any, path: str, items: Iterable[RawItem], batch: Any) -> int:
    """Run `proc` (the engine's per-record processor) over `items`, replaying cached records.

    A hit appends exactly what `proc.process_one` would have appended to `batch` (no parsing
    needed unless a dataset check's extract is not cached); a miss runs it and keeps the
    result in `batch.cached`, which the main process hands to `store`.
    """

    damaged = cache.damaged
    items = list(items)
    hashes = [item_hash(item) for item in items]
    hashed = len(hashes) - hashes.count(None)  # records a block entry holds (blank lines: none)
    found = cache.prefetch(hashes)
    for item, h in zip(items, hashes, strict=True):
        payload = found.get(h) if h is not None else None
        if payload is not None:
            try:
                _replay(proc, path, item, unpack(payload), batch)
                cache.hits += 1
                continue
            except Exception:  # noqa: BLE001 - authentic but unreadable: a miss, never a wrong answer
                cache.damaged += 1
        cache.misses += h is not None  # blank lines have nothing to cache
        _run_and_capture(cache, proc, path, item, h, batch)
    batch.cache_damaged += cache.damaged - damaged
    cache.damaged = damaged
    return hashed


def _replay(proc: Any, path: str, item: RawItem, value: tuple, batch: Any) -> None:

    key, fmt, ok, stats, rows, extracts = value
    if not isinstance(stats, dict) or not isinstance(key, str) or not isinstance(fmt, str):
        raise ValueError("malformed record entry")
    line = item.line
    row: list[Any] = []
    if proc.dataset_checks:
        record = None
        for (rule, check), (kind, *val) in zip(proc.dataset_checks, extracts, strict=True):
            if kind == SKIP:
                row.append(SKIP_MARK)
            elif kind == VALUE:
                row.append(val[0])
            elif kind == LIVE:
                if record is None:
                    record = to_record(path, item, proc.read)
                    if proc.input_format:
                        record.format_hint = proc.input_format
                    record.stats.update(stats)
                try:
                    row.append(check.extract(record))
                except Exception as exc:  # noqa: BLE001
                    proc.failed(rule, exc, f"{path}:{line}")
                    row.append(SKIP_MARK)
            else:
                raise ValueError("malformed extract")
    findings: list[Finding] = [finding_from_row(r, path, line) for r in rows]
    # everything above may fail on a damaged entry; nothing below does, so a batch is never half-written
    if proc.dataset_checks:
        batch.extracted.append(row)
    batch.findings.extend(findings)
    batch.lines.append(line)
    batch.keys.append(key)
    batch.formats.append(fmt)
    batch.oks.append(bool(ok))
    batch.stats.append(dict(stats))


def _run_and_capture(cache: ResultCache, proc: Any, path: str, item: RawItem, h: bytes | None, batch: Any) -> None:
    n_findings, n_extracted = len(batch.findings), len(batch.extracted)
    failures = sum(proc._error_counts.values())
    proc.process_one(to_record(path, item, proc.read), batch)
    if h is None or sum(proc._error_counts.values()) != failures:
        return  # a check failed on this record: run it again next time, so the error shows again
    findings = batch.findings[n_findings:]
    if any(f.path != path or f.line != item.line for f in findings):
        return  # a record check named another place: not replayable
    extracts: list[tuple] = []
    if len(batch.extracted) > n_extracted:
        for cached, value in zip(cache.extract_cached, batch.extracted[-1], strict=True):
            if value is SKIP_MARK:
                extracts.append((SKIP,))
            elif cached or (cached is None and _plain(value)):
                extracts.append((VALUE, value))
            else:
                extracts.append((LIVE,))
    try:
        blob = pack(batch.keys[-1], batch.formats[-1], batch.oks[-1], batch.stats[-1], findings, extracts)
    except Unencodable:  # stats or an extract the codec does not store: just not cached
        return
    batch.cached.append((h, blob))


_PLAIN = (bool, int, float, type(None))


def _plain(value: Any, depth: int = 0) -> bool:
    """Numbers, booleans and None (in tuples or lists, or a numeric numpy array): an extract that
    cannot hold text, so it is cached even when its check did not declare `cache_extract`."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (tuple, list)):
        return depth < 3 and len(value) <= 4096 and all(_plain(v, depth + 1) for v in value)
    dtype = getattr(value, "dtype", None)
    return dtype is not None and getattr(dtype, "kind", "") in "biuf" and type(value).__name__ == "ndarray"


# -- what a record's cache entry holds ---------------------------------------------------------

SKIP, VALUE, LIVE = 0, 1, 2


def pack(key: str, fmt: str, ok: bool, stats: dict[str, Any], findings: list[Any], extracts: list[tuple]) -> bytes:
    """A record's entry; its findings' path and line are the record's own, so they are not kept."""
    rows = [[*row[:3], *row[5:]] for row in map(finding_row, findings)]
    return encode([key, fmt, ok, stats, rows, extracts])


def unpack(payload: bytes) -> tuple[str, str, bool, dict[str, Any], list[list[Any]], list[tuple]]:
    key, fmt, ok, stats, rows, extracts = decode(payload)
    return key, fmt, ok, stats, [[*r[:3], None, None, *r[3:]] for r in rows], extracts


_BLOCK_FIELDS = ("lines", "keys", "formats", "oks", "stats")


def pack_block(
    batch: Any, path: str, hashed: int, secret: bytes, extract_cached: tuple[bool | None, ...], checks: Sequence[Any]
) -> bytes:
    """A batch as columns, each as its check keeps it (`cache_extracts`); extracts of checks that
    did not declare them text-free are sealed."""
    columns = list(zip(*batch.extracted, strict=True)) if batch.extracted else []
    skipped = [[i for i, v in enumerate(col) if v is SKIP_MARK] for col in columns]  # kept as positions
    columns = [[None if v is SKIP_MARK else v for v in col] for col in columns]
    columns = [check.cache_extracts(col) for col, check in zip(columns, checks, strict=True)]
    open_cols = [col if cached else None for col, cached in zip(columns, extract_cached, strict=True)]
    hidden = [None if cached else col for col, cached in zip(columns, extract_cached, strict=True)]
    sealed = seal(encode(hidden), secret)
    fields_ = [getattr(batch, name) for name in _BLOCK_FIELDS]
    findings = [finding_row(f) for f in batch.findings]
    file_stats = fields_of(batch.file_stats) if batch.file_stats is not None else None
    entry = [
        CACHE_FORMAT,
        path,
        fields_,
        findings,
        file_stats,
        hashed,
        bool(batch.extracted),
        skipped,
        open_cols,
        sealed,
    ]
    return encode(entry)


def unpack_block(
    payload: bytes,
    path: str,
    secret: bytes,
    batch_type: type,
    extract_cached: tuple[bool | None, ...],
    checks: Sequence[Any],
) -> tuple[Any, int] | None:
    """(the batch, how many records it holds), or None for an entry of another format or secret,
    or whose extracts a check cannot restore.

    Findings made under another path (a copy of the file) are re-addressed to `path`."""
    from curate.engine import SKIP_MARK
    from curate.io.reader import FileStats

    fmt, old_path, fields_, findings, file_stats, hashed, has_extracts, skipped, open_cols, sealed = decode(payload)
    plain = unseal(sealed, secret)
    if fmt != CACHE_FORMAT or plain is None:
        return None
    hidden = decode(plain)
    batch = batch_type()
    n = len(fields_[0])
    for name, value in zip(_BLOCK_FIELDS, fields_, strict=True):
        if not isinstance(value, list) or len(value) != n:
            raise ValueError("malformed block entry")
        setattr(batch, name, value)
    batch.findings = [finding_from_row(r) for r in findings]
    if old_path != path:
        batch.findings = [replace(f, path=path) if f.path == old_path else f for f in batch.findings]
    batch.file_stats = from_fields(FileStats, file_stats) if file_stats is not None else None
    if has_extracts:
        columns = [o if cached else h for o, h, cached in zip(open_cols, hidden, extract_cached, strict=True)]
        restored = [check.restore_extracts(col, path) for col, check in zip(columns, checks, strict=True)]
        if any(col is None for col in restored):
            return None
        restored = [list(col) for col in restored]
        for col, positions in zip(restored, skipped, strict=True):
            for i in positions:
                col[i] = SKIP_MARK
        batch.extracted = [list(row) for row in zip(*restored, strict=True)]
        if len(batch.extracted) != n:
            raise ValueError("malformed block entry")
    return batch, hashed
