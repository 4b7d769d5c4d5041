"""Replaying per-record work from the result cache, and keeping it there (the run's side of the cache).

The cache (`curate.cache`) is a store of authenticated data-only values and knows nothing of the
engine; this module turns `RecordResult`s into those values and back:

- a record entry: key, format, stats, findings (their path and line are the record's own) and
  the extracts of dataset checks whose extracts are plain or declared text-free (`cache_extract`);
  other extracts are computed again from the record on replay (LIVE);
- a block entry: a unit's results as columns, each dataset check's extracts as the check keeps
  them (`cache_extracts` / `restore_extracts`), sealed unless declared text-free.

Replaying gives a result equal to computing it (tested: tests/test_run_results.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from curate.cache.codec import Unencodable, decode, encode
from curate.cache.keys import CACHE_FORMAT, item_hash
from curate.cache.result import fields_of, finding_from_row, finding_row, from_fields
from curate.cache.seal import seal, unseal
from curate.run.results import SKIP_MARK, BlockResult, RecordResult

if TYPE_CHECKING:
    from curate.cache import ResultCache
    from curate.io.reader import Block, RawItem
    from curate.run.runner import Runner


def prepare(
    cache: ResultCache,
    rules: Sequence[Any],
    registry: Any,
    dataset_checks: Sequence[tuple[Any, Any]],
    ctx: Any,
    read: Any,
    input_format: Any,
) -> None:
    """Ready the cache for a run: off when a rule's check is not `cacheable`; else keyed by the run
    (`curate.cache.keys.run_fingerprint`), with each dataset check's `cache_extract` choice."""
    classes = [registry.checks[r.check] for r in rules]
    blockers = [r.id for r, cls in zip(rules, classes, strict=True) if not cls.cacheable]
    if blockers:
        cache.turn_off(f"cache off: rule(s) {', '.join(blockers)} cannot be cached")
        return
    extract_cached = tuple(check.cache_extract for _, check in dataset_checks)
    cache.prepare(rules, classes, ctx, read, input_format, extract_cached)


def load_block(cache: ResultCache, path: str, keys: tuple[bytes, bytes], checks: Sequence[Any]) -> BlockResult | None:
    """The result computed for this block (of this file or a copy) on an earlier run, or None.

    `checks`: the run's dataset checks, which restore their extracts (`restore_extracts`)."""
    payload = cache.get(keys[0])
    if payload is None:
        return None
    try:
        unpacked = unpack_block(payload, path, keys[1], cache.extract_cached, checks)
    except Exception:  # noqa: BLE001 - authentic but unreadable: a miss, never a wrong answer
        cache.damaged += 1
        return None
    if unpacked is None:
        return None
    result, hashed = unpacked
    cache.blocks_replayed += 1
    cache.hits += hashed
    return result


def block_entry(
    cache: ResultCache, path: str, block: Block, result: BlockResult, checks: Sequence[Any], hashed: int
) -> tuple[bytes, bytes] | None:
    """A block's cache entry (in a worker, right after computing it); None: not cacheable."""
    keys = cache.block_keys(block)
    if keys is None:
        return None
    try:
        return keys[0], pack_block(result, path, hashed, keys[1], cache.extract_cached, checks)
    except Unencodable:  # stats or an extract the codec does not store: just not cached
        return None


def run_items(cache: ResultCache, runner: Runner, path: str, items: Iterable[RawItem], result: BlockResult) -> int:
    """Results for `items` into `result.records`, replaying cached records and computing the rest.

    A computed record's entry goes to `result.cache_entries` (the main process stores them).
    Returns how many records a block entry would hold (blank lines: none)."""

    damaged = cache.damaged
    items = list(items)
    hashes = [item_hash(item) for item in items]
    hashed = len(hashes) - hashes.count(None)
    found = cache.prefetch(hashes)
    for item, h in zip(items, hashes, strict=True):
        payload = found.get(h) if h is not None else None
        if payload is not None:
            try:
                result.records.append(_replay(runner, path, item, unpack(item, payload)))
                cache.hits += 1
                continue
            except Exception:  # noqa: BLE001 - authentic but unreadable: a miss, never a wrong answer
                cache.damaged += 1
        cache.misses += h is not None  # blank lines have nothing to cache
        computed = runner.run_record(runner.record(path, item))
        result.records.append(computed)
        entry = _entry(cache, path, item, h, computed)
        if entry is not None:
            result.cache_entries.append(entry)
    result.cache_damaged += cache.damaged - damaged
    cache.damaged = damaged
    return hashed


