"""Pass the police portal's browser check (`hpcc` cookie) with a real browser, and renew it before it expires.

When a plain request is answered with the check page, Chromium opens the portal's home page
once (however many requests were turned away meanwhile), runs the check's script and earns
the cookie; the cookie goes into Scrapy's jar and the turned-away requests are retried as
plain HTTP. A request answered with the check although a newer cookie is already held is
simply retried.

The portal does not say how long a cookie is good for, so the middleware learns it from the
portal's answers: when the check comes back for the cookie in use, the requests that cookie
was good for are its lifetime (kept in MongoDB's `meta`, so the next run starts knowing it).
From then on a new cookie is earned in the background once four fifths of the lifetime is
used, and requests wait for it rather than spend the old cookie's last part: nothing is
turned away. Until the lifetime is known (a new deployment's first cookie), plain requests go
one at a time: the check can say a cookie has run out only by turning a request away, and
then it turns away that one request, not every request in flight. A cookie still good after
`PORTAL_BROWSER_CHECK_ONE_AT_A_TIME` requests is taken to last long (a cookie that outlives the
crawl would otherwise hold every run to one request at a time): requests go at the crawl's pace
again, and its expiry, if it comes, is learned as before.

Chromium is closed when the crawl has not needed it for `PORTAL_BROWSER_IDLE_SECONDS`;
scrapy-playwright starts it again for the next page that does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from pymongo.errors import PyMongoError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy_playwright.page import PageMethod

from crawler.dates import utc_now
from crawler.middlewares.browser_cookie import HeldCookie, Lifetime, cookie_sent
from crawler.storage.durable import update, updates_job
from crawler.storage.mongo import MongoConnection
from crawler.urls import PortalScope

log = logging.getLogger(__name__)

BROWSER_ATTEMPTS = "browser_check_attempts"
FIRST_COOKIE = "browser_check_first_cookie"  # meta: sent while the cookie's lifetime is unknown, the one in flight


async def read_cookies(page) -> list[dict]:  # page: a playwright Page
    return await page.context.cookies()


async def forget_cookies(page, request) -> None:  # page: a playwright Page; before it navigates
    """A renewal must meet the check: the browser's copy of the old cookie, still good, would skip it."""
    await page.context.clear_cookies()


async def wait_until_ready(page, selector: str, timeout_ms: int, scope: PortalScope | None) -> None:  # page: a playwright Page
    """Wait for the page's real content, unless the page ended on another origin (a redirect the browser's
    proxy refused): then there is nothing to wait for, and the scope middleware refuses the answer at once."""
    if scope is not None and not scope.allows(page.url):
        return
    await page.wait_for_selector(selector, timeout=timeout_ms)


def browser_meta(ready_selector: str, timeout_ms: int = 20_000, fresh: bool = False, scope: PortalScope | None = None) -> dict:
    """Request meta that renders a page in Chromium, waits for real content, reads the cookies."""
    meta = {
        "playwright": True,
        "playwright_page_methods": [
            PageMethod(wait_until_ready, ready_selector, timeout_ms, scope),
            PageMethod(read_cookies),
        ],
    }
    if fresh:  # in a context of its own: clearing the cookies of the one listing pages render in would break them
        meta["playwright_context"] = "renewal"
        meta["playwright_page_init_callback"] = forget_cookies
    return meta


def _log_failed_renewal(visit: asyncio.Future) -> None:
    if not visit.cancelled() and visit.exception() is not None:  # the check itself will say when the old cookie ends
        log.warning("browser check: renewing the cookie early failed (%s)", visit.exception())


