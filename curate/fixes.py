"""Suggested fixes: a check may offer a safe, mechanical repair for one of its findings.

The protocol is one optional method on a check class:

    def fix(self, data: dict, finding: Finding) -> dict | None

`data` is a private deep copy of the record (mutate it freely and return it); return None when
there is no safe fix for this finding. Review shows the diff and asks before applying; the new
record is stored as a `fix` decision, so export applies it. The helpers below cover the common
shapes (a span of a text, a whole text, a key) so a family adds a fix in a few lines.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from curate.model import Finding


@runtime_checkable
class Fixable(Protocol):
    def fix(self, data: dict[str, Any], finding: Finding) -> dict[str, Any] | None: ...


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def split_pointer(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        token = _unescape(raw)
        parts.append(int(token) if token.isdigit() else token)
    return parts


def get_pointer(data: Any, pointer: str | None) -> Any:
    """The value at a JSON pointer, or None when the path does not exist."""
    if not pointer:
        return data
    node = data
    for part in split_pointer(pointer):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def set_pointer(data: Any, pointer: str, value: Any) -> bool:
    *parents, last = split_pointer(pointer)
    node = get_pointer(data, "".join(f"/{p}" for p in parents)) if parents else data
    try:
        node[last] = value
    except (KeyError, IndexError, TypeError):
        return False
    return True


def delete_pointer(data: Any, pointer: str) -> bool:
    *parents, last = split_pointer(pointer)
    node = get_pointer(data, "".join(f"/{p}" for p in parents)) if parents else data
    try:
        del node[last]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(x, int) for x in value):
        start, end = value
        return (start, end) if 0 <= start <= end else None
    return None


def finding_spans(finding: Finding) -> list[tuple[int, int]]:
    """Character spans inside the text at `finding.field`: `data.span`, `data.spans` or `data.start/end`."""
    d = finding.data or {}
    spans = [p for p in (_pair(d.get("span")), _pair((d.get("start"), d.get("end")))) if p]
    if isinstance(d.get("spans"), list):
        spans += [p for p in map(_pair, d["spans"]) if p]
    return spans


def finding_span(finding: Finding) -> tuple[int, int] | None:
    spans = finding_spans(finding)
    return spans[0] if spans else None


def replace_span(data: dict[str, Any], finding: Finding, replacement: str = "") -> dict[str, Any] | None:
    """Replace the finding's span of its text (a special token, a PII value) with `replacement`."""
    span = finding_span(finding)
    text = get_pointer(data, finding.field)
    if span is None or not isinstance(text, str) or span[1] > len(text) or not finding.field:
        return None
    start, end = span
    set_pointer(data, finding.field, text[:start] + replacement + text[end:])
    return data


def strip_text(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    """Strip leading and trailing whitespace of the text at the finding's field."""
    text = get_pointer(data, finding.field)
    if not isinstance(text, str) or text.strip() == text or not text.strip():
        return None
    set_pointer(data, finding.field or "", text.strip())
    return data


FixFn = Callable[[dict[str, Any], Finding], "dict[str, Any] | None"]
_REGISTERED: dict[str, FixFn] = {}


def register_fix(check_id: str) -> Callable[[FixFn], FixFn]:
    """Give a check you cannot edit a fix (a check's own `fix` method wins over this)."""

    def deco(fn: FixFn) -> FixFn:
        _REGISTERED[check_id] = fn
        return fn

    return deco


def suggest(check: Any, data: Any, finding: Finding) -> Any:
    """Ask `check` for a fix of `finding` on a copy of `data`; None when it has none or it fails."""
    fixer = getattr(check, "fix", None)
    if not callable(fixer):
        fixer = _REGISTERED.get(finding.check)
    if fixer is None or not isinstance(data, dict):
        return None
    try:
        new = fixer(copy.deepcopy(data), finding)
    except Exception:  # noqa: BLE001 - a broken fixer means "no fix", never a crash in review
        return None
    return new if new is not None and new != data else None


def pretty(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def diff_lines(old: Any, new: Any, context: int = 2) -> list[str]:
    """A unified diff of the two records as indented JSON: what the reviewer confirms."""
    a = pretty(old).splitlines() if old is not None else []
    b = pretty(new).splitlines()
    return list(difflib.unified_diff(a, b, "record", "fixed", n=context, lineterm=""))


# -- fixes for the core schema checks --------------------------------------------------------
ROLE_RENAMES = {"human": "user", "gpt": "assistant", "bot": "assistant", "model": "assistant", "chatgpt": "assistant"}


@register_fix("schema.invalid_role")
def _rename_role(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    role = get_pointer(data, finding.field)
    new = ROLE_RENAMES.get(str(role).strip().lower()) if isinstance(role, str) else None
    return data if new and finding.field and set_pointer(data, finding.field, new) else None


@register_fix("schema.special_tokens")
def _remove_token(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    """Remove every copy of the control token from the text (the span names the first)."""
    token = (finding.data or {}).get("token")
    text = get_pointer(data, finding.field)
    if not isinstance(token, str) or not token or not isinstance(text, str) or token not in text:
        return replace_span(data, finding)
    set_pointer(data, finding.field or "", text.replace(token, ""))
    return data


@register_fix("schema.message_unknown_key")
def _remove_key(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    return data if finding.field and finding.field.count("/") >= 3 and delete_pointer(data, finding.field) else None


def _message_index(field: str | None) -> tuple[str, int] | None:
    """("/messages", 3) from "/messages/3/content"."""
    if not field:
        return None
    parts = field.split("/")
    for i in range(len(parts) - 1, 0, -1):
        if parts[i].isdigit():
            return "/".join(parts[:i]), int(parts[i])
    return None


@register_fix("schema.system_position")
def _system_first(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    where = _message_index(finding.field)
    msgs = get_pointer(data, where[0]) if where else None
    if not where or not isinstance(msgs, list) or not 0 < where[1] < len(msgs):
        return None
    msgs.insert(0, msgs.pop(where[1]))
    return data


@register_fix("schema.last_turn")
def _drop_trailing(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    """Drop the turns after the last assistant answer (they are not trained on anyway)."""
    where = _message_index(finding.field)
    msgs = get_pointer(data, where[0]) if where else None
    if not where or not isinstance(msgs, list) or where[1] != len(msgs) - 1:
        return None
    while msgs and isinstance(msgs[-1], dict) and msgs[-1].get("role") != "assistant":
        msgs.pop()
    return data if msgs else None


def finite(value: Any) -> Any:
    """`value` with NaN and infinities as null: strict JSON has neither."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


@register_fix("schema.nan_literal")
def _nan_to_null(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    return finite(data)


# -- PII: replace the value with a typed placeholder, as `curate export --scrub-pii --pii-mode placeholder`
def _pii_placeholder(data: dict[str, Any], finding: Finding) -> dict[str, Any] | None:
    """Only when the text at the span still hashes to the finding's value: offsets must be right."""
    from curate.privacy import value_hash

    d = finding.data or {}
    entity, expected = d.get("entity"), d.get("value_hash")
    span = finding_span(finding)
    text = get_pointer(data, finding.field)
    if not (isinstance(entity, str) and isinstance(expected, str) and span and isinstance(text, str)):
        return None
    if span[1] > len(text) or value_hash(text[span[0] : span[1]], entity) != expected:
        return None
    return replace_span(data, finding, f"<{entity}>")


for _check_id in ("pii.entities", "pii.names", "pii.secrets"):
    register_fix(_check_id)(_pii_placeholder)
