"""Signature cache: a second run on a grown file only sketches the new records.

Keyed by a hash of each record's selected text, inside a file whose name carries the
parameters, the algorithm version and the datasketch version (2.0 changed its hashing, so
old signatures must never be mixed with new ones). Files hold hashes and signatures only,
never text. Default place: `$CURATE_CACHE_DIR/dedup` or `$XDG_CACHE_HOME/curate/dedup` (per
user, nothing to ignore in git; the rule parameter `cache_dir` moves it).

A file is numpy arrays of fixed numeric dtypes behind a JSON header (data only), followed by a
keyed MAC of everything before it (`curate.io.cachedir`: the key lives in the same folder). A
file whose MAC does not match (overwritten arrays, truncated, written under another key) is
ignored as a whole: its records are sketched again and the check reports one warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from curate.checks.dedup.spill import forget
from curate.checks.dedup.store import Sketch, StoreArrays
from curate.display import shown
from curate.io.atomic import atomic_writer
from curate.io.cachedir import MAC_BYTES, default_cache_dir, load_key

MAGIC = b"CURATE-DEDUP-3\n\x00"
_MAX_HEADER = 1 << 16
_PIECE = 1 << 24  # bytes written at a time
# every array a file holds, with the one dtype it may have (never objects) and its rank
_ARRAYS = {
    "k1": ("<u8", 1),
    "k2": ("<u8", 1),
    "row": ("<i8", 1),
    "exact": ("<u8", 1),
    "same": ("<u8", 1),
    "words": ("<i8", 1),
    "bands": ("<u8", 2),
    "offsets": ("<i8", 1),
    "shingles": ("<u4", 1),
}
# per process: file -> ((mtime, size, key), reader, damaged)
_READERS: dict[str, tuple[tuple[int, int, bytes], _Reader | None, bool]] = {}


def default_dir() -> Path:
    """Per user, beside the result cache: `$CURATE_CACHE_DIR/dedup`, else `~/.cache/curate/dedup`."""
    return default_cache_dir() / "dedup"


def _hasher(key: bytes) -> Any:
    return hashlib.blake2b(key=key, digest_size=MAC_BYTES, person=b"curate-dedup-v3")


def cache_file(dataset: str, tag: str, cache_dir: str | None) -> Path | None:
    """One file per dataset path and parameter set; stdin is never cached. A rule's `cache_dir`
    is a folder inside the cache root (it comes from a rules file): anywhere else means no cache."""
    if dataset == "-":
        return None
    folder = cache_folder(cache_dir)
    return folder / _file_name(dataset, tag) if folder is not None else None


def cache_folder(cache_dir: str | None) -> Path | None:
    """Where the files (and their key) live: the default folder, or a rule's `cache_dir` inside the root."""
    if not cache_dir:
        return default_dir()
    from curate.loading import within

    return within(default_cache_dir(), cache_dir)


@lru_cache(maxsize=256)
def _file_name(dataset: str, tag: str) -> str:
    src = Path(dataset).resolve()
    where = hashlib.blake2b(str(src).encode(), digest_size=4).hexdigest()
    # the dataset's name, for people listing the folder: masked and reduced to plain characters (a
    # name can hold personal data or a terminal escape); the hash of the full path tells files apart
    name = re.sub(r"[^\w.+-]", "_", shown(src.name, 60), flags=re.ASCII)
    return f"{name}-{where}-{hashlib.blake2b(tag.encode(), digest_size=5).hexdigest()}.dedup"


