"""The HTML report's stylesheet, inlined into the page (no network at view time)."""

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --card:#fff;
  --error:#d1242f; --warning:#9a6700; --info:#0969da; --ok:#1a7f37; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
  "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color:var(--fg); background:var(--bg); }
header { background:#24292f; color:#fff; padding:22px 32px 18px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header .meta { color:#c9d1d9; font-size:13px; }
header .meta code { color:#fff; }
main { max-width:1200px; margin:0 auto; padding:20px 32px 48px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(128px, 1fr)); gap:12px; margin:0 0 20px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .n { font-size:24px; font-weight:600; line-height:1.2; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card.error .n { color:var(--error); } .card.warning .n { color:var(--warning); }
.card.info .n { color:var(--info); } .card.ok .n { color:var(--ok); }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin:0 0 16px; }
section h2 { font-size:16px; margin:0 0 4px; }
section p.sub { color:var(--muted); margin:0 0 12px; font-size:13px; }
.grid { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
.grid > section { margin:0; min-width:0; overflow-x:auto; }
@media (max-width: 900px) { .grid { grid-template-columns:1fr; } }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid #eaeef2; vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num { white-space:nowrap; }
.pill { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; }
.pill.error { background:var(--error); } .pill.warning { background:#bf8700; } .pill.info { background:var(--info); }
.rule { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12.5px; }
td.rule { white-space:nowrap; }
.meter { background:#eaeef2; border-radius:3px; height:8px; min-width:80px; }
.meter span { display:block; height:8px; border-radius:3px; }
.na { color:var(--muted); font-style:italic; padding:12px; background:var(--bg); border-radius:6px; }
details { border-top:1px solid #eaeef2; padding:6px 0; }
details summary { cursor:pointer; font-weight:600; }
details table { margin-top:6px; }
code, .loc { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
.loc { color:var(--muted); overflow-wrap:anywhere; }
td.loc:first-child { white-space:nowrap; }
.fix { color:var(--ok); }
td.examples div { font-size:12px; color:var(--muted); overflow-wrap:anywhere; }
td .meter + .meter { margin-top:2px; }
svg.chart text { font-size:12px; fill:var(--fg); }
svg.chart text.tick { fill:var(--muted); font-size:11px; } svg.chart text.val { fill:var(--muted); }
svg.chart text.mark { fill:var(--error); font-weight:600; } svg.chart text.axis { fill:var(--muted); font-size:11px; }
.legend { color:var(--muted); font-size:12px; }
.legend .t { display:inline-block; width:10px; height:2px; background:var(--error); vertical-align:middle; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:24px; }
"""
