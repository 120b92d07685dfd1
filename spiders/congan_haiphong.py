"""Spider for the city police portal, congan.haiphong.gov.vn: browser check, JS listings, articles.

Chromium renders what needs a browser (the check, each category's first listing page); the
`NewsList.ashx` pages that the listing script fetches, and the articles, are plain HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy.http import Request, Response, TextResponse

from crawler.middlewares.browser_check import browser_meta
from crawler.middlewares.incomplete import COMPLETE_MARKER

from .base import PRIORITY_LISTING, PortalSpider
from .parsers import congan_haiphong as parser

AJAX_HEADERS = {"X-Requested-With": "XMLHttpRequest"}
# What shows the listing script has finished, whichever way it went.
LISTING_READY = "#news-list .news-item, #news-list .pager, #news-list .news-error"


class CongAnHaiphongSpider(PortalSpider):
    name = "congan_haiphong"
    public_origin = parser.PUBLIC_ORIGIN
    categories = parser.CATEGORIES
    # The browser check: its cookie, and a page to earn it on (real pages carry #wrapper, the check has none).
    browser_check_cookie = "hpcc"
    browser_ready_selector = "#wrapper"
    custom_settings = {
        "DOWNLOAD_HANDLERS": {
            "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
            "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
        },
    }

    @staticmethod
    def is_browser_check(response: TextResponse) -> bool:
        return parser.is_challenge(response)

    @property
    def browser_check_url(self) -> str:
        return self.origin.fetch_url(self.public_origin + "/")

    async def start(self) -> AsyncIterator[Request]:
        for path in self.args.categories:
            yield Request(parser.category_url(self.origin, path), callback=self.parse_category, errback=self.fetch_failed,
                          priority=PRIORITY_LISTING, meta=browser_meta(LISTING_READY), cb_kwargs={"category": path})

    def parse_category(self, response: Response, category: str) -> Iterable[Request]:
        """The category page as Chromium rendered it: page 1 of the listing, and the CMS's category id."""
        cat_id = parser.listing_category_id(response)
        if not cat_id:
            raise ValueError(f"no #news-list[data-cat] on {response.url}: has the portal's markup changed?")
        listing = parser.parse_listing(response, self.origin)
        if not listing.entries and listing.total_pages is None:
            # The listing script failed in the browser (the server erred): ask for page 1 directly.
            yield self.news_list_request(category, cat_id, 1)
            return
        yield from self.follow_listing(response, listing, category, cat_id, 1)

    def news_list_request(self, category: str, cat_id: str, page: int) -> Request:
        return Request(parser.news_list_url(self.origin, cat_id, page), headers=AJAX_HEADERS, callback=self.parse_news_list,
                       errback=self.fetch_failed, priority=PRIORITY_LISTING, meta={COMPLETE_MARKER: b'class="pager"'},
                       cb_kwargs={"category": category, "cat_id": cat_id, "page": page})

    def parse_news_list(self, response: Response, category: str, cat_id: str, page: int) -> Iterable[Request]:
        yield from self.follow_listing(response, parser.parse_listing(response, self.origin), category, cat_id, page)

    def follow_listing(self, response: Response, listing: parser.ListingPage, category: str, cat_id: str, page: int) -> Iterable[Request]:
        self.crawler.stats.inc_value("listing/pages")
        for entry in listing.entries:
            yield self.article_request(entry, response)
        if listing.next_url and self.listing_pages_left(page):
            yield self.news_list_request(category, cat_id, page + 1)

    def parse_article(self, response: Response, listing_url: str, seen_url: str) -> Iterable[Any]:
        item = parser.parse_article(response, self.origin)
        item.listing_url = listing_url
        item.seen_urls.append(seen_url)
        yield item
