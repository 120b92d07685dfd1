"""What the crawler already knows about a portal, read from MongoDB when a crawl starts.

The state lives in MongoDB only (never in local files), so a job on another scrapyd host
sees what the last job stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pymongo.database import Database

from crawler.reasons import RETRIED_NEXT_RUN


@dataclass(frozen=True)
class Known:
    """One article as stored (or rejected) before this crawl."""

    native_id: str
    url: str | None
    date: datetime | None  # the date its listing shows: publication (city), last update (police)
    modified_at: datetime | None = None
    categories: tuple[str, ...] = ()
    last_seen_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    rejected: bool = False
    aliases: tuple[str, ...] = ()


# Rejects that are a fetch failed for a reason of the moment (crawler/reasons.py): the next run asks again.
# Rejects written before `retry_fetch` existed are read by their reason's code, the one rule of crawler.reasons.
RETRY_FETCH = {"$or": [{"retry_fetch": True},
                       {"retry_fetch": {"$exists": False}, "reasons": {"$regex": f"^({'|'.join(RETRIED_NEXT_RUN)})"}}]}


@dataclass
class CrawlState:
    site: str
    known: dict[str, Known] = field(default_factory=dict)
    by_url: dict[str, str] = field(default_factory=dict)  # canonical URL or alias -> native id
    failed_fetches: list[str] = field(default_factory=list)  # article URLs whose fetch failed in an earlier run

    @classmethod
    def load(cls, db: Database, site: str) -> CrawlState:
        state = cls(site)
        for doc in db.rejects.find({"site": site, "raw.native_id": {"$ne": None}}, {"raw": 1, "url": 1}):
            raw = doc["raw"]
            state.known[raw["native_id"]] = Known(
                native_id=raw["native_id"], url=doc["url"], date=raw.get("published_at"), modified_at=raw.get("modified_at"),
                categories=tuple(c["slug"] for c in raw.get("categories") or []), rejected=True)
        fields = {"native_id": 1, "url": 1, "published_at": 1, "modified_at": 1, "categories.slug": 1, "crawl": 1, "url_aliases": 1}
        for doc in db.articles.find({"site": site, "removed_at": None}, fields):
            crawl = doc.get("crawl", {})
            state.known[doc["native_id"]] = Known(
                native_id=doc["native_id"], url=doc["url"], date=doc.get("published_at"), modified_at=doc.get("modified_at"),
                categories=tuple(c["slug"] for c in doc.get("categories") or []), last_seen_at=crawl.get("last_seen_at"),
                etag=crawl.get("etag"), last_modified=crawl.get("last_modified"), aliases=tuple(doc.get("url_aliases") or ()))
        for known in state.known.values():
            for url in (known.url, *known.aliases):
                if url:
                    state.by_url[url] = known.native_id
        failed = db.rejects.find({"site": site, "raw.what": "article", **RETRY_FETCH}, {"url": 1})
        state.failed_fetches = sorted(doc["url"] for doc in failed)
        return state

    def identify(self, native_id: str | None, canonical_url: str) -> str | None:
        """The native id of a listed article: its own, else the one its URL (or a former URL) is known under."""
        return native_id or self.by_url.get(canonical_url)

    def is_news(self, native_id: str | None, date: datetime | None) -> bool:
        """Whether a listed article is worth a request: unknown, or listed with a newer date than stored."""
        known = self.known.get(native_id or "")
        if known is None:
            return True
        if known.date is None:
            # A rejected page that showed no date: the listing's date says nothing about a change.
            return not known.rejected and date is not None
        return date is not None and date > known.date

    def is_changed_since(self, native_id: str, modified: datetime | None) -> bool:
        known = self.known.get(native_id)
        if known is None:
            return True
        stored = known.modified_at or known.date
        return modified is not None and (stored is None or modified > stored)

    def ids(self, category: str | None = None) -> set[str]:
        return {k.native_id for k in self.known.values() if category is None or category in k.categories}

    def newest_change(self) -> datetime | None:
        dates = [d for k in self.known.values() if not k.rejected for d in (k.modified_at, k.date) if d is not None]
        return max(dates, default=None)

    def due_for_recheck(self, now: datetime, younger_than: timedelta, not_seen_for: timedelta) -> Iterable[Known]:
        """Recent articles not looked at for a while: they are the ones still being edited."""
        for known in self.known.values():
            if known.rejected or known.url is None or known.date is None:
                continue
            if known.date > now - younger_than and (known.last_seen_at is None or known.last_seen_at < now - not_seen_for):
                yield known
