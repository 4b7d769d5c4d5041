"""Where curate keeps its caches, and the secret key that authenticates what it reads back.

A cache folder may be shared, copied or restored from another branch's CI cache, so anything
read from it is untrusted: every entry is stored with a keyed MAC (BLAKE2b keyed with a random
32-byte key kept beside the entries, mode 0600, created atomically), and an entry whose MAC does
not match is a miss. Entries are data only (msgpack, numpy arrays of numbers): even a forged
entry cannot run code. Both the result cache and the dedup signature cache use this module;
it lives under `io` so the checks can use it without importing the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from pathlib import Path

CACHE_ENV = "CURATE_CACHE_DIR"
KEY_FILE = "cache.key"
KEY_BYTES = 32
MAC_BYTES = 16


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


class UntrustedKey(OSError):
    """The key file exists but is not one curate would have written (owner, mode, size)."""


def _read_key(path: Path) -> bytes | None:
    """The key in `path`, None when there is none; raises `UntrustedKey` for a key we must not trust."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symlink (O_NOFOLLOW) or unreadable
        raise UntrustedKey(f"{path.name}: {exc.strerror or type(exc).__name__}") from exc
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077 or st.st_size != KEY_BYTES:
            raise UntrustedKey(f"{path.name}: not a private {KEY_BYTES}-byte file")
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise UntrustedKey(f"{path.name}: owned by another user")
        key = f.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:
        raise UntrustedKey(f"{path.name}: wrong size")
    return key


def load_key(folder: Path, create: bool) -> tuple[bytes | None, str | None]:
    """(the folder's key, a warning). Creates the key when `create` and there is none.

    Creation is atomic: the random key is written to a private temporary file (0600 from its
    first byte), fsynced, then hard-linked to its name, which fails if another process got there
    first (its key is then used). A key that is not ours (wrong owner or mode, wrong size, a
    symlink) is replaced when `create`, which turns every existing entry into a miss.
    """
    path = folder / KEY_FILE
    warning = None
    try:
        key = _read_key(path)
    except UntrustedKey as exc:
        if not create:
            return None, f"cache key ignored ({exc}): cached entries not used"
        warning = f"cache key replaced ({exc}): cached entries recomputed"
        with contextlib.suppress(OSError):
            path.unlink()
        key = None
    if key is not None or not create:
        return key, warning
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return _read_key(path), warning


def mac(key: bytes, *parts: bytes) -> bytes:
    """Keyed BLAKE2b over length-prefixed parts (so no two different part lists collide)."""
    h = hashlib.blake2b(key=key, digest_size=MAC_BYTES, person=b"curate-cache-v1")
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()
