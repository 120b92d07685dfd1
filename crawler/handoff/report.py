"""A report an editor reads: one self-contained HTML file, in Vietnam time, that opens offline.

Counts per month per portal with their numbers, a category × month table, the latest articles,
cross-portal reposts by publisher, what the portals name (categories, authors, sources), fill
rates, QR mismatches, rejects, changes and runs. The charts are drawn by plotly.js's minified
*basic* bundle (bar and scatter traces; `static/plotly-basic.min.js`, MIT, 1.2 MB), embedded once:
no CDN, no network, from a mail attachment or a shared folder. Every list is bounded, so the file
stays under 1.5 MB whatever the collection holds. Labels are Vietnamese with English beside them;
every date is the Vietnam calendar's (Asia/Ho_Chi_Minh), as the portals show it.

The articles are read in one pass (the embedded MongoDB scans the whole collection for any query
that is not by `_id`: one pass instead of five took the report at 200,000 articles from 65 s to
the time of that scan).
"""

from __future__ import annotations

import heapq
import html
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go
from pymongo.database import Database

from crawler.dates import utc_now, wall_clock
from crawler.portals import PORTALS
from crawler.storage.files import write_atomically
from crawler.storage.mongo import read_ahead
from crawler.urls import is_web_url

SITES = {portal.name: portal.title for portal in PORTALS.values()}
COLOURS = {portal.name: portal.colour for portal in PORTALS.values()}
# The fields whose coverage the report shows, with their labels (the monitors watch FILL_FIELDS).
COVERAGE_LABELS = {"author": "tác giả / byline", "source": "nguồn / source", "qr": "mã QR / QR code", "images": "ảnh / images",
                   "summary": "sapo / summary"}
BUNDLE = Path(__file__).with_name("static") / "plotly-basic.min.js"
# How much of each list the report shows (the file's size does not grow with the collection).
CHART_MONTHS, TABLE_YEARS, HEAT_MONTHS, HEAT_CATEGORIES, TOP = 24, 10, 12, 15, 20
LATEST, LISTED = 15, 50
_LAYOUT = {"height": 380, "margin": {"l": 60, "r": 30, "t": 50, "b": 60}, "paper_bgcolor": "white", "plot_bgcolor": "white",
           "font": {"family": "Arial, sans-serif", "size": 12}, "xaxis": {"gridcolor": "#eee"}, "yaxis": {"gridcolor": "#eee"},
           "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"}}
# What the pass reads (`source` and `qr` whole: their fill rates are counted too).
_FIELDS = {"site": 1, "published_at": 1, "categories.name": 1, "title": 1, "url": 1, "duplicate_of": 1, "repost.score": 1,
           "repost.method": 1, "repost_candidates.id": 1, "removed_at": 1, "revision": 1, "crawl.last_changed_at": 1,
           **dict.fromkeys(COVERAGE_LABELS, 1)}


def _local(moment: datetime | None) -> str:
    return f"{wall_clock(moment):%d/%m/%Y %H:%M}" if moment else "–"


def _month(moment: datetime) -> str:
    return f"{wall_clock(moment):%Y-%m}"


NEVER = datetime.min.replace(tzinfo=UTC)  # sorts before any date: what a missing one sorts as


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


def _figure(key: str, figure: go.Figure) -> str:
    """A chart's div and the call that draws it (plotly.js is in the page once, from BUNDLE)."""
    figure.update_layout(**_LAYOUT)
    drawn = figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{key}",
                           config={"displaylogo": False, "responsive": True})
    return f'<div class="chart">{drawn}</div>'


