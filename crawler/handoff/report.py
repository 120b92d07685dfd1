"""A report an editor reads: one self-contained HTML file, charts drawn by Plotly, in Vietnam time.

The file embeds plotly.js once (no CDN, no network: it opens offline, from a mail attachment
or a shared folder). Labels are Vietnamese with English beside them; every date is the
Vietnam calendar's (Asia/Ho_Chi_Minh), as the portals show it.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
from pymongo.database import Database

from crawler.dates import PORTAL_TZ, utc_now
from crawler.portals import PORTALS
from crawler.storage.files import write_atomically
from crawler.urls import is_web_url

SITES = {portal.name: portal.title for portal in PORTALS.values()}
COLOURS = {portal.name: portal.colour for portal in PORTALS.values()}
# The fields whose coverage the report shows, with their labels (the monitors watch FILL_FIELDS).
COVERAGE_LABELS = {"author": "tác giả / byline", "source": "nguồn / source", "qr": "mã QR / QR code", "images": "ảnh / images",
               "summary": "sapo / summary"}
_LAYOUT = {"template": "plotly_white", "height": 380, "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
           "font": {"family": "Arial, sans-serif", "size": 12},
           "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"}}


def _local(moment: datetime | None) -> str:
    return f"{moment.astimezone(PORTAL_TZ):%d/%m/%Y %H:%M}" if moment else "–"


def _link(url: str | None, text: str | None) -> str:
    """A link only to an http(s) URL (a stored `javascript:` one, should any slip in, is shown as text); text escaped."""
    if not is_web_url(url):
        return html.escape(text or url or "")
    return f'<a href="{html.escape(url)}">{html.escape(text or url)}</a>'


def _label(text: str) -> str:
    """A name from a portal as a chart label: plain text. Plotly renders `<a href>`, `<b>`… in labels and hovers;
    escaped, they show as the characters they are."""
    return html.escape(text, quote=False)


def _table(headers: list[str], rows: list[list[str]], escape: bool = True) -> str:
    """A table; cells are escaped unless `escape` is False (then they are trusted HTML built here)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    cell = (lambda c: html.escape(str(c))) if escape else str
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    body = body or f"<tr><td colspan={len(headers)}>không có / none</td></tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(figure: go.Figure, first: bool) -> str:
    figure.update_layout(**_LAYOUT)
    return figure.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False, "responsive": True})


def _every_week(seen: set[str]) -> list[str]:
    """Every week from the first to the last seen, so a week without articles counts as 0."""
    if not seen:
        return []
    week, last = date.fromisoformat(min(seen)), date.fromisoformat(max(seen))
    weeks = []
    while week <= last:
        weeks.append(week.isoformat())
        week += timedelta(days=7)
    return weeks


def _week_of(moment: datetime) -> str:
    local = moment.astimezone(PORTAL_TZ).date()
    return (local - timedelta(days=local.weekday())).isoformat()


