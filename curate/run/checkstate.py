"""A dataset check's observed state as plain data, and back: what a shard saves and `curate merge` loads.

No check writes code for this. A check's state is its attributes after `observe`: counters, dicts,
lists of tuples, `array`s, byte buffers (and objects that read as bytes through `to_bytes()`, such as
spilled shingle hashes), numbers, and objects that merge themselves (the near-duplicate sketch store).
Everything else on a check (parameters, run context, detectors, tokenizers, caches, options built by
`__init__`) is configuration that a fresh instance rebuilds.

Loading is driven by a fresh instance of the same check, never by the data: each stored value
must fit the type the fresh attribute already has (a Counter stays a Counter of numbers, an
`array('q')` gets bytes of whole items), so a hostile state file can give wrong numbers at worst,
never an object of its choosing. `tests/test_dataset_merge.py` proves, for every dataset check,
that dump -> encode -> decode -> load -> merge finalizes like observing everything in one process.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from typing import Any

_CONFIG = frozenset(("params", "ctx", "roles"))
_PLAIN = (type(None), bool, int, float, str, bytes)
MAX_DEPTH = 24


class StateError(ValueError):
    """A stored state that does not fit the check it is loaded into."""


class _NotState:
    pass


_SKIP = _NotState()


def _attributes(obj: Any) -> dict[str, Any]:
    names: dict[str, Any] = dict(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in names and hasattr(obj, name):
                names[name] = getattr(obj, name)
    return names


def dump_state(check: Any) -> dict[str, Any]:
    """The check's state as plain data (see the module docstring for what counts as state)."""
    out = {}
    for name, value in _attributes(check).items():
        if name in _CONFIG:
            continue
        data = _to_data(value, 0)
        if data is not _SKIP:
            out[name] = data
    return out


def _to_data(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise StateError("state nested too deeply")
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, array):
        return value.tobytes()
    if isinstance(value, dict):  # Counter, defaultdict, dict: pairs (keys may be tuples)
        return [[_key(k), _to_data(v, depth + 1)] for k, v in value.items()]
    if isinstance(value, (set, frozenset)):
        return sorted((_key(v) for v in value), key=repr)
    if isinstance(value, tuple):
        return tuple(_to_data(v, depth + 1) for v in value)
    if isinstance(value, list):
        return [_to_data(v, depth + 1) for v in value]
    if type(value).__name__ == "ndarray" and getattr(value.dtype, "kind", "O") in "biuf":
        return value
    if callable(getattr(value, "to_bytes", None)):  # a byte buffer of its own (spilled shingle hashes)
        return value.to_bytes()
    if callable(getattr(value, "merge", None)) and not isinstance(value, type):
        attrs = {}
        for name, v in _attributes(value).items():
            data = _to_data(v, depth + 1)
            if data is not _SKIP:
                attrs[name] = data
        return attrs
    return _SKIP  # configuration: rebuilt by a fresh instance


def _key(k: Any) -> Any:
    if isinstance(k, (str, int, bytes, float, bool, type(None))):
        return k
    if isinstance(k, tuple) and all(isinstance(v, (str, int, bytes, float, bool, type(None))) for v in k):
        return k
    raise StateError(f"state key of type {type(k).__name__}")


def load_state(check: Any, data: Any) -> None:
    """Fill a fresh check (bound with the same rule) with a stored state; StateError when it does not fit."""
    if not isinstance(data, dict):
        raise StateError("check state is not a mapping")
    attrs = _attributes(check)
    for name, stored in data.items():
        if not isinstance(name, str) or name in _CONFIG or name not in attrs:
            raise StateError(f"unknown state field {name!r:.60}")
        setattr(check, name, _from_data(attrs[name], stored, 0, name))


def _from_data(template: Any, data: Any, depth: int, where: str) -> Any:
    if depth > MAX_DEPTH:
        raise StateError("state nested too deeply")
    if template is None:
        return _plain(data, depth, where)
    if isinstance(template, bool):
        return _typed(data, bool, where)
    if isinstance(template, int):
        if isinstance(data, bool):
            raise StateError(f"{where}: not a number")
        return _typed(data, int, where)
    if isinstance(template, float):
        if isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        return _typed(data, float, where)
    if isinstance(template, (str, bytes)):
        return _typed(data, type(template), where)
    if isinstance(template, bytearray):
        return bytearray(_typed(data, bytes, where))
    if isinstance(template, array):
        raw = _typed(data, bytes, where)
        if len(raw) % template.itemsize:
            raise StateError(f"{where}: not whole items")
        out = array(template.typecode)
        out.frombytes(raw)
        return out
    if isinstance(template, dict):
        pairs = _typed(data, list, where)
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise StateError(f"{where}: not key/value pairs")
        if isinstance(template, defaultdict):
            factory = template.default_factory
            sample = factory() if factory is not None else None
            out_d: dict[Any, Any] = defaultdict(factory)
            for k, v in pairs:
                out_d[_hashable(k, where)] = _from_data(sample, v, depth + 1, where)
            return out_d
        if isinstance(template, Counter):
            counter: Counter[Any] = Counter()
            for k, v in pairs:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise StateError(f"{where}: a count that is not a number")
                counter[_hashable(k, where)] = v
            return counter
        return {_hashable(k, where): _plain(v, depth + 1, where) for k, v in pairs}
    if isinstance(template, (set, frozenset)):
        items = _typed(data, list, where)
        return type(template)(_hashable(v, where) for v in items)
    if isinstance(template, (list, tuple)):
        if not isinstance(data, (list, tuple)):
            raise StateError(f"{where}: not a sequence")
        return type(template)(_plain(v, depth + 1, where) for v in data)
    if type(template).__name__ == "ndarray":
        if type(data).__name__ != "ndarray" or data.dtype != template.dtype:
            raise StateError(f"{where}: not an array of {template.dtype}")
        return data
    if callable(getattr(template, "to_bytes", None)):
        raw = _typed(data, bytes, where)
        if len(raw) % getattr(template, "itemsize", 1):
            raise StateError(f"{where}: not whole items")
        return type(template)(raw)
    if callable(getattr(template, "merge", None)):
        if not isinstance(data, dict):
            raise StateError(f"{where}: not a mapping")
        attrs = _attributes(template)
        for name, stored in data.items():
            if not isinstance(name, str) or name not in attrs:
                raise StateError(f"{where}: unknown field {name!r:.60}")
            setattr(template, name, _from_data(attrs[name], stored, depth + 1, f"{where}.{name}"))
        return template
    raise StateError(f"{where}: cannot be restored")


def _typed(data: Any, kind: type, where: str) -> Any:
    if not isinstance(data, kind):
        raise StateError(f"{where}: expected {kind.__name__}, got {type(data).__name__}")
    return data


def _hashable(k: Any, where: str) -> Any:
    if isinstance(k, list):
        raise StateError(f"{where}: a key that is a list")
    try:
        hash(k)
    except TypeError as exc:
        raise StateError(f"{where}: unhashable key") from exc
    return k


def _plain(data: Any, depth: int, where: str) -> Any:
    """A value with no template (an element of a list, the value of a plain dict): plain data only."""
    if depth > MAX_DEPTH:
        raise StateError("state nested too deeply")
    if isinstance(data, _PLAIN):
        return data
    if isinstance(data, tuple):
        return tuple(_plain(v, depth + 1, where) for v in data)
    if isinstance(data, list):
        return [_plain(v, depth + 1, where) for v in data]
    if isinstance(data, frozenset):
        return data
    if type(data).__name__ == "ndarray":
        return data
    raise StateError(f"{where}: unexpected {type(data).__name__}")