@dataclass
class _Pass:
    """What one pass over the articles gathers for the report."""

    totals: Counter = field(default_factory=Counter)
    per_month: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # Vietnam-time months
    per_category: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    category_month: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # site -> (category, month)
    per_author: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    per_source: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    unnamed: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # no author, no source credited
    filled: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    first: dict[str, datetime] = field(default_factory=dict)
    last: dict[str, datetime] = field(default_factory=dict)
    latest: list = field(default_factory=list)  # a heap of the newest (published_at, id, doc)
    reposts: list[dict] = field(default_factory=list)  # the copies (bounded: LISTED newest)
    reposts_by: Counter = field(default_factory=Counter)  # (publisher, copy's site, original's site) -> copies
    review: int = 0  # articles with look-alikes kept for review
    qr_mismatches: list[dict] = field(default_factory=list)
    qr_mismatched: int = 0
    since: datetime | None = None  # changed and removed since then are listed
    changed: list = field(default_factory=list)
    removed: list = field(default_factory=list)

    def add(self, doc: dict) -> None:
        if (removed := doc.get("removed_at")) is not None:
            if self.since is not None and removed >= self.since:
                _keep_newest(self.removed, LISTED, (removed, doc["_id"], doc))
            return
        changed = (doc.get("crawl") or {}).get("last_changed_at")
        if self.since is not None and changed and changed >= self.since and (doc.get("revision") or 1) > 1:
            _keep_newest(self.changed, LISTED, (changed, doc["_id"], doc))
        site, published = doc["site"], doc.get("published_at")
        self.totals[site] += 1
        month = _month(published) if published else None
        if published:
            self.per_month[site][month] += 1
            self.first[site] = min(self.first.get(site, published), published)
            self.last[site] = max(self.last.get(site, published), published)
            _keep_newest(self.latest, LATEST, (published, doc["_id"], doc))
        for category in doc.get("categories") or []:
            self.per_category[site][category["name"]] += 1
            if month:
                self.category_month[site][(category["name"], month)] += 1
        # Articles without an author or a source are said in words, not drawn: a "(none)" bar dwarfs every name.
        if doc.get("author"):
            self.per_author[site][doc["author"]] += 1
        else:
            self.unnamed[site]["author"] += 1
        source = doc.get("source") or {}
        if credited := source.get("publisher") or source.get("name"):
            self.per_source[site][credited] += 1
        else:
            self.unnamed[site]["source"] += 1
        for name in COVERAGE_LABELS:
            self.filled[site][name] += bool(doc.get(name))
        if doc.get("duplicate_of"):
            original_site = doc["duplicate_of"].split(":", 1)[0]  # an id is `<site>:<native id>`
            self.reposts_by[(credited or "", site, original_site)] += 1
            _keep_newest(self.reposts, LISTED, (published or NEVER, doc["_id"], doc))
        if any(c.get("id") for c in doc.get("repost_candidates") or []):
            self.review += 1
        if (doc.get("qr") or {}).get("matches_url") is False:
            self.qr_mismatched += 1
            _keep_newest(self.qr_mismatches, LISTED, (published or NEVER, doc["_id"], doc))


def _keep_newest(heap: list, size: int, entry: tuple) -> None:
    """Keep the `size` largest entries (newest first when sorted in reverse) in a heap."""
    if len(heap) < size:
        heapq.heappush(heap, entry)
    elif entry[:2] > heap[0][:2]:
        heapq.heapreplace(heap, entry)


def _newest(heap: list) -> list[dict]:
    return [doc for *_, doc in sorted(heap, key=lambda e: e[:2], reverse=True)]


