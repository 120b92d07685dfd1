"""Pass the police portal's browser check (`hpcc` cookie) with a real browser, only when asked.

A plain request answered with the check page goes again through Chromium, which runs the
check's script; the cookie the browser then holds is handed to Scrapy's cookie jar, so the
requests that follow stay plain HTTP until the cookie expires and the check comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy_playwright.page import PageMethod

log = logging.getLogger(__name__)

BROWSER_ATTEMPTS = "browser_check_attempts"


async def read_cookies(page) -> list[dict]:
    return await page.context.cookies()


def browser_meta(ready_selector: str, timeout_ms: int = 20_000) -> dict:
    """Request meta that renders a page in Chromium, waits for real content, reads the cookies."""
    return {
        "playwright": True,
        "playwright_page_methods": [
            PageMethod("wait_for_selector", ready_selector, timeout=timeout_ms),
            PageMethod(read_cookies),
        ],
    }


class BrowserCheckMiddleware:
    def __init__(self, crawler: Crawler, max_attempts: int) -> None:
        self.crawler = crawler
        self.max_attempts = max_attempts
        self.cookies: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserCheckMiddleware:
        if not hasattr(crawler.spidercls, "is_browser_check"):
            raise NotConfigured("this spider's portal has no browser check")
        return cls(crawler, crawler.settings.getint("PORTAL_BROWSER_CHECK_ATTEMPTS", 3))

    def process_request(self, request: Request) -> None:
        if self.cookies and not request.meta.get("playwright") and isinstance(request.cookies, dict):
            request.cookies.update(self.cookies)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        spider = self.crawler.spider
        is_check: Callable[[TextResponse], bool] = spider.is_browser_check
        ready: str = spider.browser_ready_selector
        if request.meta.get("playwright"):
            self._take_browser_cookies(request)
        if not isinstance(response, TextResponse) or not is_check(response):
            return response
        attempts = request.meta.get(BROWSER_ATTEMPTS, 0) + 1
        self.crawler.stats.inc_value("browser_check/challenged")
        if attempts > self.max_attempts:
            retry = get_retry_request(request, spider=spider, reason="browser_check")
            if retry is None:
                raise IgnoreRequest(f"browser check not passed after {self.max_attempts} tries: {request.url}")
            return retry
        log.info("browser check on %s: passing it in Chromium (try %d)", request.url, attempts)
        meta = {**request.meta, **browser_meta(ready), BROWSER_ATTEMPTS: attempts}
        return request.replace(meta=meta, dont_filter=True)

    def _take_browser_cookies(self, request: Request) -> None:
        methods = request.meta.get("playwright_page_methods") or []
        for method in methods:
            if getattr(method, "method", None) is read_cookies and method.result:
                fresh = {c["name"]: c["value"] for c in method.result}
                if fresh != {k: self.cookies.get(k) for k in fresh}:
                    self.crawler.stats.inc_value("browser_check/cookies_taken")
                self.cookies.update(fresh)
