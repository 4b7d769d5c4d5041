"""The Markdown report, for a pull request description or comment (pure function of a Report).

GitHub-flavoured tables; dataset-provided text is escaped so it cannot break a table or
inject markup. Long sections fold into <details>.
"""

from __future__ import annotations

from typing import Any

from curate import __version__
from curate.report import Report
from curate.reporters.overview import build
from curate.reporters.overview import money as _money
from curate.reporters.overview import num as _n

_ICON = {"error": "🔴", "warning": "🟡", "info": "🔵"}


def esc(text: Any) -> str:
    """Table-safe: no pipes, newlines or HTML/markdown control characters from dataset text."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    for ch in "<>`*_[]":
        s = s.replace(ch, "\\" + ch)
    return s


def code(text: Any) -> str:
    """A code span inside a table: backslash escapes are literal there, so only pipes and backticks change."""
    s = str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return f"`{s}`"


def _table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    out = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def _mix(title: str, mix: dict[str, Any], noun: str, limit: int = 10) -> list[str]:
    out = [f"### {title}", ""]
    if not mix["available"]:
        return [*out, f"_{noun.capitalize()} not available: enable the balance rules._", ""]
    rows = []
    for r in mix["rows"][:limit]:
        share = f"{100 * r['share']:.1f}%" if r["share"] is not None else "–"
        target = f"{100 * r['target']:.0f}%" if r["target"] is not None else "–"
        rows.append([esc(r["label"]), _n(r["count"]), share, target])
    more = len(mix["rows"]) - limit
    out += _table([noun, "records", "share", "target"], rows, {1, 2, 3})
    if more > 0:
        out += [f"… and {more:,} more.", ""]
    return out


def _places(members: list[str]) -> str:
    """`file.json`: 12, 40, 97 per file: short enough for a table cell."""
    by_file: dict[str, list[str]] = {}
    for m in members:
        path, _, line = m.rpartition(":")
        by_file.setdefault(path.rsplit("/", 1)[-1], []).append(line)
    return (
        "; ".join(
            f"{code(f)}: {', '.join(lines[:6])}" + (f" … (+{len(lines) - 6})" if len(lines) > 6 else "")
            for f, lines in by_file.items()
        )
        or "–"
    )


def _topics(cov: dict[str, Any], limit: int = 20) -> list[str]:
    """balance.topics (docs/semantic.md): one row per topic; nothing when the rule is not bound."""
    if not cov:
        return []
    rows = cov.get("rows") or []
    if not rows:
        return ["### Topics", "", "_Too few records with text to find topics._", ""]
    against = "against_records" in cov
    missing, only_train = set(cov.get("only_in_against") or ()), set(cov.get("only_in_training") or ())
    table = []
    for r in rows[:limit]:
        flags = ["few"] * bool(r.get("few")) + ["missing from training"] * (r["topic"] in missing)
        flags += ["not in eval"] * (r["topic"] in only_train)
        row = [str(r["topic"]), esc(r["label"]), _n(r["count"]), f"{100 * r['share']:.1f}%"]
        if against:
            row += [_n(r.get("against_count")), f"{100 * r.get('against_share', 0.0):.1f}%"]
        table.append([*row, esc(", ".join(flags))])
    header = ["#", "typical words", "records", "share"] + (["eval records", "eval share"] if against else []) + [""]
    intro = f"{_n(cov.get('topics'))} topics over {_n(cov.get('records'))} records" + (
        f", showing {limit}" if len(rows) > limit else ""
    )
    return ["### Topics", "", intro + ".", "", *_table(header, table, {0, 2, 3, 4, 5} if against else {0, 2, 3})]


def render_markdown(report: Report) -> str:
    d = build(report)
    s = d["summary"]
    sev = s["by_severity"]
    out = ["## curate dataset report", ""]
    files = ", ".join(f"{code(x['path'])} ({x['records']:,} {esc(x['format'])})" for x in d["datasets"])
    out += [f"{files} · rules {code(d['ruleset'])} · target {code(d['target'] or 'none')}", ""]
    verdict = "❌" if sev["error"] else ("⚠️" if sev["warning"] else "✅")
    share = f" ({100 * s['records_with_findings'] / s['records']:.1f}%)" if s["records"] else ""
    out += [
        f"{verdict} **{s['records']:,} records**: {sev['error']:,} errors, {sev['warning']:,} warnings, "
        f"{sev['info']:,} info in {s['records_with_findings']:,} records{share}"
        + (f"; {s['suppressed']:,} accepted findings hidden" if s["suppressed"] else ""),
        "",
    ]
    if d["notices"]:  # about the run, not the data: never findings
        out += ["### Notes", "", *[f"- {esc(n)}" for n in d["notices"]], ""]
    ests = (d["cost"] or {}).get("estimates") or []
    per = d["tokens"].get("per_example") or {}
    if per.get("total") or ests:
        facts = []
        if per.get("total"):
            facts.append(
                f"{_n(per['total'])} tokens (median {_n(per.get('median'))}, max {_n(per.get('max'))} per example)"
            )
        if ests:
            e = ests[0]
            facts.append(
                f"estimated training cost {_money(e['cost'], e['currency'])} on {esc(e['provider'])}/{esc(e['model'])}"
            )
        line = "; ".join(facts)
        out += [line[:1].upper() + line[1:], ""]

    out += ["### Findings by rule", ""]
    if d["rules"]:
        rows = [
            [
                code(r["rule"]),
                f"{_ICON.get(r['severity'], '')} {r['severity']}",
                _n(r["findings"]),
                _n(r["records"]) if r["records"] else "–",
                esc(r["description"]),
            ]
            for r in d["rules"]
        ]
        out += _table(["rule", "severity", "findings", "records", "what it means"], rows, {2, 3})
    else:
        out += ["No findings: every rule passed.", ""]

    t = d["tokens"]
    out += ["### Token lengths", ""]
    if t["available"]:
        limit = t.get("limit")
        rows = []
        for b in t["histogram"]:
            mark = " ⟵ limit" if limit and b["lo"] <= limit < b["hi"] else ""
            rows.append([f"{b['lo']:,}–{b['hi'] - 1:,}", _n(b["count"]) + mark])
        out += [
            f"Counted as {code(t.get('encoding') or '?')}"
            + (" (estimate)" if t.get("estimate") else "")
            + (f"; limit {limit:,}, {_n(t.get('over_limit') or 0)} over it" if limit else "")
            + ".",
            "",
        ]
        out += [
            "<details><summary>histogram</summary>",
            "",
            *_table(["tokens", "examples"], rows, {1}),
            "</details>",
            "",
        ]
    else:
        out += ["_Token counts not available: enable the tokens rules._", ""]

    if ests:
        out += ["### Training cost", ""]
        rows = [
            [
                f"{esc(e['provider'])}/{esc(e['model'])}",
                _n(e["epochs"]),
                _n(e["trained_tokens"]),
                _money(e["price_per_million"], e["currency"]),
                f"**{_money(e['cost'], e['currency'])}**",
                _n(e.get("truncated_examples", 0)),
            ]
            for e in ests
        ]
        out += _table(["model", "epochs", "trained tokens", "price / 1M", "cost", "truncated"], rows, {1, 2, 3, 4, 5})

    out += _mix("Languages", d["languages"], "language")
    out += _mix("Categories", d["categories"], "category")
    if d["turns"]:
        out += ["### Turns per example", ""]
        out += _table(["turns", "examples"], [[k, _n(v)] for k, v in d["turns"].items()], {1})

    dup = d["duplicates"]
    out += ["### Duplicates", ""]
    if dup["summary"]:
        from curate.reporters.overview import duplicate_rows

        rows = [
            [esc(kind), _n(clusters), _n(drop), _n(largest) if largest is not None else "–"]
            for kind, clusters, drop, largest in duplicate_rows(d)
        ]
        out += _table(["kind", "clusters", "duplicates to drop", "largest"], rows, {1, 2, 3})
        if dup["clusters"]:
            rows = [
                [code(c["cluster"]), _n(c["size"]), _places([c["kept"]] if c["kept"] else []), _places(c["members"])]
                for c in dup["clusters"][:10]
            ]
            out += [
                "<details><summary>largest clusters</summary>",
                "",
                *_table(["cluster", "size", "kept", "duplicates"], rows, {1}),
                "</details>",
                "",
            ]
    else:
        out += ["_Duplicate detection not available: enable the dedup rules._", ""]

    p = d["pii"]
    out += ["### Personal data", ""]
    if p["available"]:
        rows = [[esc(k), _n(v)] for k, v in sorted(p["by_entity"].items(), key=lambda kv: -kv[1])]
        rows += [[esc(k) + " (secret)", _n(v)] for k, v in sorted(p["secrets_by_type"].items(), key=lambda kv: -kv[1])]
        out += [
            f"{_n(p.get('records_with_pii'))} of {_n(p.get('records_scanned'))} records; counts by type, never values.",
            "",
        ]
        out += _table(["type", "found"], rows, {1}) if rows else ["None found.", ""]
    else:
        out += ["_PII counts not available: enable the pii rules._", ""]

    out += _topics(d["coverage"])

    if d["rules"]:
        out += ["### Worst records per rule", ""]
        for r in d["rules"]:
            rows = [
                [
                    code(w.get("location") or f"{w['path']}:{w['line'] if w['line'] is not None else '–'}"),
                    code(w["field"] or ""),
                    esc(w["message"]),
                ]
                for w in r["worst"]
            ]
            out += [
                f"<details><summary>{_ICON.get(r['severity'], '')} {code(r['rule'])} ({r['findings']:,})</summary>",
                "",
            ]
            out += [*_table(["where", "field", "finding"], rows), "</details>", ""]
    if d["errors"]:
        out += ["### Check failures", "", *[f"- {esc(e)}" for e in d["errors"][:20]], ""]
    out += [f"<sub>curate {__version__}</sub>", ""]
    return "\n".join(out)
