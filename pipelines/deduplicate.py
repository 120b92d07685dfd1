"""Stage 3: one document per article, whatever URL it came under; reposts point to their original.

Within a run, an article met again under another URL only adds aliases. Across portals, two
documents with the same body are one story, and one of them is the original: the one that
credits no other source (a repost says `Nguồn. ANHP`), else the earlier one. The police portal
shows only an article's last update time, so dates alone would get an edited original wrong.
That is settled over the whole collection when a crawl closes (the store stage submits the
`reposts` job after its last batch), so it holds whichever portal is crawled first, and when
both are crawled at once.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from datetime import datetime

from pymongo import UpdateMany, UpdateOne
from pymongo.database import Database
from scrapy.crawler import Crawler

from crawler.durable import handles
from crawler.items import ArticleItem
from crawler.portals import PORTALS
from crawler.text import fold_for_matching

from . import ArticleStage

log = logging.getLogger(__name__)
# Below this many letters a body says too little to call two articles the same.
FINGERPRINT_MIN_CHARS = 200


def body_fingerprint(body_text: str) -> str | None:
    folded = fold_for_matching(body_text)
    return hashlib.sha1(folded.encode()).hexdigest() if len(folded) >= FINGERPRINT_MIN_CHARS else None


def aliases_of(item: ArticleItem) -> list[str]:
    """Every URL the item was seen under, other than its canonical one."""
    return sorted({u for u in item.seen_urls if u and u != item.url})


@handles("reposts")
def resolve_reposts_job(db: Database, payload: dict) -> Counter:
    return Counter({"articles/reposts": resolve_reposts(db)})


def resolve_reposts(db: Database) -> int:
    """Set `duplicate_of` on every article whose body another, earlier article already has."""
    groups = db.articles.aggregate([
        {"$match": {"body_fingerprint": {"$ne": None}, "removed_at": None}},
        {"$group": {"_id": "$body_fingerprint", "n": {"$sum": 1},
                    "docs": {"$push": {"id": "$_id", "site": "$site", "published_at": "$published_at",
                                       "credits_source": {"$ne": [{"$ifNull": ["$source", None]}, None]}}}}},
        {"$match": {"n": {"$gt": 1}}},
    ])
    ops, copies = [], set()
    for group in groups:
        def order(doc: dict) -> tuple[bool, datetime, int, str]:
            # When a story and its repost carry the same time, the portal that breaks stories comes first.
            rank = PORTALS[doc["site"]].originating_rank if doc["site"] in PORTALS else len(PORTALS)
            return (doc["credits_source"], doc["published_at"], rank, doc["id"])
        docs = sorted(group["docs"], key=order)
        original = docs[0]["id"]
        ops.append(UpdateOne({"_id": original}, {"$set": {"duplicate_of": None}}))
        for doc in docs[1:]:
            copies.add(doc["id"])
            ops.append(UpdateOne({"_id": doc["id"]}, {"$set": {"duplicate_of": original}}))
    ops.append(UpdateMany({"duplicate_of": {"$ne": None}, "_id": {"$nin": sorted(copies)}}, {"$set": {"duplicate_of": None}}))
    db.articles.bulk_write(ops, ordered=False)
    return len(copies)


class DeduplicateArticlePipeline(ArticleStage):
    """Gathers an article's URLs met in this run into its aliases, and gives it the fingerprint reposts are found by."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: dict[str, set[str]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeduplicateArticlePipeline:
        return cls(crawler)

    async def process_article(self, item: ArticleItem) -> ArticleItem:
        item.body_fingerprint = body_fingerprint(item.body_text)
        item.url_aliases = aliases_of(item)
        if item._id in self.seen:
            self.crawler.stats.inc_value("articles/seen_again_in_run")
        self.seen[item._id].update(item.url_aliases)
        item.url_aliases = sorted(self.seen[item._id])
        return item