class BrowserCheckMiddleware:
    def __init__(self, crawler: Crawler, max_attempts: int, cookie_name: str, *,
                 one_at_a_time: int = 1000, first_cookie_wait: float = 60.0) -> None:
        self.crawler = crawler
        self.max_attempts = max_attempts
        self.cookie_name = cookie_name
        self.one_at_a_time = one_at_a_time  # requests of a cookie whose lifetime is unknown, at most
        self.first_cookie_wait = first_cookie_wait  # seconds at most: a request never answered must not stop the crawl
        self.cookies: dict[str, str] = {}
        self.held: HeldCookie | None = None
        self.lifetime: Lifetime | None = None
        self._passing: asyncio.Future | None = None
        self._first_cookie_request: asyncio.Future | None = None  # answered when the request in flight is

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserCheckMiddleware:
        spidercls = crawler.spidercls
        if not hasattr(spidercls, "is_browser_check"):
            raise NotConfigured("this spider's portal has no browser check")
        settings = crawler.settings
        middleware = cls(crawler, settings.getint("PORTAL_BROWSER_CHECK_ATTEMPTS", 3), spidercls.browser_check_cookie,
                         one_at_a_time=settings.getint("PORTAL_BROWSER_CHECK_ONE_AT_A_TIME", 1000),
                         first_cookie_wait=settings.getfloat("DOWNLOAD_TIMEOUT", 30.0) * 2)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    @property
    def _meta_key(self) -> dict:
        return {"_id": f"browser_check:{self.crawler.spider.name}"}

    def _mongo(self) -> MongoConnection | None:
        try:
            return MongoConnection.of(self.crawler)
        except RuntimeError:  # a crawler without MongoDB (a test's, a bench's): the lifetime lasts as long as the run
            return None

    async def spider_opened(self, spider: Spider) -> None:
        known = None
        if (mongo := self._mongo()) is not None:
            try:
                known = await asyncio.to_thread(lambda: mongo.db.meta.find_one(self._meta_key))
            except PyMongoError as error:  # without it the lifetime is learned again: a few requests turned away
                log.warning("browser check: the cookie lifetime learned before could not be read (%s)", error)
        if known and known.get("requests"):
            self.lifetime = Lifetime(int(known["requests"]), float(known["seconds"]))
            log.info("browser check: an %s cookie lasts %d requests or %.0f s (learned %s)", self.cookie_name,
                     self.lifetime.requests, self.lifetime.seconds, known.get("learned_at"))

    async def process_request(self, request: Request) -> None:
        if request.meta.get("playwright"):
            return
        if self.held is not None and self.lifetime is not None:
            await self._renew_if_due()
        if self._learning():
            await self._one_at_a_time(request)
        if self.cookies and isinstance(request.cookies, dict):
            request.cookies.update(self.cookies)
            if self.held is not None:
                self.held.sent += 1

    async def _one_at_a_time(self, request: Request) -> None:
        """While the lifetime is unknown, wait for the request in flight to be answered (its cookie renewed if it ran out)."""
        deadline = time.monotonic() + self.first_cookie_wait
        while self._learning() and self._first_cookie_request is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._first_cookie_request), max(deadline - time.monotonic(), 0))
            except TimeoutError:
                log.warning("browser check: no answer to the request in flight for %.0f s; sending %s anyway",
                            self.first_cookie_wait, request.url)
                break
        if self._learning():
            self._first_cookie_request = asyncio.get_running_loop().create_future()
            request.meta[FIRST_COOKIE] = True

    def _learning(self) -> bool:
        """Whether requests go one at a time: a cookie is held whose lifetime is unknown, and not yet taken to last long."""
        return self.held is not None and self.lifetime is None and self.held.sent < self.one_at_a_time

    def _first_cookie_answered(self) -> None:
        if self._first_cookie_request is not None and not self._first_cookie_request.done():
            self._first_cookie_request.set_result(None)
        self._first_cookie_request = None

    async def _renew_if_due(self) -> None:
        """Earn the next cookie in the background from RENEW_AT of the lifetime; past WAIT_AT, wait for it."""
        used = self.held.used(self.lifetime)
        if used < Lifetime.RENEW_AT:
            return
        renewing = self._passing is not None and not self._passing.done()
        if not renewing:
            self.crawler.stats.inc_value("browser_check/renewed_early")
            self._passing = asyncio.ensure_future(self._visit_in_browser(fresh=True))
            self._passing.add_done_callback(_log_failed_renewal)
        if used >= Lifetime.WAIT_AT:
            self.crawler.stats.inc_value("browser_check/waited_for_renewal")
            with contextlib.suppress(Exception):  # a failed visit: the request goes with the old cookie, and the check decides
                await asyncio.shield(self._passing)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        first_cookie = request.meta.pop(FIRST_COOKIE, False)  # popped first: a retry is not the request in flight
        try:
            return await self._answered(request, response)
        finally:  # after the check was passed again, if it had to be: the next request goes with the new cookie
            if first_cookie:
                self._first_cookie_answered()

    async def process_exception(self, request: Request, exception: BaseException) -> None:
        if request.meta.pop(FIRST_COOKIE, False):
            self._first_cookie_answered()

    async def _answered(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("playwright"):
            self._take_browser_cookies(request)
            return response
        spider = self.crawler.spider
        sent = cookie_sent(request, self.cookie_name)
        if not isinstance(response, TextResponse) or not spider.is_browser_check(response):
            if self.held is not None and sent == self.held.value:
                self.held.answered += 1
                self.held.last_answer_at = time.monotonic()
            return response
        self.crawler.stats.inc_value("browser_check/turned_away")
        attempts = request.meta.get(BROWSER_ATTEMPTS, 0) + 1
        if attempts > self.max_attempts:
            self.crawler.stats.inc_value("browser_check/failed")
            raise IgnoreRequest(f"browser check not passed after {self.max_attempts} tries: {request.url}")
        held = self.cookies.get(self.cookie_name)
        if held is None or sent == held:
            if self.held is not None and sent == self.held.value and self.held.answered:
                await self._learn(self.held.lifetime())
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

    async def _learn(self, lifetime: Lifetime) -> None:
        """The check came back for the cookie in use: what it lasted is the lifetime to renew by (kept for the next run)."""
        self.held = None  # learned once per cookie, however many of its requests come back
        self.lifetime = lifetime
        log.info("browser check: the %s cookie lasted %d requests, %.1f s; the next ones are renewed before that",
                 self.cookie_name, lifetime.requests, lifetime.seconds)
        record = {"requests": lifetime.requests, "seconds": lifetime.seconds, "learned_at": utc_now()}
        if (mongo := self._mongo()) is None:
            return
        # Through the crawl's one write path, like every write of a crawl: ridden through an outage, or spilled.
        await mongo.writer.submit(updates_job([update("meta", self._meta_key, {"$set": record}, upsert=True)]))

    async def _pass_check(self) -> None:
        """One browser visit for everyone waiting: later callers await the visit under way."""
        if self._passing is None or self._passing.done():
            self._passing = asyncio.ensure_future(self._visit_in_browser())
        await asyncio.shield(self._passing)

    async def _visit_in_browser(self, fresh: bool = False) -> None:
        spider = self.crawler.spider
        log.info("browser check: earning a new %s cookie in Chromium%s", self.cookie_name, " before the old one expires" if fresh else "")
        self.crawler.stats.inc_value("browser_check/passed_in_browser")
        held = self.cookies.get(self.cookie_name)
        meta = browser_meta(spider.browser_ready_selector, fresh=fresh, scope=getattr(spider, "scope", None))
        visit = Request(spider.browser_check_url, meta=meta, dont_filter=True)
        response = await self.crawler.engine.download_async(visit)
        if self.cookies.get(self.cookie_name) in (None, held) or spider.is_browser_check(response):
            raise RuntimeError(f"no new {self.cookie_name} cookie after visiting {visit.url}")

    def _take_browser_cookies(self, request: Request) -> None:
        for method in request.meta.get("playwright_page_methods") or []:
            if getattr(method, "method", None) is read_cookies and method.result:
                self.cookies.update({c["name"]: c["value"] for c in method.result})
        value = self.cookies.get(self.cookie_name)
        if value is not None and (self.held is None or self.held.value != value):
            self.held = HeldCookie(value, time.monotonic())
