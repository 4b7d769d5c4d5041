"""Compressed containers (gzip, zstd, bzip2, xz), recognised by their magic bytes, read as streams.

The container is decided by the first bytes of the file, never by its name alone: a `.jsonl` that is
really gzip is read as gzip, a `.gz` that is not is read as it is. Decompression is streamed, so
memory does not grow with the file; the reader bounds every line it takes out of a decompressed
stream (a few hundred bytes of zstd can expand to gigabytes of one line).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import BinaryIO

PLAIN = "plain"
# (magic, container): checked against the first bytes of a file
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
# what a directory listing takes for a compressed dataset, and strips to find the inner kind
SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bzip2", ".xz": "xz"}

# what decompression raises on a corrupt or truncated stream
CORRUPT_ERRORS: tuple[type[BaseException], ...] = (EOFError, zlib.error, OSError, lzma.LZMAError, ValueError)
try:  # zstandard raises its own error on a corrupt frame (found by tests/test_fuzz_loaders.py)
    from zstandard import ZstdError as _ZstdError

    CORRUPT_ERRORS += (_ZstdError,)
except ImportError:  # pragma: no cover - a declared dependency
    pass


def sniff(head: bytes) -> str:
    """The container named by a file's first bytes, or `plain`."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return PLAIN


def decompressed(raw: BinaryIO, container: str) -> BinaryIO:
    """A buffered stream of the decompressed bytes of `raw` (which stays owned by the result)."""
    if container == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if container == "bzip2":
        return bz2.BZ2File(raw, "rb")  # type: ignore[return-value]
    if container == "xz":
        return lzma.LZMAFile(raw, "rb")  # type: ignore[return-value]
    if container == "zstd":
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return io.BufferedReader(reader, buffer_size=1 << 20)  # type: ignore[arg-type]
    return raw


def corrupt_message(container: str, exc: BaseException) -> str:
    """What to tell the user when a container stops decompressing part way (no record text in it)."""
    kind = type(exc).__name__
    return f"the {container} stream is corrupt or truncated here ({kind}); the rest of the file cannot be read"
