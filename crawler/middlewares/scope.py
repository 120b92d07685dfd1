"""The scope rule, enforced: a request goes out only to the portal's own origins (scheme, host and port).

One rule (`crawler.urls.PortalScope`, from the spider's `scope`) and three places it is checked,
so that nothing slips past it:

- `ScopeMiddleware` (order 50, in place of Scrapy's `OffsiteMiddleware`) sees every request
  before anything else does: pages, listings, QR images, `dont_filter` requests, robots.txt
  (RobotsTxtMiddleware, at 100, fetches it through the same chain) and any redirect target
  that is scheduled again. A refused request fails with `OffsiteRefused`, so its errback runs
  and the article becomes a reject: Scrapy's own filter dropped it at scheduling, unseen. It
  also refuses an answer that ends on another origin (Chromium followed a redirect).
- `ScopedRedirectMiddleware` and `ScopedMetaRefreshMiddleware` (Scrapy's, at their usual 600
  and 580) refuse a redirect or a meta refresh to another origin before they build the new
  request: a redirect target met twice would otherwise be dropped by the duplicate filter the
  second time, without an errback.
- In Chromium, `crawler.browser` aborts every request to another origin and routes the
  browser's own redirect hops to a proxy that refuses them.

Refusals are counted in the stats (`scope/refused`, `scope/refused/<origin>`), each origin is
logged once, and the run's record keeps the count.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler import reasons
from crawler.urls import PortalScope, origin_label

log = logging.getLogger(__name__)


class OffsiteRefused(IgnoreRequest):
    """A request (or a redirect to one) outside the portal's origins: never sent."""

    def __init__(self, url: str, redirect: bool) -> None:
        self.url, self.redirect, self.origin = url, redirect, origin_label(url)
        super().__init__(f"{'a redirect to ' if redirect else ''}{self.origin} is outside the portal's origins: refused")

    @property
    def reason(self) -> str:
        """The reject reason: `offsite_redirect:<origin>` or `offsite_request:<origin>`."""
        return reasons.offsite(self.origin, self.redirect)


class Refusals:
    """Counts and logs refusals for one crawl: the stats, and one log line per origin."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.logged: set[str] = set()
        self.lock = threading.Lock()  # Chromium's proxy refuses from its own threads

    @classmethod
    def of(cls, crawler: Crawler) -> Refusals:
        if not hasattr(crawler, "_portal_refusals"):
            crawler._portal_refusals = cls(crawler)  # one per crawl, shared by the middlewares and the browser's proxy
        return crawler._portal_refusals

    def refuse(self, url: str, redirect: bool, by: str) -> OffsiteRefused:
        refused = OffsiteRefused(url, redirect)
        with self.lock:
            stats = self.crawler.stats
            stats.inc_value("scope/refused")
            stats.inc_value(f"scope/refused/{refused.origin}")
            first = refused.origin not in self.logged
            self.logged.add(refused.origin)
        if first:
            log.warning("refused %s to %s, outside the portal's origins (%s); further ones are only counted",
                        "a redirect" if redirect else "a request", refused.origin, by)
        return refused


def scope_of(spider: Spider | None) -> PortalScope:
    """The spider's scope; a spider without one may reach nothing (fail closed)."""
    return getattr(spider, "scope", None) or PortalScope(frozenset())


def was_redirected(request: Request) -> bool:
    return bool(request.meta.get("redirect_urls"))


class ScopeMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.refusals = Refusals.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not scope_of(self.crawler.spider).allows(request.url):
            raise self.refusals.refuse(request.url, was_redirected(request), "request")

    def process_response(self, request: Request, response: Response) -> Response:
        # Only the browser can end on another URL than it was asked for without a redirect response.
        if not scope_of(self.crawler.spider).allows(response.url):
            raise self.refusals.refuse(response.url, True, "the browser followed a redirect; the page is not read")
        return response


class _ScopedRedirects:
    """Scrapy's redirect middleware, refusing before it follows a redirect out of the portal's origins."""

    crawler: Crawler

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        if not scope_of(self.crawler.spider).allows(redirected.url):
            raise Refusals.of(self.crawler).refuse(redirected.url, True, f"{reason} from {request.url}")
        return super()._redirect(redirected, request, reason)  # type: ignore[misc]


class ScopedRedirectMiddleware(_ScopedRedirects, RedirectMiddleware):
    pass


class ScopedMetaRefreshMiddleware(_ScopedRedirects, MetaRefreshMiddleware):
    pass
