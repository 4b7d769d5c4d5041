"""What the HTML and Markdown reports show, computed once from a Report (pure, no I/O).

Everything here is counts, distributions and finding references: never record text. Every string
derived from the data (file names, messages, fields, labels, samples) passes `curate.display.shown`
here, so both renderers only format what is already masked and escaped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from curate.display import shown, shown_tree
from curate.io.location import location
from curate.model import Finding, Severity
from curate.report import Report

WORST_PER_RULE = 5
TOP_CLUSTERS = 15
_SCORE_KEYS = ("tokens", "similarity", "score", "chars", "count", "share", "turns")


def num(value: Any) -> str:
    """1,234 / 12.5 / – for a missing value: how both reports print numbers."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}" if isinstance(value, (int, float)) else "–"


def money(value: Any, currency: str = "USD") -> str:
    if not isinstance(value, (int, float)):
        return "–"
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{value:,.4f}" if 0 < value < 0.01 else f"{symbol}{value:,.2f}"


def _column(report: Report, name: str) -> list[float] | None:
    """A numeric column of the per-record stats table, or None when no check measured it."""
    table = report.table
    if table is None or name not in getattr(table, "columns", ()):
        return None
    values = [v for v in table.get_column(name).to_list() if isinstance(v, (int, float))]
    return values or None


def log2_bins(values: list[float], also: float | None = None) -> list[dict[str, Any]]:
    """Power-of-two buckets [lo, hi) covering the values (and `also`, e.g. a limit to mark)."""
    counts: Counter[int] = Counter(max(0, int(v)).bit_length() for v in values)
    top = max(counts) if counts else 0
    if also:
        top = max(top, int(also).bit_length())
    lo_b = min(counts) if counts else 0
    return [
        {"lo": 0 if b == 0 else 1 << (b - 1), "hi": 1 << b, "count": counts.get(b, 0)} for b in range(lo_b, top + 1)
    ]


def _score(f: Finding, per_record: Counter[tuple[str | None, int | None]]) -> tuple[Any, ...]:
    numeric = next((float(f.data[k]) for k in _SCORE_KEYS if isinstance(f.data.get(k), (int, float))), 0.0)
    return (-int(f.severity), -per_record[(f.path, f.line)], -numeric, f.path or "", f.line or 0)


def _path(path: str | None) -> str | None:
    return shown(path, None) if path else path


def findings_by_rule(report: Report) -> list[dict[str, Any]]:
    """One row per rule with findings: counts, what it means, and its worst findings."""
    descriptions = {r.id: r.description for r in report.rules}
    per_record = Counter((f.path, f.line) for f in report.findings if f.line is not None)
    row_paths = report.row_paths
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        grouped[f.rule].append(f)
    rows = []
    for rule, items in grouped.items():
        worst: list[Finding] = []
        seen: set[tuple[str | None, int | None]] = set()
        for f in sorted(items, key=lambda f: _score(f, per_record)):
            where = (f.path, f.line)
            if f.line is not None and where in seen:
                continue  # one row per record: its worst finding
            seen.add(where)
            worst.append(f)
            if len(worst) == WORST_PER_RULE:
                break
        rows.append(
            {
                "rule": rule,
                "check": items[0].check,
                "severity": str(items[0].severity),
                "findings": len(items),
                "records": len({(f.path, f.line) for f in items if f.line is not None}),
                "description": shown(descriptions.get(rule, ""), None),
                "worst": [
                    {
                        "path": _path(f.path),
                        "line": f.line,
                        "location": location(f.path, f.line, row_paths) if f.line is not None else None,
                        "field": shown(f.field, None) if f.field else f.field,
                        "message": shown(f.message, None),
                        "fix": shown(f.fix, None) if f.fix else f.fix,
                        "fingerprint": f.fingerprint,
                    }
                    for f in worst
                ],
            }
        )
    rows.sort(key=lambda r: (-Severity.parse(r["severity"]), -r["findings"], r["rule"]))
    return rows


def duplicate_rows(data: dict[str, Any]) -> list[tuple[str, int, int, Any]]:
    """(kind, clusters, records to drop, largest cluster) per duplicate kind, then the total: the
    counts of `Report.duplicate_counts`, so every output says the same numbers."""
    counts = data["summary"]["duplicates"]
    stats = data["duplicates"]["summary"]
    rows = []
    for kind in ("exact", "near"):
        if isinstance(stats.get(kind), dict):
            k = counts["by_kind"].get(kind, {"clusters": 0, "would_drop": 0})
            rows.append((kind, k["clusters"], k["would_drop"], stats[kind].get("largest_cluster")))
    if rows:
        rows.append(("all (what --drop-duplicates removes)", counts["clusters"], counts["would_drop"], None))
    return rows


