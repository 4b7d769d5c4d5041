"""Two audit reports of one dataset, compared: the diff document that Markdown and JSON render.

Records are matched by their key (the rule set's `id_field`, else the hash of the record's
content). With ids, a record whose id stays and whose content hash differs is changed. With
content hashes, an edited record is a removed key and an added key: the sides are aligned as
patience diff does and k records replaced by k in one place are k changed (`_by_content`).
Everything else is counted from each side's stats and findings: token distributions and cost,
languages, categories, the topics of records that came and went, duplicate clusters and PII,
which appears only as counts per entity type (a value is its keyed hash, never shown).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from curate import __version__
from curate.display import shown
from curate.report import Report

DIFF_VERSION = "1"
CLUSTER_CHECKS = ("dedup.exact", "dedup.near", "dedup.semantic")
MAX_LISTED = 10  # new clusters listed with their places


@dataclass(slots=True)
class Side:
    """One side of the diff: its report (None: the path did not exist at that revision), how its
    file paths are named in the output, and, when records carry ids, each row's content hash."""

    label: str
    report: Report | None
    name: Callable[[str], str] = lambda path: path
    digests: list[str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.report.records if self.report is not None else 0

    def column(self, name: str) -> list[Any]:
        if self.report is None or self.report.state is None:
            return []
        return self.report.state.column(name)

    def stats(self, *path: str) -> Any:
        node: Any = self.report.stats if self.report is not None else {}
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node


def compare(old: Side, new: Side, matched_by: str) -> dict[str, Any]:
    """The diff document (versioned JSON; `curate.diff.markdown` renders it)."""
    records, per_row = _records(old, new)
    report = new.report or old.report
    # categories that are topics are labelled per side: compared as topics of the records that changed
    by_topic = any((s.stats("balance", "category") or {}).get("by") == "topics" for s in (old, new))
    return {
        "version": DIFF_VERSION,
        "tool": {"name": "curate", "version": __version__},
        "old": _side_info(old),
        "new": _side_info(new),
        "ruleset": report.ruleset if report else None,
        "target": report.target if report else None,
        "records": {**records, "matched_by": matched_by},
        "tokens": _tokens(old, new, per_row),
        "cost": _cost(old, new),
        "languages": _mix(old.stats("languages"), new.stats("languages")),
        "categories": None if by_topic else _mix(old.stats("categories"), new.stats("categories")),
        "category_by": "topics" if by_topic else (new.stats("balance", "category") or {}).get("by"),
        "topics": _topics(old, new, per_row),
        "duplicates": _duplicates(old, new),
        "pii": _pii(old, new),
        "findings": _findings(old, new),
        "notices": list(dict.fromkeys(shown(n, None) for n in [*old.notes, *new.notes])),
    }


def _side_info(side: Side) -> dict[str, Any]:
    report = side.report
    return {
        "label": shown(side.label, None),
        "exists": report is not None,
        "records": side.records,
        "files": [shown(side.name(d.path), None) for d in report.datasets] if report else [],
    }


# -- records -----------------------------------------------------------------------------------
def _records(old: Side, new: Side) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Counts of added, removed, changed and unchanged records, and the rows of each kind
    (`added`/`changed_new` are NEW rows, `removed`/`changed_old` OLD rows) for the token sums."""
    old_rows, new_rows = _parsed(old), _parsed(new)  # lines that are no record are not compared
    old_keys, new_keys = [old.column("key")[i] for i in old_rows], [new.column("key")[i] for i in new_rows]
    if old.digests is not None and new.digests is not None:
        old_digests = [old.digests[i] for i in old_rows]
        counts, rows = _by_id(old_keys, new_keys, old_digests, [new.digests[i] for i in new_rows])
    else:
        counts, rows = _by_content(old_keys, new_keys)
    for name, picked in rows.items():
        side_rows = old_rows if name in ("removed", "changed_old") else new_rows
        rows[name] = [side_rows[i] for i in picked]
    return counts, rows


def _parsed(side: Side) -> list[int]:
    """Rows of records that parsed (the ones `records` counts), not of broken lines."""
    return [i for i, fmt in enumerate(side.column("format")) if fmt != "invalid"]


def _by_id(
    old_keys: list[str], new_keys: list[str], old_digests: list[str], new_digests: list[str]
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Ids name records: same id and other content is a change; ids seen twice pair in order."""
    before: dict[str, list[int]] = defaultdict(list)
    for row, key in enumerate(old_keys):
        before[key].append(row)
    rows: dict[str, list[int]] = {"added": [], "removed": [], "changed_old": [], "changed_new": []}
    unchanged = 0
    for row, key in enumerate(new_keys):
        waiting = before.get(key)
        if not waiting:
            rows["added"].append(row)
            continue
        was = waiting.pop(0)
        if old_digests[was] == new_digests[row]:
            unchanged += 1
        else:
            rows["changed_old"].append(was)
            rows["changed_new"].append(row)
    rows["removed"] = sorted(r for left in before.values() for r in left)
    return _counts(rows, unchanged), rows


def _by_content(old_keys: list[str], new_keys: list[str]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Content hashes, aligned as patience diff does: keys found once on each side, in the longest
    run that keeps their order, are anchors; between two anchors, keys both sides have are
    unchanged, then records that moved elsewhere are unchanged too, and what is left is k removed
    and k added (k records changed, edited in place) or an uneven run (added and removed)."""
    anchors = _anchors(old_keys, new_keys)
    bounds = [(-1, -1), *anchors, (len(old_keys), len(new_keys))]
    segments = []  # per gap between anchors: the old rows and new rows not yet matched
    unchanged = len(anchors)
    for (a0, b0), (a1, b1) in zip(bounds, bounds[1:], strict=False):
        gone, came = list(range(a0 + 1, a1)), list(range(b0 + 1, b1))
        matched = _match(gone, came, old_keys, new_keys)
        unchanged += len(matched)
        paired = set(matched.values())
        segments.append(([r for r in gone if r not in matched], [r for r in came if r not in paired]))
    # records that moved to another gap: matched across the whole side
    moved = _match([r for g, _ in segments for r in g], [r for _, c in segments for r in c], old_keys, new_keys)
    unchanged += len(moved)
    rows: dict[str, list[int]] = {"added": [], "removed": [], "changed_old": [], "changed_new": []}
    taken = set(moved.values())
    for gone, came in segments:
        gone = [r for r in gone if r not in moved]
        came = [r for r in came if r not in taken]
        pairs = len(gone) if len(gone) == len(came) else 0  # k records replaced by k: edited in place
        rows["changed_old"] += gone[:pairs]
        rows["changed_new"] += came[:pairs]
        rows["removed"] += gone[pairs:]
        rows["added"] += came[pairs:]
    return _counts(rows, unchanged), rows


def _anchors(old_keys: list[str], new_keys: list[str]) -> list[tuple[int, int]]:
    """(old row, new row) of keys found exactly once on each side, the longest run in the same order
    on both (a longest increasing subsequence, O(n log n))."""
    import bisect

    once_old = {k: i for i, k in enumerate(old_keys)}
    counts_old, counts_new = Counter(old_keys), Counter(new_keys)
    pairs = [(once_old[k], j) for j, k in enumerate(new_keys) if counts_new[k] == 1 and counts_old.get(k) == 1]
    pairs.sort()
    tails: list[int] = []  # tails[n]: the smallest new row ending an increasing run of n + 1 pairs
    tail_at: list[int] = []  # index into pairs of that tail
    before: list[int] = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        n = bisect.bisect_left(tails, j)
        before[index] = tail_at[n - 1] if n else -1
        if n == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[n], tail_at[n] = j, index
    out, index = [], tail_at[-1] if tail_at else -1
    while index >= 0:
        out.append(pairs[index])
        index = before[index]
    return out[::-1]


def _match(gone: list[int], came: list[int], old_keys: list[str], new_keys: list[str]) -> dict[int, int]:
    """Old row -> new row for records with the same key, in order, each row used once."""
    waiting: dict[str, list[int]] = defaultdict(list)
    for r in reversed(gone):
        waiting[old_keys[r]].append(r)
    out = {}
    for r in came:
        rows = waiting.get(new_keys[r])
        if rows:
            out[rows.pop()] = r
    return out


def _counts(rows: dict[str, list[int]], unchanged: int) -> dict[str, int]:
    return {
        "added": len(rows["added"]),
        "removed": len(rows["removed"]),
        "changed": len(rows["changed_new"]),
        "unchanged": unchanged,
    }


# -- tokens and cost ---------------------------------------------------------------------------
_DIST = ("count", "total", "min", "p5", "median", "mean", "p95", "p99", "max")


def _tokens(old: Side, new: Side, rows: dict[str, list[int]]) -> dict[str, Any] | None:
    a, b = old.stats("tokens", "tokens_per_example"), new.stats("tokens", "tokens_per_example")
    if a is None and b is None:
        return None
    a, b = a or {}, b or {}
    old_tokens, new_tokens = old.column("tokens"), new.column("tokens")

    def total(values: list[Any], picked: list[int]) -> int:
        return sum(v for i in picked if isinstance(v := values[i], int))

    return {
        "old": {k: a.get(k) for k in _DIST},
        "new": {k: b.get(k) for k in _DIST},
        "delta": {k: _delta(a.get(k), b.get(k)) for k in _DIST},
        "in_added": total(new_tokens, rows["added"]),
        "in_removed": total(old_tokens, rows["removed"]),
        "in_changed": total(new_tokens, rows["changed_new"]) - total(old_tokens, rows["changed_old"]),
        "estimate": bool(new.stats("tokens", "estimate") or old.stats("tokens", "estimate")),
    }


def _delta(a: Any, b: Any) -> float | int | None:
    if not isinstance(a, (int, float)) and not isinstance(b, (int, float)):
        return None
    d = (b or 0) - (a or 0)
    return round(d, 4) if isinstance(d, float) else d


def _cost(old: Side, new: Side) -> dict[str, Any] | None:
    """Cost of a training run on each side, for the run's target (none without one)."""
    a, b = (_estimate(s.stats("cost", "estimates")) for s in (old, new))
    if a is None and b is None:
        return None
    pick = b or a or {}
    out = {"model": f"{pick.get('provider')}/{pick.get('model')}", "currency": pick.get("currency", "USD")}
    for name, est in (("old", a), ("new", b)):
        out[name] = est.get("cost") if est else None
        out[f"{name}_trained_tokens"] = est.get("trained_tokens") if est else None
        out[f"{name}_epochs"] = est.get("epochs") if est else None
    out["delta"] = round((out["new"] or 0) - (out["old"] or 0), 6)
    return out


def _estimate(estimates: Any) -> dict[str, Any] | None:
    return estimates[0] if isinstance(estimates, list) and estimates and isinstance(estimates[0], dict) else None


# -- label mixes -------------------------------------------------------------------------------
def _mix(old: dict[str, int] | None, new: dict[str, int] | None) -> list[dict[str, Any]] | None:
    """One row per label of either side, biggest change first; None when neither side measured it."""
    if old is None and new is None:
        return None
    old, new = old or {}, new or {}
    n_old, n_new = sum(old.values()), sum(new.values())
    rows = []
    for label in old.keys() | new.keys():
        a, b = old.get(label, 0), new.get(label, 0)
        rows.append(
            {
                "label": label,
                "old": a,
                "new": b,
                "delta": b - a,
                "old_share": round(a / n_old, 4) if n_old else 0.0,
                "new_share": round(b / n_new, 4) if n_new else 0.0,
            }
        )
    rows.sort(key=lambda r: (-abs(r["delta"]), -r["new"], r["label"]))
    return rows


def _topics(old: Side, new: Side, rows: dict[str, list[int]]) -> dict[str, Any] | None:
    """What the added records are about, in NEW's topics, and the removed ones, in OLD's. Each side
    clusters its own topics (their labels are not comparable across sides), so the diff speaks of
    records, never of one topic's count on both sides."""
    old_topic, new_topic = old.column("topic"), new.column("topic")
    if not any(t is not None for t in old_topic) and not any(t is not None for t in new_topic):
        return None

    def counted(topics: list[Any], picked: list[int]) -> list[dict[str, Any]]:
        tally = Counter(topics[i] for i in picked if topics[i] is not None)
        return [{"label": label, "records": n} for label, n in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))]

    return {
        "old_topics": (old.stats("coverage") or {}).get("topics"),
        "new_topics": (new.stats("coverage") or {}).get("topics"),
        "added": counted(new_topic, rows["added"] + rows["changed_new"]),
        "removed": counted(old_topic, rows["removed"] + rows["changed_old"]),
    }


