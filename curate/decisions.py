"""A reviewer's decisions, saved beside the dataset so a re-run (and the next reviewer) remembers them.

The file is `<dataset stem>.decisions.yaml` next to the dataset: YAML, one entry per record key
sorted by key, so it diffs well and can be committed. Keys are record keys (content hashes or
a configured id field), never line numbers, so inserting lines above a record keeps its decision.

Since the file may be committed, it holds no record text and nothing that gives a value back
(version 2): keys and accepted fingerprints are sealed (`curate.sealing`: salted scrypt, salt in
the file, so it stays portable), a drop's reason is its rule ids, and a fix or edit stores only
what changed (`curate.patch`), never the whole record. In memory a decision carries the record's
plain key once `DecisionLog.resolve` has matched it to the dataset (by its line first, then by
sealing candidate keys). Version 1 files (plain keys, whole records) still load and are written
back as version 2.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from curate.io.atomic import write_bytes_atomic
from curate.loading import DECISIONS_LIMIT, read_text_bounded
from curate.patch import PatchError, apply_patch, make_patch
from curate.sealing import Seal, SealSpec
from curate.yamlfile import BoundedLoader, did_you_mean, line_of, parse_yaml, raise_all

Action = Literal["accept", "drop", "fix", "edit"]
DECISIONS_VERSION = 2
HAND_EDITED_LIMIT = 4 << 20  # a decisions file not in `save`'s layout is parsed by PyYAML only up to this size
RESOLVE_BUDGET = 50_000  # keys sealed at most when matching moved decisions (~35 s of one core, 4x at most)


def decisions_path(dataset: str | Path) -> Path:
    p = Path(dataset)
    return p.with_name(f"{p.stem}.decisions.yaml")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class Decision:
    __pydantic_config__ = ConfigDict(extra="forbid")  # how a decisions file is validated
    key: str  # the record key; "" until a sealed decision is matched to its record (`resolve`)
    action: Action
    at: str = dc_field(default_factory=now)
    rule: str | None = None  # the finding's rule, for accept/fix
    fingerprint: str | None = None  # the accepted finding, for accept (plain; None until resolved)
    reason: str | None = None  # a drop's rule ids
    record: Any = None  # the new record of a fix/edit: in memory (and in version 1 files)
    # the n-th record (1-based) with this key, when identical copies share it; None means every copy
    occurrence: int | None = None
    line: int | None = None  # where the record was when decided: a hint for matching, not identity
    patch: list[dict[str, Any]] | None = None  # what a fix/edit changed in the original record
    sealed_key: str | None = dc_field(default=None, init=False, compare=False)  # as in the file
    sealed_fingerprint: str | None = dc_field(default=None, init=False, compare=False)

    def new_record(self, original: Any) -> Any:
        """The record after this fix or edit: the patch applied to `original` (PatchError if it no
        longer fits), or the whole record of a version 1 file."""
        if self.patch is not None:
            return apply_patch(original, self.patch)
        return self.record

    def to_yaml(self, seal: Seal) -> dict[str, Any]:
        """The entry as written: sealed key and fingerprint, a patch instead of the record."""
        sealed = self.sealed_key or seal.key(self.key)
        out: dict[str, Any] = {"key": sealed, "action": self.action, "at": self.at}
        fp = self.sealed_fingerprint
        if fp is None and self.fingerprint is not None:
            fp = seal.fingerprint(sealed, self.fingerprint)
        patch = self.patch
        if patch is None and self.record is not None:  # a version 1 edit whose original was never seen
            patch = [{"op": "replace", "path": "", "value": self.record}]
        values = {"occurrence": self.occurrence, "line": self.line, "rule": self.rule, "fingerprint": fp}
        values |= {"reason": self.reason, "patch": patch}
        out.update((k, v) for k, v in values.items() if v is not None)
        return out


def drop_reason(findings: list[Any]) -> str:
    """Why a record was dropped, as stored: its findings' rule ids (messages may quote the record)."""
    return ", ".join(dict.fromkeys(f.rule for f in findings))[:500] or "dropped in review"


