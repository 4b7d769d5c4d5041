"""The diff as Markdown for a pull-request comment: one headline table, then only what changed.

Every number that changed carries its sign; sections with no change collapse to nothing, long
ones fold into <details>. Text from the data (file names, categories) is escaped with the
Markdown report's helpers; PII appears only as counts per entity type.
"""

from __future__ import annotations

from typing import Any

from curate.reporters.markdown import _places, _table, code, esc
from curate.reporters.overview import money, num

ROWS = 10


def signed(value: Any, money_of: str | None = None) -> str:
    """+1,234 / -56 / 0; money with its symbol after the sign (+$0.12)."""
    if not isinstance(value, (int, float)):
        return "–"
    if value == 0:
        return "0"
    sign = "+" if value > 0 else "-"
    text = money(abs(value), money_of) if money_of else num(abs(value))
    return sign + text


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def render_diff(doc: dict[str, Any]) -> str:
    old, new = doc["old"], doc["new"]
    out = [f"## curate diff: {code(old['label'])} → {code(new['label'])}", ""]
    out += _headline(doc)
    out += _records_line(doc)
    out += _tokens(doc["tokens"])
    out += _mix("Languages", "language", doc["languages"])
    out += _mix("Categories", "category", doc["categories"], folded=True)
    out += _topics(doc["topics"])
    out += _duplicates(doc["duplicates"], new["label"])
    out += _pii(doc["pii"])
    out += _findings(doc["findings"])
    out += _notes(doc["notices"])
    return "\n".join(out).rstrip("\n") + "\n"