class SignatureCache:
    def __init__(self, tag: str, cache_dir: str | None) -> None:
        self.tag = tag
        self.cache_dir = cache_dir
        self._open: dict[str, _Reader | None] = {}  # per dataset, for this run
        self._key: bytes | None = None  # the folder's MAC key, read once per process
        self.damaged: set[str] = set()  # files ignored because their MAC did not match (this process)
        self.key_warning: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"tag": self.tag, "cache_dir": self.cache_dir, "_open": {}, "_key": None, "damaged": set()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.key_warning = None

    def mac_key(self, create: bool = False) -> bytes | None:
        """The folder's key (created when writing); None when there is none (nothing can be read)."""
        folder = cache_folder(self.cache_dir)
        if self._key is None and folder is not None:
            try:
                self._key, warning = load_key(folder, create)
            except OSError:
                return None
            self.key_warning = self.key_warning or warning
        return self._key

    def warnings(self) -> list[str]:
        """One line for what this process found wrong with the cache (files ignored), if anything."""
        out = [self.key_warning] if self.key_warning else []
        if self.damaged:
            n = len(self.damaged)
            out.append(f"dedup signature cache: {n} damaged file{'s' if n > 1 else ''} ignored (signatures recomputed)")
        return out

    def verify(self, dataset: str) -> None:
        """Open (and so authenticate) a dataset's file in this process: notes it when damaged."""
        self._reader(dataset)

    def _reader(self, dataset: str) -> _Reader | None:
        if dataset not in self._open:
            self._open[dataset] = self._load(dataset)
        return self._open[dataset]

    def _load(self, dataset: str) -> _Reader | None:
        f = cache_file(dataset, self.tag, self.cache_dir)
        return None if f is None else self._load_file(f)

    def _load_file(self, f: Path) -> _Reader | None:
        try:
            st = f.stat()
        except OSError:
            return None
        key = self.mac_key()
        if key is None:
            return None
        version = (st.st_mtime_ns, st.st_size, key)
        known = _READERS.get(str(f))
        if known is None or known[0] != version:
            if known is not None and known[1] is not None:
                known[1].close()  # the file was rewritten since
            reader = _Reader.open(f, self.tag, key)
            known = _READERS[str(f)] = (version, reader, reader is None and not _older_format(f))
        if known[2]:
            self.damaged.add(str(f))  # not authentic: tampered, truncated, or written under another key
        return known[1]

    def lookup(self, dataset: str, key: bytes) -> Sketch | None:
        reader = self._reader(dataset)
        return reader.get(key) if reader is not None else None

    def lookup_many(self, dataset: str, keys: list[bytes]) -> list[Sketch] | None:
        """Every sketch of `keys`, or None when one is missing. Looks in the dataset's own file, then
        in the files of other datasets with these parameters (a copy of a file, or a clone of its
        repository elsewhere, replays the result cache's blocks of the original)."""
        if not keys:
            return []
        out: list[Sketch | None] = [None] * len(keys)
        todo = list(range(len(keys)))
        for reader in self._readers(dataset):
            if reader is None:
                continue
            found = reader.get_many([keys[i] for i in todo])
            for i, sk in zip(todo, found, strict=True):
                out[i] = sk
            todo = [i for i in todo if out[i] is None]
            if not todo:
                return out  # type: ignore[return-value]
        return None

    def _readers(self, dataset: str) -> Iterator[_Reader | None]:
        yield self._reader(dataset)
        yield from self._siblings(dataset)

    def _siblings(self, dataset: str) -> Iterator[_Reader | None]:
        own = cache_file(dataset, self.tag, self.cache_dir)
        if own is None:
            return
        suffix = own.name.rsplit("-", 1)[1]  # the parameters' part of the name
        try:
            files = sorted(own.parent.glob(f"*-{suffix}"), key=lambda f: f.stat().st_mtime, reverse=True)
        except OSError:
            return
        for f in files:
            if f != own:
                yield self._load_file(f)

    def write(self, dataset: str, arrays: StoreArrays, rows: Any, nbands: int) -> Path | None:
        """Write the sketches of `rows` (the records of `dataset`); returns the file or None."""
        import numpy as np

        f = cache_file(dataset, self.tag, self.cache_dir)
        if f is None:
            return None
        rows = np.asarray(rows)
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):  # one file's records are contiguous: no copies
            sel: Any = slice(int(rows[0]), int(rows[-1]) + 1)
        else:
            sel = rows
        th = np.ascontiguousarray(arrays.text_hash[sel])
        k1 = th[:, :8].copy().view(np.uint64).ravel()
        k2 = th[:, 8:].copy().view(np.uint64).ravel()
        order = np.lexsort((k2, k1))  # sorted keys point at rows kept in file order
        starts = arrays.offsets[:-1][sel]
        ends = arrays.offsets[1:][sel]
        if isinstance(sel, slice):
            base = int(starts[0]) if len(rows) else 0
            offsets = np.append(starts, ends[-1:]) - base if len(rows) else np.zeros(1, np.int64)
            sh = arrays.shingles[base : base + int(offsets[-1])]
        else:
            offsets = np.zeros(len(rows) + 1, dtype=np.int64)
            np.cumsum(ends - starts, out=offsets[1:])
            sh = np.concatenate([arrays.shingle_set(i) for i in rows.tolist()]) if len(rows) else np.zeros(0, np.uint32)
        parts = {
            "k1": k1[order],
            "k2": k2[order],
            "row": order.astype(np.int64),
            "exact": arrays.exact[sel],
            "same": arrays.same[sel],
            "words": arrays.words[sel],
            "bands": arrays.bands[sel].reshape(len(rows), nbands),
            "offsets": offsets.astype(np.int64),
            "shingles": sh,
        }
        f.parent.mkdir(parents=True, exist_ok=True)
        key = self.mac_key(create=True)
        if key is None:
            raise OSError("no key for the signature cache")
        mac = _hasher(key)
        meta: dict[str, Any] = {"tag": self.tag, "n": len(rows), "arrays": {}}
        pos = 0
        for name, arr in parts.items():
            meta["arrays"][name] = [arr.dtype.str, list(arr.shape), pos]
            pos += (arr.nbytes + 63) // 64 * 64
        header = json.dumps(meta).encode()
        start = (len(MAGIC) + 8 + len(header) + 63) // 64 * 64
        with atomic_writer(f) as out:

            def put(data: Any) -> None:
                mac.update(data)
                out.write(data)

            put(MAGIC + len(header).to_bytes(8, "little") + header)
            put(b"\x00" * (start - len(MAGIC) - 8 - len(header)))
            for arr in parts.values():
                flat = np.ascontiguousarray(arr).reshape(-1)
                for lo in range(0, len(flat), _PIECE // flat.itemsize):
                    piece = flat[lo : lo + _PIECE // flat.itemsize]
                    put(memoryview(piece).cast("B"))  # written in place, not copied
                    forget(piece)  # spilled shingle hashes: their pages leave this process again
                put(b"\x00" * ((flat.nbytes + 63) // 64 * 64 - flat.nbytes))
            out.write(mac.digest())
        return f


class _Reader:
    """Memory-mapped arrays of one cache file; lookups are a binary search, no full load.

    The shingle hashes (~90% of the file) are read with pread, not mapped: a grown 1M-record file
    replays every sketch, and mapped pages, once read, stay in the process's resident memory
    (1.4 GB more at peak)."""

    def __init__(self, arrays: dict[str, Any], fd: int, shingles_at: int) -> None:
        self.a = arrays
        self.n = len(arrays["k1"])
        self._fd = fd
        self._shingles_at = shingles_at  # file offset of the shingle hashes (uint32 each)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)

    @classmethod
    def open(cls, f: Path, tag: str, key: bytes) -> _Reader | None:
        """The file's arrays, or None unless its MAC matches and every array is where and what it
        must be (a damaged or foreign cache is ignored, never fatal)."""
        import numpy as np

        try:
            fd = os.open(f, os.O_RDONLY)
        except OSError:
            return None
        try:
            if not _authentic(fd, key):
                os.close(fd)
                return None
            end = os.fstat(fd).st_size - MAC_BYTES
            head = os.pread(fd, len(MAGIC) + 8, 0)
            size = int.from_bytes(head[len(MAGIC) :], "little")
            if head[: len(MAGIC)] != MAGIC or size > _MAX_HEADER:
                raise ValueError("not a signature cache file")
            meta = json.loads(os.pread(fd, size, len(MAGIC) + 8))
            if meta.get("tag") != tag or set(meta["arrays"]) != set(_ARRAYS):
                raise ValueError("another cache's file")
            start = (len(MAGIC) + 8 + size + 63) // 64 * 64
            arrays = {}
            for name, (dtype, shape, pos) in meta["arrays"].items():
                want, rank = _ARRAYS[name]
                shape = tuple(int(n) for n in shape)
                if dtype != want or len(shape) != rank or min(shape, default=0) < 0:
                    raise ValueError("unexpected array")
                nbytes = int(np.prod(shape)) * np.dtype(want).itemsize
                if int(pos) < 0 or start + int(pos) + nbytes > end:
                    raise ValueError("array outside the file")
                if name == "shingles":
                    continue
                if nbytes == 0:
                    arrays[name] = np.zeros(shape, dtype=want)
                else:
                    arrays[name] = np.memmap(f, dtype=want, mode="r", offset=start + int(pos), shape=shape)
            _consistent(arrays, meta["arrays"]["shingles"][1][0])
            return cls(arrays, fd, start + int(meta["arrays"]["shingles"][2]))
        except (OSError, ValueError, KeyError, TypeError):
            os.close(fd)
            return None

    def get_many(self, keys: list[bytes]) -> list[Sketch | None]:
        """`get` for many keys at once (a replayed block asks for ~1,500): one vectorised binary
        search, the fixed-size fields gathered with numpy, the shingle hashes of records stored
        next to each other read with one pread."""
        import numpy as np

        if self.n == 0 or not keys:
            return [None] * len(keys)
        raw = np.frombuffer(b"".join(keys), dtype=np.uint64).reshape(len(keys), 2)
        a = self.a
        pos = np.minimum(np.searchsorted(a["k1"], raw[:, 0]), self.n - 1)
        hit = (a["k1"][pos] == raw[:, 0]) & (a["k2"][pos] == raw[:, 1])
        rows = np.asarray(a["row"][pos[hit]], dtype=np.int64)
        found = self._sketches([k for k, h in zip(keys, hit.tolist(), strict=True) if h], rows)
        out: list[Sketch | None] = []
        for key, h in zip(keys, hit.tolist(), strict=True):
            # a miss here may still be stored: another key can share its first half (the slow way)
            out.append(next(found) if h else self.get(key))
        return out

    def _sketches(self, keys: list[bytes], rows: Any) -> Iterator[Sketch | None]:
        import numpy as np

        if not len(rows):
            return
        a = self.a
        lo = np.asarray(a["offsets"][rows], dtype=np.int64)
        hi = np.asarray(a["offsets"][rows + 1], dtype=np.int64)
        start, stop = int(lo.min()), int(hi.max())
        span = None
        if stop - start <= 2 * int((hi - lo).sum()) + 1024:  # mostly adjacent (a block of one file): one read
            span = self._read(start, stop)
        bands = np.ascontiguousarray(a["bands"][rows]).tobytes()
        width = len(bands) // len(rows)
        exact, same, words = a["exact"][rows].tolist(), a["same"][rows].tolist(), a["words"][rows].tolist()
        for i, (key, s, e) in enumerate(zip(keys, lo.tolist(), hi.tolist(), strict=True)):
            shingles = span[4 * (s - start) : 4 * (e - start)] if span is not None else self._read(s, e)
            if shingles is None:
                yield None
                continue
            yield Sketch(key, exact[i], same[i], words[i], bands[i * width : (i + 1) * width], shingles, cached=True)

    def _read(self, lo: int, hi: int) -> bytes | None:
        """Shingle hashes lo..hi (uint32 positions); None when the file is shorter (truncated)."""
        try:
            data = os.pread(self._fd, 4 * (hi - lo), self._shingles_at + 4 * lo) if hi > lo else b""
        except OSError:
            return None
        return data if len(data) == 4 * (hi - lo) else None

    def _sketch(self, key: bytes, row: int) -> Sketch | None:
        import numpy as np

        return next(self._sketches([key], np.array([row], dtype=np.int64)))

    def get(self, key: bytes) -> Sketch | None:
        import numpy as np

        if self.n == 0:
            return None
        k1 = np.uint64(int.from_bytes(key[:8], "little"))
        k2 = np.uint64(int.from_bytes(key[8:16], "little"))
        a = self.a
        pos = int(np.searchsorted(a["k1"], k1))
        while pos < self.n and a["k1"][pos] == k1:
            if a["k2"][pos] == k2:
                return self._sketch(key, int(a["row"][pos]))
            pos += 1
        return None


def _consistent(a: dict[str, Any], shingles: int) -> None:
    """Raise ValueError unless the arrays describe the same records (a forged file with the key
    must not make a lookup index out of range or read past the shingle hashes)."""
    import numpy as np

    n = len(a["k1"])
    if any(len(a[name]) != n for name in ("k2", "row", "exact", "same", "words", "bands")):
        raise ValueError("arrays of different lengths")
    if len(a["offsets"]) != n + 1 or (n and not (int(a["row"].min()) >= 0 and int(a["row"].max()) < n)):
        raise ValueError("rows out of range")
    offsets = np.asarray(a["offsets"])
    if offsets[0] != 0 or offsets[-1] != shingles or (n and (np.diff(offsets) < 0).any()):
        raise ValueError("offsets out of range")


def _authentic(fd: int, key: bytes) -> bool:
    """Whether the file's last bytes are the keyed MAC of everything before them (read in 8 MB pieces)."""
    import hmac

    size = os.fstat(fd).st_size
    if size < len(MAGIC) + MAC_BYTES:
        return False
    h = _hasher(key)
    pos, end = 0, size - MAC_BYTES
    while pos < end:
        piece = os.pread(fd, min(1 << 23, end - pos), pos)
        if not piece:
            return False
        h.update(piece)
        pos += len(piece)
    return hmac.compare_digest(os.pread(fd, MAC_BYTES, end), h.digest())


def _older_format(f: Path) -> bool:
    """A file an earlier curate wrote (another magic): stale, not damaged, so no warning."""
    try:
        with open(f, "rb") as fh:
            head = fh.read(len(MAGIC))
    except OSError:
        return False
    return head.startswith(b"CURATE-DEDUP-") and head != MAGIC
