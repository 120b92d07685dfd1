"""Chromium kept on the portal: what it may load, and where its own redirects go.

Two rules, because Playwright's request routing does not see redirect hops:

- `BrowserScope` is scrapy-playwright's `PLAYWRIGHT_ABORT_REQUEST`: every request the page
  makes (navigation, frame, script, `fetch`/XHR, preload, worker) to another origin is aborted
  before it leaves, and images, media, fonts and stylesheets are skipped everywhere (the pages
  need scripts and markup, not pictures).
- `RefusingProxy`: Chromium is launched with a proxy on loopback that answers every request
  with 403, and the portal's origins on the bypass list (`<-loopback>` first: Chromium would
  otherwise never proxy loopback addresses). A redirect hop to another origin therefore reaches
  only that proxy, which refuses it and counts it; the page then ends on another origin, and
  the scope middleware refuses the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socketserver
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.urls import PortalScope

log = logging.getLogger(__name__)

_HEAVY = {"image", "media", "font", "stylesheet"}
_MAX_REQUEST_HEAD = 16 * 1024
_BROWSER_HOME = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")  # where Chromium itself calls


class BrowserScope:
    """Whether Chromium should abort a request (a playwright Request): another origin, or a heavy resource."""

    def __init__(self, scope: PortalScope, on_refused: Callable[[str], Any]) -> None:
        self.scope = scope
        self.on_refused = on_refused

    def __call__(self, request: Any) -> bool:
        if not self.scope.allows(request.url):
            if request.url.startswith(("http:", "https:", "ws:", "wss:")):
                self.on_refused(request.url)
            return True
        return request.resource_type in _HEAVY


def bypass_list(scope: PortalScope) -> str:
    """Chromium's proxy bypass rules: the portal's origins go direct, loopback included; all else to the proxy."""
    return ",".join(["<-loopback>", *(f"{scheme}://{host}:{port}" for scheme, host, port in sorted(scope.origins))])


class RefusingProxy:
    """A proxy on loopback that forwards nothing: it answers 403 and reports the URL it was asked for."""

    def __init__(self, on_refused: Callable[[str], Any], on_background: Callable[[str], Any] | None = None) -> None:
        def report(url: str) -> None:
            # Chromium's own calls home (updates, sign-in) that no flag turns off: refused all the same, but
            # counted apart, so that what the portal's pages tried is not mixed with what the browser does.
            host = urlsplit(url).hostname or ""
            if on_background is not None and host.endswith(_BROWSER_HOME):
                on_background(url)
            else:
                on_refused(url)

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def handle(self) -> None:
                try:
                    line = self.rfile.readline(_MAX_REQUEST_HEAD).decode("latin-1").split()
                except OSError:
                    return
                method, target = (line[0].upper(), line[1]) if len(line) >= 2 else ("", "")
                if target:
                    report(f"https://{target}/" if method == "CONNECT" else target)
                # A tunnel (https) is refused outright. A plain request gets a page of ours: the navigation
                # ends there, on the other origin, and the scope middleware refuses the answer by its URL
                # (a 403 would make Chromium fail the navigation, and the crawl retry it for nothing).
                status = b"403 Forbidden" if method == "CONNECT" else b"200 OK"
                with contextlib.suppress(OSError):
                    self.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n"
                                     b"Connection: close\r\n\r\noutside the portal's scope")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="refusing-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> RefusingProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


def browser_settings(launch_options: dict, scope: PortalScope, proxy: RefusingProxy,
                     on_refused: Callable[[str], Any]) -> dict[str, Any]:
    """The scrapy-playwright settings that keep Chromium on the portal."""
    return {
        "PLAYWRIGHT_ABORT_REQUEST": BrowserScope(scope, on_refused),
        "PLAYWRIGHT_LAUNCH_OPTIONS": {**launch_options, "proxy": {"server": proxy.url, "bypass": bypass_list(scope)}},
    }


class IdleBrowserCloser:
    """Closes Chromium once no page has needed it for PORTAL_BROWSER_IDLE_SECONDS; scrapy-playwright launches it
    again for the next page that does. An extension of its own, since it must look at scrapy-playwright's
    handler (its `browser` and `context_wrappers`: not a public interface, so they are read in this one place)."""

    def __init__(self, crawler: Crawler, idle_seconds: float) -> None:
        self.crawler = crawler
        self.idle_seconds = idle_seconds
        self.used_at = time.monotonic()
        self.watch: asyncio.Task | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IdleBrowserCloser:
        idle = crawler.settings.getfloat("PORTAL_BROWSER_IDLE_SECONDS")
        if idle <= 0 or "playwright" not in str(crawler.settings.getdict("DOWNLOAD_HANDLERS").get("http", "")):
            raise NotConfigured("no browser, or it is never closed")
        closer = cls(crawler, idle)
        crawler.signals.connect(closer.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(closer.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(closer.request_used_browser, signal=signals.request_reached_downloader)
        return closer

    def request_used_browser(self, request: Any, spider: Any) -> None:
        if request.meta.get("playwright"):
            self.used_at = time.monotonic()

    def spider_opened(self, spider: Any) -> None:
        self.watch = asyncio.ensure_future(self.close_when_idle())

    async def spider_closed(self, spider: Any) -> None:
        if self.watch is not None:
            self.watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watch

    async def close_when_idle(self) -> None:
        """Close Chromium once no page has needed it for `idle_seconds`; scrapy-playwright relaunches it on demand."""
        while True:
            await asyncio.sleep(max(self.idle_seconds / 4, 0.2))
            handler = self._playwright_handler()
            browser = getattr(handler, "browser", None)
            busy = handler is None or any(c.context.pages for c in handler.context_wrappers.values())
            if browser is None or busy or time.monotonic() - self.used_at < self.idle_seconds:
                continue
            log.info("Chromium idle for %.0f s, closed until a page needs it", self.idle_seconds)
            self.crawler.stats.inc_value("browser/closed_idle")
            with contextlib.suppress(Exception):  # already gone: nothing to close
                await browser.close()

    def _playwright_handler(self) -> Any:
        handlers = getattr(getattr(self.crawler.engine, "downloader", None), "handlers", None)
        handler = handlers._get_handler("http") if handlers is not None else None
        return handler if hasattr(handler, "context_wrappers") else None