def _replay(runner: Runner, path: str, item: RawItem, value: tuple) -> RecordResult:
    key, fmt, ok, stats, rows, extracts = value
    if not isinstance(stats, dict) or not isinstance(key, str) or not isinstance(fmt, str):
        raise ValueError("malformed record entry")
    line = item.line
    row: list[Any] = []
    failures: list[tuple[str, str]] = []
    if runner.dataset_checks:
        record = None
        for (rule, check), (kind, *val) in zip(runner.dataset_checks, extracts, strict=True):
            if kind == SKIP:
                row.append(SKIP_MARK)
            elif kind == VALUE:
                row.append(val[0])
            elif kind == LIVE:
                if record is None:
                    record = runner.record(path, item)
                    record.stats.update(stats)
                try:
                    row.append(check.extract(record))
                except Exception as exc:  # noqa: BLE001
                    from curate.run.findings import describe_failure

                    failures.append((rule.check, describe_failure(rule, exc, f"{path}:{line}")))
                    row.append(SKIP_MARK)
            else:
                raise ValueError("malformed extract")
    findings = tuple(finding_from_row(r, path, line) for r in rows)
    return RecordResult(line, key, fmt, bool(ok), dict(stats), findings, tuple(row), tuple(failures))


def _entry(
    cache: ResultCache, path: str, item: RawItem, h: bytes | None, result: RecordResult
) -> tuple[bytes, bytes] | None:
    """A computed record's cache entry, or None: not cacheable (a check failed: run it again next
    time so the error shows again; a finding names another place; a value the codec does not store)."""
    if h is None or result.failures:
        return None
    if any(f.path != path or f.line != item.line for f in result.findings):
        return None
    extracts: list[tuple] = []
    if result.extracts:
        for cached, value in zip(cache.extract_cached, result.extracts, strict=True):
            if value is SKIP_MARK:
                extracts.append((SKIP,))
            elif cached or (cached is None and _plain(value)):
                extracts.append((VALUE, value))
            else:
                extracts.append((LIVE,))
    try:
        return h, pack(item, result.key, result.format, result.ok, result.stats, list(result.findings), extracts)
    except Unencodable:
        return None


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


def pack(
    item: RawItem, key: str, fmt: str, ok: bool, stats: dict[str, Any], findings: list[Any], extracts: list[tuple]
) -> bytes:
    """A record's entry, sealed with a secret derived from the record's own bytes (its key may be
    `id:<value>`, its findings quote masked text): whoever holds only the cache reads nothing.
    Its findings' path and line are the record's own, so they are not kept."""
    rows = [[*row[:3], *row[5:]] for row in map(finding_row, findings)]
    return seal(encode([key, fmt, ok, stats, rows, extracts]), _record_secret(item))


def unpack(item: RawItem, payload: bytes) -> tuple[str, str, bool, dict[str, Any], list[list[Any]], list[tuple]]:
    plain = unseal(payload, _record_secret(item))
    if plain is None:
        raise ValueError("record entry sealed for other bytes")
    key, fmt, ok, stats, rows, extracts = decode(plain)
    return key, fmt, ok, stats, [[*r[:3], None, None, *r[3:]] for r in rows], extracts


def _record_secret(item: RawItem) -> bytes:
    """Derived from the record's bytes, and unlike the entry's key (`item_hash`) never stored."""
    return hashlib.blake2b(item.raw or b"", key=b"curate record seal", digest_size=32).digest()


