"""Stage 2: check each record; one that fails is dropped with every reason, and the store keeps it in `rejects`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawler import reasons
from crawler.dates import utc_now
from crawler.items import ArticleItem, Rejected

from . import ArticleStage


def validation_errors(item: ArticleItem, now: datetime, min_body_chars: int, earliest: datetime,
                      future_tolerance: timedelta) -> list[str]:
    """Every reason the record is not fit to store (an empty list when it is)."""
    errors = []
    if not item.native_id:
        errors.append(reasons.MISSING_ID)
    if not item.url:
        errors.append(reasons.MISSING_URL)
    if not item.title:
        errors.append(reasons.MISSING_TITLE)
    if item.published_at is None:
        errors.append(reasons.MISSING_DATE)
    elif item.published_at > now + future_tolerance:
        errors.append(reasons.FUTURE_DATE)
    elif item.published_at < earliest:
        errors.append(reasons.DATE_TOO_OLD)
    if item.modified_at and item.published_at and item.modified_at > now + future_tolerance:
        errors.append(reasons.FUTURE_MODIFIED_DATE)
    if not item.body_text:
        errors.append(reasons.EMPTY_BODY)
    elif len(item.body_text) < min_body_chars:
        errors.append(reasons.SHORT_BODY)
    if item.qr is not None and not item.qr.get("payload"):
        errors.append(reasons.QR_UNREADABLE)
    return errors


class ValidateArticlePipeline(ArticleStage):
    """Raises `Rejected` (a DropItem with every reason) for a record not fit to store; the store records it.
    Articles only: a fetch that failed never reaches a page to check, and goes past to the store."""

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

    async def process_article(self, item: ArticleItem) -> ArticleItem:
        errors = validation_errors(item, utc_now(), self.min_body_chars, self.earliest, self.future_tolerance)
        if errors:
            raw = ItemAdapter(item).asdict()
            raw.pop("body_html", None)
            raise Rejected(item.site, item.url, errors, raw)
        return item
