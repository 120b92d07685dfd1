"""The item model: what a parser extracts, and what the pipelines clean, check and store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from scrapy.exceptions import DropItem

# What each field of ArticleItem is, in its metadata: the lists below are derived from it.
IDENTITY, CONTENT, PIPELINE, FETCH = "identity", "content", "pipeline", "fetch"


def _kind(kind: str, **options: Any) -> Any:
    return field(metadata={"kind": kind}, **options)


@dataclass
class ArticleItem:
    """One article as found on one page of a portal."""

    # Who it is (the record's `_id` is `site:native_id`) and what the parser read off its page.
    site: str = _kind(IDENTITY)
    native_id: str | None = _kind(IDENTITY)
    url: str = _kind(CONTENT)
    title: str | None = _kind(CONTENT, default=None)
    summary: str | None = _kind(CONTENT, default=None)
    published_at: datetime | None = _kind(CONTENT, default=None)
    modified_at: datetime | None = _kind(CONTENT, default=None)
    date_text: str | None = _kind(CONTENT, default=None)
    categories: list[dict[str, str]] = _kind(CONTENT, default_factory=list)
    author: str | None = _kind(CONTENT, default=None)
    source: dict[str, Any] | None = _kind(CONTENT, default=None)
    body_text: str = _kind(CONTENT, default="")
    body_html: str = _kind(CONTENT, default="")
    images: list[dict[str, str | None]] = _kind(CONTENT, default_factory=list)
    # Images another host serves (tracking pixels, embeds): never fetched, kept as data.
    offsite_images: list[dict[str, str | None]] = _kind(CONTENT, default_factory=list)
    qr: dict[str, Any] | None = _kind(CONTENT, default=None)
    related_urls: list[str] = _kind(CONTENT, default_factory=list)
    # Filled by the pipelines (the deduplicate stage).
    url_aliases: list[str] = _kind(PIPELINE, default_factory=list)
    dedup_keys: list[int] = _kind(PIPELINE, default_factory=list)  # what reposts are found by (crawler.reposts.similarity)
    # How it was fetched: every URL it was seen under, where it was listed, the answer's status.
    seen_urls: list[str] = _kind(FETCH, default_factory=list)
    listing_url: str | None = _kind(FETCH, default=None)
    http_status: int | None = _kind(FETCH, default=None)
    etag: str | None = _kind(FETCH, default=None)
    last_modified: str | None = _kind(FETCH, default=None)
    # A canonical link the page gave and the crawler did not take (not http(s) on the portal's origins).
    canonical_refused: str | None = _kind(FETCH, default=None)

    @property
    def _id(self) -> str | None:  # named as MongoDB stores it
        return f"{self.site}:{self.native_id}" if self.native_id else None

    def extracted(self) -> dict[str, Any]:
        """The fields a parser is answerable for, as a plain dict (golden tests compare these)."""
        return {name: getattr(self, name) for name in EXTRACTED_FIELDS}


def fields_of(*kinds: str) -> tuple[str, ...]:
    """The names of ArticleItem's fields of these kinds, in the model's order."""
    return tuple(f.name for f in fields(ArticleItem) if f.metadata["kind"] in kinds)


# What a parser extracts from an article page (the record contract, less what the pipelines add).
EXTRACTED_FIELDS = ("_id", *fields_of(IDENTITY, CONTENT))
# An article's content: what a revision keeps when it changes, what makes a stored record differ.
CONTENT_FIELDS = fields_of(CONTENT)


def aliases_of(url: str, seen: Iterable[str | None]) -> list[str]:
    """An article's aliases, the one rule wherever they are gathered (in a run, and against what is stored):
    every URL it was seen under, other than the one it is stored under, once each, sorted."""
    return sorted({u for u in seen if u and u != url})


class Rejected(DropItem):
    """A record not fit to store, with every reason: the store keeps it in `rejects` (an item_dropped signal)."""

    def __init__(self, site: str, url: str, reasons: list[str], raw: dict[str, Any]) -> None:
        super().__init__(f"rejected {url}: {', '.join(reasons)}")
        self.site, self.url, self.reasons, self.raw = site, url, reasons, raw


@dataclass
class FetchFailure:
    """A page the crawler could not get after its retries: it is recorded, never dropped."""

    site: str
    url: str
    reason: str
    listing_url: str | None = None
    http_status: int | None = None
    what: str = "article"  # "article" (or its QR image): the next run asks for the article again


@dataclass
class ArticleUnchanged:
    """A stored article the portal says has not changed (a 304 to a conditional request)."""

    site: str
    native_id: str
    url: str


@dataclass
class ArticleSeenUnder:
    """Another URL an already fetched article is listed under (it becomes an alias)."""

    site: str
    native_id: str
    url: str


@dataclass
class ArticleRemoved:
    """A stored article the portal no longer serves (404 or 410): it is marked, never deleted."""

    site: str
    native_id: str
    url: str
    http_status: int


@dataclass
class SiteFacts:
    """Facts about a portal as a whole, e.g. the payload of its fanpage QR code."""

    site: str
    facts: dict[str, Any]