@dataclass(slots=True)
class DecisionLog:
    path: Path
    decisions: list[Decision] = dc_field(default_factory=list)
    seal: Seal | None = None  # the file's salt and cost; a new one when first saved

    def accepted_fingerprints(self) -> frozenset[str]:
        """Plain fingerprints of accepted findings (sealed ones once `resolve` matched them)."""
        return frozenset(d.fingerprint for d in self.decisions if d.action == "accept" and d.fingerprint)

    def dropped_keys(self) -> set[str]:
        """Keys dropped entirely (every copy); a drop of one copy of a duplicated record is in `dropped()`."""
        return {d.key for d in self.decisions if d.action == "drop" and d.occurrence is None and d.key}

    def dropped(self) -> set[tuple[str, int | None]]:
        """(key, occurrence) of every drop; occurrence None means every record with that key."""
        return {(d.key, d.occurrence) for d in self.decisions if d.action == "drop" and d.key}

    def is_dropped(self, key: str, occurrence: int | None) -> bool:
        drops = self.dropped()
        return (key, None) in drops or (occurrence is not None and (key, occurrence) in drops)

    def unresolved(self) -> list[Decision]:
        """Sealed decisions not matched to any record of the dataset (yet)."""
        return [d for d in self.decisions if not d.key]

    def resolve(
        self,
        records: Iterable[tuple[int | None, str | None]],
        findings: Iterable[Any] = (),
        budget: int = RESOLVE_BUDGET,
    ) -> int:
        """Match sealed decisions to the dataset's records, given as (line, plain key) pairs: first the
        record at each decision's line, then other keys nearest those lines, sealing at most
        `budget` keys. Accepted fingerprints are then matched against `findings`. Returns how many
        decisions are still unmatched (their records changed, or are gone)."""
        todo = self.unresolved()
        if todo and self.seal is not None:
            seal = self.seal
            by_line: dict[int, str] = {}
            for line, key in records:
                if line is not None and key and line not in by_line:
                    by_line[line] = key
            findings = list(findings)
            file_keys = sorted({f"file:{Path(f.path).name}" for f in findings if f.key is None and f.path})
            for d in todo:
                hint = by_line.get(d.line) if d.line is not None else None
                for cand in (hint, *file_keys) if d.action == "accept" else (hint,):
                    if cand and seal.key(cand) == d.sealed_key:
                        d.key = cand
                        break
            todo = self.unresolved()
            if todo:
                hints = sorted({d.line for d in todo if d.line is not None}) or [0]
                import bisect

                def distance(item: tuple[int, str]) -> int:
                    i = bisect.bisect_left(hints, item[0])
                    return min(abs(item[0] - hints[j]) for j in (i - 1, i) if 0 <= j < len(hints))

                wanted = {d.sealed_key: d for d in todo}
                order = sorted(by_line.items(), key=distance)
                keys = list(dict.fromkeys(k for _, k in order))[:budget]
                for start in range(0, len(keys), 512):
                    for plain, sealed in seal.keys(keys[start : start + 512]).items():
                        for d in [x for x in todo if x.sealed_key == sealed]:
                            d.key = plain
                    todo = self.unresolved()
                    if not todo or not wanted:
                        break
        self._match_fingerprints(findings)
        return len(self.unresolved())

    def _match_fingerprints(self, findings: Iterable[Any]) -> None:
        pending = [d for d in self.decisions if d.action == "accept" and d.key and d.fingerprint is None]
        if not pending or self.seal is None:
            return
        by_key: dict[str, list[Any]] = {}
        for f in findings:
            by_key.setdefault(f.key or "", []).append(f)
        for d in pending:
            key = "" if d.key.startswith("file:") else d.key
            for f in by_key.get(key, ()):
                same_rule = f.rule == d.rule or d.rule is None
                if same_rule and self.seal.fingerprint(d.sealed_key or "", f.fingerprint) == d.sealed_fingerprint:
                    d.fingerprint = f.fingerprint
                    break

    def replacements(self) -> dict[str, Any]:
        """Record key -> the latest fix or edit held whole in memory (made in this session or read
        from a version 1 file)."""
        out: dict[str, Any] = {}
        for d in self.decisions:
            if d.action in ("fix", "edit") and d.record is not None and d.key:
                out[d.key] = d.record
        return out

    def latest_change(self, key: str, occurrence: int | None = None) -> Decision | None:
        """The latest fix or edit of this record (of this copy, when copies were edited apart)."""
        found = None
        for d in self.decisions:
            wanted = d.occurrence is None or d.occurrence == occurrence
            if d.key == key and d.action in ("fix", "edit") and wanted and (d.record is not None or d.patch):
                found = d
        return found

    def replacement(self, key: str, occurrence: int | None = None, original: Any = None) -> Any:
        """The record after its latest fix or edit, or None; `original` is needed for patches."""
        d = self.latest_change(key, occurrence)
        if d is None:
            return None
        try:
            return d.new_record(original)
        except PatchError:
            return None

    def add(self, decision: Decision) -> None:
        self.decisions.append(decision)

    def remove(self, decision: Decision) -> bool:
        """Forget one decision (undo); identity, not equality, so twin decisions stay apart."""
        for i, d in enumerate(self.decisions):
            if d is decision:
                del self.decisions[i]
                return True
        return False

    def remove_last(self) -> Decision | None:
        return self.decisions.pop() if self.decisions else None

    def save(self, originals: Any = None) -> None:
        """Write the whole log atomically. A hand-written emitter: PyYAML's representer needs ~20 s
        for 100,000 decisions, and saving happens after every decision.

        `originals(decision)` gives the original record of a fix/edit held whole (version 1), so it
        is written as a patch; without it such a decision is kept as a whole-record patch."""
        if self.seal is None:
            self.seal = Seal.new()
        for d in self.decisions:
            if d.action in ("fix", "edit") and d.patch is None and d.record is not None and originals is not None:
                original = originals(d)
                if original is not None:
                    d.patch = make_patch(original, d.record)
        entries = [d.to_yaml(self.seal) for d in self.decisions]
        lines = [f"version: {DECISIONS_VERSION}", f"dataset: {_scalar(self.path.name.removesuffix('.decisions.yaml'))}"]
        lines.append(f"seal: {_scalar(self.seal.to_json())}")
        lines.append("decisions:" if entries else "decisions: []")
        for entry in sorted(entries, key=lambda e: (e["key"], e["at"])):
            first = True
            for name, value in entry.items():
                lines.append(f"{'- ' if first else '  '}{name}: {_scalar(value)}")
                first = False
        write_bytes_atomic(self.path, ("\n".join(lines) + "\n").encode("utf-8"))


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
# characters a YAML reader rejects or reads as line breaks; JSON leaves them raw
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _read_own(text: str) -> tuple[dict[str, Any], list[int]] | None:
    """Read the layout `save` writes, about 10x faster than PyYAML; None for anything else.
    Also returns the line where each decision starts, for error messages."""
    doc: dict[str, Any] = {}
    decisions: list[dict[str, Any]] = []
    starts: list[int] = []
    current: dict[str, Any] | None = None
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("- "):
            current = {}
            decisions.append(current)
            starts.append(number)
            target, body = current, line[2:]
        elif line.startswith("  ") and current is not None:
            target, body = current, line[2:]
        elif line == "decisions:":
            doc["decisions"] = decisions
            continue
        elif current is None and not line.startswith(" "):
            target, body = doc, line
        else:
            return None
        name, sep, raw = body.partition(": ")
        if not sep or not name.isidentifier() or name in target:
            return None
        if _PLAIN.fullmatch(raw) and raw.lower() not in _YAML_WORDS:
            target[name] = raw
            continue
        try:
            target[name] = json.loads(raw)
        except (ValueError, RecursionError):  # too deep or too long: the YAML reader says where
            return None
    return doc, starts


