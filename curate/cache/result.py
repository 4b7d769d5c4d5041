"""Result cache: a second run over an unchanged (or slightly grown) dataset is fast.

One store file per *run fingerprint* (`curate.cache.keys`), so any change of rules, options,
code or versions starts a fresh cache. Three kinds of entry, tried in this order:

- a whole run, keyed by the paths and a digest of every file's bytes: the finished report
  (findings before suppression, dataset stats, the per-record stats table), replayed without
  reading a record;
- a block of lines (the engine's unit of work), keyed by a digest of its bytes and its first
  line: the batch a worker computed, replayed in the main process (a grown file's old part);
- a record, keyed by its raw bytes and read problems: its findings, key, format, stats and the
  extracts of dataset checks that opt in (an edited file, whose later blocks all shifted).

Values are data only (`curate.cache.codec`: msgpack) and every entry carries a keyed MAC, so a
cache folder written by someone else can neither run code nor change a report: a tampered or
truncated entry is a miss, counted, and reported once as a warning. Cached and uncached runs
give identical reports (tested). Record entries hold what reports already show (findings, whose
messages checks mask), stats, keys and fingerprints; never record text. What may quote text
(extracts of checks that did not set `cache_extract = True`, a run's dataset stats) is sealed
with a key derived from the content itself (`curate.cache.seal`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.cache.codec import Unencodable, decode, encode, open_entry, seal_entry
from curate.cache.keys import CACHE_FORMAT, content_keys, file_digest, run_fingerprint
from curate.cache.seal import seal, unseal
from curate.cache.store import Store
from curate.io.cachedir import default_cache_dir, load_key

if TYPE_CHECKING:
    from curate.config import Rule
    from curate.io.reader import Block, ReadOptions
    from curate.model import Finding
    from curate.report import DatasetInfo

KEEP_RUNS = 8  # run fingerprints kept; older cache files are deleted

# what `curate cache clear` removes: this cache (and older formats) and the dedup signature cache
_SUBDIRS = (f"v{CACHE_FORMAT}", "v2", "v1", "dedup")


def _cache_files(directory: Path) -> list[Path]:
    return [
        p for sub in _SUBDIRS if (directory / sub).is_dir() for p in sorted((directory / sub).rglob("*")) if p.is_file()
    ]


def clear_cache(directory: Path | None = None) -> int:
    """Delete every cache file curate wrote in `directory`; returns how many bytes were freed."""
    freed = 0
    for path in _cache_files(directory or default_cache_dir()):
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            path.unlink()
            freed += size
    return freed


def cache_size(directory: Path | None = None) -> tuple[int, int]:
    """(result-cache files, bytes of everything `clear_cache` would remove) in `directory`."""
    directory = directory or default_cache_dir()
    files = _cache_files(directory)
    runs = sum(1 for p in files if p.parent.name == _SUBDIRS[0] and p.suffix == ".sqlite")
    return runs, sum(p.stat().st_size for p in files)


class ResultCache:
    """A store of per-run values: `prepare` once per run, `prefetch`/`get` in workers, `store`/`flush` in the
    main process.

    Picklable (the store's connection is not), so it travels to worker processes with the rules.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.run_id: str | None = None
        self.enabled = True
        self.warnings: list[str] = []
        self.hits = 0
        self.misses = 0
        self.damaged = 0  # entries whose MAC or contents were wrong: misses, reported once
        self._pending: list[tuple[bytes, bytes]] = []
        self._key: bytes | None = None
        self._store: Store | None = None
        self.extract_cached: tuple[bool | None, ...] = ()  # per dataset check: True, False, or None (decide by value)
        self.runs_replayed = 0  # whole runs answered from the cache (an unchanged set of files)
        self.blocks_replayed = 0  # blocks of lines answered from the cache (e.g. a grown file's old part)
        self._run: tuple[bytes, bytes, list[tuple[str, int, int]]] | None = None  # key, secret, (path, size, mtime)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_pending=[], warnings=[], damaged=0)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def folder(self) -> Path:
        return self.directory / f"v{CACHE_FORMAT}"

    # -- main process ------------------------------------------------------------------------
    def prepare(
        self,
        rules: Sequence[Rule],
        classes: Sequence[type],
        ctx: Any,
        read: ReadOptions,
        input_format: str | None,
        extract_cached: tuple[bool | None, ...],
    ) -> None:
        """Compute the run fingerprint and load (or create) the key; the cache turns off when the
        key cannot be had. What a run may cache is the run's decision (`curate.run.replay.prepare`):
        `extract_cached` says, per dataset check, whether its extracts are stored (True), not
        (False) or only when they are plain numbers (None)."""
        try:
            self._key, warning = load_key(self.folder, create=True)
        except OSError as exc:
            self._disable(f"cache not written: {exc.strerror or type(exc).__name__}")
            return
        if warning:
            self.warnings.append(warning)
        if self._key is None:
            self._disable("cache off: no key")
            return
        _ignore_in_git(self.directory)
        self.extract_cached = extract_cached
        self.run_id = run_fingerprint(rules, classes, ctx, read, input_format, self.extract_cached)
        self._store = Store(self.folder / f"{self.run_id}.sqlite")

    def turn_off(self, why: str) -> None:
        """Use no cache for this run, and say why (one warning line)."""
        self._disable(why)

    def store(self, entries: Iterable[tuple[bytes, bytes]]) -> None:
        """Keep (key, value) entries; values are sealed with the MAC here."""
        if self._key is None:
            return
        key = self._key
        self._pending.extend((k, seal_entry(key, k, v)) for k, v in entries)
        if len(self._pending) >= 50_000:
            self.flush()

    def flush(self) -> None:
        """Hand what the workers computed to the store's writer thread (one transaction per hand-off).

        Writing on a thread keeps the main process collecting results meanwhile: inserting
        100,000 records' entries took it ~14 s, during which the workers ran out of blocks.
        sqlite3 releases the GIL while SQLite works, so the two overlap for real."""
        if not self._pending or not self.enabled or self._store is None:
            self._pending = []
            return
        pending, self._pending = self._pending, []
        self._store.put_many(pending)

    def close(self) -> None:
        self.flush()
        if self._store is not None:
            wrote = self._store._writer is not None
            error = self._store.close()
            if error is not None:
                self._disable(f"cache not written: {type(error).__name__}: {error}")
            elif wrote:
                with contextlib.suppress(OSError):
                    self._store.prune(KEEP_RUNS)
        if self.damaged:
            n = self.damaged
            self.warnings.append(f"result cache: {n} damaged entr{'y' if n == 1 else 'ies'} ignored (recomputed)")
            self.damaged = 0

    def abort(self) -> None:
        """An interrupted run: drop what is not written yet and do not wait for the writer (its
        transaction either commits whole or not at all)."""
        self._pending = []
        self._run = None
        if self._store is not None:
            self._store.abandon()

    def note_damaged(self, n: int) -> None:
        """Damaged entries a worker met (each worker has its own copy of the cache)."""
        self.damaged += n

    # -- reading one entry -------------------------------------------------------------------
    def _value(self, k: bytes, blob: bytes | None) -> bytes | None:
        """The authenticated payload of a stored value, or None (absent, or damaged: counted)."""
        if blob is None or self._key is None:
            return None
        payload = open_entry(self._key, k, blob)
        if payload is None:
            self.damaged += 1
        return payload

    def get(self, key: bytes) -> bytes | None:
        """The authentic payload stored under `key`, or None (absent, or damaged: counted)."""
        if self._store is None:
            return None
        try:
            return self._value(key, self._store.get(key))
        except Exception as exc:  # noqa: BLE001 - sqlite3 errors, a damaged file: the cache is off, the run goes on
            self._disable(f"cache not read: {type(exc).__name__}")
            return None

    # -- whole runs: an unchanged set of files replays its finished report -------------------
    def load_run(self, paths: Sequence[str]) -> StoredRun | None:
        """The stored result of a run over exactly these files with these contents, if any.

        Keyed by the run fingerprint, the paths and a digest of every file's bytes, so it holds
        for any change of rules, options, code, versions or data. Remembers the key for `store_run`.
        """
        self._run = None
        if not self.enabled or self.run_id is None or not paths or "-" in paths:
            return None
        parts, seen = [self.run_id.encode()], []
        try:
            for path in paths:
                st = os.stat(path)
                parts.append(f"\0{path}\0{st.st_size}\0".encode() + file_digest(path))
                seen.append((path, st.st_size, st.st_mtime_ns))
        except OSError:
            return None  # the run itself reports what is wrong with the file
        key, secret = content_keys(b"".join(parts), b"run")
        self._run = (key, secret, seen)
        payload = self.get(key)
        if payload is None:
            return None
        try:
            run = unpack_run(payload, secret)
        except Exception:  # noqa: BLE001 - authentic but unreadable (another version): a miss
            run = None
        if run is None:
            self.damaged += 1
            return None
        self.runs_replayed += 1
        return run

    def store_run(self, run: StoredRun) -> None:
        """Keep a finished run for `load_run`, unless a file changed while it was read."""
        if self._run is None or not self.enabled:
            return
        key, secret, seen = self._run
        self._run = None
        try:
            if any((os.stat(p).st_size, os.stat(p).st_mtime_ns) != (size, mtime) for p, size, mtime in seen):
                return
            blob = pack_run(run, secret)
        except (Unencodable, OSError):  # stats the codec does not store: just not kept
            return
        self.store([(key, blob)])
        self.close()

    # -- blocks: the unchanged part of a file replays without parsing or workers ---------------
    def block_keys(self, block: Block) -> tuple[bytes, bytes] | None:
        """Not keyed by path (findings are re-addressed on replay): a grown copy reuses its original's blocks."""
        if not self.enabled or self.run_id is None:
            return None
        import hashlib

        digest = hashlib.blake2b(block.data, digest_size=32).digest()
        head = f"{self.run_id}\0{block.first_line}\0{int(block.at_file_start)}\0".encode()
        return content_keys(head + digest, b"block")

    def find_block(self, block: Block) -> tuple[bytes, bytes] | None:
        """The keys of this block's entry when the cache holds one (its data is read by `load_block`)."""
        keys = self.block_keys(block)
        if keys is None or self._store is None:
            return None
        try:
            if not self._store.contains(keys[0]):
                return None
        except Exception as exc:  # noqa: BLE001 - sqlite3 errors on a damaged file
            self._disable(f"cache not read: {type(exc).__name__}")
            return None
        return keys

    # -- anywhere (workers) ------------------------------------------------------------------
    def prefetch(self, hashes: Sequence[bytes | None]) -> dict[bytes, bytes]:
        """Authentic cached payloads for the given record hashes (one query per few hundred keys)."""
        if not self.enabled or self._store is None:
            return {}
        wanted = [h for h in hashes if h is not None]
        try:
            found = self._store.get_many(wanted)
        except Exception as exc:  # noqa: BLE001 - sqlite3 errors on a damaged file
            self._disable(f"cache not read: {type(exc).__name__}")
            return {}
        out = {}
        for k, blob in found.items():
            payload = self._value(k, blob)
            if payload is not None:
                out[k] = payload
        return out

    def _disable(self, why: str) -> None:
        self.enabled = False
        self.warnings.append(why)


def _ignore_in_git(directory: Path) -> None:
    """Like pytest and ruff: the cache folder holds a .gitignore of `*`, so nobody commits it."""
    marker = directory / ".gitignore"
    if not marker.exists():
        with contextlib.suppress(OSError):
            marker.write_text("# created by curate: the result cache is never committed\n*\n", encoding="utf-8")


# -- findings as rows --------------------------------------------------------------------------


def finding_row(f: Finding) -> list[Any]:
    return [f.rule, f.check, int(f.severity), f.path, f.line, f.field, f.message, f.fingerprint, f.key, f.fix, f.data]


def finding_from_row(row: Sequence[Any], path: str | None = None, line: int | None = None) -> Finding:
    """A finding back from its row; `path`/`line` (a record entry's place) replace the stored ones."""
    from curate.model import Finding, Severity

    rule, check, sev, fpath, fline, field, message, fp, key, fix, data = row
    if not isinstance(data, dict) or not isinstance(message, str) or not isinstance(rule, str):
        raise ValueError("malformed finding")
    return Finding(
        rule,
        check,
        Severity(sev),
        path if path is not None else fpath,
        line if line is not None else fline,
        field,
        message,
        fp,
        key,
        fix,
        dict(data),
    )


def fields_of(obj: Any) -> list[Any]:
    return [getattr(obj, f.name) for f in fields(obj)]


def from_fields(cls: type, values: Sequence[Any]) -> Any:
    names = [f.name for f in fields(cls)]
    if len(values) != len(names):
        raise ValueError(f"malformed {cls.__name__}")
    return cls(**dict(zip(names, values, strict=True)))


# -- what a whole run's and a block's entries hold ---------------------------------------------


@dataclass(slots=True)
class StoredRun:
    """A finished run before suppression: what the report needs to be rebuilt exactly."""

    datasets: list[DatasetInfo]
    findings: list[Finding]  # every finding, sorted as the report sorts them, none suppressed yet
    stats: dict[str, Any]
    columns: dict[str, list[Any]]  # the per-record stats table (RunState), as the run built it
    records: int
    # the checks' run notices about the data (finalize says some), shown; not their warnings, which are
    # about this run's own caches and do not hold for a replay
    notices: list[str] = field(default_factory=list)


def pack_run(run: StoredRun, secret: bytes) -> bytes:
    """Sealed whole: statistics quote text (the most common system prompts), findings carry record
    keys (`id:<value>` of a configured id field) and datasets their file names."""
    datasets = [fields_of(d) for d in run.datasets]
    body = encode(
        [
            datasets,
            [finding_row(f) for f in run.findings],
            run.stats,
            run.columns,
            run.records,
            run.notices,
        ]
    )
    return encode([CACHE_FORMAT, seal(body, secret)])


def unpack_run(payload: bytes, secret: bytes) -> StoredRun | None:
    from curate.report import DatasetInfo

    fmt, sealed = decode(payload)
    body = unseal(sealed, secret) if fmt == CACHE_FORMAT else None
    if body is None:
        return None
    datasets, findings, stats, columns, records, notices = decode(body)
    if not isinstance(columns, dict) or not isinstance(records, int) or not isinstance(stats, dict):
        return None
    if not isinstance(notices, list) or not all(isinstance(t, str) for t in notices):
        return None
    return StoredRun(
        [from_fields(DatasetInfo, d) for d in datasets],
        [finding_from_row(r) for r in findings],
        stats,
        columns,
        records,
        list(notices),
    )
