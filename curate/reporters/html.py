"""The HTML report: one self-contained file (inline CSS and SVG charts, no script, no network).

A pure function of a Report; every string from a dataset or a finding is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from curate import __version__
from curate.report import Report
from curate.reporters import _svg
from curate.reporters._style import CSS
from curate.reporters.overview import build
from curate.reporters.overview import money as _money
from curate.reporters.overview import num as _n

SEV_COLORS = {"error": "#d1242f", "warning": "#bf8700", "info": "#0969da"}


def _log2_bins(histogram: list[dict[str, Any]], axis: str) -> list[dict[str, Any]]:
    return [
        {"label": _svg._fmt(b["lo"]), "count": b["count"], "lo": b["lo"], "hi": b["hi"], "axis": axis}
        for b in histogram
    ]


def _to_the_data(bins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the bins from the first to the last that hold examples (one empty bin of margin each
    side), so a 65k-token axis does not squeeze every example into its first fifth."""
    filled = [i for i, b in enumerate(bins) if b["count"]]
    if not filled:
        return bins
    return bins[max(0, filled[0] - 1) : filled[-1] + 2]


def _na(what: str) -> str:
    return f'<p class="na">{escape(what)}</p>'


def _section(title: str, body: str, sub: str = "", anchor: str = "") -> str:
    sub_html = f'<p class="sub">{sub}</p>' if sub else ""
    ident = f' id="{anchor}"' if anchor else ""
    return f"<section{ident}><h2>{escape(title)}</h2>{sub_html}{body}</section>"


def _cards(data: dict[str, Any]) -> str:
    s = data["summary"]
    sev = s["by_severity"]
    cost = next(iter((data["cost"] or {}).get("estimates") or []), None)
    per = data["tokens"].get("per_example") or {}
    # records --drop-duplicates would remove: the same number the terminal, JSON and Markdown give
    dup = s["duplicates"]["would_drop"] if data["duplicates"]["summary"] else None
    share = f"{100 * s['records_with_findings'] / s['records']:.1f}%" if s["records"] else "–"
    cards = [
        ("records", _n(s["records"]), ""),
        ("records with findings", f"{_n(s['records_with_findings'])} <small>({share})</small>", ""),
        ("errors", _n(sev["error"]), "error" if sev["error"] else "ok"),
        ("warnings", _n(sev["warning"]), "warning" if sev["warning"] else "ok"),
        ("info", _n(sev["info"]), "info"),
        ("tokens", _svg._fmt(per["total"]) if per.get("total") else "–", ""),
        ("est. training cost", _money(cost["cost"], cost["currency"]) if cost else "–", ""),
        ("duplicates", _n(dup) if dup is not None else "–", "warning" if dup else ""),
    ]
    items = "".join(
        f'<div class="card {cls}"><div class="n">{v}</div><div class="k">{escape(k)}</div></div>' for k, v, cls in cards
    )
    return f'<div class="cards">{items}</div>'


def _rules(data: dict[str, Any]) -> str:
    rows = data["rules"]
    if not rows:
        return _section("Findings by rule", '<p class="na">No findings: every rule passed.</p>', anchor="findings")
    top = max(r["findings"] for r in rows)
    body = [
        "<table><tr><th>rule</th><th>severity</th><th class='num'>findings</th>"
        "<th class='num'>records</th><th></th><th>what it means</th></tr>"
    ]
    for r in rows:
        width = 100 * r["findings"] / top
        color = SEV_COLORS.get(r["severity"], "#4c72b0")
        body.append(
            f"<tr><td class='rule'>{escape(r['rule'])}</td>"
            f"<td><span class='pill {r['severity']}'>{r['severity']}</span></td>"
            f"<td class='num'>{_n(r['findings'])}</td><td class='num'>{_n(r['records']) if r['records'] else '–'}</td>"
            f"<td><div class='meter'><span style='width:{width:.1f}%;background:{color}'></span></div></td>"
            f"<td>{escape(r['description'])}</td></tr>"
        )
    body.append("</table>")
    return _section("Findings by rule", "".join(body), "Sorted by severity, then count.", "findings")


