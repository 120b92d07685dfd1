"""Honour `Retry-After` on 429/503 answers: wait as asked, then retry, within the retry budget."""

from __future__ import annotations

import asyncio
import logging
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.dates import utc_now

log = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, (parsedate_to_datetime(text) - utc_now()).total_seconds())
    except (TypeError, ValueError):
        return None


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler, max_wait: float) -> None:
        self.crawler = crawler
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(crawler, crawler.settings.getfloat("PORTAL_RETRY_AFTER_MAX"))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        wait = retry_after_seconds(response.headers.get("Retry-After")) if response.status in (429, 503) else None
        if wait is None:
            return response
        wait = min(wait, self.max_wait)
        self.crawler.stats.inc_value("retry_after/waits")
        log.info("%s answered %s, waiting %.1fs as Retry-After asks", request.url, response.status, wait)
        await asyncio.sleep(wait)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"{response.status} Retry-After")
        return retry or response
