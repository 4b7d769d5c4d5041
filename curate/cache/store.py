"""A store of bytes by key: one SQLite file, reads on the calling thread, writes on a writer thread.

Knows nothing of what the bytes mean (the codec does) nor of who asks (the engine). The file may
be hostile (a shared or restored cache folder): it is opened in SQLite's defensive mode with
untrusted schemas, and only ever asked for blobs by key.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

_CHUNK = 500  # keys per SELECT
_WRITE_CACHE_KB = 128 * 1024  # SQLite page cache of the writer thread's connection


class Store:
    """Picklable (connections are not: each process opens its own on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._conn_pid = 0
        self._writer: _Writer | None = None

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "_conn": None, "_conn_pid": 0, "_writer": None}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    # -- reading (any process) ---------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        conn = self._reader()
        if conn is None:
            return None
        row = conn.execute("SELECT v FROM results WHERE k = ?", (key,)).fetchone()
        return bytes(row[0]) if row and isinstance(row[0], bytes) else None

    def contains(self, key: bytes) -> bool:
        conn = self._reader()
        return conn is not None and conn.execute("SELECT 1 FROM results WHERE k = ?", (key,)).fetchone() is not None

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        conn = self._reader()
        if conn is None:
            return {}
        out: dict[bytes, bytes] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = list(keys[i : i + _CHUNK])
            marks = ",".join("?" * len(chunk))
            for k, v in conn.execute(f"SELECT k, v FROM results WHERE k IN ({marks})", chunk):
                if isinstance(k, bytes) and isinstance(v, bytes):
                    out[k] = v
        return out

    # -- writing (the main process) ----------------------------------------------------------
    def put_many(self, entries: list[tuple[bytes, bytes]]) -> None:
        """Queue entries for the writer thread (one transaction per call)."""
        if self._writer is None:
            self._writer = _Writer(lambda: self._open(write=True))
        self._writer.submit(entries)

    def close(self) -> BaseException | None:
        """Wait for the writer; returns its first error, if any."""
        error = None
        if self._writer is not None and self._writer.pid == os.getpid():
            error = self._writer.close()
        self._writer = None
        if self._conn is not None and self._conn_pid == os.getpid():
            self._conn.close()
        self._conn = None
        return error

    def abandon(self) -> None:
        """Stop without waiting: queued writes are dropped; the one under way ends with the process."""
        if self._writer is not None:
            self._writer.abandon()
        self._writer = None

    def prune(self, keep: int) -> None:
        """Keep the `keep` most recently used store files of this folder; mark this one used."""
        files = sorted(self.path.parent.glob("*.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True)
        os.utime(self.path)
        for old in files[keep:]:
            for extra in (old, Path(f"{old}-wal"), Path(f"{old}-shm")):
                with contextlib.suppress(OSError):
                    extra.unlink()

    # -- internals ---------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection | None:
        """This process's reading connection, opened once; None when there is no store yet."""
        if self._conn is not None and self._conn_pid == os.getpid():
            return self._conn
        conn = self._open(write=False)
        if conn is not None:
            self._conn, self._conn_pid = conn, os.getpid()
        return conn

    def _open(self, write: bool) -> sqlite3.Connection | None:
        if not write and not self.path.exists():
            return None
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        _harden(conn)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if write:  # inserts land on random pages (keys are hashes): SQLite's default 2 MB cache re-reads
            conn.execute(f"PRAGMA cache_size=-{_WRITE_CACHE_KB}")  # them from the file at every insert
        conn.execute("CREATE TABLE IF NOT EXISTS results (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        return conn


def _harden(conn: sqlite3.Connection) -> None:
    """SQLite's settings for database files from untrusted sources (sqlite.org/security.html)."""
    for name in ("SQLITE_DBCONFIG_DEFENSIVE",):
        flag = getattr(sqlite3, name, None)
        if flag is not None and hasattr(conn, "setconfig"):
            with contextlib.suppress(sqlite3.Error):
                conn.setconfig(flag, True)
    with contextlib.suppress(sqlite3.Error):
        conn.execute("PRAGMA trusted_schema=OFF")
    with contextlib.suppress(sqlite3.Error):
        conn.execute("PRAGMA cell_size_check=ON")


class _Writer:
    """One thread that inserts entries in order, with its own connection.

    Fork-safe: the engine may start its worker processes while a write is under way, and a
    child forked in the middle of an SQLite call could inherit a held SQLite mutex; so a fork
    waits until the current transaction is done (os.register_at_fork holds `busy` around it).
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection | None]) -> None:
        import queue
        import threading

        self.pid = os.getpid()
        self._connect = connect
        self._queue: queue.SimpleQueue[list[tuple[bytes, bytes]] | None] = queue.SimpleQueue()
        self.busy = threading.Lock()
        self.error: BaseException | None = None
        self.abandoned = False
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

    def abandon(self) -> None:
        self.abandoned = True
        self._queue.put(None)
        _WRITERS.discard(self)

    def _run(self) -> None:
        conn = None
        while (entries := self._queue.get()) is not None:
            if self.error is not None or self.abandoned:
                continue  # drain: the first error disables the cache at close
            with self.busy:
                try:
                    conn = conn or self._connect()
                    if conn is None:
                        continue
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