def build_report(db: Database) -> str:
    tally = _Pass(since=_since_last_runs(db))
    for doc in read_ahead(db.articles.find({}, _FIELDS).batch_size(1000), chunk=1000):
        tally.add(doc)
    months = sorted({m for counts in tally.per_month.values() for m in counts}, reverse=True)
    charts = [_monthly_chart(tally, months[:CHART_MONTHS][::-1])]
    for site, label in SITES.items():
        for name, counts, title in (("category", tally.per_category[site], "Theo chuyên mục / Per category"),
                                    ("author", tally.per_author[site], f"Theo tác giả ({TOP} nhiều nhất) / Per author (top {TOP})"),
                                    ("source", tally.per_source[site], "Theo nguồn / Per source")):
            if counts:  # nothing named: the sentence above says so; an empty chart says nothing
                charts.append(_bars(f"{site}-{name}", f"{label}: {title}", counts.most_common(TOP)[::-1], COLOURS[site]))
    fill_rows = [[label, *(f"{tally.filled[s][name] / tally.totals[s]:.0%} ({tally.filled[s][name]})" if tally.totals[s] else "–"
                           for s in SITES)] for name, label in COVERAGE_LABELS.items()]
    unnamed_said = " ".join(
        f"{label}: {tally.unnamed[site]['author'] / tally.totals[site]:.0%} bài không ghi tác giả / of articles name no author, "
        f"{tally.unnamed[site]['source'] / tally.totals[site]:.0%} không ghi nguồn (bài của cổng) / credit no source (the portal's own)."
        for site, label in SITES.items() if tally.totals[site])
    covered = "; ".join(f"{label}: {tally.totals[site]} bài, {_local(tally.first.get(site))} → {_local(tally.last.get(site))}"
                        for site, label in SITES.items())
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Cổng tin Hải Phòng: dữ liệu thu thập / What the crawler holds</title>
<style>body{{font-family:Arial,sans-serif;margin:2em;color:#222;max-width:1200px}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}} th{{background:#f3f3f3}}
td.n{{text-align:right}} .charts{{display:grid;grid-template-columns:1fr;gap:1em}} h2{{margin-top:1.6em}}</style>
<script>{BUNDLE.read_text(encoding="utf-8")}</script></head>
<body>
<h1>Cổng tin Hải Phòng: dữ liệu thu thập / What the crawler holds</h1>
<p>Lập lúc / generated {_local(utc_now())} (giờ Việt Nam / Vietnam time). Thời gian bao phủ / period covered: {html.escape(covered)}.</p>
<h2>Số bài theo tháng / Articles per month (giờ Việt Nam / Vietnam time)</h2>
{charts[0]}
{_years_by_month(tally, months)}
{_category_months(tally, months[:HEAT_MONTHS][::-1])}
{_latest(tally)}
<h2>Tác giả, nguồn, chuyên mục / Who and what the portals name</h2>
<p>{html.escape(unnamed_said)}</p>
<div class="charts">{"".join(charts[1:])}</div>
<h2>Tỷ lệ trường có dữ liệu / Field fill rates</h2>
{_table(["bài có / articles with", *SITES.values()], fill_rows)}
{_reposts(db, tally)}
{_qr_mismatches(tally)}
{_rejects(db)}
{_changes(tally)}
{_monitors(db)}
{_runs(db)}
</body></html>"""


def _monthly_chart(tally: _Pass, months: list[str]) -> str:
    """Bars per month and portal, the last CHART_MONTHS months, each bar with its number."""
    figure = go.Figure()
    for site, label in SITES.items():
        counts = [tally.per_month[site][m] for m in months]
        figure.add_trace(go.Bar(x=months, y=counts, name=label, marker_color=COLOURS[site], text=counts, textposition="outside",
                                textangle=-90, cliponaxis=False, hovertemplate="%{x}: %{y} bài<extra>" + _label(label) + "</extra>"))
    figure.update_layout(title=f"Bài viết mỗi tháng, {len(months)} tháng gần nhất / Articles per month, the last {len(months)}",
                         barmode="group", uniformtext={"minsize": 8, "mode": "hide"},
                         xaxis={"title": {"text": "Tháng (giờ Việt Nam) / Month (Vietnam time)"}, "type": "category"},
                         yaxis={"title": {"text": "Số bài / Articles"}})
    return _figure("monthly", figure)


def _years_by_month(tally: _Pass, months: list[str]) -> str:
    """Every month's count as a number: a row per year and portal, a column per month (the last TABLE_YEARS years)."""
    years = sorted({m[:4] for m in months}, reverse=True)[:TABLE_YEARS]
    rows = []
    for year in years:
        for site, label in SITES.items():
            counts = [tally.per_month[site][f"{year}-{month:02d}"] for month in range(1, 13)]
            rows.append(_count_row(f"<td>{year}</td><td>{html.escape(label)}</td>", counts))
    head = "".join(f"<th>{month:02d}</th>" for month in range(1, 13))
    body = "".join(rows) or "<tr><td colspan=15>không có / none</td></tr>"
    return (f"<table><thead><tr><th>năm / year</th><th>cổng / portal</th>{head}<th>tổng / total</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _count_row(first: str, counts: list[int], peak: int | None = None) -> str:
    """A table row: its first cells (trusted HTML), a cell per count (`·` for none; shaded by its share of `peak`, when
    given), and the total."""
    def cell(n: int) -> str:
        if not n:
            return '<td class="n">·</td>'
        shade = f' style="background:rgba(31,119,180,{0.08 + 0.6 * n / peak:.2f})"' if peak else ""
        return f'<td class="n"{shade}>{n}</td>'

    return f'<tr>{first}{"".join(map(cell, counts))}<td class="n"><b>{sum(counts)}</b></td></tr>'


def _bars(key: str, title: str, top: list[tuple[str, int]], colour: str) -> str:
    """Horizontal bars, each with its number."""
    figure = go.Figure(go.Bar(x=[n for _, n in top], y=[_label(k) for k, _ in top], orientation="h", marker_color=colour,
                              text=[n for _, n in top], textposition="outside", cliponaxis=False,
                              hovertemplate="%{y}: %{x} bài<extra></extra>"))
    figure.update_layout(title=title, xaxis={"title": {"text": "Số bài / Articles"}}, yaxis={"automargin": True},
                         height=max(260, 60 + 24 * len(top)))
    return _figure(key, figure)


def _category_months(tally: _Pass, months: list[str]) -> str:
    """Per portal, its largest categories × the last HEAT_MONTHS months: numbers, shaded by size."""
    parts = [f"<h2>Chuyên mục theo tháng / Categories per month (the {len(months)} most recent months, "
             f"the {HEAT_CATEGORIES} largest categories of each portal)</h2>"]
    for site, label in SITES.items():
        categories = [name for name, _ in tally.per_category[site].most_common(HEAT_CATEGORIES)]
        cells = tally.category_month[site]
        peak = max((cells[(c, m)] for c in categories for m in months), default=0) or 1
        rows = []
        for name in categories:
            rows.append(_count_row(f"<td>{html.escape(name)}</td>", [cells[(name, m)] for m in months], peak))
        head = "".join(f"<th>{m}</th>" for m in months)
        body = "".join(rows) or f"<tr><td colspan={len(months) + 2}>không có / none</td></tr>"
        parts.append(f"<h3>{html.escape(label)}</h3><table><thead><tr><th>chuyên mục / category</th>{head}"
                     f"<th>tổng / total</th></tr></thead><tbody>{body}</tbody></table>")
    return "\n".join(parts)


def _latest(tally: _Pass) -> str:
    rows = [[html.escape(_local(d.get("published_at"))), html.escape(SITES.get(d["site"], d["site"])), _link(d.get("url"), d.get("title"))]
            for d in _newest(tally.latest)]
    table = _table(["giờ đăng / published", "cổng / portal", "bài / article"], rows, escape=False)
    return f"<h2>Bài mới nhất / Latest articles</h2>\n{table}"


def _reposts(db: Database, tally: _Pass) -> str:
    """Reposts grouped by the publisher the copy credits (across portals first), then the newest pairs."""
    by_publisher = sorted(tally.reposts_by.items(), key=lambda item: (item[0][1] == item[0][2], -item[1], item[0]))
    where = {True: "giữa hai cổng / across portals", False: "cùng cổng / same portal"}
    grouped = [[html.escape(publisher or "(không ghi nguồn / no source credited)"), html.escape(SITES.get(on, on)),
                html.escape(SITES.get(original, original)), where[on != original], str(count)]
               for (publisher, on, original), count in by_publisher]
    copies = _newest(tally.reposts)
    originals = {d["_id"]: d for d in db.articles.find({"_id": {"$in": [c["duplicate_of"] for c in copies]}}, {"title": 1, "url": 1})}
    pairs = [[_link(c["url"], c.get("title")),
              _link((original := originals.get(c["duplicate_of"], {})).get("url"), original.get("title") or c["duplicate_of"]),
              f"{(c.get('repost') or {}).get('score', 1.0):.2f}", html.escape((c.get("repost") or {}).get("method") or "")]
             for c in copies]
    total = sum(tally.reposts_by.values())
    across = sum(n for (_, on, original), n in tally.reposts_by.items() if on != original)
    return (f"<h2>Bài đăng lại / Reposts ({total}, {across} of them across the two portals; {tally.review} more articles have "
            f"close look-alikes kept for review: the export's repost_candidates)</h2>\n"
            "<h3>Theo nguồn / By the publisher the copy credits</h3>\n"
            + _table(["nguồn / publisher", "bản đăng lại trên / copy on", "bài gốc trên / original on", "", "số bài / reposts"], grouped,
                     escape=False)
            + f"<h3>{len(pairs)} bài đăng lại mới nhất / The {len(pairs)} newest reposts</h3>\n"
            + _table(["bản đăng lại / copy", "bài gốc / original", "độ trùng / score", "cách tìm / method"], pairs, escape=False))


def _qr_mismatches(tally: _Pass) -> str:
    rows = [[_link(d["url"], d.get("title")), html.escape(d["qr"].get("payload") or "(không đọc được / unreadable)")]
            for d in _newest(tally.qr_mismatches)]
    shown = f", the {len(rows)} newest shown" if len(rows) < tally.qr_mismatched else ""
    return (f"<h2>Mã QR không khớp bài viết / QR codes that do not match their article ({tally.qr_mismatched}{shown})</h2>\n"
            + _table(["bài viết / article", "mã QR dẫn tới / the QR code leads to"], rows, escape=False))


def _rejects(db: Database) -> str:
    docs = sorted(db.rejects.find({}, {"site": 1, "url": 1, "reasons": 1, "raw.title": 1, "last_rejected_at": 1}),
                  key=lambda d: (d.get("last_rejected_at") or NEVER, d["_id"]), reverse=True)
    reasons = Counter(r.split(":", 1)[0] for d in docs for r in d["reasons"])
    rows = [[html.escape(d["site"]), _link(d["url"], (d.get("raw") or {}).get("title") or d["url"]),
             html.escape(", ".join(d["reasons"])), _local(d.get("last_rejected_at"))] for d in docs[:LISTED]]
    summary = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "–"
    shown = f"; the {len(rows)} latest shown" if len(rows) < len(docs) else ""
    return (f"<h2>Bị loại / Rejected records ({len(docs)} records; by reason: {html.escape(summary)}{shown})</h2>\n"
            + _table(["cổng / portal", "trang / page", "lý do / reasons", "lần cuối / last (Vietnam time)"], rows, escape=False))


def _since_last_runs(db: Database) -> datetime | None:
    """When the last four finished runs began: the report's "changed lately" looks back that far."""
    return min((r["started_at"] for r in db.crawl_runs.find({"finished_at": {"$ne": None}}, {"started_at": 1})
                .sort("started_at", -1).limit(4)), default=None)


def _changes(tally: _Pass) -> str:
    if tally.since is None:
        return ""
    heading = f"Thay đổi trong các lần chạy gần nhất / Changed and removed in the last runs (since {_local(tally.since)})"
    return (f"<h2>{heading}</h2>\n"
            + _table(["bài sửa / changed article", "phiên bản / revision", "lúc / when"],
                     [[_link(d["url"], d.get("title")), str(d["revision"]), _local(d["crawl"]["last_changed_at"])]
                      for d in _newest(tally.changed)], escape=False)
            + _table(["bài bị gỡ / removed article", "lúc / when"],
                     [[_link(d["url"], d.get("title")), _local(d["removed_at"])] for d in _newest(tally.removed)], escape=False))


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
