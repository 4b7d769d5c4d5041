"""Apply a review's decisions to a dataset and write the result: the input is never modified.

Records the reviewer fixed or edited are replaced, dropped ones go to a quarantine file with
their reasons, and everything else is copied byte for byte (JSONL) so the output differs from
the input exactly where a decision says so. Both files are written atomically.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from curate.decisions import Decision, DecisionLog
from curate.fixes import finite as _finite
from curate.io.atomic import atomic_writer
from curate.io.reader import FileStats, ReadOptions, iter_raw, to_record
from curate.patch import PatchError


class Scrubber(Protocol):
    def scrub_record(self, data: Any) -> tuple[Any, int]: ...  # any JSON value: object, list or string


@dataclass(slots=True)
class ExportResult:
    input: str
    out: str
    quarantine: str | None
    written: int = 0
    fixed: int = 0
    edited: int = 0
    dropped: int = 0  # by a review decision
    dropped_duplicates: int = 0
    unparseable: int = 0  # lines that are not a JSON object: quarantined unless repaired in review
    blank: int = 0  # blank lines left out
    normalised: int = 0  # re-serialised because the reader repaired them (BOM, CRLF, NaN, duplicate key)
    scrubbed_records: int = 0
    scrubbed_values: int = 0
    unconverted: int = 0  # records the --to format cannot hold: quarantined with the reason
    auto_fixed: int = 0  # records changed by --apply-fixes
    dropped_by_rule: int = 0  # records dropped by --drop-rule / --drop-severity
    not_applied: int = 0  # fixes/edits whose record changed since review (written unchanged)
    unmatched: int = 0  # decisions whose record is not in the file any more
    changes: list[tuple[int, str]] = field(default_factory=list)  # (line, what happened), for printing

    @property
    def quarantined(self) -> int:
        return self.dropped + self.dropped_duplicates + self.dropped_by_rule + self.unparseable + self.unconverted


def default_out(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(f"{p.stem}.curated.jsonl")


def default_quarantine(path: str | Path, out: str | Path) -> Path:
    return Path(out).with_name(f"{Path(path).stem}.quarantine.jsonl")


def dump_line(data: Any) -> bytes:
    """One JSON line in the most common JSONL style (Python's separators, UTF-8 text)."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN/Infinity the reader accepted: strict JSON has no such thing
        text = json.dumps(_finite(data), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: keep them as \u escapes
        return json.dumps(_finite(data), ensure_ascii=True).encode("ascii")


class _Decided:
    """The log turned into lookups by (key, occurrence); None as occurrence means every copy."""

    def __init__(self, log: DecisionLog) -> None:
        self.drops: dict[tuple[str, int | None], str] = {}
        self.replaced: dict[tuple[str, int | None], Decision] = {}
        for d in log.decisions:  # in time order: the latest fix or edit wins
            if not d.key:
                continue  # sealed and not matched to any record: reported by export_dataset
            if d.action == "drop":
                self.drops[(d.key, d.occurrence)] = d.reason or "dropped in review"
            elif d.action in ("fix", "edit") and (d.record is not None or d.patch is not None):
                self.replaced[(d.key, d.occurrence)] = d

    def drop_reason(self, key: str, occ: int) -> str | None:
        return self.drops.get((key, occ)) or self.drops.get((key, None))

    def replacement(self, key: str, occ: int) -> Decision | None:
        return self.replaced.get((key, occ)) or self.replaced.get((key, None))


def export_dataset(
    path: str | Path,
    log: DecisionLog,
    out: str | Path | None = None,
    quarantine: str | Path | None = None,
    read: ReadOptions | None = None,
    drop_lines: dict[int, str] | None = None,
    scrubber: Scrubber | None = None,
    convert_to: Callable[[Any], tuple[Any, str | None]] | None = None,
    auto: Callable[[Any], Any] | None = None,
) -> ExportResult:
    """Write `out` (default `<name>.curated.jsonl`) and the quarantine file; return what changed.

    `drop_lines` maps line -> reason for records dropped by rule rather than by a decision
    (the non-kept members of duplicate clusters, found by a run over this same file).
    `convert_to` writes each record in another format (curate.convert): (data, None), or (None, why)
    for a record the format cannot hold, which goes to the quarantine with that reason.
    `auto(record)` is the non-interactive cleanup (curate.cleanup.Cleanup.decide): an AutoDecision that
    drops or fixes the record, or None. It acts only on records no review decision and no duplicate
    drop has claimed: a person's decision wins over a policy.
    """
    src = Path(path)
    out_path = Path(out) if out is not None else default_out(src)
    q_path = Path(quarantine) if quarantine is not None else default_quarantine(src, out_path)
    for p in (out_path, q_path):
        if p.resolve() == src.resolve():
            raise ValueError(f"{p} is the input file; export never overwrites its input")
    read = read or ReadOptions()
    if log.unresolved():  # a sealed (committed) decisions file: match its keys to this file's records
        keys = ((r.line, r.key) for r in (to_record(str(src), i, read) for i in iter_raw(str(src), read, FileStats())))
        log.resolve(keys)
    decided = _Decided(log)
    drop_lines = drop_lines or {}
    result = ExportResult(str(src), str(out_path), None)
    result.unmatched = sum(1 for d in log.unresolved() if d.action != "accept")
    seen: Counter[str] = Counter()
    quarantined: list[bytes] = []
    stats = FileStats()
    with atomic_writer(out_path) as f:
        for item in iter_raw(str(src), read, stats):
            record = to_record(str(src), item, read)
            if item.raw is None and any(p.code == "schema.blank_line" for p in item.problems):
                result.blank += 1
                continue
            key = record.key
            seen[key] += 1
            reason = decided.drop_reason(key, seen[key])
            replaced = decided.replacement(key, seen[key])
            if reason is not None:
                result.dropped += 1
                quarantined.append(_quarantine_line(record, item.raw, key, [reason], scrubber))
                result.changes.append((record.line, f"dropped: {reason}"))
                continue
            if record.line in drop_lines and replaced is None:
                result.dropped_duplicates += 1
                quarantined.append(_quarantine_line(record, item.raw, key, [drop_lines[record.line]], scrubber))
                result.changes.append((record.line, f"dropped: {drop_lines[record.line]}"))
                continue
            if replaced is not None:
                action = replaced.action
                try:
                    data = replaced.new_record(record.data)
                except PatchError as exc:  # the record changed since the decision: keep it as it is
                    result.not_applied += 1
                    result.changes.append((record.line, f"{action} not applied, the record changed: {exc}"))
                    replaced, action, data = None, "", record.data
            if replaced is not None:
                if action == "fix":
                    result.fixed += 1
                else:
                    result.edited += 1
                result.changes.append((record.line, "fixed" if action == "fix" else "edited"))
                line = None
            elif any(p.code == "schema.encoding" for p in record.problems):
                # its text was read with U+FFFD in place of bytes that are not UTF-8: writing it would
                # change bytes nobody asked to change, so it waits in the quarantine with the reason
                result.unparseable += 1
                why = "invalid UTF-8 in the input; re-encode the file as UTF-8, or fix the record in review"
                quarantined.append(_quarantine_line(record, item.raw, key, [f"unparseable: {why}"], scrubber))
                result.changes.append((record.line, f"left out: {why}"))
                continue
            elif not record.ok:
                result.unparseable += 1
                why = "; ".join(p.message for p in record.problems) or "not a JSON object"
                quarantined.append(_quarantine_line(record, item.raw, key, [f"unparseable: {why}"], scrubber))
                result.changes.append((record.line, f"left out, unparseable: {why}"))
                continue
            else:
                data = record.data
                chosen = auto(record) if auto is not None else None
                if chosen is not None and chosen.action == "drop":
                    result.dropped_by_rule += 1
                    quarantined.append(_quarantine_line(record, item.raw, key, [chosen.reason], scrubber))
                    result.changes.append((record.line, f"dropped: {chosen.reason}"))
                    continue
                verbatim = stats.layout == "jsonl" and not record.problems and item.raw is not None
                line = item.raw if verbatim and chosen is None else None
                if chosen is not None:
                    data = chosen.data
                    result.auto_fixed += 1
                    result.changes.append((record.line, f"fixed (--apply-fixes): {chosen.reason}"))
                elif not verbatim:
                    result.normalised += 1
            if scrubber is not None:
                data, n = scrubber.scrub_record(data)
                if n:
                    result.scrubbed_records += 1
                    result.scrubbed_values += n
                    line = None
            if convert_to is not None:
                converted, why = convert_to(data)
                if converted is None:
                    result.unconverted += 1
                    quarantined.append(_quarantine_line(record, item.raw, key, [f"not converted: {why}"], scrubber))
                    result.changes.append((record.line, f"left out, not converted: {why}"))
                    continue
                data, line = converted, None
            f.write(line if line is not None else dump_line(data))
            f.write(b"\n")
            result.written += 1
    if quarantined or q_path.exists():
        with atomic_writer(q_path) as q:
            for row in quarantined:
                q.write(row + b"\n")
        result.quarantine = str(q_path)
    return result


def _quarantine_line(
    record: Any, raw: bytes | None, key: str, reasons: list[str], scrubber: Scrubber | None = None
) -> bytes:
    """One quarantine row; when scrubbing, the quarantined record (or raw line) is scrubbed too."""
    row: dict[str, Any] = {"line": record.line, "key": key, "reasons": reasons}
    if record.data is not None:
        row["record"] = scrubber.scrub_record(record.data)[0] if scrubber is not None else record.data
    else:
        text = raw.decode("utf-8", "replace") if raw is not None else ""
        row["raw"] = scrubber.scrub_record(text)[0] if scrubber is not None else text
    return dump_line(row)


from curate.report import DUPLICATE_CHECKS  # noqa: E402  # what --drop-duplicates acts on, nothing else


def duplicate_drops(findings: list[Any]) -> dict[int, str]:
    """line -> reason for the non-kept members of exact and near-duplicate clusters in one file.

    Only `dedup.exact` and `dedup.near` findings count: a prompt with conflicting answers, a
    repeated canned answer or an eval overlap is a question for a reviewer, not a copy to delete.
    A finding is a drop only when it names its kept member (`duplicate_of`) in the same file and
    that member is another line. If the kept members of two clusters would drop each other (exact
    and near keep by their own policies), the chain is cut so that every cluster keeps one record.
    """
    of: dict[int, int] = {}
    reason: dict[int, str] = {}
    for f in findings:
        if f.check not in DUPLICATE_CHECKS or f.line is None:
            continue
        d = f.data or {}
        kept = d.get("duplicate_of")
        if not isinstance(kept, int) or isinstance(kept, bool) or kept == f.line:
            continue
        if d.get("duplicate_of_path") not in (None, f.path):
            continue  # the kept copy is in another file: this export cannot keep it
        if f.line not in of:
            of[f.line] = kept
            reason[f.line] = f"{f.rule}: duplicate of line {kept}"
    for line in sorted(of):  # every chain of drops must end at a record that stays
        seen = [line]
        cur = of.get(line)
        while cur is not None and cur in of and cur not in seen:
            seen.append(cur)
            cur = of.get(cur)
        if cur is not None and cur in seen:  # a cycle: keep its first line
            keep = min(seen[seen.index(cur) :])
            of.pop(keep, None)
            reason.pop(keep, None)
    return {line: reason[line] for line in sorted(of)}
