"""Spider for the city news portal, thanhphohaiphong.gov.vn: listings, REST API, articles, QR codes.

A first crawl walks every category to its last page. Later crawls read each category while
its pages hold something new (to its end when the last walk did not finish) and the REST
API's posts modified since the newest change stored, fetch what is new or changed, and
compare the API's post count with what is known: only when they differ does it sweep the
API's ids, fetching the posts it does not know and confirming the ones that are gone.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from functools import cached_property
from typing import Any

from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler import reasons
from crawler.incremental.walks import Step
from crawler.items import ArticleItem, FetchFailure, SiteFacts
from crawler.storage.archive import IMAGE
from crawler.urls import is_web_url, origin_label
from spiders.parsers.qr import BrokenImageError, ImageTooLarge, QrDecoder

from .base import PRIORITY_ASSET, PRIORITY_LISTING, PortalSpider, failure_reason
from .parsers import thanhphohaiphong as parser

API_PAGE_SIZE = 100


class ThanhphohaiphongSpider(PortalSpider):
    parser = parser
    name = parser.SITE
    public_origin = parser.PUBLIC_ORIGIN
    categories = parser.CATEGORIES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fanpage_requested = False
        self.walks_left = len(self.args.categories)
        self.api_ids: set[str] = set()
        self.sweep_ids: set[str] = set()
        self.sweep_pages_left = 0

    async def start(self) -> AsyncIterator[Request]:
        await self.load_state()
        for slug in self.args.categories:
            yield self.listing_request(parser.category_url(self.origin, slug), slug, 1)
        newest = self.state.newest_change()
        if self.incremental and newest is not None:
            # The newest change stored, not this machine's clock, bounds what is new: the portal's clock rules.
            since = newest - timedelta(hours=self.crawler.settings.getfloat("INCREMENTAL_OVERLAP_HOURS"))
            yield self.api_changes_request(since.isoformat(), 1)
        for request in self.known_article_requests():
            yield request


    @cached_property
    def pinned_layout(self) -> str | None:
        """The parser layout PORTAL_PARSER_PIN names for this portal (read once, not per article), if any."""
        return self.crawler.settings.getdict("PORTAL_PARSER_PIN").get(self.name)

    # Category listings ------------------------------------------------------------------------

    def listing_request(self, url: str, category: str, page: int) -> Request:
        return Request(url, callback=self.parse_listing, errback=self.listing_failed, priority=PRIORITY_LISTING,
                       cb_kwargs={"category": category, "page": page})

    def parse_listing(self, response: Response, category: str, page: int) -> Iterable[Any]:
        listing = parser.parse_listing(response, self.origin)
        self.crawler.stats.inc_value("listing/pages")
        entries = self.identified(listing.entries)
        yield from self.listed_under(entries)
        news = [e for e in entries if self.wants(e)]
        for entry in news:
            yield self.article_request(entry, response)
        step = self.walks[category].read(page, (e.native_id for e in entries), len(news), listing.has_next,
                                         (e.native_id or e.url for e in entries))
        self.walk_bounded(category, step, page)
        if step is Step.NEXT:
            yield self.listing_request(self.origin.fetch_url(listing.next_url), category, page + 1)
            return
        yield from self.walk_ended()

    def listing_failed(self, failure: Failure) -> Iterable[Any]:
        yield from super().listing_failed(failure)
        yield from self.walk_ended()

    def page_unreadable(self, response: Response, error: BaseException) -> Iterable[Any]:
        yield from super().page_unreadable(response, error)
        if getattr(response.request.callback, "__name__", None) == "parse_listing":
            yield from self.walk_ended()  # the walk ends here, unfinished

    def walk_ended(self) -> Iterable[Request]:
        """Walks that listed every category to its end show which known articles are gone."""
        self.walks_left -= 1
        everything = set(self.args.categories) == set(self.categories)
        if self.walks_left == 0 and everything and self.walks.all_reached_end():
            yield from self.confirm_removals(self.state.ids() - self.walks.listed())

    # REST API ---------------------------------------------------------------------------------

    def api_changes_request(self, since: str, page: int) -> Request:
        url = parser.wp_posts_url(self.origin, modified_after=since, orderby="modified", order="desc",
                                  per_page=API_PAGE_SIZE, page=page)
        return Request(url, callback=self.parse_api_changes, errback=self.api_failed, priority=PRIORITY_LISTING,
                       cb_kwargs={"since": since, "page": page})

    def parse_api_changes(self, response: Response, since: str, page: int) -> Iterable[Request]:
        self.crawler.stats.inc_value("api/pages")
        posts, retry = self.api_entries(response)
        if posts is None:
            yield from retry
            return
        for post in self.identified(posts):
            self.api_ids.add(post.native_id)
            if post.native_id not in self.requested and self.state.is_changed_since(post.native_id, post.modified):
                yield self.article_request(post, response)
        _, pages = parser.wp_totals(response)
        if page < pages:
            yield self.api_changes_request(since, page + 1)
        else:
            yield Request(parser.wp_posts_url(self.origin, per_page=1), callback=self.check_post_count, errback=self.api_failed,
                          priority=PRIORITY_LISTING, dont_filter=True)

    def check_post_count(self, response: Response) -> Iterable[Request]:
        """Posts the portal counts against posts known: a difference means some are gone."""
        self.crawler.stats.inc_value("api/pages")
        total, _ = parser.wp_totals(response)
        expected = len(self.state.ids() | self.api_ids | self.walks.listed())
        if total == expected:
            return
        self.logger.info("the portal counts %d posts, %d are known: sweeping the API's ids for unknown and removed posts", total, expected)
        self.crawler.stats.inc_value("removals/sweeps")
        self.sweep_pages_left = math.ceil(total / API_PAGE_SIZE)
        for page in range(1, self.sweep_pages_left + 1):
            yield Request(parser.wp_posts_url(self.origin, per_page=API_PAGE_SIZE, page=page, _fields="id,link,modified_gmt"),
                          callback=self.parse_api_ids, errback=self.api_failed, priority=PRIORITY_LISTING)

    def parse_api_ids(self, response: Response) -> Iterable[Request]:
        self.crawler.stats.inc_value("api/pages")
        posts, retry = self.api_entries(response)
        if posts is None:
            yield from retry
            return
        posts = self.identified(posts)
        self.sweep_ids.update(p.native_id for p in posts)
        for post in posts:
            # A post no walk reached (an interrupted walk, a post in no category we walk): fetch it.
            if post.native_id not in self.state.known and post.native_id not in self.requested:
                self.crawler.stats.inc_value("articles/found_by_sweep")
                yield self.article_request(post, response)
        self.sweep_pages_left -= 1
        if self.sweep_pages_left == 0:
            yield from self.confirm_removals(self.state.ids() - self.sweep_ids)

    def api_entries(self, response: Response) -> tuple[list | None, list[Request]]:
        """The posts of an API answer, or None and the retry when the JSON arrived broken."""
        try:
            return parser.parse_wp_posts(response, self.origin), []
        except (json.JSONDecodeError, KeyError, TypeError):
            retry = get_retry_request(response.request, spider=self, reason="bad_json")
            if retry is None:
                self.sweep_pages_left = -1
                self.logger.warning("the REST API answered %s with no usable JSON", response.url)
                self.run_facts["api"] = "answered with no usable JSON"
            return None, [retry] if retry else []

    def api_failed(self, failure: Failure) -> Iterable[Any]:
        """The REST API is closed or failing (a fact of the run, not a reject): the feed still shows the newest posts."""
        self.sweep_pages_left = -1  # a sweep with a missing page proves nothing
        self.run_facts["api"] = f"unavailable: {failure_reason(failure)}"
        self.page_failed(failure, "REST API page")
        if "feed" not in self.run_facts:
            self.run_facts["feed"] = "requested"
            yield Request(self.origin.fetch_url(parser.PUBLIC_ORIGIN + "/feed"), callback=self.parse_feed,
                          errback=self.feed_failed, priority=PRIORITY_LISTING)

    def parse_feed(self, response: Response) -> Iterable[Request]:
        self.run_facts["feed"] = "read"
        for entry in self.identified(parser.parse_feed(response, self.origin)):
            if self.wants(entry):
                yield self.article_request(entry, response)

    def feed_failed(self, failure: Failure) -> None:
        self.run_facts["feed"] = f"unavailable: {failure_reason(failure)}"
        self.page_failed(failure, "feed")

    # Articles ---------------------------------------------------------------------------------

    def parse_article(self, response: Response, listing_url: str | None, seen_url: str) -> Iterable[Any]:
        if unchanged := self.unchanged(response):
            yield unchanged
            return
        layout = parser.layout_of(response, self.pinned_layout)
        self.crawler.stats.inc_value(f"parser/layout/{layout.name}")
        item = self.finish_item(parser.parse_article(response, self.origin, layout), response, listing_url, seen_url)
        if not self.fanpage_requested and (fanpage := parser.parse_fanpage_qr(response, self.origin)):
            self.fanpage_requested = True
            yield self.image_request(fanpage["image_url"], self.parse_fanpage_qr, cb_kwargs={"fanpage": fanpage})
        if item.qr and item.qr["image_url"] and not is_web_url(item.qr["image_url"]):  # `javascript:`, `data:`: no request at all
            reason = reasons.of_qr_image(reasons.offsite(origin_label(item.qr["image_url"]), redirect=False))
            yield self.failed_fetch(item.url, reason, item.listing_url)
        elif item.qr and item.qr["image_url"]:
            # dont_filter: a retried article asks for its QR image again. The scope rule still applies.
            yield self.image_request(item.qr["image_url"], self.attach_qr, errback=self.qr_failed, cb_kwargs={"item": item},
                                     dont_filter=True)
        else:
            yield item

    @cached_property
    def qr_decoder(self) -> QrDecoder:
        settings = self.crawler.settings
        decoder = QrDecoder(settings.getint("PORTAL_MAX_IMAGE_PIXELS"), settings.getfloat("PORTAL_QR_DECODE_TIMEOUT"))
        self.crawler.signals.connect(decoder.close, signal=signals.spider_closed, weak=False)
        return decoder

    def image_request(self, url: str, callback: Any, **kwargs: Any) -> Request:
        """An image of the portal's, no larger than PORTAL_MAX_IMAGE_BYTES."""
        return Request(self.origin.fetch_url(url), callback=callback, priority=PRIORITY_ASSET,
                       meta={"archive": IMAGE, "download_maxsize": self.crawler.settings.getint("PORTAL_MAX_IMAGE_BYTES")}, **kwargs)

    async def attach_qr(self, response: Response, item: ArticleItem) -> AsyncIterator[Any]:
        try:
            payload = await self.qr_decoder.decode(response.body)
        except BrokenImageError:
            # A PNG cut off in transit is the network's fault, not the portal's: fetch it again.
            if retry := get_retry_request(response.request, spider=self, reason="broken_image"):
                yield retry
                return
            payload = None
        except ImageTooLarge as error:
            self.logger.warning("not decoding the QR image of %s: %s", item.url, error)
            yield self.failed_fetch(item.url, reasons.of_qr_image(reasons.IMAGE_TOO_LARGE), item.listing_url)
            return
        except TimeoutError:
            yield self.failed_fetch(item.url, reasons.of_qr_image(reasons.QR_DECODE_TIMEOUT), item.listing_url)
            return
        item.qr["payload"] = payload
        item.qr["matches_url"] = parser.qr_is_for(payload, item.url)
        yield item

    def qr_failed(self, failure: Failure) -> Iterable[FetchFailure]:
        """The QR image could not be had: the network's fault, not the article's. It is a failed
        fetch of the article (asked for again next run), never a `qr_unreadable` reject; an image
        over the size bound or on another origin is a reject saying so."""
        item: ArticleItem = failure.request.cb_kwargs["item"]
        reason = failure_reason(failure)
        reason = reasons.IMAGE_TOO_LARGE if reason == reasons.TOO_LARGE else reason
        yield self.failed_fetch(item.url, reasons.of_qr_image(reason), item.listing_url)

    async def parse_fanpage_qr(self, response: Response, fanpage: dict) -> AsyncIterator[SiteFacts]:
        try:
            payload = await self.qr_decoder.decode(response.body)
        except (BrokenImageError, ImageTooLarge, TimeoutError) as error:
            self.logger.warning("the fanpage QR image could not be read: %s", type(error).__name__)
            payload = None
        yield SiteFacts(site=self.name, facts={"fanpage_qr": {**fanpage, "payload": payload}})
