"""Stage 3: one document per article, whatever URL it came under; reposts point to their original.

Within a run, an article met again under another URL only adds aliases. Across portals, two
documents with the same body are one story, and one of them is the original: the one that
credits no other source (a repost says `Nguồn. ANHP`), else the earlier one. The police portal
shows only an article's last update time, so dates alone would get an edited original wrong.
That is settled over the whole collection when a crawl closes, so it holds whichever portal
is crawled first, and when both are crawled at once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from pymongo import UpdateMany, UpdateOne
from pymongo.database import Database
from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.mongo import shared_mongo

log = logging.getLogger(__name__)
# When a story and its repost carry the same time, the portal that broke it comes first.
_ORIGINATING_SITES = ("congan_haiphong",)


def aliases_of(item: ArticleItem) -> list[str]:
    """Every URL the item was seen under, other than its canonical one."""
    return sorted({u for u in item.seen_urls if u and u != item.url})


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
            return (doc["credits_source"], doc["published_at"], 0 if doc["site"] in _ORIGINATING_SITES else 1, doc["id"])
        docs = sorted(group["docs"], key=order)
        original = docs[0]["id"]
        ops.append(UpdateOne({"_id": original}, {"$set": {"duplicate_of": None}}))
        for doc in docs[1:]:
            copies.add(doc["id"])
            ops.append(UpdateOne({"_id": doc["id"]}, {"$set": {"duplicate_of": original}}))
    ops.append(UpdateMany({"duplicate_of": {"$ne": None}, "_id": {"$nin": sorted(copies)}}, {"$set": {"duplicate_of": None}}))
    db.articles.bulk_write(ops, ordered=False)
    return len(copies)


class DeduplicateArticlePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: dict[str, set[str]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeduplicateArticlePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.db = shared_mongo.acquire(self.crawler).db

    def close_spider(self) -> None:
        # Runs after the store stage has flushed (Scrapy closes pipelines last to first).
        try:
            reposts = resolve_reposts(self.db)
            self.crawler.stats.set_value("articles/reposts", reposts)
        finally:
            shared_mongo.release(self.crawler)

    def process_item(self, item: object) -> object:
        if not isinstance(item, ArticleItem):
            return item
        item.url_aliases = aliases_of(item)
        if item._id in self.seen:
            self.crawler.stats.inc_value("articles/seen_again_in_run")
        self.seen[item._id].update(item.url_aliases)
        item.url_aliases = sorted(self.seen[item._id])
        return item
