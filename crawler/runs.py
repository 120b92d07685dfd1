"""One `crawl_runs` document per run: who ran, when, with what arguments, what came of it."""

from __future__ import annotations

import os
import uuid
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.dates import utc_now
from crawler.mongo import shared_mongo

# The counters a run reports, from the crawl's stats.
RUN_COUNTS = {
    "listing_pages": "listing/pages",
    "articles_new": "articles/new",
    "articles_changed": "articles/changed",
    "articles_unchanged": "articles/unchanged",
    "articles_removed": "articles/removed",
    "articles_skipped": "articles/skipped",
    "articles_rejected": "rejects/total",
    "fetch_failures": "fetch/failed",
    "requests": "downloader/request_count",
    "errors": "log_count/ERROR",
}


def job_id_of(spider: Spider) -> str:
    """The scrapyd job id (`_job` argument, `SCRAPY_JOB`), or a fresh id for a run by hand."""
    job = getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB")
    if not job:
        job = getattr(spider, "_manual_job_id", None) or f"manual-{uuid.uuid4().hex[:12]}"
        spider._manual_job_id = job
    return job


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: str | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        handle = shared_mongo.acquire(self.crawler)
        job_id = job_id_of(spider)
        self.run_id = f"{spider.name}:{job_id}"
        args = getattr(spider, "args", None)
        handle.db.crawl_runs.replace_one({"_id": self.run_id}, {
            "_id": self.run_id,
            "spider": spider.name,
            "job_id": job_id,
            "version": self.crawler.settings.get("PORTAL_VERSION"),
            "profile": self.crawler.settings.get("PORTAL_PROFILE"),
            "arguments": vars(args) if args is not None else {},
            "started_at": utc_now(),
            "finished_at": None,
            "finish_reason": None,
        }, upsert=True)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        handle = shared_mongo.handles.get(id(self.crawler))
        if handle is None or self.run_id is None:
            return
        try:
            stats: dict[str, Any] = self.crawler.stats.get_stats()
            counts = {name: int(stats.get(key, 0)) for name, key in RUN_COUNTS.items()}
            handle.db.crawl_runs.update_one({"_id": self.run_id}, {"$set": {
                "finished_at": utc_now(), "finish_reason": reason, "counts": counts,
                "rejects_by_reason": {k.split("/", 1)[1]: v for k, v in stats.items() if k.startswith("rejects/") and k != "rejects/total"},
            }})
        finally:
            shared_mongo.release(self.crawler)
