"""Pass the police portal's browser check (`hpcc` cookie) with a real browser, once per expiry.

When a plain request is answered with the check page, Chromium opens the portal's home page
once (however many requests were turned away meanwhile), runs the check's script and earns
the cookie; the cookie goes into Scrapy's jar and the turned-away requests are retried as
plain HTTP. A request answered with the check although a newer cookie is already held is
simply retried.
"""

from __future__ import annotations

import asyncio
import logging
from http.cookies import SimpleCookie

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy_playwright.page import PageMethod

log = logging.getLogger(__name__)

BROWSER_ATTEMPTS = "browser_check_attempts"


async def read_cookies(page) -> list[dict]:  # page: a playwright Page
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


def cookie_sent(request: Request, name: str) -> str | None:
    header = request.headers.get(b"Cookie")
    if not header:
        return None
    jar = SimpleCookie()
    jar.load(header.decode("latin-1"))
    return jar[name].value if name in jar else None


class BrowserCheckMiddleware:
    def __init__(self, crawler: Crawler, max_attempts: int, cookie_name: str) -> None:
        self.crawler = crawler
        self.max_attempts = max_attempts
        self.cookie_name = cookie_name
        self.cookies: dict[str, str] = {}
        self._passing: asyncio.Future | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserCheckMiddleware:
        spidercls = crawler.spidercls
        if not hasattr(spidercls, "is_browser_check"):
            raise NotConfigured("this spider's portal has no browser check")
        return cls(crawler, crawler.settings.getint("PORTAL_BROWSER_CHECK_ATTEMPTS", 3), spidercls.browser_check_cookie)

    def process_request(self, request: Request) -> None:
        if self.cookies and not request.meta.get("playwright") and isinstance(request.cookies, dict):
            request.cookies.update(self.cookies)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("playwright"):
            self._take_browser_cookies(request)
            return response
        spider = self.crawler.spider
        if not isinstance(response, TextResponse) or not spider.is_browser_check(response):
            return response
        self.crawler.stats.inc_value("browser_check/turned_away")
        attempts = request.meta.get(BROWSER_ATTEMPTS, 0) + 1
        if attempts > self.max_attempts:
            self.crawler.stats.inc_value("browser_check/failed")
            raise IgnoreRequest(f"browser check not passed after {self.max_attempts} tries: {request.url}")
        held = self.cookies.get(self.cookie_name)
        if held is None or cookie_sent(request, self.cookie_name) == held:
            try:
                await self._pass_check()
            except Exception as error:  # whatever the browser's failure, the retry budget decides
                log.warning("browser check: Chromium could not pass it (%s)", error)
                retry = get_retry_request(request, spider=spider, reason="browser_check_failed")
                if retry is None:
                    self.crawler.stats.inc_value("browser_check/failed")
                    raise IgnoreRequest(f"browser check failed for {request.url}: {error}") from error
                return retry
        return request.replace(dont_filter=True, meta={**request.meta, BROWSER_ATTEMPTS: attempts})

    async def _pass_check(self) -> None:
        """One browser visit for everyone waiting: later callers await the visit under way."""
        if self._passing is None or self._passing.done():
            self._passing = asyncio.ensure_future(self._visit_in_browser())
        await asyncio.shield(self._passing)

    async def _visit_in_browser(self) -> None:
        spider = self.crawler.spider
        log.info("browser check: earning a new %s cookie in Chromium", self.cookie_name)
        self.crawler.stats.inc_value("browser_check/passed_in_browser")
        visit = Request(spider.browser_check_url, meta=browser_meta(spider.browser_ready_selector), dont_filter=True)
        response = await self.crawler.engine.download_async(visit)
        if self.cookie_name not in self.cookies or spider.is_browser_check(response):
            raise RuntimeError(f"no {self.cookie_name} cookie after visiting {visit.url}")

    def _take_browser_cookies(self, request: Request) -> None:
        for method in request.meta.get("playwright_page_methods") or []:
            if getattr(method, "method", None) is read_cookies and method.result:
                self.cookies.update({c["name"]: c["value"] for c in method.result})
