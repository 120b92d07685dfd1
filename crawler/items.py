"""The item model: what a parser extracts, and what the pipelines clean, check and store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Fields a parser extracts from an article page (the record contract, less what the pipelines add).
EXTRACTED_FIELDS = (
    "_id", "site", "native_id", "url", "title", "summary", "published_at", "modified_at",
    "date_text", "categories", "author", "source", "body_text", "body_html", "images", "offsite_images", "qr",
    "related_urls",
)


@dataclass
class ArticleItem:
    """One article as found on one page of a portal."""

    site: str
    native_id: str | None
    url: str
    title: str | None = None
    summary: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    date_text: str | None = None
    categories: list[dict[str, str]] = field(default_factory=list)
    author: str | None = None
    source: dict[str, Any] | None = None
    body_text: str = ""
    body_html: str = ""
    images: list[dict[str, str | None]] = field(default_factory=list)
    # Images another host serves (tracking pixels, embeds): never fetched, kept as data.
    offsite_images: list[dict[str, str | None]] = field(default_factory=list)
    qr: dict[str, Any] | None = None
    related_urls: list[str] = field(default_factory=list)
    # Filled by the pipelines.
    content_hash: str | None = None
    body_fingerprint: str | None = None
    url_aliases: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    # How it was fetched: every URL it was seen under, where it was listed, the answer's status.
    seen_urls: list[str] = field(default_factory=list)
    listing_url: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def _id(self) -> str | None:  # named as MongoDB stores it
        return f"{self.site}:{self.native_id}" if self.native_id else None

    def extracted(self) -> dict[str, Any]:
        """The fields a parser is answerable for, as a plain dict (golden tests compare these)."""
        return {name: getattr(self, name) for name in EXTRACTED_FIELDS}


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
