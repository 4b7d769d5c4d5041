"""The review loop as a plain class: flagged records worst first, filters, a cursor, decisions, undo.

The TUI only draws what this class says and calls its methods, so every behaviour is tested
without a terminal. Every decision is saved at once (atomically) beside the dataset, so a crash
or `q` loses nothing and the next review resumes where this one stopped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from curate.decisions import Decision, DecisionLog, drop_reason, load_decisions
from curate.fixes import diff_lines, suggest
from curate.io.lines import RecordStore
from curate.io.location import place
from curate.io.reader import ReadOptions
from curate.model import Finding, Record, Severity
from curate.patch import PatchError, make_patch

Status = Literal["pending", "all", "decided"]
STATUSES: tuple[Status, ...] = ("pending", "all", "decided")


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    rule: str | None = None
    severity: Severity | None = None  # at least this severe
    family: str | None = None
    text: str = ""
    status: Status = "pending"

    def matches(self, f: Finding) -> bool:
        return (
            (self.rule is None or f.rule == self.rule)
            and (self.severity is None or f.severity >= self.severity)
            and (self.family is None or f.check.split(".", 1)[0] == self.family)
        )

    def describe(self) -> str:
        parts = [self.status]
        if self.rule:
            parts.append(f"rule={self.rule}")
        if self.family:
            parts.append(f"family={self.family}")
        if self.severity:
            parts.append(f"severity>={self.severity}")
        if self.text:
            parts.append(f"search={self.text!r}")
        return " ".join(parts)


@dataclass(slots=True)
class Item:
    """One flagged record (line None: findings about a whole file)."""

    path: str
    line: int | None
    key: str | None
    occurrence: int | None  # the n-th record with this key, when identical copies share it
    findings: list[Finding]  # current: re-checked after a fix or edit
    original: list[Finding]
    worst: Severity = Severity.INFO  # of the original findings: the list's order never jumps

    @property
    def label(self) -> str:
        """Where the record is inside its file: `12`, or `row 42` in a table."""
        return place(self.line, self.path) if self.line is not None else "file"

    @property
    def named(self) -> str:
        """`line 12`, `row 42`, or `file`, for messages."""
        label = self.label
        return label if not label[:1].isdigit() else f"line {label}"


@dataclass(frozen=True, slots=True)
class FixProposal:
    finding: Finding
    new: dict[str, Any]
    diff: list[str]


class SaveFailed(OSError):
    """The decisions file could not be written; the decision was not taken."""


class EditRefused(ValueError):
    """The edited text is not a JSON object; the message says why and where."""


class ReviewSession:
    def __init__(
        self,
        path: str | Path,
        findings: Iterable[Finding],
        store: RecordStore,
        decisions: DecisionLog | None = None,
        checks: dict[str, Any] | None = None,
        recheck: Any = None,
        occurrences: dict[int, int] | None = None,
        errors: list[str] | None = None,
        records: int = 0,
    ) -> None:
        self.path = str(path)
        self.store = store
        self.log = decisions if decisions is not None else load_decisions(path)
        self.checks = checks or {}  # rule id -> check instance (for suggested fixes)
        self._recheck = recheck  # Record -> list[Finding] (record checks only), or None
        self._dataset_rules = {rid for rid, c in self.checks.items() if getattr(c, "scope", "") == "dataset"}
        self.errors = errors or []
        self.records = records
        findings = list(findings)
        self.items = _group(findings, occurrences or {})
        for item in self.items:  # a check that named only the line: the key comes from the record
            if item.key is None and item.line is not None:
                record = store.record(item.line)
                item.key = record.key if record is not None else None
        # sealed decisions (a committed file) find their records: by line first, then by key
        self.log.resolve(((i.line, i.key) for i in self.items), findings)
        self.filter = ReviewFilter()
        self.view: list[int] = []
        self.cursor = 0
        self.finding_index = 0
        self._undo: list[list[Decision]] = []
        self._search_cache: dict[str, set[int]] = {}
        self._reindex()
        for item in self.items:
            if item.key and self._replacement(item) is not None:
                self._refresh(item)
        self.apply_filter(self.filter)

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | Path,
        rules: list[Any],
        ctx: Any = None,
        read: ReadOptions | None = None,
        input_format: str | None = None,
        jobs: int = 0,
        ruleset_name: str = "custom",
        on_progress: Any = None,
    ) -> ReviewSession:
        """Audit `path` with `rules` and start a review of what was found."""
        from curate.check import DatasetCheck, RecordCheck, RunContext
        from curate.registry import load_registry
        from curate.run.engine import Engine, EngineOptions

        read = read or ReadOptions()
        registry = load_registry()
        ctx = ctx or RunContext()
        engine = Engine(
            rules,
            ctx,
            EngineOptions(input_format=input_format, read=read, jobs=jobs, on_progress=on_progress),
            registry,
            ruleset_name,
        )
        report = engine.run([str(path)])
        checks = {rule.id: registry.checks[rule.check](rule.params, ctx, rule.roles) for rule in rules}
        record_checks = [(r, checks[r.id]) for r in rules if not isinstance(checks[r.id], DatasetCheck)]

        def recheck(record: Record) -> list[Finding]:
            """The record checks on one (fixed or edited) record, as the engine would run them."""
            from curate.run.findings import make_finding

            out = []
            for rule, check in record_checks:
                if isinstance(check, RecordCheck) and (record.ok or check.runs_on_invalid):
                    out += [make_finding(rule, h, record.path, record.line, record.key) for h in check.check(record)]
            return out

        keys: list[tuple[int, str]] = []
        table = report.table
        if "line" in table.columns and "key" in table.columns:
            keys = list(zip(table["line"].to_list(), table["key"].to_list(), strict=True))
        return cls(
            path,
            report.findings,
            RecordStore(path, read, input_format),
            checks=checks,
            recheck=recheck,
            occurrences=_occurrences(keys),
            errors=report.errors,
            records=report.records,
        )

    # -- derived state -----------------------------------------------------------------------
    def _reindex(self) -> None:
        self._counts: Counter[str] | None = None
        self._accepted = self.log.accepted_fingerprints()
        self._dropped = self.log.dropped()
        self._changed: dict[tuple[str, int | None], str] = {}
        self._replaced: dict[tuple[str, int | None], Decision] = {}
        for d in self.log.decisions:  # in time order: the latest fix or edit wins
            if d.action in ("fix", "edit") and d.key:
                self._changed[(d.key, d.occurrence)] = d.action
                if d.record is not None or d.patch is not None:
                    self._replaced[(d.key, d.occurrence)] = d

    def is_dropped(self, item: Item) -> bool:
        if item.key is None:
            return False
        return (item.key, None) in self._dropped or (
            item.occurrence is not None and (item.key, item.occurrence) in self._dropped
        )

    def pending_findings(self, item: Item) -> list[Finding]:
        if self.is_dropped(item):
            return []
        return [f for f in item.findings if f.fingerprint not in self._accepted]

    def status(self, item: Item) -> str:
        """pending | dropped | fixed | edited | accepted (every finding accepted or fixed away)."""
        if self.is_dropped(item):
            return "dropped"
        if self.pending_findings(item):
            return "pending"
        if item.key is not None:
            change = self._changed.get((item.key, item.occurrence)) or self._changed.get((item.key, None))
            if change:
                return "fixed" if change == "fix" else "edited"
        return "accepted"

    def counts(self) -> Counter[str]:
        """Records per status; cached, since the UI asks on every key and there may be 100k records."""
        if self._counts is None:
            self._counts = Counter(self.status(i) for i in self.items)
        return self._counts

    # -- records -----------------------------------------------------------------------------
    def _replacement(self, item: Item) -> Any:
        if item.key is None:
            return None
        found = self._replaced.get((item.key, item.occurrence)) or self._replaced.get((item.key, None))
        if found is None:
            return None
        if found.record is None:  # read from the file as a patch: rebuild once, keep it in memory
            original = self.original_record(item)
            try:
                found.record = found.new_record(original.data if original is not None else None)
            except PatchError:
                return None
        return found.record

    def original_record(self, item: Item) -> Record | None:
        return self.store.record(item.line) if item.line is not None else None

    def record(self, item: Item) -> Record | None:
        """The record as it stands after this review's fixes and edits."""
        original = self.original_record(item)
        new = self._replacement(item)
        if new is None or original is None:
            return original
        rec = Record(original.path, original.line, new, (), 0, key=original.key)
        rec.format_hint = original.format_hint
        return rec

    def _refresh(self, item: Item) -> None:
        """Re-run the record checks on the current version of a fixed or edited record."""
        self._counts = None
        if self._replacement(item) is None:
            item.findings = list(item.original)
            return
        record = self.record(item)
        if self._recheck is None or record is None:
            return
        kept = [f for f in item.original if f.rule in self._dataset_rules]
        try:
            fresh = list(self._recheck(record))
        except Exception:  # noqa: BLE001 - keep the old findings rather than crash the review
            return
        item.findings = [*fresh, *kept]

    # -- filtering and moving ----------------------------------------------------------------
    def apply_filter(self, flt: ReviewFilter) -> None:
        keep = self.current
        self.filter = flt
        lines = None
        only_line = int(flt.text[1:]) if flt.text[:1] == ":" and flt.text[1:].isdigit() else None
        if flt.text and only_line is None:
            lines = self._search_cache.get(flt.text)
            if lines is None:
                lines = self._search_cache[flt.text] = self.store.lines_containing(flt.text)
        needle = flt.text.lower()
        view = []
        for i, item in enumerate(self.items):
            status = self.status(item)
            if flt.status == "pending" and status != "pending":
                continue
            if flt.status == "decided" and status == "pending":
                continue
            if (flt.rule or flt.severity or flt.family) and not any(flt.matches(f) for f in item.findings):
                continue
            if only_line is not None:
                if item.line != only_line:
                    continue
            elif needle and not (
                (lines is not None and item.line in lines)
                or (item.key and needle in item.key)
                or any(needle in f.rule or needle in f.message.lower() for f in item.findings)
            ):
                continue
            view.append(i)
        self.view = view
        self.cursor = 0
        if keep is not None:
            idx = self.items.index(keep)
            if idx in view:
                self.cursor = view.index(idx)
        self.finding_index = 0

    @property
    def current(self) -> Item | None:
        return self.items[self.view[self.cursor]] if self.view else None

    @property
    def current_finding(self) -> Finding | None:
        item = self.current
        if item is None or not item.findings:
            return None
        self.finding_index %= len(item.findings)
        return item.findings[self.finding_index]

    def move(self, delta: int) -> None:
        self.goto(self.cursor + delta)

    def goto(self, position: int) -> None:
        if self.view:
            self.cursor = max(0, min(len(self.view) - 1, position))
            self.finding_index = self._first_pending_finding()

    def next_finding(self, delta: int = 1) -> None:
        item = self.current
        if item and item.findings:
            self.finding_index = (self.finding_index + delta) % len(item.findings)

    def _first_pending_finding(self) -> int:
        item = self.current
        if item is None:
            return 0
        for i, f in enumerate(item.findings):
            if f.fingerprint not in self._accepted:
                return i
        return 0

    def _advance(self) -> None:
        """After deciding, go to the next pending record of the view (or stay at the end)."""
        for pos in range(self.cursor + 1, len(self.view)):
            if self.status(self.items[self.view[pos]]) == "pending":
                self.goto(pos)
                return
        self.finding_index = self._first_pending_finding()

    def matching_findings(self) -> list[Finding]:
        """The findings the filter's rule/severity/family select (all, when the filter has none)."""
        item = self.current
        return [f for f in item.findings if self.filter.matches(f)] if item else []

    # -- decisions ---------------------------------------------------------------------------
    def _record_decisions(self, decisions: list[Decision]) -> None:
        """Add and save at once; if the file cannot be written, nothing is decided (SaveFailed)."""
        for d in decisions:
            self.log.add(d)
        try:
            self.log.save(self._original_of)
        except OSError as exc:
            for d in decisions:
                self.log.remove(d)
            raise SaveFailed(f"cannot save decisions to {self.log.path}: {exc.strerror or exc}") from None
        self._undo.append(decisions)
        self._reindex()

    def _original_of(self, decision: Decision) -> Any:
        """The original record a fix/edit applies to (for writing it as a patch), or None."""
        record = self.store.record(decision.line) if decision.line is not None else None
        return record.data if record is not None and record.key == decision.key else None

    def _changed_to(self, item: Item, action: str, new: Any, **kw: Any) -> Decision:
        """A fix or edit: the new record in memory, only what changed from the original on disk."""
        original = self.original_record(item)
        d = self._decision(item, action, record=new, **kw)
        d.patch = make_patch(original.data if original is not None else None, new)
        return d

    def _decision(self, item: Item, action: str, **kw: Any) -> Decision:
        assert item.key is not None or action == "accept"
        return Decision(
            key=item.key or f"file:{Path(item.path).name}",
            action=action,
            occurrence=item.occurrence,
            line=item.line,
            **kw,
        )  # type: ignore[arg-type]

    def accept(self) -> str:
        """Accept the selected finding (intended: never flag it again); then the next pending one."""
        item, f = self.current, self.current_finding
        if item is None or f is None:
            return "nothing to accept"
        if f.fingerprint in self._accepted:
            self.next_finding()
            return "already accepted"
        self._record_decisions([self._decision(item, "accept", rule=f.rule, fingerprint=f.fingerprint)])
        if self.pending_findings(item):
            self.finding_index = self._first_pending_finding()
        else:
            self._advance()
        return f"accepted {f.rule} at {item.named}"

    def drop(self) -> str:
        item = self.current
        if item is None:
            return "nothing to drop"
        if item.key is None:
            return "findings about the whole file cannot be dropped; accept them"
        if self.is_dropped(item):
            return "already dropped"
        self._record_decisions([self._decision(item, "drop", reason=drop_reason(item.findings))])
        self._advance()
        return f"dropped {item.named}"

    def fix_proposal(self) -> FixProposal | None:
        item, f = self.current, self.current_finding
        if item is None or f is None or item.key is None:
            return None
        record = self.record(item)
        check = self.checks.get(f.rule)
        if record is None or check is None:
            return None
        new = suggest(check, record.data, f)
        return FixProposal(f, new, diff_lines(record.data, new)) if new is not None else None

    def apply_fix(self, proposal: FixProposal) -> str:
        item = self.current
        assert item is not None
        self._record_decisions([self._changed_to(item, "fix", proposal.new, rule=proposal.finding.rule)])
        self._refresh(item)
        if not self.pending_findings(item):
            self._advance()
        else:
            self.finding_index = self._first_pending_finding()
        return f"fixed {proposal.finding.rule} at {item.named}"

    def edit_text(self) -> str:
        """The text the editor starts from: the current record as indented JSON, or the raw line."""
        item = self.current
        if item is None:
            return ""
        record = self.record(item)
        if record is None:
            return ""
        if record.data is None:
            raw = self.store.raw_bytes(record.line)
            return raw.decode("utf-8", "replace") if raw else ""
        return json.dumps(record.data, ensure_ascii=False, indent=2)

    def edit(self, text: str) -> str:
        """Replace the record with `text`; refuse (EditRefused) anything but one strict JSON object."""
        item = self.current
        if item is None or item.key is None:
            raise EditRefused("no record selected")
        new = parse_edit(text)
        record = self.record(item)
        if record is not None and record.data == new:
            return "unchanged"
        self._record_decisions([self._changed_to(item, "edit", new)])
        self._refresh(item)
        if not self.pending_findings(item):
            self._advance()
        return f"edited {item.named}"

    def undo(self) -> str:
        if not self._undo:
            return "nothing to undo in this session"
        batch = self._undo[-1]
        for d in batch:
            self.log.remove(d)
        try:
            self.log.save(self._original_of)
        except OSError as exc:
            for d in batch:
                self.log.add(d)
            raise SaveFailed(f"cannot save decisions to {self.log.path}: {exc.strerror or exc}") from None
        self._undo.pop()
        self._reindex()
        touched = {(d.key, d.occurrence) for d in batch}
        first = None
        for i, item in enumerate(self.items):
            if item.key is not None and ((item.key, item.occurrence) in touched or (item.key, None) in touched):
                self._refresh(item)
                first = i if first is None else first
        if first is not None and first in self.view:
            self.goto(self.view.index(first))
        what = batch[0].action if len(batch) == 1 else f"{len(batch)} decisions"
        return f"undid {what}"

    # -- bulk --------------------------------------------------------------------------------
    def bulk_targets(self) -> tuple[list[tuple[Item, Finding]], list[Item]]:
        """What A and D would touch: pending findings matching the filter, records in the view."""
        findings, records = [], []
        for i in self.view:
            item = self.items[i]
            if self.is_dropped(item):
                continue
            findings += [(item, f) for f in self.pending_findings(item) if self.filter.matches(f)]
            if item.key is not None:
                records.append(item)
        return findings, records

    def bulk_accept(self) -> str:
        targets, _ = self.bulk_targets()
        if not targets:
            return "nothing to accept"
        seen: set[str] = set()
        batch = []
        for item, f in targets:
            if f.fingerprint not in seen:
                seen.add(f.fingerprint)
                batch.append(self._decision(item, "accept", rule=f.rule, fingerprint=f.fingerprint))
        self._record_decisions(batch)
        return f"accepted {len(batch):,} findings"

    def bulk_drop(self) -> str:
        _, records = self.bulk_targets()
        if not records:
            return "nothing to drop"
        batch = []
        for item in records:  # the reason names what the filter selected first
            chosen = [f for f in item.findings if self.filter.matches(f)]
            batch.append(
                self._decision(item, "drop", reason=drop_reason(chosen + [f for f in item.findings if f not in chosen]))
            )
        self._record_decisions(batch)
        return f"dropped {len(records):,} records"

    # -- export ------------------------------------------------------------------------------
    def export(self, out: str | Path | None = None) -> Any:
        from curate.export import export_dataset

        return export_dataset(self.path, self.log, out=out, read=self.store.options)


