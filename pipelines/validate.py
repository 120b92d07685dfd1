"""Stage 2: check each record; one that fails is dropped with every reason, and the store keeps it in `rejects`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawler.dates import utc_now
from crawler.items import ArticleItem, FetchFailure, Rejected


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
    """Raises `Rejected` (a DropItem with every reason) for a record not fit to store; the store records it."""

    def __init__(self, min_body_chars: int, earliest: datetime, future_tolerance: timedelta) -> None:
        self.min_body_chars = min_body_chars
        self.earliest = earliest
        self.future_tolerance = future_tolerance

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidateArticlePipeline:
        s = crawler.settings
        return cls(
            min_body_chars=s.getint("VALIDATE_MIN_BODY_CHARS"),
            earliest=datetime.fromisoformat(s.get("VALIDATE_EARLIEST_DATE")).replace(tzinfo=UTC),
            future_tolerance=timedelta(hours=s.getfloat("VALIDATE_FUTURE_TOLERANCE_HOURS")),
        )

    def process_item(self, item: object) -> object:
        if isinstance(item, FetchFailure):  # a page never had: nothing to store, a record to keep
            raise Rejected(item.site, item.url, [item.reason], ItemAdapter(item).asdict())
        if not isinstance(item, ArticleItem):
            return item
        errors = validation_errors(item, utc_now(), self.min_body_chars, self.earliest, self.future_tolerance)
        if errors:
            raw = ItemAdapter(item).asdict()
            raw.pop("body_html", None)
            raise Rejected(item.site, item.url, errors, raw)
        return item
