"""The fill-rate monitor's judgement: a drop counts when it is large and unlikely by chance for a run of its size."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.operations.monitors import chance_of_at_most


def test_a_small_day_with_fewer_photos_is_chance_a_field_gone_empty_is_not():
    assert chance_of_at_most(3, 7, 0.71) > 0.05  # three photos in seven articles, where 71 % usually have one
    assert chance_of_at_most(0, 7, 0.58) < 0.01  # no byline in seven articles, where 58 % usually have one
    assert chance_of_at_most(43, 100, 0.71) < 1e-6  # the same share over a hundred articles is a change


@pytest.mark.parametrize(("filled", "items", "rate", "chance"), [(0, 5, 1.0, 0.0), (5, 5, 1.0, 1.0), (2, 5, 0.0, 1.0)])
def test_edge_rates(filled, items, rate, chance):
    assert chance_of_at_most(filled, items, rate) == chance


def _monitors_over(run: dict, history: list[dict], stored: list[dict]) -> dict:
    """The monitor suite as the run recorder runs it, over plain values: this run, earlier runs, stored records."""
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from crawler import settings as project_settings
    from crawler.operations.monitors import stored_fill_rates
    from crawler.operations.runs import CrawlRunRecorder

    crawler = get_crawler(Spider, {k: getattr(project_settings, k) for k in dir(project_settings) if k.startswith("MONITOR_")})
    spider = crawler._create_spider("thanhphohaiphong")
    recorder = CrawlRunRecorder.__new__(CrawlRunRecorder)
    recorder.crawler, recorder.portal_now = crawler, None
    return recorder.run_monitors(spider, run, {}, history, [], stored_fill_rates(stored))


@pytest.mark.filterwarnings("ignore:Spider.log:scrapy.exceptions.ScrapyDeprecationWarning")  # Spidermon's runner logs so
def test_with_no_earlier_good_run_the_stored_records_are_the_baseline_and_the_dropped_fields_are_named():
    from crawler.operations.monitors import FILL_FIELDS
    from crawler.operations.runs import RUN_COUNTS

    stored = [{"title": "t", "author": "A", "qr": {"payload": "u", "matches_url": True}, "images": [{}], "body_text": "b",
               "published_at": 1, "summary": "s", "categories": [], "source": None} for _ in range(100)]
    now = dict.fromkeys(FILL_FIELDS, 1.0) | {"author": 0.0, "qr.payload": 0.0, "qr.matches_url": 0.0, "source": 0.0}
    run = {"_id": "r2", "spider": "thanhphohaiphong", "kind": "incremental", "state": "finished", "items": 80,
           "fill_rates": now, "counts": dict.fromkeys(RUN_COUNTS, 0), "started_at": datetime(2026, 12, 5, tzinfo=UTC)}
    flagged = [{"state": "finished", "kind": "full", "items": 100, "fill_rates": dict.fromkeys(FILL_FIELDS, 1.0),
                "monitors": {"failed": [{"monitor": "Push-back and failures", "message": "too many rejects"}]}}]
    results = _monitors_over(run, flagged, stored)
    [fill] = [f for f in results["failed"] if "filled" in f["monitor"]]
    assert "records stored before this run" in fill["message"]
    assert "author 100% → 0%" in fill["message"] and "qr.payload 100% → 0%" in fill["message"]
    assert "source" not in fill["message"]  # never filled in the stored records either: no drop
    assert _monitors_over(run, flagged, [])["skipped"]  # nothing stored, no earlier good run: no baseline, skipped
