"""The analysts' report renders in a real browser, with its charts drawn."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from crawler.report import write_report
from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS

pytestmark = pytest.mark.e2e


def test_report_renders_in_chromium_with_non_empty_charts(crawled, tmp_path):
    path = write_report(crawled.db, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.split("<body>", 1)[1].split("QR payload")[0]  # self-contained
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        charts = page.locator("svg.chart")
        assert charts.count() == 2
        bars = [charts.nth(i).locator("rect.bar") for i in range(2)]
        assert all(b.count() > 10 for b in bars)
        heights = [float(h) for h in page.eval_on_selector_all("svg.chart rect.bar", "rs => rs.map(r => r.getAttribute('height'))")]
        assert sum(h > 1 for h in heights) > 20
        shot = charts.nth(0).screenshot()
        browser.close()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    coloured = sum(1 for r, g, b in image.get_flattened_data() if (r, g, b) in ((31, 119, 180), (214, 39, 40)))
    assert coloured > 2000  # the bars are really painted, in both portals' colours
    assert errors == []
    assert "qr_unreadable" in text and "MINH PHƯƠNG" not in text  # rejects listed; article text is not the report's business
