"""The cache's value codec: data only (msgpack), exact round trips, authenticated entries.

Nothing read back can run code: msgpack decodes to None, bools, numbers, strings, bytes, lists
and dicts, plus three extension types decoded by this module alone: tuples (so a value comes back
equal *and* of the same shape: checks compare tuples), numpy arrays of numbers (never object
dtype) and frozensets. Anything else is refused at encoding time (`Unencodable`): the value is
then not cached, which never changes a report.

Every entry is framed as `version | MAC(key, entry key, payload) | payload`; `open_entry` returns
None for an entry whose MAC does not match (tampered, truncated, written under another key).
"""

from __future__ import annotations

from typing import Any

from curate.io.cachedir import MAC_BYTES, mac

FRAME_VERSION = 1
_TUPLE, _ARRAY, _FROZENSET = 1, 2, 3
_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float: never "O" (objects), "V", "U", "S", "M"
MAX_DEPTH = 64


class Unencodable(TypeError):
    """A value the codec does not store (an object, a huge int): it is simply not cached."""


def _default(obj: Any) -> Any:
    import msgpack

    if isinstance(obj, tuple):
        return msgpack.ExtType(_TUPLE, _pack(list(obj)))
    if isinstance(obj, frozenset):
        return msgpack.ExtType(_FROZENSET, _pack(sorted(obj, key=repr)))
    kind = getattr(getattr(obj, "dtype", None), "kind", None)
    if kind is not None and type(obj).__name__ == "ndarray" and kind in _NUMERIC_KINDS:
        import numpy as np

        arr = np.ascontiguousarray(obj)
        return msgpack.ExtType(_ARRAY, _pack([arr.dtype.str, list(arr.shape), arr.tobytes()]))
    raise Unencodable(f"not cached: {type(obj).__name__}")


def _pack(value: Any) -> bytes:
    import msgpack

    try:
        return msgpack.packb(value, default=_default, strict_types=True, use_bin_type=True)
    except (OverflowError, ValueError) as exc:  # ints over 64 bits, too deep
        raise Unencodable(str(exc)) from exc


class _Decoder:
    """Decodes one payload; nested extension types are bounded in depth."""

    def __init__(self) -> None:
        self.depth = 0

    def ext(self, code: int, data: bytes) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ValueError("cache entry nested too deeply")
            if code == _TUPLE:
                return tuple(self.unpack(data))
            if code == _FROZENSET:
                return frozenset(self.unpack(data))
            if code == _ARRAY:
                return _array(self.unpack(data))
            raise ValueError(f"unknown extension type {code}")
        finally:
            self.depth -= 1

    def unpack(self, data: bytes) -> Any:
        import msgpack

        return msgpack.unpackb(data, ext_hook=self.ext, raw=False, strict_map_key=False, use_list=True)


def _array(parts: Any) -> Any:
    import numpy as np

    dtype_str, shape, raw = parts
    dtype = np.dtype(str(dtype_str))
    if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject:
        raise ValueError("cache entry holds a non-numeric array")
    shape = tuple(int(n) for n in shape)
    count = 1
    for n in shape:
        if n < 0:
            raise ValueError("negative array dimension")
        count *= n
    if count * dtype.itemsize != len(raw):
        raise ValueError("array size does not match its data")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def encode(value: Any) -> bytes:
    """The value as msgpack bytes; raises `Unencodable` for anything not plain data."""
    return _pack(value)


def decode(data: bytes) -> Any:
    """The value back; raises ValueError (or a msgpack error, a ValueError too) on bad input."""
    return _Decoder().unpack(data)


def seal_entry(key: bytes, entry_key: bytes, payload: bytes) -> bytes:
    """The stored form of a payload: version byte, MAC over (entry key, payload), payload."""
    return bytes([FRAME_VERSION]) + mac(key, entry_key, payload) + payload


def open_entry(key: bytes, entry_key: bytes, blob: bytes) -> bytes | None:
    """The payload of a stored entry, or None when it is not authentic (any change, any length)."""
    import hmac

    if len(blob) < 1 + MAC_BYTES or blob[0] != FRAME_VERSION:
        return None
    payload = bytes(blob[1 + MAC_BYTES :])
    return payload if hmac.compare_digest(blob[1 : 1 + MAC_BYTES], mac(key, entry_key, payload)) else None