def _notes(notices: list[str]) -> list[str]:
    """About the runs, not the data (a model missing, files skipped): folded, wrapped to 80 columns."""
    if not notices:
        return []
    import textwrap

    wrap = textwrap.TextWrapper(80, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
    items = [wrap.fill(esc(n)) for n in notices]
    return ["<details>", f"<summary>Notes ({len(notices)})</summary>", "", *items, "", "</details>", ""]


def _headline(doc: dict[str, Any]) -> list[str]:
    a, b = doc["old"]["records"], doc["new"]["records"]
    rows = [["records", num(a), num(b), signed(b - a)]]
    tok = doc["tokens"]
    if tok:
        a, b = tok["old"].get("total"), tok["new"].get("total")
        rows.append(["tokens" + " ~" * tok["estimate"], num(a), num(b), _relative(a, b)])
    cost = doc["cost"]
    if cost:
        cur = cost["currency"]
        rows.append(
            [
                f"cost {code(cost['model'])}",
                money(cost["old"], cur),
                money(cost["new"], cur),
                signed(cost["delta"], cur),
            ]
        )
    for kind, d in doc["duplicates"].items():
        rows.append([f"{kind} duplicate clusters", num(d["old"]), num(d["new"]), signed(d["new"] - d["old"])])
    pii = doc["pii"]["records_with_pii"]
    rows.append(["records with PII", num(pii["old"]), num(pii["new"]), signed(pii["new"] - pii["old"])])
    for severity in ("error", "warning"):
        a, b = doc["findings"]["old"][severity], doc["findings"]["new"][severity]
        rows.append([f"{severity}s", num(a), num(b), signed(b - a)])
    return _table(["", "old", "new", "change"], rows, {1, 2, 3})


def _relative(a: Any, b: Any) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return "–"
    d = signed(b - a)
    return f"{d} ({100 * (b - a) / a:+.1f}%)" if a and b != a else d


def _records_line(doc: dict[str, Any]) -> list[str]:
    r = doc["records"]
    counts = f"{num(r['added'])} added, {num(r['removed'])} removed, {num(r['changed'])} changed"
    return [f"**Records**: {counts}, {num(r['unchanged'])} unchanged", f"(matched by {esc(r['matched_by'])}).", ""]


def _tokens(tok: dict[str, Any] | None) -> list[str]:
    if not tok:
        return []
    cols = ("min", "median", "mean", "p95", "max")
    rows = [
        ["old", *[num(tok["old"].get(c)) for c in cols]],
        ["new", *[num(tok["new"].get(c)) for c in cols]],
        ["change", *[signed(tok["delta"].get(c)) for c in cols]],
    ]
    parts = [
        f"{signed(tok['in_added'])} in added records",
        f"{signed(-tok['in_removed'])} in removed ones",
        f"{signed(tok['in_changed'])} in changed ones",
    ]
    return [
        "### Tokens per example",
        "",
        *_table(["", *cols], rows, set(range(1, 6))),
        "Tokens: " + ", ".join(parts) + ".",
        "",
    ]


def _mix(title: str, noun: str, rows: list[dict[str, Any]] | None, folded: bool = False) -> list[str]:
    """Labels whose count changed, biggest change first; nothing when none did."""
    if not rows:
        return []
    changed = [r for r in rows if r["delta"]]
    if not changed:
        return [f"_{title}: no change._", ""]
    table = [
        [
            esc(r["label"]),
            num(r["old"]),
            num(r["new"]),
            signed(r["delta"]),
            f"{_pct(r['old_share'])} → {_pct(r['new_share'])}",
        ]
        for r in changed[:ROWS]
    ]
    body = _table([noun, "old", "new", "change", "share"], table, {1, 2, 3})
    if len(changed) > ROWS:
        body += [f"… and {len(changed) - ROWS:,} more {noun} values changed.", ""]
    if folded and len(changed) > 3:
        summary = f"{title}: {len(changed):,} changed"
        return ["<details>", f"<summary>{summary}</summary>", "", *body, "</details>", ""]
    return [f"### {title}", "", *body]


def _topics(topics: dict[str, Any] | None) -> list[str]:
    """Topics of the records that came and went (each side's own topics: labels differ across sides)."""
    if not topics or not (topics["added"] or topics["removed"]):
        return []
    out: list[str] = []
    for key, side, title in (("added", "new", "added or changed"), ("removed", "old", "removed or changed")):
        rows = topics[key]
        if not rows:
            continue
        table = [[esc(r["label"]), num(r["records"])] for r in rows[:ROWS]]
        more = [f"… and {len(rows) - ROWS:,} more topics.", ""] if len(rows) > ROWS else []
        header = [f"topic of records {title} ({side}: {num(topics[f'{side}_topics'])} topics)", "records"]
        out += [*_table(header, table, {1}), *more]
    if max(len(topics["added"]), len(topics["removed"])) <= 3:
        return ["### Topics", "", *out]
    came = sum(r["records"] for r in topics["added"])
    went = sum(r["records"] for r in topics["removed"])
    summary = f"Topics: {num(came)} records came in {len(topics['added'])} topics"
    summary += f", {num(went)} went from {len(topics['removed'])}"
    return ["<details>", f"<summary>{summary}</summary>", "", *out, "</details>", ""]


def _duplicates(dups: dict[str, Any], label: str) -> list[str]:
    rows, listed = [], []
    for kind, d in dups.items():
        if d["new_clusters"] or d["grown"] or d["gone"]:
            rows.append([kind, signed(d["new_clusters"]), num(d["grown"]), num(d["gone"])])
        for c in d["listed"]:
            more = f" … (+{c['size'] - len(c['records'])})" if c["size"] > len(c["records"]) else ""
            listed.append([kind, num(c["size"]), _places(c["records"]) + more])
    if not rows:
        return []
    out = ["### Duplicates", "", *_table(["kind", "new clusters", "grown", "gone"], rows, {1, 2, 3})]
    if listed:
        out += ["New clusters (records in new):", "", *_table(["kind", "size", "records"], listed, {1})]
    return out


def _pii(pii: dict[str, Any]) -> list[str]:
    rows = [
        [
            code(r["entity"]) + (" (secret)" if r["kind"] == "secrets" else ""),
            num(r["old"]),
            num(r["new"]),
            signed(r["added"]),
            signed(-r["removed"]),
        ]
        for r in pii["by_entity"]
        if r["added"] or r["removed"]
    ]
    if not rows:
        return []
    note = "Counts of values by type; the values themselves are never shown."
    return [
        "### Personal data",
        "",
        *_table(["entity", "old", "new", "added", "removed"], rows, {1, 2, 3, 4}),
        note,
        "",
    ]


def _findings(findings: dict[str, Any]) -> list[str]:
    rows = [[code(r["rule"]), r["severity"], signed(r["new"]), signed(-r["resolved"])] for r in findings["by_rule"]]
    if not rows:
        return ["_Findings: none new, none resolved._", ""]
    body = _table(["rule", "severity", "new", "resolved"], rows[: ROWS * 2], {2, 3})
    if len(rows) > 3:
        return ["<details>", f"<summary>Findings: {len(rows)} rules changed</summary>", "", *body, "</details>", ""]
    return ["### Findings", "", *body]