def build_report(db: Database) -> str:
    per_week: dict[str, Counter] = defaultdict(Counter)
    per_category: dict[str, Counter] = defaultdict(Counter)
    per_author: dict[str, Counter] = defaultdict(Counter)
    per_source: dict[str, Counter] = defaultdict(Counter)
    per_month: dict[str, Counter] = defaultdict(Counter)  # Vietnam-time months
    unnamed: dict[str, Counter] = defaultdict(Counter)  # articles naming no author, crediting no source
    filled: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    period: dict[str, list[datetime]] = defaultdict(list)
    fields = {"site": 1, "published_at": 1, "categories.name": 1, **dict.fromkeys(COVERAGE_LABELS, 1)}
    for doc in db.articles.find({"removed_at": None}, fields):
        site = doc["site"]
        totals[site] += 1
        if doc.get("published_at"):
            per_week[site][_week_of(doc["published_at"])] += 1
            per_month[site][f"{doc['published_at'].astimezone(PORTAL_TZ):%Y-%m}"] += 1
            period[site].append(doc["published_at"])
        for category in doc.get("categories") or []:
            per_category[site][category["name"]] += 1
        # Articles without an author or a source are said in words, not drawn: a "(none)" bar dwarfs every name.
        if doc.get("author"):
            per_author[site][doc["author"]] += 1
        else:
            unnamed[site]["author"] += 1
        source = doc.get("source") or {}
        if source.get("publisher") or source.get("name"):
            per_source[site][source.get("publisher") or source.get("name")] += 1
        else:
            unnamed[site]["source"] += 1
        for name in COVERAGE_LABELS:
            filled[site][name] += bool(doc.get(name))

    charts = []
    weekly = go.Figure()
    weeks = _every_week({w for counts in per_week.values() for w in counts})
    for site, label in SITES.items():
        weekly.add_trace(go.Scatter(x=weeks, y=[per_week[site][w] for w in weeks], mode="lines", name=label,
                                    line={"color": COLOURS[site]}, hovertemplate="tuần %{x}: %{y} bài<extra>" + label + "</extra>"))
    weekly.update_layout(title="Bài viết mỗi tuần / Articles per week", xaxis_title="Tuần (giờ Việt Nam) / Week (Vietnam time)",
                         yaxis_title="Số bài / Articles")
    charts.append(("weekly", weekly))
    for site, label in SITES.items():
        for name, counts, title in (("category", per_category[site], "Theo chuyên mục / Per category"),
                                    ("author", per_author[site], "Theo tác giả (20 nhiều nhất) / Per author (top 20)"),
                                    ("source", per_source[site], "Theo nguồn / Per source")):
            top = counts.most_common(20)[::-1]
            if not top:  # nothing named: the sentence above says so; an empty chart says nothing
                continue
            bars = go.Figure(go.Bar(x=[n for _, n in top], y=[_label(k) for k, _ in top], orientation="h", marker_color=COLOURS[site],
                                    hovertemplate="%{y}: %{x} bài<extra></extra>"))
            bars.update_layout(title=f"{label}: {title}", xaxis_title="Số bài / Articles", yaxis={"automargin": True},
                               height=max(260, 40 + 24 * len(top)))
            charts.append((f"{site}-{name}", bars))
    drawn = [f'<div class="chart" id="chart-{key}">{_figure(figure, first=i == 0)}</div>' for i, (key, figure) in enumerate(charts)]

    fill_rows = [[label, *(f"{filled[s][name] / totals[s]:.0%} ({filled[s][name]})" if totals[s] else "–" for s in SITES)]
                 for name, label in COVERAGE_LABELS.items()]
    unnamed_said = " ".join(
        f"{label}: {unnamed[site]['author'] / totals[site]:.0%} bài không ghi tác giả / of articles name no author, "
        f"{unnamed[site]['source'] / totals[site]:.0%} không ghi nguồn (bài của cổng) / credit no source (the portal's own)."
        for site, label in SITES.items() if totals[site])
    months = sorted({m for counts in per_month.values() for m in counts}, reverse=True)[:24]
    month_rows = [[m, *(str(per_month[site][m]) for site in SITES), str(sum(per_month[site][m] for site in SITES))] for m in months]
    covered = "; ".join(f"{label}: {totals[site]} bài, {_local(min(period[site])) if period[site] else '–'} → "
                        f"{_local(max(period[site])) if period[site] else '–'}" for site, label in SITES.items())
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Cổng tin Hải Phòng: dữ liệu thu thập / What the crawler holds</title>
<style>body{{font-family:Arial,sans-serif;margin:2em;color:#222;max-width:1200px}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}} th{{background:#f3f3f3}}
.charts{{display:grid;grid-template-columns:1fr;gap:1em}} h2{{margin-top:1.6em}}</style></head>
<body>
<h1>Cổng tin Hải Phòng: dữ liệu thu thập / What the crawler holds</h1>
<p>Lập lúc / generated {_local(utc_now())} (giờ Việt Nam / Vietnam time). Thời gian bao phủ / period covered: {html.escape(covered)}.</p>
<h2>Số bài theo tháng / Articles per month (giờ Việt Nam / Vietnam time, 24 most recent)</h2>
{_table(["tháng / month", *SITES.values(), "tổng / total"], month_rows)}
{_latest(db)}
<p>{html.escape(unnamed_said)}</p>
<div class="charts">{"".join(drawn)}</div>
<h2>Tỷ lệ trường có dữ liệu / Field fill rates</h2>
{_table(["bài có / articles with", *SITES.values()], fill_rows)}
{_reposts(db)}
{_qr_mismatches(db)}
{_rejects(db)}
{_changes(db)}
{_monitors(db)}
{_runs(db)}
</body></html>"""


def _latest(db: Database, count: int = 15) -> str:
    rows = [[html.escape(_local(d.get("published_at"))), html.escape(SITES.get(d["site"], d["site"])),
             _link(d.get("url"), d.get("title"))]
            for d in db.articles.find({"removed_at": None}, {"site": 1, "published_at": 1, "url": 1, "title": 1})
            .sort("published_at", -1).limit(count)]
    table = _table(["giờ đăng / published", "cổng / portal", "bài / article"], rows, escape=False)
    return f"<h2>Bài mới nhất / Latest articles</h2>\n{table}"


def _reposts(db: Database) -> str:
    copies = list(db.articles.find({"duplicate_of": {"$ne": None}, "removed_at": None},
                                   {"title": 1, "url": 1, "duplicate_of": 1, "repost": 1}).sort("_id", 1))
    originals = {d["_id"]: d for d in db.articles.find({"_id": {"$in": [c["duplicate_of"] for c in copies]}}, {"title": 1, "url": 1})}
    rows = [[_link(c["url"], c.get("title")), _link(originals.get(c["duplicate_of"], {}).get("url"),
                                                     originals.get(c["duplicate_of"], {}).get("title") or c["duplicate_of"]),
             f"{(c.get('repost') or {}).get('score', 1.0):.2f}", html.escape((c.get("repost") or {}).get("method") or "")]
            for c in copies]
    review = db.articles.count_documents({"repost_candidates": {"$ne": []}, "repost_candidates.id": {"$exists": True}})
    return (f"<h2>Bài đăng lại / Reposts ({len(rows)}; {review} more articles have close look-alikes kept for review: "
            f"the export's repost_candidates)</h2>\n"
            + _table(["bản đăng lại / copy", "bài gốc / original", "độ trùng / score", "cách tìm / method"], rows, escape=False))


def _qr_mismatches(db: Database) -> str:
    docs = db.articles.find({"qr.matches_url": False, "removed_at": None}, {"title": 1, "url": 1, "qr.payload": 1}).sort("_id", 1)
    rows = [[_link(d["url"], d.get("title")), html.escape(d["qr"].get("payload") or "(không đọc được / unreadable)")] for d in docs]
    return (f"<h2>Mã QR không khớp bài viết / QR codes that do not match their article ({len(rows)})</h2>\n"
            + _table(["bài viết / article", "mã QR dẫn tới / the QR code leads to"], rows, escape=False))


def _rejects(db: Database) -> str:
    docs = list(db.rejects.find({}, {"site": 1, "url": 1, "reasons": 1, "raw.title": 1, "last_rejected_at": 1}).sort("_id", 1))
    reasons = Counter(r.split(":", 1)[0] for d in docs for r in d["reasons"])
    rows = [[html.escape(d["site"]), _link(d["url"], (d.get("raw") or {}).get("title") or d["url"]),
             html.escape(", ".join(d["reasons"])), _local(d.get("last_rejected_at"))] for d in docs]
    summary = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "–"
    return (f"<h2>Bị loại / Rejected records ({len(docs)} records; by reason: {html.escape(summary)})</h2>\n"
            + _table(["cổng / portal", "trang / page", "lý do / reasons", "lần cuối / last (Vietnam time)"], rows, escape=False))


def _changes(db: Database) -> str:
    runs = list(db.crawl_runs.find({"finished_at": {"$ne": None}}).sort("started_at", -1).limit(4))
    since = min((r["started_at"] for r in runs), default=None)
    if since is None:
        return ""
    changed = (db.articles.find({"crawl.last_changed_at": {"$gte": since}, "revision": {"$gt": 1}},
                                {"title": 1, "url": 1, "revision": 1, "crawl.last_changed_at": 1})
               .sort("crawl.last_changed_at", -1).limit(100))
    removed = (db.articles.find({"removed_at": {"$gte": since}}, {"title": 1, "url": 1, "removed_at": 1})
               .sort("removed_at", -1).limit(100))
    heading = f"Thay đổi trong các lần chạy gần nhất / Changed and removed in the last runs (since {_local(since)})"
    return (f"<h2>{heading}</h2>\n"
            + _table(["bài sửa / changed article", "phiên bản / revision", "lúc / when"],
                     [[_link(d["url"], d.get("title")), str(d["revision"]), _local(d["crawl"]["last_changed_at"])] for d in changed],
                     escape=False)
            + _table(["bài bị gỡ / removed article", "lúc / when"],
                     [[_link(d["url"], d.get("title")), _local(d["removed_at"])] for d in removed], escape=False))


def _monitors(db: Database) -> str:
    parts = ["<h2>Giám sát / Monitors, per portal</h2>"]
    for site, label in SITES.items():
        rows = []
        for run in db.crawl_runs.find({"spider": site, "monitors": {"$exists": True}}).sort("started_at", -1).limit(15):
            monitors = run["monitors"]
            failed = "<br>".join(f"<b>{html.escape(f['monitor'])}</b>: {html.escape(f['message'])}" for f in monitors.get("failed", []))
            rows.append([_local(run["started_at"]), html.escape(run.get("kind", "")), html.escape(run.get("state", "")),
                         str(len(monitors.get("passed", []))), failed or "✓"])
        parts.append(f"<h3>{html.escape(label)}</h3>" + _table(["bắt đầu / started", "loại / kind", "kết quả / state", "đạt / passed",
                                                               "không đạt / failed"], rows, escape=False))
    return "\n".join(parts)


def _runs(db: Database) -> str:
    rows = [[r["spider"], _local(r["started_at"]), r.get("kind", ""), r.get("state", r.get("finish_reason")),
             *(r.get("counts", {}).get(k, "") for k in ("requests", "articles_new", "articles_changed", "articles_removed"))]
            for r in db.crawl_runs.find().sort("started_at", -1).limit(20)]
    return "<h2>Các lần chạy gần nhất / Last runs</h2>\n" + _table(
        ["spider", "bắt đầu / started", "loại / kind", "kết quả / state", "requests", "mới / new", "sửa / changed", "gỡ / removed"], rows)


def write_report(db: Database, path: Path) -> Path:
    """Write the report atomically (a file of a unique name beside it, then a rename)."""
    report = build_report(db)
    write_atomically(path, lambda tmp: tmp.write_text(report, encoding="utf-8"))
    return path