def _worst(data: dict[str, Any]) -> str:
    rows = data["rules"]
    if not rows:
        return ""
    parts = []
    for i, r in enumerate(rows):
        items = "".join(
            f"<tr><td class='loc'>{escape(str(w.get('location') or _no_line(w['path'])))}</td>"
            f"<td><code>{escape(w['field'] or '')}</code></td><td>{escape(w['message'])}"
            + (f"<div class='fix'>fix: {escape(w['fix'])}</div>" if w.get("fix") else "")
            + "</td></tr>"
            for w in r["worst"]
        )
        more = f" (showing {len(r['worst'])} of {r['findings']:,})" if r["findings"] > len(r["worst"]) else ""
        open_ = " open" if i < 3 else ""
        parts.append(
            f"<details{open_}><summary><span class='pill {r['severity']}'>{r['severity']}</span> "
            f"<span class='rule'>{escape(r['rule'])}</span>{more}</summary>"
            f"<table><tr><th>where</th><th>field</th><th>finding</th></tr>{items}</table></details>"
        )
    sub = "Per rule, the records that look worst: highest severity, most findings on the record, largest measure."
    return _section("Worst records per rule", "".join(parts), sub, "worst")


def _tokens(data: dict[str, Any]) -> str:
    t = data["tokens"]
    if not t["available"]:
        return _section("Token lengths", _na("Token counts not available: enable the tokens rules (token-stats)."))
    limit = t.get("limit")
    bins = _to_the_data(_log2_bins(t["histogram"], "tokens per example (log2 bins)"))
    for b in bins:
        if limit and b["hi"] > limit:
            b["color"] = "#d1242f" if b["lo"] >= limit else "#e36209"
    beyond = bool(limit and bins and limit >= bins[-1]["hi"])  # the limit is right of every example
    chart = _svg.columns(
        bins, marker=None if beyond else limit, marker_label=f"limit {limit:,}" if limit and not beyond else ""
    )
    per = t.get("per_example") or {}
    est = " (estimate)" if t.get("estimate") else ""
    facts = (
        f"counted as <code>{escape(str(t.get('encoding') or '?'))}</code>{est} · median {_n(per.get('median'))} · "
        f"p95 {_n(per.get('p95'))} · max {_n(per.get('max'))}"
        + (f" · <b>{_n(t.get('over_limit'))} over the limit</b>" if t.get("over_limit") else "")
        + (f" · the limit ({_n(limit)}) is right of the chart: every example is shorter" if beyond else "")
    )
    return _section("Token lengths", chart, facts, "tokens")


def _cost(data: dict[str, Any]) -> str:
    cost = data["cost"]
    ests = cost.get("estimates") or []
    if not ests:
        return _section("Training cost", _na(cost.get("note") or "Cost not available: enable the cost-estimate rule."))
    rows = [
        "<table><tr><th>model</th><th class='num'>epochs</th><th class='num'>tokens / epoch</th>"
        "<th class='num'>trained tokens</th><th class='num'>price / 1M</th><th class='num'>cost</th>"
        "<th class='num'>truncated</th></tr>"
    ]
    for e in ests:
        approx = "" if e.get("exact", True) else " <small>(estimate)</small>"
        rows.append(
            f"<tr><td>{escape(e['provider'])}/{escape(e['model'])}{approx}</td><td class='num'>{_n(e['epochs'])}</td>"
            f"<td class='num'>{_n(e['tokens_per_epoch'])}</td><td class='num'>{_n(e['trained_tokens'])}</td>"
            f"<td class='num'>{_money(e['price_per_million'], e['currency'])}</td>"
            f"<td class='num'><b>{_money(e['cost'], e['currency'])}</b></td>"
            f"<td class='num'>{_n(e.get('truncated_examples', 0))}</td></tr>"
        )
    rows.append("</table>")
    src = ests[0]
    sub = f"Prices as of {escape(str(src.get('price_date', '?')))}; check them before you budget."
    return _section("Training cost", "".join(rows), sub, "cost")


