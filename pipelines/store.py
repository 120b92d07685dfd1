"""Stage 4: upsert each article by `_id` into `articles`, with its provenance, in journaled batches.

A stored article whose content hash changes keeps its old content in `article_revisions`
and goes up one `revision`; an unchanged one only moves `crawl.last_seen_at`. An article the
portal no longer serves gets `removed_at`, and is never deleted.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, UpdateOne
from pymongo.database import Database
from scrapy.crawler import Crawler

from crawler.batch import BatchPolicy
from crawler.dates import utc_now
from crawler.items import EXTRACTED_FIELDS, ArticleItem, ArticleRemoved, ArticleSeenUnder, ArticleUnchanged, SiteFacts
from crawler.mongo import shared_mongo
from crawler.runs import job_id_of

log = logging.getLogger(__name__)

# What a revision keeps of the content it replaces.
REVISION_FIELDS = ("url", "title", "summary", "published_at", "modified_at", "date_text", "categories", "author",
                   "source", "body_text", "body_html", "images", "qr", "related_urls", "content_hash", "revision")
INDEXES = {
    "articles": [
        IndexModel([("site", ASCENDING), ("published_at", DESCENDING)]),
        IndexModel([("url", ASCENDING)]),
        IndexModel([("url_aliases", ASCENDING)]),
        IndexModel([("body_fingerprint", ASCENDING)]),
        IndexModel([("duplicate_of", ASCENDING)]),
        IndexModel([("crawl.last_changed_at", DESCENDING)]),
    ],
    "article_revisions": [IndexModel([("article_id", ASCENDING), ("revision", DESCENDING)])],
    "rejects": [IndexModel([("site", ASCENDING), ("reasons", ASCENDING)])],
    "crawl_runs": [IndexModel([("spider", ASCENDING), ("started_at", DESCENDING)])],
}


def _record_differs(old: dict, fields: dict[str, Any]) -> bool:
    """Whether any field the parser extracts differs from the stored document."""
    return any(old.get(name) != value for name, value in fields.items() if "." not in name and name in EXTRACTED_FIELDS)


def ensure_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        db[collection].create_indexes(indexes)


class StoreInMongoPipeline:
    def __init__(self, crawler: Crawler, policy: BatchPolicy) -> None:
        self.crawler = crawler
        self.policy = policy
        self.pending: list[ArticleItem] = []
        self.marks: list[UpdateOne] = []  # unchanged and removed articles: no content to compare

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreInMongoPipeline:
        return cls(crawler, BatchPolicy.from_settings(crawler.settings))

    def open_spider(self) -> None:
        self.db = shared_mongo.acquire(self.crawler).db
        ensure_indexes(self.db)

    def close_spider(self) -> None:
        try:
            self.flush()
        finally:
            shared_mongo.release(self.crawler)

    def process_item(self, item: object) -> object:
        if isinstance(item, SiteFacts):
            self.db.sites.update_one({"_id": item.site}, {"$set": {**item.facts, "updated_at": utc_now()}}, upsert=True)
        elif isinstance(item, ArticleItem):
            self.pending.append(item)
        elif isinstance(item, ArticleUnchanged):
            self.crawler.stats.inc_value("articles/unchanged")
            self.marks.append(UpdateOne({"_id": f"{item.site}:{item.native_id}"},
                                        {"$set": {"crawl.last_seen_at": utc_now(), "crawl.http_status": 304}}))
        elif isinstance(item, ArticleSeenUnder):
            self.marks.append(UpdateOne({"_id": f"{item.site}:{item.native_id}", "url": {"$ne": item.url}},
                                        {"$addToSet": {"url_aliases": item.url}}))
        elif isinstance(item, ArticleRemoved):
            self.crawler.stats.inc_value("articles/removed")
            self.marks.append(UpdateOne({"_id": f"{item.site}:{item.native_id}", "removed_at": None},
                                        {"$set": {"removed_at": utc_now(), "crawl.http_status": item.http_status,
                                                  "crawl.job_id": job_id_of(self.crawler.spider)}}))
        if len(self.pending) + len(self.marks) >= self.policy.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        # Articles first: a mark (unchanged, removed, alias) may be about an article of this batch.
        marks, self.marks = self.marks, []
        self.write_articles()
        self.policy.write(self.db.articles, marks, self.crawler.stats)

    def write_articles(self) -> None:
        items, self.pending = self.pending, []
        if not items:
            return
        latest = {item._id: item for item in items}  # the last word on an article met twice in a batch
        stored = {doc["_id"]: doc for doc in self.db.articles.find({"_id": {"$in": list(latest)}}, {"body_fingerprint": 0})}
        now = utc_now()
        spider = self.crawler.spider
        provenance = {"crawl.last_seen_at": now, "crawl.job_id": job_id_of(spider), "crawl.spider": spider.name,
                      "crawl.version": self.crawler.settings.get("PORTAL_VERSION")}
        article_ops: list[Any] = []
        revision_ops: list[Any] = []
        for _id, item in latest.items():
            fields = {name: getattr(item, name) for name in EXTRACTED_FIELDS if name != "_id"}
            fields |= {"content_hash": item.content_hash, "body_fingerprint": item.body_fingerprint,
                       "crawl.listing_url": item.listing_url, "crawl.http_status": item.http_status,
                       "crawl.etag": item.etag, "crawl.last_modified": item.last_modified, **provenance}
            aliases = set(item.url_aliases)
            update: dict[str, Any] = {"$set": fields, "$unset": {"removed_at": ""}}
            old = stored.get(_id)
            if old is None:
                update["$setOnInsert"] = {"revision": 1, "duplicate_of": None, "crawl.first_seen_at": now, "crawl.last_changed_at": now}
                self.crawler.stats.inc_value("articles/new")
            elif old.get("content_hash") != item.content_hash:
                revision_ops.append(InsertOne({"article_id": _id, "replaced_at": now,
                                               **{k: old.get(k) for k in REVISION_FIELDS}}))
                update["$inc"] = {"revision": 1}
                update["$set"]["crawl.last_changed_at"] = now
                self.crawler.stats.inc_value("articles/changed")
            elif _record_differs(old, fields):
                # Moved to another category, a new image caption…: the record changed, the text did not.
                update["$set"]["crawl.last_changed_at"] = now
                self.crawler.stats.inc_value("articles/changed")
            else:
                self.crawler.stats.inc_value("articles/unchanged")
            if old is not None and old.get("url") and old["url"] != item.url:
                aliases.add(old["url"])  # a title edit moved the URL: the old one stays findable
            aliases.discard(item.url)
            update["$addToSet"] = {"url_aliases": {"$each": sorted(aliases)}}
            article_ops.append(UpdateOne({"_id": _id}, update, upsert=True))
        # Revisions first: an article never moves on before its old content is safe.
        self.policy.write(self.db.article_revisions, revision_ops, self.crawler.stats)
        self.policy.write(self.db.articles, article_ops, self.crawler.stats)
