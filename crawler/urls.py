"""URL canonicalisation, the mapping between a portal's public origin and the origin crawled, and the
scope rule: the origins (scheme, host, port) a crawl may send any request to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from w3lib.url import url_query_cleaner

# Query parameters that say how a visitor arrived or how to lay the page out, never which page.
# (w3lib's url_query_cleaner takes them out: the campaign parameters Google Analytics defines, click ids, layout.)
NOT_IDENTITY = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id", "utm_source_platform",
                "utm_creative_format", "utm_marketing_tactic", "fbclid", "gclid", "dclid", "zarsrc", "_ga", "_gl", "print",
                "maxwidth")


WEB_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the port filled in; None for any other scheme or a URL with no host."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number, an unbalanced IPv6 bracket
        return None
    if scheme not in WEB_SCHEMES or not host:
        return None
    return scheme, host, port or _DEFAULT_PORTS[scheme]


def origin_label(url: str) -> str:
    """How an origin is named in a log line, a reject reason or a stat: `http://127.0.0.2:8080`."""
    origin = origin_of(url)
    if origin is None:
        return urlsplit(url).scheme.lower() + ":" if ":" in url else "(no origin)"
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")


def is_web_url(url: str | None) -> bool:
    """Whether a URL is an absolute http(s) URL: the only kind stored as a link or rendered as one."""
    return bool(url) and origin_of(url) is not None


@dataclass(frozen=True)
class PortalScope:
    """The origins one crawl may reach: every request (page, listing, image, robots.txt, redirect target,
    browser navigation, frame or fetch) goes to one of them or not at all."""

    origins: frozenset[tuple[str, str, int]]

    @classmethod
    def of(cls, origins: tuple[str, ...] | list[str] | frozenset[str]) -> PortalScope:
        parsed = {origin_of(o) for o in origins}
        if None in parsed:
            raise ValueError(f"a portal's origins must be http(s) origins: {sorted(origins)}")
        return cls(frozenset(parsed))  # type: ignore[arg-type]

    def allows(self, url: str) -> bool:
        return origin_of(url) in self.origins

    def labels(self) -> list[str]:
        return sorted(f"{s}://{h}" + ("" if p == _DEFAULT_PORTS[s] else f":{p}") for s, h, p in self.origins)


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

    def scope(self, asset_origins: tuple[str, ...] = ()) -> PortalScope:
        """Where this crawl may send requests. Against the live portal: its public origin over http and
        https, with and without `www.` (the portal redirects between them). Against a mirror or the
        replica: the mirror's origin alone, port included, and never the live portal. Plus the asset
        origins the portal's registry entry names."""
        if self.crawl != self.public:
            return PortalScope.of((self.crawl, *asset_origins))
        host = self._public_parts.hostname or ""
        bare = host.removeprefix("www.")
        return PortalScope.of((*(f"{scheme}://{name}" for scheme in WEB_SCHEMES for name in (bare, "www." + bare)), *asset_origins))

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

    def stored_url(self, canonical_link: str | None, fetched_url: str) -> tuple[str, str | None]:
        """(the URL to store an article under, the page's canonical link when it was refused).

        The page's canonical link is taken only when it is http(s) on the portal's own origins:
        a defaced page's `javascript:` link or another site's URL is not the article's. Otherwise
        the URL the page was fetched from stands, and the refused link is returned to be recorded."""
        if canonical_link and canonical_link.strip():
            public = self.public_url(canonical_link, fetched_url)
            if is_web_url(public) and self.owns(public):
                return canonical_url(public, self.public), None
            return self.canonical_url(fetched_url), canonical_link.strip()[:500]
        return self.canonical_url(fetched_url), None

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
    return url_query_cleaner(urlunsplit((public.scheme, public.netloc, path, parts.query, "")), NOT_IDENTITY, remove=True, unique=False)



# Query parameters whose values are secrets (MongoDB's TLS key password and AWS session token, API keys, tokens…).
_SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|credential|signature|^sig$|session|authmechanismproperties", re.I)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/?#\s]*):(?P<password>[^@/?#\s]*)@")
_QUERY_PARAMETER = re.compile(r"(?P<lead>[?&])(?P<name>[^&=?#\s]+)=(?P<value>[^&#\s'\"]*)")


def redact(text: str) -> str:
    """A URI, or a message holding URIs, fit for a log line, an error, a stored record or a command's
    output: every user-info password and every secret-looking query parameter's value masked."""
    masked = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _QUERY_PARAMETER.sub(lambda m: f"{m['lead']}{m['name']}=***" if _SECRET_PARAMETER.search(m["name"]) else m[0], masked)