def parse_edit(text: str) -> dict[str, Any]:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        value = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise EditRefused(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise EditRefused(str(exc)) from None
    if not isinstance(value, dict):
        raise EditRefused(f"a record must be a JSON object, not {type(value).__name__}")
    return value


def _occurrences(keys: list[tuple[int, str]]) -> dict[int, int]:
    """line -> n for records whose key is shared by identical copies (n-th copy in file order)."""
    counts = Counter(k for _, k in keys)
    seen: Counter[str] = Counter()
    out = {}
    for line, key in keys:
        if counts[key] > 1:
            seen[key] += 1
            out[line] = seen[key]
    return out


def _group(findings: Iterable[Finding], occurrences: dict[int, int]) -> list[Item]:
    """One item per flagged record, worst first: severity, then number of findings, then line."""
    by_record: dict[tuple[str, int | None], list[Finding]] = {}
    for f in findings:
        by_record.setdefault((f.path or "", f.line), []).append(f)
    items = []
    for (path, line), fs in by_record.items():
        key = next((f.key for f in fs if f.key), None) if line is not None else None
        if len(fs) > 1:
            fs.sort(key=lambda f: (-f.severity, f.rule))
        occ = occurrences.get(line) if line is not None else None
        items.append(Item(path, line, key, occ, fs, list(fs), fs[0].severity))
    items.sort(key=lambda i: (-i.worst, -len(i.original), i.line if i.line is not None else -1))
    return items


__all__ = [
    "EditRefused",
    "SaveFailed",
    "FixProposal",
    "Item",
    "ReviewFilter",
    "ReviewSession",
    "STATUSES",
    "parse_edit",
]
