"""One bad page costs one record, never the run: an exception while reading a page goes to the spider's
`page_unreadable`, which makes an article a reject naming the failure (`parse_error:RecursionError`)
and a listing page a failed page of the run. Scrapy would log it and lose the article."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

log = logging.getLogger(__name__)


class PageErrorsMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageErrorsMiddleware:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any] | None:
        handler = getattr(self.crawler.spider, "page_unreadable", None)
        if handler is None or isinstance(exception, HttpError):  # an HTTP error status is Scrapy's to handle
            return None
        self.crawler.stats.inc_value("pages/unreadable")
        self.crawler.stats.inc_value(f"pages/unreadable/{type(exception).__name__}")
        log.warning("could not read %s: %s: %s", response.url, type(exception).__name__, exception,
                    exc_info=(type(exception), exception, exception.__traceback__))
        return handler(response, exception)
