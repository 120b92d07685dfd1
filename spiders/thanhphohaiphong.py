"""Spider for the city news portal, thanhphohaiphong.gov.vn: category listings, articles, QR codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.items import ArticleItem, SiteFacts
from crawler.qr import BrokenImageError, decode_qr

from .base import PRIORITY_ASSET, PRIORITY_LISTING, PortalSpider
from .parsers import thanhphohaiphong as parser


class ThanhphohaiphongSpider(PortalSpider):
    name = "thanhphohaiphong"
    public_origin = parser.PUBLIC_ORIGIN
    categories = parser.CATEGORIES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fanpage_requested = False

    async def start(self) -> AsyncIterator[Request]:
        for slug in self.args.categories:
            yield self.listing_request(parser.category_url(self.origin, slug), slug, 1)

    def listing_request(self, url: str, category: str, page: int) -> Request:
        return Request(url, callback=self.parse_listing, errback=self.fetch_failed, priority=PRIORITY_LISTING,
                       cb_kwargs={"category": category, "page": page})

    def parse_listing(self, response: Response, category: str, page: int) -> Iterable[Request]:
        listing = parser.parse_listing(response, self.origin)
        self.crawler.stats.inc_value("listing/pages")
        for entry in listing.entries:
            yield self.article_request(entry, response)
        if listing.next_url and self.listing_pages_left(page):
            yield self.listing_request(self.origin.fetch_url(listing.next_url), category, page + 1)

    def parse_article(self, response: Response, listing_url: str, seen_url: str) -> Iterable[Any]:
        item = parser.parse_article(response, self.origin)
        item.listing_url = listing_url
        item.seen_urls.append(seen_url)
        if not self.fanpage_requested and (fanpage := parser.parse_fanpage_qr(response, self.origin)):
            self.fanpage_requested = True
            yield Request(self.origin.fetch_url(fanpage["image_url"]), callback=self.parse_fanpage_qr,
                          priority=PRIORITY_ASSET, cb_kwargs={"fanpage": fanpage})
        if item.qr and item.qr["image_url"]:
            yield Request(self.origin.fetch_url(item.qr["image_url"]), callback=self.attach_qr, errback=self.qr_failed,
                          priority=PRIORITY_ASSET, cb_kwargs={"item": item}, dont_filter=True)
        else:
            yield item

    def attach_qr(self, response: Response, item: ArticleItem) -> Iterable[Any]:
        try:
            payload = decode_qr(response.body)
        except BrokenImageError:
            # A PNG cut off in transit is the network's fault, not the portal's: fetch it again.
            if retry := get_retry_request(response.request, spider=self, reason="broken_image"):
                yield retry
                return
            payload = None
        item.qr["payload"] = payload
        item.qr["matches_url"] = parser.qr_is_for(payload, item.url)
        yield item

    def qr_failed(self, failure: Failure) -> Iterable[ArticleItem]:
        item: ArticleItem = failure.request.cb_kwargs["item"]
        item.qr["payload"] = None
        item.qr["matches_url"] = False
        item.qr["error"] = failure.getErrorMessage()
        yield item

    def parse_fanpage_qr(self, response: Response, fanpage: dict) -> Iterable[SiteFacts]:
        payload = decode_qr(response.body)
        yield SiteFacts(site=self.name, facts={"fanpage_qr": {**fanpage, "payload": payload}})
