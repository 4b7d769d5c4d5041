"""Value types shared by every layer: records, conversations, hits and findings."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import orjson

CANONICAL_ROLES = frozenset({"system", "user", "assistant", "tool"})


class Severity(enum.IntEnum):
    """Ordered so that `severity >= fail_level` decides the exit code."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r} (use error, warning or info)") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """A defect found while reading raw bytes, before any check runs (bad JSON, BOM, ...)."""

    code: str  # the check id that reports it, e.g. "schema.invalid_json"
    message: str
    data: dict[str, Any] = dc_field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str | None
    name: str
    arguments: str  # JSON text, as sent to the model

    def call_arguments(self) -> str:
        """The arguments as JSON text; a ShareGPT `function_call` value holds the whole {name, arguments}
        call, whose inner arguments are what a trainer's tool call carries."""
        import json

        try:
            value = json.loads(self.arguments)
        except (ValueError, RecursionError):
            return str(self.arguments)
        if isinstance(value, dict) and set(value) == {"name", "arguments"} and value["name"] == self.name:
            inner = value["arguments"]
            return inner if isinstance(inner, str) else json.dumps(inner, ensure_ascii=False)
        return str(self.arguments)


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of the normalised conversation; `field` points back into the raw record."""

    role: str  # system | user | assistant | tool
    text: str
    field: str  # JSON pointer of the text inside the raw record, e.g. /messages/2/content
    weight: float | None = None
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    raw_role: str | None = None  # the role as the record spells it, when that is an alias (Chatbot, prompter)

    @property
    def has_content(self) -> bool:
        """Text or a tool call under a role checks understand (an unknown speaker is not content)."""
        return self.role in CANONICAL_ROLES and bool(self.tool_calls or self.text.strip())


@dataclass(frozen=True, slots=True)
class Conversation:
    """Every format normalised to prompt turns plus a completion (and a rejected one for pairs).

    `turns` is what a model trains on: the prompt followed by the chosen answer.
    """

    format: str
    turns: tuple[Turn, ...]
    rejected: tuple[Turn, ...] = ()
    tools: tuple[Any, ...] = ()

    def texts(self, roles: frozenset[str] | None = None) -> list[Turn]:
        return [t for t in self.turns if roles is None or t.role in roles]

    def rejected_tail(self) -> tuple[Turn, ...]:
        """The rejected completion without the prompt it shares with the chosen one."""
        i = 0
        for a, b in zip(self.turns, self.rejected, strict=False):
            if a is not b and (a.role, a.text) != (b.role, b.text):
                break
            i += 1
        return self.rejected[i:]

    @property
    def is_preference(self) -> bool:
        return bool(self.rejected)

    @property
    def readable(self) -> bool:
        """Whether there is any conversation text at all. Records without it (unknown format, no
        recognised role) stay out of duplicate, prompt-conflict and cost computations: they would
        all look alike."""
        return any(t.has_content for t in self.turns) or any(t.has_content for t in self.rejected)

    @property
    def trainable(self) -> bool:
        """Whether a model learns anything from it: an assistant turn with text or a tool call and a
        weight that is absent or > 0, i.e. trainable tokens (what `curate cost` prices)."""
        return any(
            t.role == "assistant" and (t.weight is None or t.weight > 0) and (t.tool_calls or t.text)
            for t in self.turns
        )


class Record:
    """One example of a dataset with where it came from.

    `data` is None when the line could not be parsed; `problems` then says why. The key is stable
    across edits elsewhere in the file (it never uses the line number).
    """

    __slots__ = ("path", "line", "data", "problems", "raw_size", "stats", "_key", "_conversation", "format_hint")

    def __init__(
        self,
        path: str,
        line: int,
        data: Any,
        problems: tuple[ReadProblem, ...] = (),
        raw_size: int = 0,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.data = data
        self.problems = problems
        self.raw_size = raw_size
        self._key = key
        self._conversation: Conversation | None = None
        self.format_hint: str | None = None
        self.stats: dict[str, Any] = {}  # per-record measurements checks add (tokens, language, ...)

    @property
    def ok(self) -> bool:
        """True when the record parsed to a JSON object that checks can read."""
        return isinstance(self.data, dict)

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = content_key(self.data)
        return self._key

    @property
    def conversation(self) -> Conversation:
        if self._conversation is None:
            from curate.formats import normalise

            self._conversation = normalise(self.data, self.format_hint)
        return self._conversation

    @property
    def format(self) -> str:
        # every check asks: skip the property chain once the conversation exists
        # (normalise() already answers "invalid" for data that is not an object)
        conv = self._conversation
        return conv.format if conv is not None else self.conversation.format

    def __repr__(self) -> str:
        return f"Record({self.path}:{self.line})"


def content_key(data: Any) -> str:
    """A stable key: the hash of the record's canonical JSON (sorted keys)."""
    try:
        blob = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        blob = repr(data).encode("utf-8", "replace")
    return hashlib.blake2b(blob, digest_size=10).hexdigest()


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check found and where; the engine turns it into a Finding."""

    message: str
    field: str | None = None
    data: dict[str, Any] = dc_field(default_factory=dict)
    fix: str | None = None  # a sentence saying how to fix it
    line: int | None = None  # dataset checks name the record's line
    key: str | None = None  # record key for dataset-level hits about one record
    path: str | None = None
    identity: str = ""  # extra discriminator for the fingerprint (never raw PII)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    check: str
    severity: Severity
    path: str | None
    line: int | None
    field: str | None
    message: str
    fingerprint: str
    key: str | None = None
    fix: str | None = None
    data: dict[str, Any] = dc_field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "check": self.check,
            "severity": str(self.severity),
            "path": self.path,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "data": self.data,
        }


def fingerprint(rule: str, key: str | None, field: str | None, identity: str = "") -> str:
    """Identity of a finding that survives inserted lines: rule + record content + field."""
    blob = "\x1f".join((rule, key or "", field or "", identity)).encode()
    return hashlib.blake2b(blob, digest_size=8).hexdigest()