# -- duplicate clusters --------------------------------------------------------------------------
def _clusters(side: Side) -> dict[str, dict[str, list[tuple[str, int]]]]:
    """kind -> cluster id -> members as (record key, row place); the kept record included."""
    report = side.report
    if report is None:
        return {}
    where = {
        (p, line): key
        for p, line, key in zip(side.column("path"), side.column("line"), side.column("key"), strict=True)
    }
    out: dict[str, dict[str, list[tuple[str, int]]]] = {}
    seen: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for f in report.findings:
        data = f.data or {}
        if f.check not in CLUSTER_CHECKS or f.line is None or not data.get("cluster"):
            continue
        kind = f.check.removeprefix("dedup.")
        members = out.setdefault(kind, {}).setdefault(str(data["cluster"]), [])
        ident = str(data["cluster"])
        for place in ((f.path, f.line), (data.get("duplicate_of_path") or f.path, data.get("duplicate_of"))):
            if isinstance(place[1], int) and place not in seen[ident]:
                seen[ident].add(place)
                members.append((where.get(place, f"?{place}"), place))  # type: ignore[arg-type]
    return out


def _duplicates(old: Side, new: Side) -> dict[str, Any]:
    """Per kind: clusters on each side; NEW clusters whose records were not duplicates of each other
    in OLD (new), that gained records (grown), and OLD clusters that no longer exist (gone)."""
    before, after = _clusters(old), _clusters(new)
    out: dict[str, Any] = {}
    kinds = [c.removeprefix("dedup.") for c in CLUSTER_CHECKS]
    for kind in sorted(before.keys() | after.keys(), key=lambda k: kinds.index(k) if k in kinds else len(kinds)):
        a, b = before.get(kind, {}), after.get(kind, {})
        cluster_of: dict[str, list[str]] = defaultdict(list)
        for cid, members in a.items():
            for key, _ in members:
                cluster_of[key].append(cid)
        matched_old: set[str] = set()
        new_list, grown = [], 0
        for members in b.values():
            overlap: Counter[str] = Counter()
            for key, _ in members:
                overlap.update(set(cluster_of.get(key, ())))
            best = overlap.most_common(1)
            if best and best[0][1] >= 2:
                matched_old.update(c for c, n in overlap.items() if n >= 2)
                grown += len(members) > best[0][1]
            else:
                new_list.append(members)
        new_list = [sorted(m, key=lambda member: (member[1][0], member[1][1])) for m in new_list]
        new_list.sort(key=lambda m: (-len(m), m[0][1]))
        out[kind] = {
            "old": len(a),
            "new": len(b),
            "new_clusters": len(new_list),
            "grown": grown,
            "gone": len(set(a) - matched_old),
            "listed": [
                {"size": len(m), "records": [f"{shown(new.name(p), None)}:{line}" for _, (p, line) in m[:6]]}
                for m in new_list[:MAX_LISTED]
            ],
        }
    return out


