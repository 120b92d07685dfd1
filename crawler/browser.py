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

import contextlib
import logging
import socketserver
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

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