def _mix(title: str, mix: dict[str, Any], noun: str, limit: int = 15) -> str:
    if not mix["available"]:
        return _section(title, _na(f"{noun.capitalize()} not available: enable the balance rules."))
    rows = mix["rows"]
    shown = rows[:limit]
    has_targets = any(r["target"] is not None for r in rows)
    known_total = sum(r["count"] for r in rows if r["share"] is not None) or 1
    bars = []
    for r in shown:
        # with targets every bar is a share on one scale (unknown too, relative to the known records)
        value = (r["share"] if r["share"] is not None else r["count"] / known_total) if has_targets else r["count"]
        note = f"{r['count']:,}" + (f" · {100 * r['share']:.1f}%" if r["share"] is not None else "")
        if r["target"] is not None:
            note += f" (target {100 * r['target']:.0f}%)"
        gray = r["label"] in ("unknown", "(no system prompt)")
        bars.append(
            {
                "label": r["label"],
                "value": value or 0,
                "note": note,
                "target": r["target"],
                **({"color": "#8c959f"} if gray else {}),
            }
        )
    chart = _svg.hbars(bars)
    sub = f"{len(rows):,} distinct" + (f", showing the top {limit}" if len(rows) > limit else "")
    if has_targets:
        sub += ' · <span class="legend"><span class="t"></span> target</span>'
        if mix.get("tolerance") is not None:
            sub += f" ± {100 * mix['tolerance']:.0f}%"
    return _section(title, chart, sub)


def _turns(data: dict[str, Any]) -> str:
    counts = data["turns"]
    if not counts:
        return _section("Turns per example", _na("Turn counts not available: enable the turns-per-example rule."))
    bins = [{"label": k, "count": v, "axis": "turns per example (system not counted)"} for k, v in counts.items()]
    return _section("Turns per example", _svg.columns(bins, height=200))


def _length(data: dict[str, Any]) -> str:
    length = data["length"]
    if not length.get("histogram"):
        return _section("Characters per example", _na("Lengths not available: enable the example-length rule."))
    bins = _log2_bins(length["histogram"], "characters per example (log2 bins)")
    sub = f"median {_n(length.get('p50'))} · p90 {_n(length.get('p90'))} · max {_n(length.get('max'))}"
    return _section("Characters per example", _svg.columns(bins, height=200), sub)


def _top_list(title: str, d: dict[str, Any], total_key: str, empty: str) -> str:
    top = d.get("top") or []
    if not top:
        return _section(title, _na(empty))
    total = d.get(total_key) or sum(t["count"] for t in top) or 1
    rows = "".join(
        f"<tr><td>{escape(t['text'])}</td><td class='num'>{_n(t['count'])}</td>"
        f"<td class='num'>{100 * t['count'] / total:.1f}%</td></tr>"
        for t in top
    )
    return _section(
        title, f"<table><tr><th>text</th><th class='num'>count</th><th class='num'>share</th></tr>{rows}</table>"
    )


def _places(members: list[str]) -> str:
    """path:line list shown as `file: 12, 40, 97` per file (full path on hover)."""
    by_file: dict[str, list[str]] = {}
    for m in members:
        path, _, line = m.rpartition(":")
        by_file.setdefault(path, []).append(line)
    out = []
    for path, lines in by_file.items():
        shown = ", ".join(lines[:8]) + (f" … (+{len(lines) - 8})" if len(lines) > 8 else "")
        out.append(f"<span title='{escape(path)}'>{escape(path.rsplit('/', 1)[-1])}</span>: {escape(shown)}")
    return "<br>".join(out)