# -- personal data -----------------------------------------------------------------------------
def _values(side: Side) -> tuple[Counter[tuple[str, str, str]], set[tuple[str, int]]]:
    """(family check, entity, keyed value hash) counted over the side's findings; records holding any."""
    values: Counter[tuple[str, str, str]] = Counter()
    records: set[tuple[str, int]] = set()
    for f in side.report.findings if side.report else []:
        data = f.data or {}
        if not f.check.startswith("pii.") or not data.get("entity"):
            continue
        values[(f.check, str(data["entity"]), str(data.get("value_hash") or f.fingerprint))] += 1
        if f.line is not None:
            records.add((f.path or "", f.line))
    return values, records


def _pii(old: Side, new: Side) -> dict[str, Any]:
    """Per entity type: occurrences on each side, and how many values came or went. A value is its
    keyed hash (the same on both sides of one run), so a value present on both sides is no change."""
    a, a_records = _values(old)
    b, b_records = _values(new)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for value in a.keys() | b.keys():
        check, entity, _ = value
        row = rows.setdefault(
            (check, entity),
            {"entity": entity, "kind": check.removeprefix("pii."), "old": 0, "new": 0, "added": 0, "removed": 0},
        )
        row["old"] += a[value]
        row["new"] += b[value]
        row["added"] += max(0, b[value] - a[value])
        row["removed"] += max(0, a[value] - b[value])
    return {
        "records_with_pii": {"old": len(a_records), "new": len(b_records)},
        "by_entity": sorted(rows.values(), key=lambda r: (-r["added"], -r["new"], r["entity"])),
    }


