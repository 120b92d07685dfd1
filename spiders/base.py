"""What both portal spiders share: arguments, origins, state, walks, article requests, failures as records.

Incremental by default: what a crawl already knows comes from MongoDB (`CrawlState`); a listed
article is fetched only when it is unknown (by id, else by URL or a former URL) or listed with
a newer date, recent articles are rechecked with conditional requests, articles whose fetch
failed in an earlier run are asked for again, and an article the portal no longer lists is
confirmed gone (404/410) before it is marked removed. Each category's walk knows whether the
last one finished (`crawler.incremental.walks`): only then may it stop at the first page holding nothing
new. `full=1` fetches everything again. Links to other hosts are never followed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta
from types import ModuleType
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import reasons
from crawler.dates import utc_now
from crawler.incremental.state import CrawlState, Known
from crawler.incremental.walks import ListingBounds, Step, Walks
from crawler.items import ArticleItem, ArticleRemoved, ArticleSeenUnder, ArticleUnchanged, FetchFailure
from crawler.middlewares.scope import OffsiteRefused
from crawler.operations.runs import run_id_of
from crawler.portals import PORTALS
from crawler.storage.archive import ARTICLE
from crawler.storage.mongo import MongoConnection
from crawler.urls import PortalOrigin

from .arguments import CrawlArguments
from .parsers.common import ListingEntry

log = logging.getLogger(__name__)

# Requests nearer the end of the work go first, so items finish and memory stays flat.
PRIORITY_LISTING, PRIORITY_ARTICLE, PRIORITY_ASSET = 0, 10, 20
GONE = (404, 410)


class PortalSpider(scrapy.Spider):
    parser: ClassVar[ModuleType]  # the portal's parser module (spiders/parsers/<portal>.py)
    public_origin: ClassVar[str]
    categories: ClassVar[dict[str, str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raw = {k: kwargs.pop(k) for k in ("base_url", "categories", "max_pages", "full") if k in kwargs}
        super().__init__(*args, **kwargs)
        self.args = CrawlArguments.parse(raw, self.categories)
        self.origin = PortalOrigin(self.public_origin, self.args.base_url or self.public_origin)
        # The origins every request must stay on (crawler/middlewares/scope.py, and Chromium's rules).
        portal = PORTALS.get(self.name)
        self.scope = self.origin.scope(portal.asset_origins if portal else ())
        self.state = CrawlState(self.name)
        self.walks = Walks(self.name, self.args.categories, incremental=False, max_pages=self.args.max_pages)
        self.requested: set[str] = set()  # native ids (or, with none, canonical URLs) asked for in this run
        self.skipped: set[str] = set()
        # Every URL each article is listed under: mostly one, kept as it is (a set an article was 240 bytes more).
        self.listed_as: dict[str, str | tuple[str, ...]] = {}
        self.finished: set[str] = set()  # native ids whose item has gone to the pipelines
        self.run_facts: dict[str, Any] = {}  # what this run learnt about the portal (a closed API…), kept in crawl_runs

    # State ------------------------------------------------------------------------------------

    async def load_state(self) -> None:
        """What MongoDB knows of the portal and of its last walks; this run's walks are marked under way."""
        mongo = MongoConnection.of(self.crawler)
        self.state = await asyncio.to_thread(CrawlState.load, mongo.db, self.name)
        incremental = not self.args.full and bool(self.state.known)
        settings = self.crawler.settings
        bounds = ListingBounds(margin=settings.getint("PORTAL_LISTING_PAGE_MARGIN"),
                               stale_pages=settings.getint("PORTAL_LISTING_STALE_PAGES"),
                               ceiling=settings.getint("PORTAL_LISTING_MAX_PAGES"))
        self.walks = await asyncio.to_thread(Walks.load, mongo.db, self.name, self.args.categories, incremental, self.args.max_pages,
                                             bounds)
        await self.walks.begin(mongo.writer, self.run_id)
        unfinished = self.walks.unfinished_before()
        log.info("%s: %d articles known before this run%s%s", self.name, len(self.state.known), " (full crawl)" if self.args.full else "",
                 f"; the last walk of {', '.join(unfinished)} did not finish: walking to the end" if unfinished else "")
        if unfinished:
            self.run_facts["walks_resumed"] = unfinished

    @property
    def run_id(self) -> str:
        return run_id_of(self)

    @property
    def incremental(self) -> bool:
        return self.walks.incremental

    def identified(self, entries: Iterable[ListingEntry]) -> list[ListingEntry]:
        """The entries on the portal's own hosts, each with its native id (from the listing, else from its URL)."""
        kept = []
        for entry in entries:
            if not self.origin.owns(entry.url):
                self.crawler.stats.inc_value("offsite/ignored_links")
                log.warning("not following a listed link to another host: %s", entry.url)
                continue
            if not entry.native_id:
                entry.native_id = self.state.identify(None, self.origin.canonical_url(entry.url))
            kept.append(entry)
        return kept

    def wants(self, entry: ListingEntry) -> bool:
        """Whether a listed article needs a request (and counts the ones that do not)."""
        key = entry.native_id or self.origin.canonical_url(entry.url)
        if key in self.requested:
            return False
        if not self.incremental or self.state.is_news(entry.native_id, entry.date):
            return True
        if key not in self.skipped:
            self.skipped.add(key)
            self.crawler.stats.inc_value("articles/skipped")
        return False

    def failed_fetch_requests(self) -> Iterable[Request]:
        """Articles whose fetch failed in an earlier run: asked for again (a stored one resolves its reject)."""
        for url in self.state.failed_fetches:
            native_id = self.state.identify(None, url) or self.article_id_from_url(url)
            self.crawler.stats.inc_value("fetch/retried_from_rejects")
            yield self.article_request(ListingEntry(url=url, title="", native_id=native_id), None)

    def article_id_from_url(self, url: str) -> str | None:
        """The native id a URL itself carries, if any (the portal's parser knows how)."""
        return self.parser.article_id_from_url(url)

    def known_article_requests(self) -> Iterable[Request]:
        """What is asked for whatever the listings say: failed fetches of earlier runs, then recent articles to recheck."""
        yield from self.failed_fetch_requests()
        yield from self.recheck_requests()

    def listed_under(self, entries: Iterable[ListingEntry]) -> Iterable[ArticleSeenUnder]:
        """Remember the URL each listed article goes by; one met after its item left becomes an alias."""
        for entry in entries:
            if not entry.native_id or entry.url in (urls := self.listed_urls(entry.native_id)):
                continue
            self.listed_as[entry.native_id] = (*urls, entry.url) if urls else entry.url
            if entry.native_id in self.finished and entry.url != self.origin.canonical_url(entry.url):
                yield ArticleSeenUnder(site=self.name, native_id=entry.native_id, url=entry.url)

    def listed_urls(self, native_id: str) -> tuple[str, ...]:
        urls = self.listed_as.get(native_id, ())
        return (urls,) if isinstance(urls, str) else urls

    # Requests ---------------------------------------------------------------------------------

    def article_request(self, entry: ListingEntry, listing: Response | None, **meta: Any) -> Request:
        canonical = self.origin.canonical_url(entry.url)
        self.requested.add(entry.native_id or canonical)
        return Request(
            self.origin.fetch_url(canonical),
            callback=self.parse_article,
            errback=self.fetch_failed,
            priority=PRIORITY_ARTICLE,
            cb_kwargs={"listing_url": self.origin.public_url(listing.url) if listing else None, "seen_url": entry.url},
            meta={"native_id": entry.native_id, "archive": ARTICLE, **meta},
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
            item.seen_urls.extend(sorted(self.listed_urls(item.native_id)))
            self.finished.add(item.native_id)
        item.etag = response.headers.get("ETag", b"").decode("latin-1") or None
        item.last_modified = response.headers.get("Last-Modified", b"").decode("latin-1") or None
        return item

    def unchanged(self, response: Response) -> ArticleUnchanged | None:
        """A 304 to a conditional request: the stored article is current."""
        native_id = response.meta.get("native_id")
        if response.status == 304 and native_id:
            return ArticleUnchanged(site=self.name, native_id=native_id, url=self.origin.canonical_url(response.url))
        return None

    def fetch_failed(self, failure: Failure) -> Iterable[FetchFailure | ArticleRemoved]:
        """An article that could not be had: a known one that is gone is marked removed; anything
        else becomes a record in `rejects`, and the next run asks again. Nothing is dropped silently."""
        request: Request = failure.request
        status = failure.value.response.status if failure.check(HttpError) else None
        known = self.state.known.get(request.meta.get("native_id") or "")
        if status in GONE and known is not None and not known.rejected:
            yield ArticleRemoved(site=self.name, native_id=known.native_id, url=known.url, http_status=status)
            return
        yield self.failed_fetch(asked_url(request), failure_reason(failure), request.cb_kwargs.get("listing_url"), status)

    def failed_fetch(self, url: str, reason: str, listing_url: str | None, status: int | None = None) -> FetchFailure:
        """An article given up on for this run: counted, logged, and a record for `rejects` (the next run asks
        again when the reason is a failure of the moment: `crawler.reasons.retried_next_run`)."""
        url = self.origin.canonical_url(url)
        self.crawler.stats.inc_value("fetch/failed")
        self.crawler.stats.inc_value(f"fetch/causes/{reasons.in_words(reason)}")
        log.warning("giving up on %s for this run: %s", url, reason)
        return FetchFailure(site=self.name, url=url, reason=reason, listing_url=listing_url, http_status=status)

    def listing_failed(self, failure: Failure) -> Iterable[Any]:
        """A listing page that could not be had: its walk proves nothing about what it missed, and is not complete."""
        self.walks[failure.request.cb_kwargs["category"]].failed = True
        self.page_failed(failure, "listing page")
        return ()

    def page_failed(self, failure: Failure, what: str) -> None:
        """A listing, API or feed page that could not be had: a fact of the run (kept in crawl_runs), not a record."""
        self.crawler.stats.inc_value("fetch/failed_pages")
        reason = failure_reason(failure)
        self.crawler.stats.inc_value(f"fetch/causes/{reasons.in_words(reason)}")
        log.warning("could not read %s %s: %s", what, failure.request.url, reason)
        self.run_facts.setdefault("pages_failed", []).append({"what": what, "url": self.origin.public_url(failure.request.url),
                                                               "reason": reason})

    def walk_bounded(self, category: str, step: Step, page: int) -> None:
        """A walk stopped by a bound on listings: said in the log and in the run's facts (a portal looping its pages)."""
        if step is Step.BOUND:
            self.crawler.stats.inc_value("listing/bounded")
            log.warning("stopped walking %s at page %d: the listing goes on past any honest end (PORTAL_LISTING_* bounds)", category, page)
            self.run_facts.setdefault("listings_bounded", []).append({"category": category, "pages": page})

    def page_unreadable(self, response: Response, error: BaseException) -> Iterable[Any]:
        """A page whose reading raised (crawler/middlewares/page_errors.py): an article, or the article whose
        QR image it was, becomes a reject naming the failure; a listing page fails its walk, as a page not had."""
        request = response.request
        reason = reasons.error(reasons.PARSE_ERROR, type(error).__name__)
        if item := request.cb_kwargs.get("item"):  # an article's QR image
            self.crawler.stats.inc_value("articles/parse_errors")
            yield self.failed_fetch(item.url, reasons.of_qr_image(reason), item.listing_url)
        elif request.meta.get("archive") == ARTICLE:
            self.crawler.stats.inc_value("articles/parse_errors")
            yield self.failed_fetch(asked_url(request), reason, request.cb_kwargs.get("listing_url"))
        else:
            if category := request.cb_kwargs.get("category"):
                self.walks[category].failed = True
            self.crawler.stats.inc_value("fetch/failed_pages")
            self.run_facts.setdefault("pages_failed", []).append(
                {"what": "page", "url": self.origin.public_url(response.url), "reason": f"{reason}: {error}"[:300]})

    def parse_article(self, response: Response, listing_url: str | None, seen_url: str) -> Iterable[Any]:
        raise NotImplementedError


def asked_url(request: Request) -> str:
    """The URL the spider asked for, not where a redirect led: the one the article is listed and rejected under."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def failure_reason(failure: Failure) -> str:
    """The reject reason for a request that failed for good: an HTTP status, a refusal, a bound, or a fetch failure."""
    if failure.check(HttpError):
        return reasons.http(failure.value.response.status)
    if failure.check(OffsiteRefused):
        return failure.value.reason
    if is_too_large(failure):
        return reasons.TOO_LARGE
    return reasons.fetch_failed(failure.type.__name__, failure.getErrorMessage())


def is_too_large(failure: Failure) -> bool:
    """An answer over DOWNLOAD_MAXSIZE (or a request's `download_maxsize`), as sent or once decompressed."""
    message = failure.getErrorMessage().lower()
    return bool(failure.check(DownloadCancelledError, IgnoreRequest)) and ("max size" in message or "download_maxsize" in message)
