"""The declarative field rule: a JSON path must exist, have a type, match a regex or be one of a list.

For metadata a pipeline relies on: every record has a `source`, `label` is one of a few
values, `id` looks like `ex-0001`. Paths are JSON pointers (`/metadata/source`, with `*`
for every element) or dotted (`metadata.source`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any, Literal

from pydantic import Field

from curate.check import Params, RecordCheck
from curate.checks.quality import pointer
from curate.checks.quality._params import Path, Regex
from curate.model import Hit, Record, Severity
from curate.userregex import compile_user

JsonType = Literal["string", "number", "integer", "boolean", "array", "object", "null"]
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


class FieldParams(Params):
    path: Path = Field("/id", description="JSON pointer (/a/*/b) or dotted path (a.b)")
    required: bool = Field(True, description="the path must exist")
    type: JsonType | None = Field(None, description="the JSON type the value must have")
    match: Regex | None = Field(None, description="a regex the value (as text) must contain; anchor with ^...$")
    one_of: list[Any] | None = Field(None, description="the allowed values")
    message: str | None = Field(None, description="the finding's message; {path} is filled in")
    fix: str | None = Field(None, description="how to fix it, shown with the finding")


def _type_ok(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("number", "integer"):
        return False
    return isinstance(value, _TYPES[kind])


class FieldRule(RecordCheck):
    id = "quality.field"
    description = "A field that is missing, of the wrong type, or not matching the values the rules file allows."
    default_severity = Severity.WARNING
    Params = FieldParams
    example = '{"id": 7, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'

    @cached_property
    def regex(self) -> Any:
        return compile_user(self.params.match) if self.params.match is not None else None

    def _hit(self, where: str, default: str, data: dict[str, Any]) -> Hit:
        message = self.params.message.replace("{path}", where) if self.params.message else default
        return Hit(
            message,
            field=where,
            data=data,
            fix=self.params.fix or "Set the field to an allowed value.",
            identity=data["problem"],
        )

    def check(self, record: Record) -> Iterable[Hit]:
        p = self.params
        for where, value in pointer.expand(record.data, pointer.parse(p.path)):
            if value is pointer.MISSING:
                if p.required:
                    yield self._hit(where, f"{where} is missing", {"problem": "missing"})
                continue
            if p.type is not None and not _type_ok(value, p.type):
                yield self._hit(where, f"{where} is {type(value).__name__}, not {p.type}", {"problem": "type"})
                continue
            if p.one_of is not None and value not in p.one_of:
                allowed = ", ".join(repr(v) for v in p.one_of[:5]) + (" ..." if len(p.one_of) > 5 else "")
                yield self._hit(where, f"{where} is not one of {allowed}", {"problem": "one_of"})
                continue
            if self.regex is not None:
                text = value if isinstance(value, str) else str(value)
                if not isinstance(value, (dict, list)) and not self.regex.search(text):
                    yield self._hit(where, f"{where} does not match {p.match!r}", {"problem": "match"})