# -- findings ------------------------------------------------------------------------------------
def _findings(old: Side, new: Side) -> dict[str, Any]:
    """Findings by severity on each side, and per rule those that are new or resolved (by
    fingerprint, which ignores line numbers: a record that only moved is no new finding)."""
    a = Counter(f.fingerprint for f in old.report.findings) if old.report else Counter()
    b = Counter(f.fingerprint for f in new.report.findings) if new.report else Counter()
    rule_of = {f.fingerprint: (f.rule, str(f.severity)) for r in (old.report, new.report) if r for f in r.findings}
    per_rule: dict[str, dict[str, Any]] = {}
    for fp in a.keys() | b.keys():
        rule, severity = rule_of[fp]
        row = per_rule.setdefault(rule, {"rule": rule, "severity": severity, "new": 0, "resolved": 0})
        row["new"] += max(0, b[fp] - a[fp])
        row["resolved"] += max(0, a[fp] - b[fp])
    rows = sorted((r for r in per_rule.values() if r["new"] or r["resolved"]), key=lambda r: (-r["new"], r["rule"]))
    return {
        "old": old.report.by_severity() if old.report else {"error": 0, "warning": 0, "info": 0},
        "new": new.report.by_severity() if new.report else {"error": 0, "warning": 0, "info": 0},
        "by_rule": rows,
    }
