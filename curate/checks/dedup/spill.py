"""Shingle hashes of many records, kept on disk instead of in the main process's memory.

Exact verification needs every record's sorted shingle hashes (~1.4 KB a record: 1.4 GB at 1M
records), yet it reads only the few records that share an LSH bucket. So past `SPILL_BYTES` they
go to an unnamed temporary file (in `$TMPDIR`, gone when the process ends) and are read back
through a read-only memory map: the pages verification touches come in, the rest stay on disk.
`forget` drops mapped pages again once a pass over them (the signature cache's write) is done.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
import tempfile
from typing import IO, Any

SPILL_BYTES = 64 << 20  # below this (~45k records) everything stays in memory, as before


class ShingleBuffer:
    """Append-only bytes (uint32 hashes); in memory up to `limit`, then appended to a temporary file."""

    __slots__ = ("_file", "_limit", "_mem", "_spilled")
    itemsize = 4  # a saved state must hold whole hashes

    def __init__(self, data: bytes = b"", limit: int | None = None) -> None:
        self._mem = bytearray()
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self._limit = SPILL_BYTES if limit is None else limit
        self.extend(data)

    def __len__(self) -> int:
        return self._spilled + len(self._mem)

    def extend(self, data: Any) -> None:
        self._mem += data
        if len(self._mem) >= self._limit:
            self._spill()

    def __iadd__(self, data: Any) -> ShingleBuffer:
        self.extend(data.to_bytes() if isinstance(data, ShingleBuffer) else data)
        return self

    def _spill(self) -> None:
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="curate-shingles-")  # noqa: SIM115 - lives with the store
            view, at = memoryview(self._mem), self._spilled
            while view:  # pwrite at the known end: a failed attempt leaves nothing that counts
                done = os.pwrite(self._file.fileno(), view, at)
                view, at = view[done:], at + done
        except OSError:
            self._limit = sys.maxsize  # no room on disk: the rest stays in memory, as before spilling existed
            return
        self._spilled += len(self._mem)
        self._mem = bytearray()

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def array(self) -> Any:
        """All hashes as a read-only uint32 array: over memory, or mapped from the file."""
        import numpy as np

        if self._file is None:
            return np.frombuffer(self._mem, dtype=np.uint32)
        if self._mem:
            self._spill()
        if self._mem or not self._spilled:  # the disk filled up: one array in memory
            return np.frombuffer(self.to_bytes(), dtype=np.uint32)
        mapped = mmap.mmap(self._file.fileno(), self._spilled, prot=mmap.PROT_READ)
        return np.frombuffer(mapped, dtype=np.uint32)

    def to_bytes(self) -> bytes:
        """Every byte (a shard's saved state, a pickled store): read back from the file if spilled."""
        if self._file is None:
            return bytes(self._mem)
        out = bytearray()
        while len(out) < self._spilled:  # in pieces: one pread returns at most ~2 GB
            piece = os.pread(self._file.fileno(), min(1 << 28, self._spilled - len(out)), len(out))
            if not piece:
                raise OSError("the temporary file of spilled shingle hashes was cut short")
            out += piece
        return bytes(out + self._mem)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (ShingleBuffer, (self.to_bytes(),))


def forget(arr: Any) -> None:
    """Drop the pages of a memory-mapped array from this process (they stay in the file and the
    kernel's cache): a pass over 1.4 GB of mapped hashes would otherwise stay resident. No-op for
    arrays in memory."""
    import numpy as np

    base: Any = arr
    while base is not None and not isinstance(base, (mmap.mmap, memoryview)):
        base = getattr(base, "base", None)
    mapped = base.obj if isinstance(base, memoryview) else base
    if not isinstance(mapped, mmap.mmap) or not len(arr) or not hasattr(mapped, "madvise"):
        return
    start = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
    lo = arr.ctypes.data - start
    hi = lo + arr.nbytes
    lo -= lo % mmap.PAGESIZE
    with contextlib.suppress(OSError, ValueError):
        mapped.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
