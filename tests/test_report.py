"""The analysts' report renders in a real browser with no network, its charts drawn, its tables linked."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from PIL import Image

from crawler.handoff.report import write_report
from tests.helpers import chromium_page

pytestmark = pytest.mark.e2e


def test_report_renders_offline_in_chromium_with_every_chart_drawn(crawled, tmp_path):
    path = write_report(crawled.db, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)  # plotly.js is inside the file (and Chromium below may not fetch)
    assert path.stat().st_size <= 1_500_000 and text.count("plotly.js (basic - minified)") == 1  # one minified bundle
    asked: list[str] = []
    with chromium_page() as (page, errors):

        def offline(route) -> None:  # the file must need nothing but itself
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                asked.append(route.request.url)
                route.abort()

        page.route("**/*", offline)
        page.goto(path.as_uri())
        page.wait_for_selector(".plotly-graph-div .main-svg")
        graphs = page.locator(".plotly-graph-div")
        # Per month; per category, author and source for each portal, when it names any (no empty chart).
        assert 5 <= graphs.count() <= 7
        for i in range(graphs.count()):
            assert graphs.nth(i).locator("g.trace").count() >= 1
        assert page.locator("#chart-monthly .xtitle").text_content().startswith("Tháng")
        shot = page.locator("#chart-monthly").screenshot()
        bars = page.locator("#chart-thanhphohaiphong-category g.point path").count()
        numbers = page.locator("#chart-thanhphohaiphong-category text.bartext").all_text_contents()
        authors = page.locator("#chart-thanhphohaiphong-author").text_content()
    assert errors == [] and asked == []
    assert bars == 4  # the city portal's four categories, and none of the police portal's
    city = Counter(c["name"] for d in crawled.db.articles.find({"site": "thanhphohaiphong", "removed_at": None}) for c in d["categories"])
    assert sorted(map(int, numbers)) == sorted(city.values())  # each bar says its number
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    pixels = Counter(image.get_flattened_data())
    assert pixels[(31, 119, 180)] > 300 and pixels[(214, 39, 40)] > 300  # both portals' bars are painted
    copies = list(crawled.db.articles.find({"duplicate_of": {"$ne": None}, "removed_at": None}, {"site": 1, "duplicate_of": 1}))
    across = sum(c["duplicate_of"].split(":")[0] != c["site"] for c in copies)
    assert across and f"Bài đăng lại / Reposts ({len(copies)}, {across} of them across the two portals;" in text
    assert "By the publisher the copy credits" in text and 'href="https://congan.haiphong.gov.vn/' in text
    assert "Categories per month" in text and all(f"<td>{name}</td>" in text for name in city)
    rejects = crawled.db.rejects.count_documents({})
    assert f"Rejected records ({rejects} records;" in text and "qr_unreadable" in text
    assert "MINH PHƯƠNG" in authors  # the seed's byline, drawn among the authors
    assert "(none)" not in authors and "of articles name no author" in text  # said in words, not drawn as a bar
    assert "Articles per month" in text and "Latest articles" in text