class _Loader(BoundedLoader):
    """The bounded YAML loader, also reading JSON floats such as 1e-05 as numbers (YAML 1.1 wants a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def _scalar(value: Any) -> str:
    """One YAML value: plain when unambiguous, else JSON (a JSON value is valid YAML flow)."""
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        from curate.fixes import finite

        text = json.dumps(finite(value), ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _key_line(text: str, start: int | None, loc: tuple[Any, ...]) -> int | None:
    """The line of key `loc[0]` in the decision that starts at line `start` (curate's own layout)."""
    if start is None or not loc:
        return start
    lines = text.split("\n", start + 64)[start - 1 : start + 63]
    for offset, line in enumerate(lines):
        if offset and not line.startswith("  "):
            break
        if line[2:].startswith(f"{loc[0]}: "):
            return start + offset
    return start


class _File(BaseModel):
    """The top level of a decisions file; each entry is validated against `Decision` itself."""

    model_config = ConfigDict(extra="forbid")
    version: int = DECISIONS_VERSION
    dataset: str | None = None
    seal: SealSpec | None = None
    decisions: list[Any] | None = None


def load_decisions(dataset: str | Path) -> DecisionLog:
    """The decisions for `dataset` (an empty log when there is no file yet).

    The file may come from a repository, so it is read bounded (size, nesting, no YAML aliases)
    and validated: a malformed file is a ConfigError naming the file and the line, never a crash."""
    from curate.yamlfile import ConfigError

    path = decisions_path(dataset)
    log = DecisionLog(path)
    if not path.is_file():
        return log
    text = read_text_bounded(path, DECISIONS_LIMIT, "decisions file")
    own = _read_own(text)
    if own is not None:
        doc, starts = own
    else:  # edited by hand: read it as YAML, which costs ~4 s of CPU per MB, so only a small file
        if len(text) > HAND_EDITED_LIMIT:
            raise ConfigError(
                f"decisions file is not in the layout curate writes and larger than {HAND_EDITED_LIMIT >> 20} MB;"
                " refusing to parse it as YAML (re-create it with `curate review`)",
                path,
            )
        doc = parse_yaml(text, path, _Loader) or {}
        items = doc.get("decisions") if isinstance(doc, dict) else None
        starts = [getattr(item, "line", None) for item in items] if isinstance(items, list) else []
    if not isinstance(doc, dict):
        raise ConfigError("not a curate decisions file (expected a mapping with a `decisions:` list)", path, 1)
    try:
        head = _File.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"])
        what = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"not a curate decisions file: {name}: {what}", path, line_of(doc, err["loc"][:1])) from None
    if head.version > DECISIONS_VERSION:
        raise ConfigError(f"decisions file version {head.version} is newer than this curate understands", path)
    if head.version >= 2 and head.seal is None:
        raise ConfigError("decisions file version 2 has no `seal:` (salt and cost of its keys)", path)
    log.seal = Seal(head.seal) if head.seal is not None and head.version >= 2 else None
    errors: list[ConfigError] = []
    for i, item in enumerate(head.decisions or []):
        if len(errors) >= 20:  # enough to see the pattern
            break
        line = starts[i] if i < len(starts) else None
        try:
            decision = _DECISION.validate_python(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err["loc"])
            if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
                what = f"unknown key {name!r}{did_you_mean(name, _FILE_FIELDS)}"
            else:
                what = f"{name}: {err['msg']}"
            where = line_of(item, err["loc"][:1]) or _key_line(text, line, err["loc"][:1])
            errors.append(ConfigError(f"decision {i + 1}: {what}", path, where or line))
            continue
        if decision.occurrence is not None and decision.occurrence < 1:
            errors.append(ConfigError(f"decision {i + 1}: occurrence must be 1 or more", path, line))
            continue
        if head.version >= 2:  # keys and fingerprints in the file are sealed: matched later by `resolve`
            if decision.record is not None:
                errors.append(ConfigError(f"decision {i + 1}: version 2 stores a patch, not a record", path, line))
                continue
            decision.sealed_key, decision.key = decision.key, ""
            decision.sealed_fingerprint, decision.fingerprint = decision.fingerprint, None
        log.decisions.append(decision)
    raise_all(errors)
    log.decisions.sort(key=lambda d: d.at)
    return log


_DECISION = TypeAdapter(Decision)
_FILE_FIELDS = [n for n, f in Decision.__dataclass_fields__.items() if f.init]  # what a file may hold