def pack_block(
    result: BlockResult,
    path: str,
    hashed: int,
    secret: bytes,
    extract_cached: tuple[bool | None, ...],
    checks: Sequence[Any],
) -> bytes:
    """A unit's results as columns, each dataset check's extracts as the check keeps them
    (`cache_extracts`); extracts of checks that did not declare them text-free are sealed."""
    records = result.records
    has_extracts = bool(checks) and bool(records)
    skipped: list[list[int]] = []
    open_cols: list[Any] = []
    hidden: list[Any] = []
    if has_extracts:
        columns = list(zip(*(r.extracts for r in records), strict=True))
        skipped = [[i for i, v in enumerate(col) if v is SKIP_MARK] for col in columns]  # kept as positions
        columns = [[None if v is SKIP_MARK else v for v in col] for col in columns]
        columns = [check.cache_extracts(col) for col, check in zip(columns, checks, strict=True)]
        open_cols = [col if cached else None for col, cached in zip(columns, extract_cached, strict=True)]
        hidden = [None if cached else col for col, cached in zip(columns, extract_cached, strict=True)]
    fields_ = [
        [r.line for r in records],
        [r.key for r in records],
        [r.format for r in records],
        [r.ok for r in records],
        [r.stats for r in records],
    ]
    findings = [[finding_row(f) for f in r.findings] for r in records]
    file_stats = fields_of(result.file_stats) if result.file_stats is not None else None
    body = [path, fields_, findings, file_stats, hashed, has_extracts, skipped, open_cols, hidden]
    return encode([CACHE_FORMAT, seal(encode(body), secret)])  # sealed whole: keys, paths, findings


def unpack_block(
    payload: bytes,
    path: str,
    secret: bytes,
    extract_cached: tuple[bool | None, ...],
    checks: Sequence[Any],
) -> tuple[BlockResult, int] | None:
    """(the unit's result, how many records it holds), or None for an entry of another format or
    secret, or whose extracts a check cannot restore.

    Findings made under another path (a copy of the file) are re-addressed to `path`."""
    from curate.io.reader import FileStats

    fmt, sealed = decode(payload)
    plain = unseal(sealed, secret) if fmt == CACHE_FORMAT else None
    if plain is None:
        return None
    old_path, fields_, findings, file_stats, hashed, has_extracts, skipped, open_cols, hidden = decode(plain)
    lines, keys, formats, oks, stats = fields_
    n = len(lines)
    if any(not isinstance(col, list) or len(col) != n for col in (*fields_, findings)):
        raise ValueError("malformed block entry")
    found = [tuple(finding_from_row(row) for row in rows) for rows in findings]
    if old_path != path:
        found = [tuple(replace(f, path=path) if f.path == old_path else f for f in fs) for fs in found]
    extracts: list[tuple[Any, ...]] = [()] * n
    if has_extracts:
        columns = [o if cached else h for o, h, cached in zip(open_cols, hidden, extract_cached, strict=True)]
        restored = [check.restore_extracts(col, path) for col, check in zip(columns, checks, strict=True)]
        if any(col is None for col in restored):
            return None
        restored = [list(col) for col in restored]
        for col, positions in zip(restored, skipped, strict=True):
            for i in positions:
                col[i] = SKIP_MARK
        extracts = [tuple(row) for row in zip(*restored, strict=True)]
        if len(extracts) != n:
            raise ValueError("malformed block entry")
    for i in range(n):
        if not isinstance(stats[i], dict) or not isinstance(keys[i], str) or not isinstance(formats[i], str):
            raise ValueError("malformed block entry")
    result = BlockResult(
        [RecordResult(lines[i], keys[i], formats[i], bool(oks[i]), stats[i], found[i], extracts[i]) for i in range(n)],
        from_fields(FileStats, file_stats) if file_stats is not None else None,
    )
    return result, hashed
