"""URL canonicalisation, and the mapping between a portal's public origin and the origin crawled."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that say how a visitor arrived or how to lay the page out, never which page.
_NOT_IDENTITY = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|zarsrc|_ga|_gl|print|maxwidth)$", re.I)


def _bare_host(netloc: str) -> str:
    host = netloc.lower().rsplit("@", 1)[-1]
    if host.endswith(":80") or host.endswith(":443"):
        host = host.rsplit(":", 1)[0]
    return host.removeprefix("www.")


@dataclass(frozen=True)
class PortalOrigin:
    """A portal's public origin and the origin actually crawled (the same, a mirror, the replica)."""

    public: str
    crawl: str
    # Split once: a page's links and images ask for them a dozen times an article.
    _public_parts: SplitResult = field(init=False, repr=False, compare=False)
    _crawl_parts: SplitResult = field(init=False, repr=False, compare=False)
    _crawl_host: str = field(init=False, repr=False, compare=False)
    _hosts: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public", self.public.rstrip("/"))
        object.__setattr__(self, "crawl", (self.crawl or self.public).rstrip("/"))
        object.__setattr__(self, "_public_parts", urlsplit(self.public))
        object.__setattr__(self, "_crawl_parts", urlsplit(self.crawl))
        object.__setattr__(self, "_crawl_host", _bare_host(self._crawl_parts.netloc))
        object.__setattr__(self, "_hosts", frozenset({_bare_host(self._public_parts.netloc), self._crawl_host}))

    def hosts(self) -> set[str]:
        """The host names (no port) the portal is reached under, for Scrapy's `allowed_domains`."""
        return {urlsplit(origin).hostname.removeprefix("www.") for origin in (self.public, self.crawl) if urlsplit(origin).hostname}

    def owns(self, url: str) -> bool:
        """Whether a URL is the portal's (or its mirror's): the same host and, for the mirror, the same port."""
        return _bare_host(urlsplit(url).netloc) in self._hosts

    def public_url(self, url: str, base: str | None = None) -> str:
        """The URL as the public would see it: relative links resolved, the crawled origin swapped out.

        Only the origin changes; path and query stay as they were (aliases need them).
        """
        absolute = urljoin(base or self.public + "/", url.strip())
        parts = urlsplit(absolute)
        if _bare_host(parts.netloc) != self._crawl_host:
            return absolute
        public = self._public_parts
        return urlunsplit((public.scheme, public.netloc, parts.path, parts.query, parts.fragment))

    def fetch_url(self, url: str) -> str:
        """Where to request a public URL: on the crawled origin."""
        parts = urlsplit(urljoin(self.public + "/", url))
        if not self.owns(url):
            return parts.geturl()
        crawl = self._crawl_parts
        return urlunsplit((crawl.scheme, crawl.netloc, parts.path or "/", parts.query, ""))

    def canonical_url(self, url: str, base: str | None = None) -> str:
        """The one URL an article is stored under (see `canonical_url`)."""
        return canonical_url(self.public_url(url, base), self.public)


@lru_cache(maxsize=4096)  # an article's related links and a listing's entries come back page after page
def canonical_url(url: str, public_origin: str) -> str:
    """One spelling for one page of the portal: https, no `www.`, no tracking or layout
    parameters, no trailing slash after `.html`, no fragment. URLs of other sites are kept
    as they are, bar the fragment."""
    parts = urlsplit(url.strip())
    public = urlsplit(public_origin)
    if _bare_host(parts.netloc) != _bare_host(public.netloc):
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    path = parts.path or "/"
    if path.endswith(".html/"):
        path = path.rstrip("/")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _NOT_IDENTITY.match(k)])
    return urlunsplit((public.scheme, public.netloc, path, query, ""))