def _dedup_summary(data: dict[str, Any]) -> str:
    summ = data["duplicates"]["summary"]
    if not summ:
        return _section("Duplicates", _na("Duplicate detection not available: enable the dedup rules."))
    from curate.reporters.overview import duplicate_rows

    rows = "".join(
        f"<tr><td>{escape(kind)}</td><td class='num'>{_n(clusters)}</td>"
        f"<td class='num'>{_n(drop)}</td><td class='num'>{_n(largest) if largest is not None else '–'}</td></tr>"
        for kind, clusters, drop, largest in duplicate_rows(data)
    )
    body = (
        "<table><tr><th>kind</th><th class='num'>clusters</th><th class='num'>duplicates to drop</th>"
        f"<th class='num'>largest</th></tr>{rows}</table>"
    )
    near = (summ.get("near") or {}).get("nearest_similarity") or {}
    if near.get("counts"):
        bins = [
            {"label": label.split("-")[0], "count": n, "axis": "similarity to the nearest other record"}
            for label, n in zip(near["bins"], near["counts"], strict=False)
        ]
        body += _svg.columns(bins, height=170)
    semantic = (summ.get("semantic") or {}).get("nearest_similarity") or {}
    if semantic.get("counts"):
        bins = [
            {"label": label.split("-")[0], "count": n, "axis": "semantic similarity to the nearest other record"}
            for label, n in zip(semantic["bins"], semantic["counts"], strict=False)
        ]
        body += _svg.columns(bins, height=170)
    return _section("Duplicates", body, "A cluster is kept on one side by curate split.")


def _clusters(data: dict[str, Any]) -> str:
    clusters = data["duplicates"]["clusters"]
    if not clusters:
        return ""
    rows = "".join(
        f"<tr><td class='rule'>{escape(c['cluster'])}</td><td>{escape(c['kind'])}</td><td class='num'>{c['size']}</td>"
        f"<td class='loc'>{_places([c['kept']]) if c['kept'] else '–'}</td>"
        f"<td class='loc'>{_places(c['members'])}</td>"
        f"<td class='num'>{c['min_similarity'] if c['min_similarity'] is not None else '–'}</td></tr>"
        for c in clusters
    )
    table = (
        "<table><tr><th>cluster</th><th>check</th><th class='num'>size</th><th>kept</th><th>duplicates (lines)</th>"
        f"<th class='num'>min sim.</th></tr>{rows}</table>"
    )
    return _section("Largest duplicate clusters", table, "Biggest first; lines are 1-based.", "dups")


def _coverage(data: dict[str, Any]) -> str:
    """Topics (balance.topics): share bars, typical words, examples; flags for few records and for
    topics one side of --against lacks. Absent when the rule is not bound."""
    cov = data["coverage"]
    if not cov:
        return ""
    rows = cov.get("rows") or []
    if not rows:
        return _section("Topics", _na("Too few records with text to find topics."), anchor="topics")
    against = "against_records" in cov
    only_against, only_train = set(cov.get("only_in_against") or ()), set(cov.get("only_in_training") or ())
    top = max(max(r["share"], r.get("against_share", 0.0)) for r in rows) or 1.0
    head = "<th>#</th><th>typical words</th><th class='num'>records</th><th>share</th>"
    head += "<th class='num'>eval records</th>" if against else ""
    body = [f"<table><tr>{head}<th>most typical records</th></tr>"]
    for r in rows:
        flags = []
        if r.get("few"):
            flags.append("<span class='pill warning'>few</span>")
        if r["topic"] in only_against:
            flags.append("<span class='pill error'>missing from training</span>")
        if r["topic"] in only_train:
            flags.append("<span class='pill info'>not in eval</span>")
        bar = f"<div class='meter'><span style='width:{100 * r['share'] / top:.1f}%;background:#4c72b0'></span></div>"
        if against:
            width = 100 * r.get("against_share", 0.0) / top
            bar += f"<div class='meter'><span style='width:{width:.1f}%;background:#e36209'></span></div>"
        share = f"{100 * r['share']:.1f}%" + (f" / {100 * r.get('against_share', 0.0):.1f}%" if against else "")
        examples = "".join(
            f"<div><span class='loc'>{escape(str(e['at']).rsplit('/', 1)[-1])}</span> {escape(str(e['text']))}</div>"
            for e in r["examples"]
        )
        body.append(
            f"<tr><td class='num'>{r['topic']}</td><td><b>{escape(r['label'])}</b> {' '.join(flags)}</td>"
            f"<td class='num'>{_n(r['count'])}</td><td>{bar}<small>{share}</small></td>"
            + (f"<td class='num'>{_n(r.get('against_count'))}</td>" if against else "")
            + f"<td class='examples'>{examples}</td></tr>"
        )
    body.append("</table>")
    chosen = "given" if cov.get("k_chosen_by") == "given" else f"chosen by silhouette ({cov.get('silhouette')})"
    sub = (
        f"{_n(cov.get('topics'))} topics over {_n(cov.get('records'))} records ({chosen}); "
        f"<b>few</b>: fewer than {_n(cov.get('rare_below'))} records"
    )
    if against:
        sub += (
            f" · bars: training (blue) and --against ({_n(cov.get('against_records'))} records, orange); "
            "a topic is missing from one side when its share there is 5x smaller"
        )
    return _section("Topics", "".join(body), sub, "topics")


