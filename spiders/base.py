"""What both portal spiders share: arguments, origins, article requests, failures as records."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, ClassVar

import scrapy
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import FetchFailure
from crawler.urls import PortalOrigin

from .arguments import CrawlArguments
from .parsers.common import ListingEntry

log = logging.getLogger(__name__)

# Requests nearer the end of the work go first, so items finish and memory stays flat.
PRIORITY_LISTING, PRIORITY_ARTICLE, PRIORITY_ASSET = 0, 10, 20


class PortalSpider(scrapy.Spider):
    public_origin: ClassVar[str]
    categories: ClassVar[dict[str, str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raw = {k: kwargs.pop(k) for k in ("base_url", "categories", "max_pages", "full") if k in kwargs}
        super().__init__(*args, **kwargs)
        self.args = CrawlArguments.parse(raw, self.categories)
        self.origin = PortalOrigin(self.public_origin, self.args.base_url or self.public_origin)

    def article_request(self, entry: ListingEntry, listing: Response, **meta: Any) -> Request:
        canonical = self.origin.canonical_url(entry.url)
        return Request(
            self.origin.fetch_url(canonical),
            callback=self.parse_article,
            errback=self.fetch_failed,
            priority=PRIORITY_ARTICLE,
            cb_kwargs={"listing_url": self.origin.public_url(listing.url), "seen_url": entry.url},
            meta=meta,
        )

    def listing_pages_left(self, page: int) -> bool:
        return self.args.max_pages is None or page < self.args.max_pages

    def fetch_failed(self, failure: Failure) -> Iterable[FetchFailure]:
        """A page that could not be had after retries becomes a record in `rejects`."""
        request: Request = failure.request
        status = failure.value.response.status if failure.check(HttpError) else None
        reason = f"http_{status}" if status else f"fetch_failed: {failure.type.__name__}: {failure.getErrorMessage()}"
        self.crawler.stats.inc_value("fetch/failed")
        log.warning("giving up on %s: %s", request.url, reason)
        yield FetchFailure(
            site=self.name,
            url=self.origin.public_url(request.url),
            reason=reason,
            listing_url=request.cb_kwargs.get("listing_url"),
            http_status=status,
        )

    def parse_article(self, response: Response, listing_url: str, seen_url: str) -> Iterable[Any]:
        raise NotImplementedError
