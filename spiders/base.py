"""What both portal spiders share: arguments, origins, state, article requests, failures as records.

Incremental by default: what a crawl already knows comes from MongoDB (`CrawlState`); a listed
article is fetched only when it is unknown or listed with a newer date, recent articles are
rechecked with conditional requests, and an article the portal no longer lists is confirmed
gone (404/410) before it is marked removed. `full=1` fetches everything again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, ClassVar

import scrapy
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.dates import utc_now
from crawler.items import ArticleItem, ArticleRemoved, ArticleSeenUnder, ArticleUnchanged, FetchFailure
from crawler.mongo import shared_mongo
from crawler.state import CrawlState, Known
from crawler.urls import PortalOrigin

from .arguments import CrawlArguments
from .parsers.common import ListingEntry

log = logging.getLogger(__name__)

# Requests nearer the end of the work go first, so items finish and memory stays flat.
PRIORITY_LISTING, PRIORITY_ARTICLE, PRIORITY_ASSET = 0, 10, 20
GONE = (404, 410)


class PortalSpider(scrapy.Spider):
    public_origin: ClassVar[str]
    categories: ClassVar[dict[str, str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raw = {k: kwargs.pop(k) for k in ("base_url", "categories", "max_pages", "full") if k in kwargs}
        super().__init__(*args, **kwargs)
        self.args = CrawlArguments.parse(raw, self.categories)
        self.origin = PortalOrigin(self.public_origin, self.args.base_url or self.public_origin)
        self.state = CrawlState(self.name)
        self.requested: set[str] = set()  # native ids asked for in this run
        self.skipped: set[str] = set()
        self.listed_as: dict[str, set[str]] = defaultdict(set)  # every URL each article is listed under
        self.finished: set[str] = set()  # native ids whose item has gone to the pipelines

    # State ------------------------------------------------------------------------------------

    def load_state(self) -> None:
        db = shared_mongo.acquire(self.crawler).db
        try:
            self.state = CrawlState.load(db, self.name)
        finally:
            shared_mongo.release(self.crawler)
        log.info("%s: %d articles known before this run%s", self.name, len(self.state.known), " (full crawl)" if self.args.full else "")

    @property
    def incremental(self) -> bool:
        return not self.args.full and bool(self.state.known)

    def wants(self, native_id: str | None, date: Any) -> bool:
        """Whether a listed article needs a request (and counts the ones that do not)."""
        if native_id and native_id in self.requested:
            return False
        if not self.incremental or self.state.is_news(native_id, date):
            return True
        if native_id not in self.skipped:
            self.skipped.add(native_id)
            self.crawler.stats.inc_value("articles/skipped")
        return False

    def listed_under(self, entries: Iterable[ListingEntry]) -> Iterable[ArticleSeenUnder]:
        """Remember the URL each listed article goes by; one met after its item left becomes an alias."""
        for entry in entries:
            if not entry.native_id or entry.url in self.listed_as[entry.native_id]:
                continue
            self.listed_as[entry.native_id].add(entry.url)
            if entry.native_id in self.finished and entry.url != self.origin.canonical_url(entry.url):
                yield ArticleSeenUnder(site=self.name, native_id=entry.native_id, url=entry.url)

    # Requests ---------------------------------------------------------------------------------

    def article_request(self, entry: ListingEntry, listing: Response | None, **meta: Any) -> Request:
        canonical = self.origin.canonical_url(entry.url)
        if entry.native_id:
            self.requested.add(entry.native_id)
        return Request(
            self.origin.fetch_url(canonical),
            callback=self.parse_article,
            errback=self.fetch_failed,
            priority=PRIORITY_ARTICLE,
            cb_kwargs={"listing_url": self.origin.public_url(listing.url) if listing else None, "seen_url": entry.url},
            meta={"native_id": entry.native_id, **meta},
        )

    def recheck_requests(self) -> Iterable[Request]:
        """Conditional requests for recent articles not looked at for a while."""
        if not self.incremental:
            return
        settings = self.crawler.settings
        due = self.state.due_for_recheck(utc_now(), timedelta(days=settings.getfloat("INCREMENTAL_RECHECK_DAYS")),
                                         timedelta(hours=settings.getfloat("INCREMENTAL_RECHECK_HOURS")))
        for known in due:
            headers = {k: v for k, v in (("If-None-Match", known.etag), ("If-Modified-Since", known.last_modified)) if v}
            request = self.article_request(ListingEntry(url=known.url, title="", native_id=known.native_id), None)
            self.crawler.stats.inc_value("articles/rechecked")
            yield request.replace(headers=headers, meta={**request.meta, "handle_httpstatus_list": [304]})

    def confirm_removals(self, candidates: Iterable[str]) -> Iterable[Request]:
        """Ask once more for known articles the portal no longer lists: 404/410 marks them removed."""
        for native_id in sorted(set(candidates) - self.requested):
            known: Known = self.state.known[native_id]
            if known.url is None:
                continue
            self.crawler.stats.inc_value("articles/removal_checks")
            yield self.article_request(ListingEntry(url=known.url, title="", native_id=native_id), None)

    # Answers ----------------------------------------------------------------------------------

    def finish_item(self, item: ArticleItem, response: Response, listing_url: str | None, seen_url: str) -> ArticleItem:
        item.listing_url = listing_url
        item.seen_urls.append(seen_url)
        if item.native_id:
            item.seen_urls.extend(sorted(self.listed_as.get(item.native_id, ())))
            self.finished.add(item.native_id)
        item.etag = response.headers.get("ETag", b"").decode("latin-1") or None
        item.last_modified = response.headers.get("Last-Modified", b"").decode("latin-1") or None
        return item

    def unchanged(self, response: Response) -> ArticleUnchanged | None:
        """A 304 to a conditional request: the stored article is current."""
        native_id = response.meta.get("native_id")
        if response.status == 304 and native_id:
            return ArticleUnchanged(site=self.name, native_id=native_id, url=self.origin.public_url(response.url))
        return None

    def fetch_failed(self, failure: Failure) -> Iterable[FetchFailure | ArticleRemoved]:
        """A page that could not be had: a known article that is gone is marked removed; anything
        else becomes a record in `rejects`. Nothing is dropped silently."""
        request: Request = failure.request
        status = failure.value.response.status if failure.check(HttpError) else None
        known = self.state.known.get(request.meta.get("native_id") or "")
        if status in GONE and known is not None and not known.rejected:
            yield ArticleRemoved(site=self.name, native_id=known.native_id, url=known.url, http_status=status)
            return
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

    def listing_pages_left(self, page: int) -> bool:
        return self.args.max_pages is None or page < self.args.max_pages

    def parse_article(self, response: Response, listing_url: str | None, seen_url: str) -> Iterable[Any]:
        raise NotImplementedError