def _pii(data: dict[str, Any]) -> str:
    p = data["pii"]
    if not p["available"]:
        return _section("Personal data", _na("PII counts not available: enable the pii rules."))
    bars = [{"label": k, "value": v} for k, v in sorted(p["by_entity"].items(), key=lambda kv: -kv[1])]
    bars += [
        {"label": k, "value": v, "color": "#d1242f"}
        for k, v in sorted(p["secrets_by_type"].items(), key=lambda kv: -kv[1])
    ]
    sub = (
        f"{_n(p.get('records_with_pii'))} of {_n(p.get('records_scanned'))} records with personal data · "
        f"{_n(p.get('records_with_secrets') or 0)} with secrets · counts by type only, never values"
    )
    return _section("Personal data", _svg.hbars(bars) if bars else "<p>None found.</p>", sub)


def render_html(report: Report) -> str:
    data = build(report)
    datasets = ", ".join(
        f"<code>{escape(d['path'])}</code> ({d['records']:,} {escape(d['format'])})" for d in data["datasets"]
    )
    errors = ""
    if data["errors"]:
        items = "".join(f"<li>{escape(e)}</li>" for e in data["errors"][:50])
        errors = _section("Check failures", f"<ul>{items}</ul>", "These checks failed to run on some records.")
    notes = ""
    if data["notices"]:  # what the run could not do: shown, never counted as findings
        items = "".join(f"<li>{escape(n)}</li>" for n in data["notices"])
        notes = _section(
            "Notes", f"<ul>{items}</ul>", "About this run, not the data: they never fail a check.", "notes"
        )
    body = [
        _cards(data),
        notes,
        _rules(data),
        f'<div class="grid">{_tokens(data)}{_cost(data)}</div><br>',
        f'<div class="grid">{_mix("Languages", data["languages"], "languages")}'
        f"{_mix('Categories', data['categories'], 'categories')}</div><br>",
        f'<div class="grid">{_turns(data)}{_length(data)}</div><br>',
        f'<div class="grid">{_top_list("Most repeated answer openings", data["openings"], "answers", "No openings.")}'
        f"{_top_list('System prompts', data['system_prompts'], 'with', 'No system prompts.')}</div><br>",
        f'<div class="grid">{_pii(data)}{_dedup_summary(data)}</div><br>',
        _coverage(data),
        _clusters(data),
        _worst(data),
        errors,
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>curate report: {data['summary']['records']:,} records</title><style>{CSS}</style></head><body>"
        f"<header><h1>Dataset report</h1><div class='meta'>{datasets}<br>rules <code>{escape(data['ruleset'])}</code>"
        f" · target <code>{escape(str(data['target'] or 'none'))}</code> · curate {escape(__version__)}</div></header>"
        f"<main>{''.join(body)}<footer>Generated by curate {escape(__version__)}. "
        "One self-contained file: no scripts, no network.</footer></main></body></html>\n"
    )


def _no_line(path: object) -> str:
    return f"{path}:–"
