"""Sealing what the result cache must keep but must not show: extracts that may hold text.

Block entries keep every dataset check's extract, including those of checks that did not
declare theirs text-free (system prompts, category labels, answer openings). Those are sealed:
XORed with a SHAKE-256 keystream whose key is derived from the content they come from (the
block's bytes, never stored). Whoever holds only the cache folder reads nothing of them;
whoever holds the dataset could read the text anyway. Each content has its own key, so no
keystream is reused for different plaintexts. A blob that does not unseal to its checksum is
a miss, never a wrong answer.
"""

from __future__ import annotations

import hashlib

_CHECK = 8  # bytes of checksum in front of the plaintext


def _xor(data: bytes, secret: bytes) -> bytes:
    import numpy as np

    stream = hashlib.shake_256(secret).digest(len(data))
    return (np.frombuffer(data, np.uint8) ^ np.frombuffer(stream, np.uint8)).tobytes()


def seal(plain: bytes, secret: bytes) -> bytes:
    check = hashlib.blake2b(plain, digest_size=_CHECK).digest()
    return _xor(check + plain, secret)


def unseal(blob: bytes, secret: bytes) -> bytes | None:
    """The plaintext, or None when the blob is damaged or sealed with another secret."""
    data = _xor(blob, secret)
    check, plain = data[:_CHECK], data[_CHECK:]
    return plain if hashlib.blake2b(plain, digest_size=_CHECK).digest() == check else None
