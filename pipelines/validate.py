"""Stage 2: check each record; a record that fails goes to `rejects` with every reason, never silently."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.dates import utc_now
from crawler.durable import update, updates_job
from crawler.items import ArticleItem, FetchFailure
from crawler.mongo import shared_mongo
from crawler.runs import job_id_of

log = logging.getLogger(__name__)


def validation_errors(item: ArticleItem, now: datetime, min_body_chars: int, earliest: datetime,
                      future_tolerance: timedelta) -> list[str]:
    """Every reason the record is not fit to store (an empty list when it is)."""
    errors = []
    if not item.native_id:
        errors.append("missing_id")
    if not item.url:
        errors.append("missing_url")
    if not item.title:
        errors.append("missing_title")
    if item.published_at is None:
        errors.append("missing_date")
    elif item.published_at > now + future_tolerance:
        errors.append("future_date")
    elif item.published_at < earliest:
        errors.append("date_too_old")
    if item.modified_at and item.published_at and item.modified_at > now + future_tolerance:
        errors.append("future_modified_date")
    if not item.body_text:
        errors.append("empty_body")
    elif len(item.body_text) < min_body_chars:
        errors.append("short_body")
    if item.qr is not None and not item.qr.get("payload"):
        errors.append("qr_unreadable")
    return errors


class ValidateArticlePipeline:
    def __init__(self, crawler: Crawler, min_body_chars: int, earliest: datetime, future_tolerance: timedelta,
                 batch_size: int) -> None:
        self.crawler = crawler
        self.min_body_chars = min_body_chars
        self.earliest = earliest
        self.future_tolerance = future_tolerance
        self.batch_size = batch_size
        self.pending: list[dict] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidateArticlePipeline:
        s = crawler.settings
        return cls(
            crawler,
            min_body_chars=s.getint("VALIDATE_MIN_BODY_CHARS"),
            earliest=datetime.fromisoformat(s.get("VALIDATE_EARLIEST_DATE")).replace(tzinfo=UTC),
            future_tolerance=timedelta(hours=s.getfloat("VALIDATE_FUTURE_TOLERANCE_HOURS")),
            batch_size=s.getint("MONGO_BATCH_SIZE"),
        )

    def open_spider(self) -> None:
        self.writer = shared_mongo.acquire(self.crawler).writer

    async def close_spider(self) -> None:
        try:
            await self.flush()
            await self.writer.drain()
        finally:
            shared_mongo.release(self.crawler)

    async def process_item(self, item: object) -> object:
        if isinstance(item, FetchFailure):
            await self.reject(item.site, item.url, [item.reason], ItemAdapter(item).asdict())
            raise DropItem(f"recorded in rejects: {item.url} ({item.reason})")
        if not isinstance(item, ArticleItem):
            return item
        errors = validation_errors(item, utc_now(), self.min_body_chars, self.earliest, self.future_tolerance)
        if errors:
            raw = ItemAdapter(item).asdict()
            raw.pop("body_html", None)
            await self.reject(item.site, item.url, errors, raw)
            raise DropItem(f"rejected {item.url}: {', '.join(errors)}")
        return item

    async def reject(self, site: str, url: str, reasons: list[str], raw: dict) -> None:
        stats = self.crawler.stats
        stats.inc_value("rejects/total")
        for reason in reasons:
            stats.inc_value(f"rejects/{reason.split(':', 1)[0]}")
        now = utc_now()
        job_id = job_id_of(self.crawler.spider)
        self.pending.append(update(
            "rejects", {"_id": f"{site}:{url}"},
            {"$set": {"site": site, "url": url, "reasons": reasons, "raw": raw, "last_rejected_at": now,
                      "job_id": job_id, "spider": self.crawler.spider.name},
             "$setOnInsert": {"first_rejected_at": now}, "$addToSet": {"jobs": job_id}},
            upsert=True,
        ))
        if len(self.pending) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        ops, self.pending = self.pending, []
        if ops:
            await self.writer.submit(updates_job(ops))
