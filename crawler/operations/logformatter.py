"""How a crawl logs: a dropped item's reason rather than its whole body, and no record made below `LOG_LEVEL`."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.logformatter import LogFormatter


class PortalLogFormatter(LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> dict:
        # Scrapy appends the item's repr: a whole article body per reject, most of a crawl's log.
        return {**super().dropped(item, exception, response, spider), "msg": "Dropped: %(exception)s",
                "args": {"exception": exception}}


class RootLogLevel:
    """Raise the root logger to `LOG_LEVEL` for the crawl, so a DEBUG line below it costs one comparison.

    Scrapy leaves the root logger at NOTSET and filters in its handlers: every "Crawled (200)",
    "Scraped from", and PIL's line for each chunk of a QR image, was made into a record, passed to
    the handlers and thrown away there (1.4% of a city crawl's main thread, py-spy). Only a root
    left at NOTSET is raised, and it is put back when the spider closes (tests, a reparse, run
    several crawls in one process).
    """

    def __init__(self, level: int) -> None:
        self.level = level
        self._raised = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RootLogLevel:
        extension = cls(logging.getLevelName(crawler.settings.get("LOG_LEVEL", "DEBUG")))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        if logging.root.level == logging.NOTSET and isinstance(self.level, int):
            logging.root.setLevel(self.level)
            self._raised = True

    def spider_closed(self) -> None:
        if self._raised:
            logging.root.setLevel(logging.NOTSET)
            self._raised = False
