"""Stage 4: upsert each article by `_id` into `articles`, with its provenance, in journaled batches.

A stored article whose content hash changes keeps its old content in `article_revisions`
and goes up one `revision`; an unchanged one only moves `crawl.last_seen_at`. An article the
portal no longer serves gets `removed_at`, and is never deleted.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import asdict
from typing import Any

from itemadapter import ItemAdapter
from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.dates import utc_now
from crawler.items import (
    CONTENT_FIELDS,
    EXTRACTED_FIELDS,
    ArticleItem,
    ArticleRemoved,
    ArticleSeenUnder,
    ArticleUnchanged,
    FetchFailure,
    Rejected,
    SiteFacts,
    aliases_of,
)
from crawler.operations.runs import job_id_of, run_id_of
from crawler.reasons import retried_next_run
from crawler.storage.durable import DurableWriter, WriteJob, update, updates_job
from crawler.storage.jobs import ARTICLES, REPOSTS
from crawler.storage.mongo import MongoConnection

log = logging.getLogger(__name__)

# What a revision keeps of the content it replaces.
REVISION_FIELDS = (*CONTENT_FIELDS, "content_hash", "revision")
INDEXES = {
    "articles": [
        IndexModel([("site", ASCENDING), ("published_at", DESCENDING)]),
        IndexModel([("url", ASCENDING)]),
        IndexModel([("url_aliases", ASCENDING)]),
        IndexModel([("published_at", ASCENDING)]),  # the reposts job reads the collection in date order
        IndexModel([("duplicate_of", ASCENDING)]),
        IndexModel([("crawl.last_changed_at", DESCENDING)]),
    ],
    "article_revisions": [IndexModel([("article_id", ASCENDING), ("revision", DESCENDING)])],
    "rejects": [IndexModel([("site", ASCENDING), ("reasons", ASCENDING)])],
    "crawl_runs": [IndexModel([("spider", ASCENDING), ("started_at", DESCENDING)])],
}


def content_hash(title: str | None, body_text: str) -> str:
    """What says the text changed: a new hash keeps the old content as a revision."""
    return hashlib.sha256(f"{title or ''}\n{body_text}".encode()).hexdigest()


def _record_differs(old: dict, fields: dict[str, Any]) -> bool:
    """Whether any field the parser extracts differs from the stored document."""
    return any(old.get(name) != value for name, value in fields.items() if "." not in name and name in EXTRACTED_FIELDS)


def ensure_indexes(db: Database) -> None:
    for collection, indexes in INDEXES.items():
        db[collection].create_indexes(indexes)


def write_articles(db: Database, payload: dict) -> Counter:
    """Upsert a batch of articles (a job of the durable writer: idempotent, so it can be retried or replayed).

    Reads what is stored first, so that a changed article keeps its old content in
    `article_revisions` (under an id made of the article's and the revision's, so a retry
    never keeps it twice), then resolves the rejects the article leaves behind: a page that
    failed or was refused earlier and is stored now is no longer a reject.
    """
    counts: Counter = Counter()
    now, provenance = payload["now"], payload["provenance"]
    latest = {}
    for fields in payload["items"]:
        item = ArticleItem(**fields)
        latest[item._id] = item  # the last word on an article met twice in a batch
    stored = {doc["_id"]: doc for doc in db.articles.find({"_id": {"$in": list(latest)}}, {"dedup_keys": 0, "repost_candidates": 0})}
    article_ops: list[Any] = []
    if_stored: dict[int, UpdateOne] = {}  # an insert's index in article_ops: the upsert to use if the article is there after all
    revision_ops: list[Any] = []
    for _id, item in latest.items():
        fields = {name: getattr(item, name) for name in EXTRACTED_FIELDS if name != "_id"}
        digest = content_hash(item.title, item.body_text)
        fields |= {"content_hash": digest, "dedup_keys": item.dedup_keys,
                   "crawl.listing_url": item.listing_url, "crawl.http_status": item.http_status,
                   "crawl.etag": item.etag, "crawl.last_modified": item.last_modified,
                   "crawl.canonical_refused": item.canonical_refused, **provenance}
        old = stored.get(_id)
        if old is not None and old.get("published_at") and fields.get("published_at") and old["published_at"] < fields["published_at"]:
            # Publication is the earliest time the portal ever showed: a later date on a revision is an update (the
            # police portal shows only its last "Cập nhật"), which `modified_at` keeps.
            fields["modified_at"] = max(d for d in (fields.get("modified_at"), fields["published_at"]) if d is not None)
            fields["published_at"] = old["published_at"]
        change: dict[str, Any] = {"$set": fields, "$unset": {"removed_at": ""}}
        if old is None:
            change["$setOnInsert"] = {"revision": 1, "duplicate_of": None, "repost": None, "crawl.first_seen_at": now,
                                      "crawl.last_changed_at": now}
            counts["articles/new"] += 1
        elif old.get("content_hash") != digest:
            revision = old.get("revision", 1)
            revision_ops.append(UpdateOne({"_id": f"{_id}:r{revision}"}, {"$setOnInsert": {
                "article_id": _id, "replaced_at": now, **{k: old.get(k) for k in REVISION_FIELDS}}}, upsert=True))
            change["$set"]["revision"] = revision + 1
            change["$set"]["crawl.last_changed_at"] = now
            counts["articles/changed"] += 1
        elif _record_differs(old, fields):
            # Moved to another category, a new image caption…: the record changed, the text did not.
            change["$set"]["crawl.last_changed_at"] = now
            counts["articles/changed"] += 1
        else:
            counts["articles/unchanged"] += 1
        # A title edit moved the URL: the old one stays findable.
        aliases = aliases_of(item.url, [*item.url_aliases, old.get("url") if old else None])
        change["$addToSet"] = {"url_aliases": {"$each": aliases}}
        upsert = UpdateOne({"_id": _id}, change, upsert=True)
        if old is None:  # an insert costs the server half an upsert; met stored after all, it is the upsert
            article_ops.append(InsertOne(_nested({"_id": _id, **fields, **change["$setOnInsert"], "url_aliases": aliases})))
            if_stored[len(article_ops) - 1] = upsert
        else:
            article_ops.append(upsert)
    # Revisions first: an article never moves on before its old content is safe.
    if revision_ops:
        db.article_revisions.bulk_write(revision_ops, ordered=False)
    if article_ops:
        _write_articles(db, article_ops, if_stored)
    resolved = db.rejects.delete_many({"$or": [
        {"site": item.site, "url": {"$in": sorted({item.url, *item.url_aliases, *item.seen_urls})}} for item in latest.values()
    ] + [{"site": item.site, "raw.native_id": item.native_id} for item in latest.values()]})
    counts["rejects/resolved"] += resolved.deleted_count
    return counts


def _nested(fields: dict[str, Any]) -> dict[str, Any]:
    """A document from fields named as `$set` names them (`crawl.etag`: `etag` inside `crawl`)."""
    doc: dict[str, Any] = {}
    for name, value in fields.items():
        *parents, leaf = name.split(".")
        node = doc
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return doc


def _write_articles(db: Database, ops: list[Any], if_stored: dict[int, UpdateOne]) -> None:
    """The batch's writes; a new article found stored after all (a replayed batch, another writer) is upserted instead."""
    try:
        db.articles.bulk_write(ops, ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        again = [if_stored[e["index"]] for e in errors if e.get("code") == 11000 and e["index"] in if_stored]
        if len(again) < len(errors):
            raise
        db.articles.bulk_write(again, ordered=False)


def reject(rejected: Rejected, job_id: str, spider: str) -> dict:
    """The `rejects` document of a record not stored: every reason, what was read, the jobs that met it."""
    now = utc_now()
    return update("rejects", {"_id": f"{rejected.site}:{rejected.url}"},
                  {"$set": {"site": rejected.site, "url": rejected.url, "reasons": rejected.reasons, "raw": rejected.raw,
                            # A failure of the moment: the next run asks for the article again (crawler/incremental/state.py).
                            "retry_fetch": rejected.raw.get("what") == "article" and any(map(retried_next_run, rejected.reasons)),
                            "last_rejected_at": now, "job_id": job_id, "spider": spider},
                   "$setOnInsert": {"first_rejected_at": now}, "$addToSet": {"jobs": job_id}},
                  upsert=True)


def mark(item: object, job_id: str) -> dict | None:
    """The update a bookkeeping item asks of a stored article (no content to compare)."""
    now = utc_now()
    if isinstance(item, ArticleUnchanged):
        return update("articles", {"_id": f"{item.site}:{item.native_id}"}, {"$set": {"crawl.last_seen_at": now, "crawl.http_status": 304}})
    if isinstance(item, ArticleSeenUnder):
        return update("articles", {"_id": f"{item.site}:{item.native_id}", "url": {"$ne": item.url}},
                      {"$addToSet": {"url_aliases": item.url}})
    if isinstance(item, ArticleRemoved):
        return update("articles", {"_id": f"{item.site}:{item.native_id}", "removed_at": None},
                      {"$set": {"removed_at": now, "crawl.http_status": item.http_status, "crawl.job_id": job_id}})
    if isinstance(item, SiteFacts):
        return update("sites", {"_id": item.site}, {"$set": {**item.facts, "updated_at": now}}, upsert=True)
    return None


def articles_job(items: list[ArticleItem], job_id: str, spider: str, version: str | None) -> WriteJob:
    """A batch of articles for the writer (`write_articles`): their fields as plain data, and where they came from."""
    # One moment for the batch: first seen, last seen and last changed are then never out of order
    # (two clock readings made `last_seen_at` precede `first_seen_at` by a few microseconds, in every record).
    now = utc_now()
    provenance = {"crawl.last_seen_at": now, "crawl.job_id": job_id, "crawl.spider": spider, "crawl.version": version}
    return WriteJob(ARTICLES, {"items": [asdict(item) for item in items], "provenance": provenance, "now": now}, size=len(items))


class StoreInMongoPipeline:
    """Hands articles, marks and rejects to the crawl's durable writer in batches; at the end, settles reposts."""

    def __init__(self, crawler: Crawler, batch_size: int) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.pending: list[ArticleItem] = []
        self.marks: list[dict] = []  # unchanged and removed articles, aliases, site facts, rejects
        self.writer: DurableWriter | None = None  # none when the crawl could not open (MongoDB away, the lease held)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreInMongoPipeline:
        return cls(crawler, crawler.settings.getint("MONGO_BATCH_SIZE"))

    def open_spider(self) -> None:
        mongo = MongoConnection.of(self.crawler)
        self.writer = mongo.open_for_crawl(self.crawler.spider, run_id_of(self.crawler.spider))
        ensure_indexes(mongo.db)

    async def close_spider(self) -> None:
        if self.writer is None:
            return
        await self.flush()
        # After the last article is written, whichever portal was crawled: reposts across the collection.
        if self.crawler.settings.getbool("PORTAL_REPOSTS_AT_CLOSE"):
            await self.writer.submit(WriteJob(REPOSTS, {}))
        await self.writer.drain()

    async def item_dropped(self, item: object, exception: BaseException) -> None:
        """A record a stage rejected is kept in `rejects` with its reasons: nothing is dropped silently."""
        if isinstance(exception, Rejected):
            await self._record_reject(exception)

    async def _record_reject(self, rejected: Rejected) -> None:
        stats = self.crawler.stats
        stats.inc_value("rejects/total")
        for reason in rejected.reasons:
            stats.inc_value(f"rejects/{reason.split(':', 1)[0]}")
        self.marks.append(reject(rejected, job_id_of(self.crawler.spider), self.crawler.spider.name))
        await self._flush_when_full()

    async def process_item(self, item: object) -> object:
        if isinstance(item, FetchFailure):  # its own path: a page never had goes to `rejects` without a check
            await self._record_reject(Rejected(item.site, item.url, [item.reason], ItemAdapter(item).asdict()))
            raise DropItem(f"recorded in rejects: {item.url}: {item.reason}")  # not an article: no item, no field coverage
        if isinstance(item, ArticleItem):
            self.pending.append(item)
        elif (change := mark(item, job_id_of(self.crawler.spider))) is not None:
            self.marks.append(change)
            if isinstance(item, ArticleUnchanged | ArticleRemoved):
                self.crawler.stats.inc_value("articles/unchanged" if isinstance(item, ArticleUnchanged) else "articles/removed")
        await self._flush_when_full()
        return item

    async def _flush_when_full(self) -> None:
        if len(self.pending) + len(self.marks) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        # Articles first: a mark (unchanged, removed, alias) may be about an article of this batch.
        items, self.pending = self.pending, []
        marks, self.marks = self.marks, []
        if items:
            spider = self.crawler.spider
            await self.writer.submit(articles_job(items, job_id_of(spider), spider.name, self.crawler.settings.get("PORTAL_VERSION")))
        if marks:
            await self.writer.submit(updates_job(marks))
