"""Spider for the city police portal, congan.haiphong.gov.vn: browser check, JS listings, articles.

Chromium renders what needs a browser (the check, each category's first listing page); the
`NewsList.ashx` pages that the listing script fetches, and the articles, are plain HTTP.

Later crawls walk each category only while its pages hold something new (to its end when the
last walk did not finish), then count the category (its last page tells how many articles it
lists, and the articles on it are fetched if unknown) against what is known; only a category
whose count differs is walked to the end, fetching what is unknown and confirming what is gone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response, TextResponse

from crawler.browser import RefusingProxy, browser_settings
from crawler.incremental.walks import Step
from crawler.middlewares.browser_check import browser_meta
from crawler.middlewares.incomplete import COMPLETE_MARKER
from crawler.middlewares.scope import Refusals

from .base import PRIORITY_LISTING, PortalSpider
from .parsers import congan_haiphong as parser

AJAX_HEADERS = {"X-Requested-With": "XMLHttpRequest"}
# What shows the listing script has finished, whichever way it went.
LISTING_READY = "#news-list .news-item, #news-list .pager, #news-list .news-error"


class PoliceBrowserCheck:
    """What the browser-check middleware needs of a spider of the police portal: its cookie, how a page
    shows it is the check, and when the browser has the real page (real pages carry #wrapper, the check has none)."""

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

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        """The spider, with Chromium kept on its scope: other origins aborted, redirect hops refused by a proxy."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        if crawler.settings.frozen:  # a test's crawler, settings fixed before the spider: no browser is launched
            return spider
        refusals = Refusals.of(crawler)
        proxy = RefusingProxy(lambda url: refusals.refuse(url, True, "Chromium's redirect, by its proxy"),
                              on_background=lambda url: crawler.stats.inc_value("scope/browser_background_refused")).start()
        crawler.signals.connect(lambda: proxy.stop(), signal=signals.spider_closed, weak=False)
        crawler.settings.update(browser_settings(crawler.settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"), spider.scope, proxy,
                                                 lambda url: refusals.refuse(url, False, "Chromium")), priority="spider")
        return spider


class CongAnHaiphongSpider(PoliceBrowserCheck, PortalSpider):
    parser = parser
    name = parser.SITE
    public_origin = parser.PUBLIC_ORIGIN
    categories = parser.CATEGORIES

    @property
    def browser_check_url(self) -> str:
        return self.origin.fetch_url(self.public_origin + "/")

    async def start(self) -> AsyncIterator[Request]:
        await self.load_state()
        for path in self.args.categories:
            yield Request(parser.category_url(self.origin, path), callback=self.parse_category, errback=self.listing_failed,
                          priority=PRIORITY_LISTING, meta=browser_meta(LISTING_READY, scope=self.scope), cb_kwargs={"category": path})
        for request in self.known_article_requests():
            yield request


    def parse_category(self, response: Response, category: str) -> Iterable[Request]:
        """The category page as Chromium rendered it: page 1 of the listing, and the CMS's category id."""
        cat_id = parser.listing_category_id(response)
        if not cat_id:
            raise ValueError(f"no #news-list[data-cat] on {response.url}: has the portal's markup changed?")
        walk = self.walks[category]
        walk.cat_id, walk.page_size = cat_id, parser.listing_page_size(response)
        listing = parser.parse_listing(response, self.origin)
        if not listing.entries and listing.total_pages is None:
            # The listing script failed in the browser (the server erred): ask for page 1 directly.
            yield self.news_list_request(category, 1)
            return
        yield from self.follow_listing(response, listing, category, 1)

    def news_list_request(self, category: str, page: int, sweep: bool = False) -> Request:
        return Request(parser.news_list_url(self.origin, self.walks[category].cat_id, page), headers=AJAX_HEADERS,
                       callback=self.parse_news_list, errback=self.listing_failed, priority=PRIORITY_LISTING,
                       meta={COMPLETE_MARKER: b'class="pager"'}, dont_filter=sweep,
                       cb_kwargs={"category": category, "page": page, "sweep": sweep})

    def parse_news_list(self, response: Response, category: str, page: int, sweep: bool = False) -> Iterable[Request]:
        yield from self.follow_listing(response, parser.parse_listing(response, self.origin), category, page, sweep)

    def follow_listing(self, response: Response, listing: parser.ListingPage, category: str, page: int,
                       sweep: bool = False) -> Iterable[Request]:
        self.crawler.stats.inc_value("listing/pages")
        walk = self.walks[category]
        walk.total_pages = listing.total_pages or walk.total_pages
        entries = self.identified(listing.entries)
        yield from self.listed_under(entries)
        news = [e for e in entries if self.wants(e)]
        for entry in news:
            yield self.article_request(entry, response)
        if sweep:
            walk.saw(page, (e.native_id for e in entries))
            walk.sweep_left -= 1
            if walk.sweep_left == 0:
                yield from self.removals_in(category)
            return
        step = walk.read(page, (e.native_id for e in entries), len(news), listing.has_next, (e.native_id or e.url for e in entries))
        self.walk_bounded(category, step, page)
        if step is Step.NEXT:
            yield self.news_list_request(category, page + 1)
        elif step is Step.END:
            yield from self.removals_in(category)  # a walk to the end lists every live article
        elif step is Step.CAUGHT_UP:
            yield from self.count_category(category, page, len(entries))

    def count_category(self, category: str, page: int, on_page: int) -> Iterable[Request]:
        walk = self.walks[category]
        if walk.total_pages is None:
            return
        if page < walk.total_pages:
            yield Request(parser.news_list_url(self.origin, walk.cat_id, walk.total_pages), headers=AJAX_HEADERS,
                          callback=self.parse_last_page, errback=self.listing_failed, priority=PRIORITY_LISTING,
                          meta={COMPLETE_MARKER: b'class="pager"'}, cb_kwargs={"category": category})
            return
        yield from self.compare_count(category, (walk.total_pages - 1) * walk.page_size + on_page)

    def parse_last_page(self, response: Response, category: str) -> Iterable[Request]:
        self.crawler.stats.inc_value("listing/pages")
        walk = self.walks[category]
        entries = self.identified(parser.parse_listing(response, self.origin).entries)
        walk.saw(walk.total_pages, (e.native_id for e in entries))
        for entry in entries:  # the oldest articles: unknown ones are fetched, not only counted
            if self.wants(entry):
                yield self.article_request(entry, response)
        yield from self.compare_count(category, (walk.total_pages - 1) * walk.page_size + len(entries))

    def compare_count(self, category: str, listed_total: int) -> Iterable[Request]:
        """The category lists as many articles as are known in it, or something moved out or went."""
        walk = self.walks[category]
        expected = len(self.state.ids(category) | walk.listed)
        if listed_total == expected:
            return
        self.logger.info("%s lists %d articles, %d are known: walking it to the end", category, listed_total, expected)
        self.crawler.stats.inc_value("removals/sweeps")
        missing = walk.missing_pages()
        walk.sweep_left = len(missing)
        if not missing:
            yield from self.removals_in(category)
        for page in missing:
            yield self.news_list_request(category, page, sweep=True)

    def removals_in(self, category: str) -> Iterable[Request]:
        walk = self.walks[category]
        if walk.reached_end:
            yield from self.confirm_removals(self.state.ids(category) - walk.listed)

    def parse_article(self, response: Response, listing_url: str | None, seen_url: str) -> Iterable[Any]:
        if unchanged := self.unchanged(response):
            yield unchanged
            return
        yield self.finish_item(parser.parse_article(response, self.origin), response, listing_url, seen_url)
