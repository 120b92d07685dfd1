"""A report analysts can look at: one self-contained HTML file (inline SVG charts, no scripts)."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from pathlib import Path

from pymongo.database import Database

from crawler.dates import PORTAL_TZ, utc_now

SITES = ("thanhphohaiphong", "congan_haiphong")
COLOURS = {"thanhphohaiphong": "#1f77b4", "congan_haiphong": "#d62728"}
FILL_FIELDS = {"author": "a byline", "source": "a source", "qr": "a QR code", "images": "images", "summary": "a summary"}


def bar_chart(title: str, series: dict[str, dict[str, int]], width: int = 900, height: int = 240) -> str:
    """Grouped bars: one group per label (month, category), one bar per portal."""
    labels = sorted({label for counts in series.values() for label in counts})
    top = max((v for counts in series.values() for v in counts.values()), default=0) or 1
    group = (width - 60) / max(len(labels), 1)
    bar = max(group / (len(series) + 1), 1)
    parts = [f'<svg class="chart" role="img" aria-label="{html.escape(title)}" width="{width}" height="{height + 110}" '
             f'viewBox="0 0 {width} {height + 110}"><title>{html.escape(title)}</title>',
             f'<line x1="50" y1="{height}" x2="{width}" y2="{height}" stroke="#555"/>',
             f'<text x="45" y="12" text-anchor="end" font-size="11">{top}</text>']
    for i, label in enumerate(labels):
        for j, (site, counts) in enumerate(series.items()):
            value = counts.get(label, 0)
            h = (height - 20) * value / top
            x = 55 + i * group + j * bar
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS.get(site, "#777")}"><title>{html.escape(site)} {html.escape(label)}: {value}</title></rect>')
        if len(labels) <= 24 or i % max(1, len(labels) // 24) == 0:
            parts.append(f'<text x="{55 + i * group:.1f}" y="{height + 14}" font-size="10" '
                         f'transform="rotate(45 {55 + i * group:.1f} {height + 14})">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td colspan=9>none</td></tr>'}</tbody></table>"


def build_report(db: Database) -> str:
    per_month: dict[str, Counter] = defaultdict(Counter)
    per_category: dict[str, Counter] = defaultdict(Counter)
    filled: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    fields = {"site": 1, "published_at": 1, "categories.name": 1, **dict.fromkeys(FILL_FIELDS, 1)}
    for doc in db.articles.find({"removed_at": None}, fields):
        site = doc["site"]
        totals[site] += 1
        per_month[site][f"{doc['published_at'].astimezone(PORTAL_TZ):%Y-%m}"] += 1  # the month the portal shows
        for category in doc.get("categories") or []:
            per_category[site][category["name"]] += 1
        for name in FILL_FIELDS:
            filled[site][name] += bool(doc.get(name))
    fill_rows = [[label] + [f"{filled[s][name] / totals[s]:.0%} ({filled[s][name]})" if totals[s] else "–" for s in SITES]
                 for name, label in FILL_FIELDS.items()]
    mismatched = [[d["_id"], d["url"], d["qr"]["payload"]] for d in
                  db.articles.find({"qr.matches_url": False, "removed_at": None}, {"url": 1, "qr.payload": 1}).sort("_id", 1)]
    reasons: Counter = Counter()
    for doc in db.rejects.find({}, {"reasons": 1, "site": 1}):
        for reason in doc["reasons"]:
            reasons[(doc["site"], reason.split(":", 1)[0])] += 1
    last_runs = list(db.crawl_runs.find().sort("started_at", -1).limit(20))
    runs = [[r["spider"], r.get("job_id"), f"{r['started_at']:%Y-%m-%d %H:%M}", r.get("kind", ""), r.get("state", r.get("finish_reason")),
             *(r.get("counts", {}).get(k, "") for k in ("requests", "articles_new", "articles_changed", "articles_removed")),
             _monitor_summary(r)]
            for r in last_runs]
    monitor_failures = [[r["spider"], f"{r['started_at']:%Y-%m-%d %H:%M}", f["monitor"], f["message"]]
                        for r in db.crawl_runs.find({"monitors.failed.0": {"$exists": True}}).sort("started_at", -1).limit(50)
                        for f in r["monitors"]["failed"]]
    legend = " ".join(f'<span style="color:{c}">■ {s}</span>' for s, c in COLOURS.items())
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Hải Phòng portals: what the crawler holds</title>
<style>body{{font-family:sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}} svg{{display:block;margin:1em 0}}</style></head>
<body>
<h1>Hải Phòng portals: what the crawler holds</h1>
<p>Generated {utc_now():%Y-%m-%d %H:%M} UTC. Live articles: {", ".join(f"{s} {totals[s]}" for s in SITES)}. {legend}</p>
<h2>Articles per month</h2>
{bar_chart("Articles per month and portal", {s: dict(per_month[s]) for s in SITES})}
<h2>Articles per category</h2>
{bar_chart("Articles per category and portal", {s: dict(per_category[s]) for s in SITES})}
<h2>Field fill rates</h2>
{_table(["articles with", *SITES], fill_rows)}
<h2>QR codes that do not match their article ({len(mismatched)})</h2>
{_table(["article", "url", "QR payload"], mismatched)}
<h2>Rejects by reason</h2>
{_table(["portal", "reason", "records"], [[s, r, n] for (s, r), n in sorted(reasons.items())])}
<h2>Last runs</h2>
{_table(["spider", "job", "started (UTC)", "kind", "state", "requests", "new", "changed", "removed", "monitors"], runs)}
<h2>Monitor failures, newest first ({len(monitor_failures)})</h2>
{_table(["spider", "run started (UTC)", "monitor", "why"], monitor_failures)}
</body></html>"""


def _monitor_summary(run: dict) -> str:
    monitors = run.get("monitors")
    if not monitors:
        return "–"
    failed = len(monitors.get("failed", []))
    return f"{len(monitors.get('passed', []))} passed" + (f", {failed} FAILED" if failed else "")


def write_report(db: Database, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(build_report(db), encoding="utf-8")
    tmp.replace(path)
    return path
