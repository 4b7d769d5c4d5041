"""What a fix or edit changed in a record, as a small patch: only the changed parts are stored.

A decisions file may be committed, so a fix that replaces one email must not copy the rest of the
record (its card number, its SSN) into it. `make_patch(old, new)` gives JSON-Patch-like
operations on JSON pointers (RFC 6901): `add`, `remove`, `replace` for structure, and `splice`
for text (`at`, `cut`, `text`: cut `cut` characters at `at` and put `text` there), because RFC
6902 would replace a whole string and so store every value the string holds. Inserted text is
only what the reviewer or the fix typed. `apply_patch(old, ops)` gives `new` back; it raises
PatchError when the record no longer has the shape the patch was made for.
"""

from __future__ import annotations

import copy
from difflib import SequenceMatcher
from typing import Any

import orjson

__all__ = ["PatchError", "make_patch", "apply_patch"]

_MAX_SPLICES = 64  # more separate changes than this in one string: cut the changed middle whole


class PatchError(ValueError):
    """The patch does not fit the record (it changed since the decision was made)."""


def _pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _parts(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"bad pointer {pointer[:40]!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _canon(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return repr(value).encode("utf-8", "replace")


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def make_patch(old: Any, new: Any) -> list[dict[str, Any]]:
    """Operations that turn `old` into `new`, applied in order; empty when they are equal."""
    ops: list[dict[str, Any]] = []
    _diff(old, new, [], ops)
    return ops


def _diff(old: Any, new: Any, path: list[str | int], ops: list[dict[str, Any]]) -> None:
    if _same(old, new):
        return
    if isinstance(old, str) and isinstance(new, str):
        ops.extend(_splices(old, new, _pointer(path)))
    elif isinstance(old, dict) and isinstance(new, dict):
        for k in old:
            if k not in new:
                ops.append({"op": "remove", "path": _pointer([*path, k])})
        for k, v in new.items():
            if k in old:
                _diff(old[k], v, [*path, k], ops)
            else:
                ops.append({"op": "add", "path": _pointer([*path, k]), "value": v})
    elif isinstance(old, list) and isinstance(new, list):
        _diff_list(old, new, path, ops)
    else:
        ops.append({"op": "replace", "path": _pointer(path), "value": new})


def _diff_list(old: list[Any], new: list[Any], path: list[str | int], ops: list[dict[str, Any]]) -> None:
    """Element-wise when the lengths agree; else by matching whole elements, from the end backwards
    so every index stays valid while the operations are applied in order."""
    if len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, [*path, i], ops)
        return
    blocks = SequenceMatcher(None, [_canon(x) for x in old], [_canon(x) for x in new], autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(blocks.get_opcodes()):
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(i2 - 1, i1 + paired - 1, -1):
            ops.append({"op": "remove", "path": _pointer([*path, k])})
        for k in range(j1 + paired, j2):
            ops.append({"op": "add", "path": _pointer([*path, i1 + k - j1]), "value": new[k]})
        sub: list[dict[str, Any]] = []
        for k in range(paired):
            _diff(old[i1 + k], new[j1 + k], [*path, i1 + k], sub)
        ops.extend(sub)


def _splices(old: str, new: str, pointer: str) -> list[dict[str, Any]]:
    """Text edits from the end backwards (offsets stay valid); unchanged text is never stored."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    a, b = old[start : len(old) - end], new[start : len(new) - end]
    pieces: list[tuple[int, int, str]] = []
    if a and b and len(a) * len(b) <= 4_000_000:
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag != "equal":
                pieces.append((start + i1, i2 - i1, b[j1:j2]))
    if not pieces or len(pieces) > _MAX_SPLICES:
        pieces = [(start, len(a), b)]
    return [{"op": "splice", "path": pointer, "at": at, "cut": cut, "text": text} for at, cut, text in reversed(pieces)]


def apply_patch(old: Any, ops: list[dict[str, Any]]) -> Any:
    """`old` with `ops` applied (a new value; `old` is not modified)."""
    doc = copy.deepcopy(old)
    for op in ops:
        doc = _apply(doc, op)
    return doc


def _apply(doc: Any, op: dict[str, Any]) -> Any:
    kind, parts = op.get("op"), _parts(str(op.get("path", "")))
    if not parts:
        if kind in ("replace", "add"):
            return copy.deepcopy(op.get("value"))
        if kind == "splice":
            return _splice(doc, op)
        raise PatchError(f"cannot {kind} the whole record")
    parent = doc
    for p in parts[:-1]:
        parent = _child(parent, p)
    last = parts[-1]
    if isinstance(parent, dict):
        if kind == "add" or (kind == "replace" and last in parent):
            parent[last] = copy.deepcopy(op.get("value"))
        elif kind == "remove" and last in parent:
            del parent[last]
        elif kind == "splice" and last in parent:
            parent[last] = _splice(parent[last], op)
        else:
            raise PatchError(f"{kind} {op.get('path')!r}: no such key")
    elif isinstance(parent, list):
        i = _index(last, len(parent) + (1 if kind == "add" else 0))
        if kind == "add":
            parent.insert(i, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            del parent[i]
        elif kind == "replace":
            parent[i] = copy.deepcopy(op.get("value"))
        elif kind == "splice":
            parent[i] = _splice(parent[i], op)
        else:
            raise PatchError(f"unknown patch operation {str(kind)[:20]!r}")
    else:
        raise PatchError(f"{op.get('path')!r} does not lead into an object or array")
    return doc


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list):
        return node[_index(part, len(node))]
    raise PatchError(f"no {part[:40]!r} in the record")


def _index(part: str, size: int) -> int:
    if not part.isdigit() or int(part) >= size:
        raise PatchError(f"index {part[:20]!r} out of range")
    return int(part)


def _splice(text: Any, op: dict[str, Any]) -> str:
    at, cut, new = op.get("at"), op.get("cut"), op.get("text")
    if not isinstance(text, str) or not isinstance(at, int) or not isinstance(cut, int) or not isinstance(new, str):
        raise PatchError(f"splice {op.get('path')!r}: not a text edit of a string")
    if at < 0 or cut < 0 or at + cut > len(text):
        raise PatchError(f"splice {op.get('path')!r}: out of range")
    return text[:at] + new + text[at + cut :]