def duplicate_clusters(report: Report) -> list[dict[str, Any]]:
    """Clusters named by dedup findings (`data.cluster`), biggest first."""
    clusters: dict[str, dict[str, Any]] = {}
    rows = report.row_paths
    for f in report.findings:
        cid = f.data.get("cluster")
        if not f.check.startswith("dedup.") or not isinstance(cid, str):
            continue
        c = clusters.setdefault(cid, {"cluster": cid, "kind": f.check, "kept": None, "members": [], "similarity": []})
        kept_line = f.data.get("duplicate_of")
        if kept_line is not None and c["kept"] is None:
            c["kept"] = location(f.data.get("duplicate_of_path") or f.path, kept_line, rows)
        c["members"].append(location(f.path, f.line, rows))
        if isinstance(f.data.get("similarity"), (int, float)):
            c["similarity"].append(float(f.data["similarity"]))
    out = []
    for c in clusters.values():
        sims = c.pop("similarity")
        c["size"] = len(c["members"]) + (1 if c["kept"] else 0)
        c["min_similarity"] = round(min(sims), 3) if sims else None
        c["members"] = sorted(set(c["members"]))
        out.append(c)
    out.sort(key=lambda c: (-c["size"], c["cluster"]))
    return out


def _mix(counts: dict[str, int], targets: dict[str, float]) -> list[dict[str, Any]]:
    known = {k: v for k, v in counts.items() if k != "unknown"}
    total = sum(known.values()) or 1
    labels = list(counts) + [t for t in targets if t not in counts]
    return [
        {
            "label": k,
            "count": counts.get(k, 0),
            "share": round(counts.get(k, 0) / total, 4) if k != "unknown" else None,
            "target": targets.get(k),
        }
        for k in labels
    ]


def build(report: Report) -> dict[str, Any]:
    """Every section of the report as plain data (also written to report.json under `report`)."""
    stats = shown_tree(report.stats)  # done by the engine already; a Report made elsewhere gets it here
    balance = stats.get("balance") or {}
    tokens = stats.get("tokens") or {}
    token_values = _column(report, "tokens")
    limit = tokens.get("limit")
    lang_cfg = balance.get("language") or {}
    cat_cfg = balance.get("category") or {}
    pii = stats.get("pii") or {}
    turn_counts = (balance.get("turns") or {}).get("counts")
    if turn_counts is None:
        turns_col = _column(report, "turns")
        turn_counts = {str(k): v for k, v in sorted(Counter(int(t) for t in turns_col).items())} if turns_col else {}
    length = balance.get("length") or {}
    return {
        "summary": report.summary(),
        "datasets": [{"path": _path(d.path), "records": d.records, "format": d.format} for d in report.datasets],
        "target": shown(report.target, None) if report.target else report.target,
        "ruleset": shown(report.ruleset, None),
        "rules": findings_by_rule(report),
        "tokens": {
            "available": token_values is not None,
            "encoding": tokens.get("counted_as") or tokens.get("encoding"),
            "estimate": tokens.get("estimate"),
            "limit": limit,
            "over_limit": tokens.get("over_limit"),
            "per_example": tokens.get("tokens_per_example"),
            "histogram": log2_bins(token_values, limit) if token_values else [],
        },
        "cost": stats.get("cost") or {},
        "languages": {
            "available": "languages" in balance,
            "on": lang_cfg.get("on"),
            "mismatched": lang_cfg.get("mismatched"),
            "tolerance": lang_cfg.get("tolerance"),
            "rows": _mix(balance.get("languages") or {}, lang_cfg.get("targets") or {}),
        },
        "categories": {
            "available": "categories" in balance,
            "by": cat_cfg.get("by"),
            "field": cat_cfg.get("field"),
            "distinct": cat_cfg.get("distinct"),
            "tolerance": cat_cfg.get("tolerance"),
            "rows": _mix(balance.get("categories") or {}, cat_cfg.get("targets") or {}),
        },
        "turns": turn_counts,
        "length": length,
        "system_prompts": balance.get("system_prompts") or {},
        "openings": balance.get("openings") or {},
        "duplicates": {"summary": stats.get("dedup") or {}, "clusters": duplicate_clusters(report)[:TOP_CLUSTERS]},
        "coverage": stats.get("coverage") or {},  # balance.topics (docs/semantic.md), masked by shown_tree above
        "pii": {
            "available": bool(pii),
            "records_scanned": pii.get("records_scanned"),
            "records_with_pii": pii.get("records_with_pii"),
            "by_entity": pii.get("by_entity") or {},
            "records_with_secrets": pii.get("records_with_secrets"),
            "secrets_by_type": pii.get("secrets_by_type") or {},
        },
        "errors": [shown(e, None) for e in report.errors],
        "notices": [shown(n, None) for n in report.notices],
    }
