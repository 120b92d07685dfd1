"""Reposts across the collection: the `reposts` write job settles which articles copy which.

Across runs and portals, a repost (an edited copy, `crawler.reposts.similarity` decides) gets
`duplicate_of` (its story's original: the one that credits no other source, as `Nguồn. ANHP`
does, else the earliest) and `repost` (score, method, when, matched with what); close pairs that
are not linked, such as routine notices, are kept in `repost_candidates` for review.

The resolution is incremental: the job (submitted by the store after its last batch, so it
holds whichever portal is crawled first, and when both are crawled at once; run once by reparse
after all its processes) settles the articles that changed since the last job
(`crawl.last_changed_at` past the watermark in `meta`), comparing each with the articles
published within `WINDOW` of it, the collection read once in date order, and writes only what
changes. A run killed before its close leaves the watermark where it was: the next run settles
its articles.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pymongo import UpdateMany, UpdateOne
from pymongo.database import Database

from crawler.dates import utc_now
from crawler.portals import PORTALS
from crawler.reposts.similarity import Body, Candidate, best_match, compare, keys_of
from crawler.storage.mongo import read_ahead

log = logging.getLogger(__name__)
WINDOW = timedelta(days=60)  # reposts come within days, a portal's own republication within weeks
# Hosts' clocks differ a little: articles changed this long before the watermark are settled again (it is idempotent).
CLOCK_SLACK = timedelta(minutes=10)
STOP_KEY_DOCS = 25  # a key that many articles share is boilerplate (a notice's fixed paragraph), not evidence
_FIELDS = {"site": 1, "published_at": 1, "source": 1, "title": 1, "body_text": 1, "dedup_keys": 1, "duplicate_of": 1,
           "repost": 1, "repost_candidates": 1, "crawl.last_changed_at": 1}
_SCHEMA = 2  # the version of what the job writes; an older database is settled anew once


def resolve_reposts_job(db: Database, payload: dict) -> Counter:
    return resolve_reposts(db, utc_now())


# Bodies split into words, kept for the articles compared lately. A body in words is ten times its
# text, and a window holds every article of four months: kept for the whole window, they made the
# job's memory grow with how many articles a portal publishes a day (180 MB at 50,000 articles).
BODIES_KEPT = 64
SWEEP_BATCH = 200  # articles a round trip: pymongo's default fills 16 MB, 50 MB once decoded


class _Entry:
    __slots__ = ("candidate", "keys", "pending", "stored", "text")

    def __init__(self, doc: dict, pending: bool) -> None:
        self.pending = pending
        self.stored = {k: doc.get(k) for k in ("duplicate_of", "repost", "repost_candidates")}
        self.text = doc.get("body_text") or ""
        self.keys = doc["dedup_keys"] if doc.get("dedup_keys") is not None else keys_of(Body.of(self.text))
        site = doc.get("site")
        self.candidate = Candidate(doc["_id"], site, doc["published_at"], bool(doc.get("source")), doc.get("title") or "",
                                   PORTALS[site].originating_rank if site in PORTALS else len(PORTALS), doc.get("duplicate_of"))


def resolve_reposts(db: Database, now: datetime) -> Counter:
    """Settle every article changed since the last job: linked to its story's original, or not, close pairs kept for review."""
    counts: Counter = Counter()
    mark = db.meta.find_one({"_id": "reposts"}) or {}
    since = None
    if mark.get("schema") == _SCHEMA and mark.get("settled_until"):
        since = mark["settled_until"] - CLOCK_SLACK
    changed = {"crawl.last_changed_at": {"$gte": since}} if since else {}
    # Only the dates: the articles to settle are told apart again as the sweep reads them (not 50,000 ids held).
    moments = sorted(d["published_at"] for d in db.articles.find(changed, {"published_at": 1, "_id": 0}) if d.get("published_at"))
    if moments:
        ranges: list[list[datetime]] = []
        for moment in moments:  # the windows around the articles to settle, merged
            if ranges and moment - WINDOW <= ranges[-1][1]:
                ranges[-1][1] = moment + WINDOW
            else:
                ranges.append([moment - WINDOW, moment + WINDOW])
        del moments
        sweep = _Sweep(db, now, counts, since)
        for low, high in ranges:
            # Whole documents: the embedded server deep-copies every field a projection names (its lists of keys
            # most), which cost it more than sending the rest (the job over 50,000 articles: 35 s of its CPU, 22 s without).
            window = db.articles.find({"published_at": {"$gte": low, "$lte": high}}).sort([("published_at", 1), ("_id", 1)])
            sweep.run(read_ahead(window.batch_size(SWEEP_BATCH)))  # the server reads the next while the sweep compares
        sweep.flush()
    db.meta.update_one({"_id": "reposts"}, {"$set": {"schema": _SCHEMA}, "$max": {"settled_until": now}}, upsert=True)
    return counts


class _Sweep:
    """The collection read once in date order, with the articles of the last window held in memory."""

    def __init__(self, db: Database, now: datetime, counts: Counter, since: datetime | None) -> None:
        self.db, self.now, self.counts, self.since = db, now, counts, since
        self.window: deque[_Entry] = deque()
        # The window's articles by key: one id, or a set when several share it (most keys belong to one article).
        self.by_key: dict[int, str | set[str]] = {}
        self.entries: dict[str, _Entry] = {}
        self.waiting: deque[_Entry] = deque()
        # Links decided in this job, over what is stored, for the articles of the window (what left it is written first).
        self.original_of: dict[str, str | None] = {}
        self.ops: list[Any] = []
        # Split into words only when compared (most articles of a window never are), and kept a while.
        self.body = lru_cache(maxsize=BODIES_KEPT)(Body.of)

    def is_pending(self, doc: dict) -> bool:
        """Changed since the last job (every article, when the database is settled anew)."""
        if self.since is None:
            return True
        changed_at = (doc.get("crawl") or {}).get("last_changed_at")
        return changed_at is not None and changed_at >= self.since

    def run(self, cursor: Any) -> None:
        for doc in cursor:
            if doc["_id"] in self.entries or doc.get("published_at") is None:
                continue
            entry = _Entry(doc, self.is_pending(doc))
            moment = entry.candidate.published_at
            while self.waiting and self.waiting[0].candidate.published_at + WINDOW < moment:
                self.settle(self.waiting.popleft())
            horizon = (self.waiting[0].candidate.published_at if self.waiting else moment) - WINDOW
            while self.window and self.window[0].candidate.published_at < horizon:
                self.forget(self.window.popleft())
            self.window.append(entry)
            self.entries[entry.candidate.id] = entry
            for key in entry.keys:
                self.index(key, entry.candidate.id)
            if entry.pending:
                self.waiting.append(entry)
        while self.waiting:
            self.settle(self.waiting.popleft())
        while self.window:
            self.forget(self.window.popleft())

    def index(self, key: int, article_id: str) -> None:
        ids = self.by_key.get(key)
        if ids is None:
            self.by_key[key] = article_id
        elif isinstance(ids, str):
            if ids != article_id:
                self.by_key[key] = {ids, article_id}
        else:
            ids.add(article_id)

    def sharing(self, key: int) -> set[str] | tuple[str, ...]:
        ids = self.by_key.get(key, ())
        return (ids,) if isinstance(ids, str) else ids

    def forget(self, entry: _Entry) -> None:
        me = entry.candidate.id
        for key in entry.keys:
            ids = self.by_key.get(key)
            if ids == me:
                del self.by_key[key]
            elif isinstance(ids, set):
                ids.discard(me)
                if len(ids) == 1:
                    self.by_key[key] = ids.pop()
        del self.entries[me]
        self.original_of.pop(me, None)  # written by the next flush, and read back from there if needed again

    def original(self, candidate: Candidate) -> str | None:
        return self.original_of.get(candidate.id, candidate.duplicate_of)

    def settle(self, entry: _Entry) -> None:
        me = entry.candidate
        ids = set()
        for key in entry.keys:
            sharing = self.sharing(key)
            if len(sharing) <= STOP_KEY_DOCS:
                ids.update(sharing)
        ids.discard(me.id)
        others = [(self.entries[i].candidate, self.body(self.entries[i].text)) for i in sorted(ids)]
        self.counts["reposts/compared"] += len(others)
        # Most articles share no key with another: nothing to compare, and no body to split into words.
        match, review = best_match(me, self.body(entry.text), others) if others else (None, [])
        change: dict[str, Any] = {"repost_candidates": [{"id": c.id, "score": r.score, "why": r.why}
                                                        for c, r in sorted(review, key=lambda p: -p[1].score)[:5]]}
        self.counts["reposts/for_review"] += len(review)
        if match is not None:
            other, result = match
            root_id = self.original(other) or other.id
            root = self.entries[root_id].candidate if root_id in self.entries else self._stored(root_id) or other
            root_entry = self.entries.get(root.id)
            if root.id != other.id and root_entry is not None and not compare(self.body(entry.text), self.body(root_entry.text)).linked:
                # Like a copy of the story, not like its original: links do not chain from look-alike to look-alike.
                match = None
        if match is None:
            change |= {"duplicate_of": None, "repost": None}
            self.original_of[me.id] = None
        else:
            first = min((me, other, root), key=Candidate.order)
            repost = {"score": result.score, "method": result.method, "matched_at": self.now, "matched_with": other.id}
            if first.id == me.id:  # this article is the story's original: its copies point here now
                change |= {"duplicate_of": None, "repost": None}
                self.original_of[me.id] = None
                for copy_id in {other.id, root.id} - {me.id}:
                    self.original_of[copy_id] = me.id
                    self.ops.append(UpdateOne({"_id": copy_id}, {"$set": {"duplicate_of": me.id, "repost": repost | {
                        "matched_with": me.id}}}))
                self.ops.append(UpdateMany({"duplicate_of": {"$in": sorted({other.id, root.id} - {me.id})}},
                                           {"$set": {"duplicate_of": me.id}}))
            else:
                change |= {"duplicate_of": first.id, "repost": repost}
                self.original_of[me.id] = first.id
                self.counts["articles/reposts"] += 1
                if entry.stored["duplicate_of"] is None:  # it may have been an original: its copies follow
                    self.ops.append(UpdateMany({"duplicate_of": me.id}, {"$set": {"duplicate_of": first.id}}))
        if _differs(entry.stored, change):
            self.ops.append(UpdateOne({"_id": me.id}, {"$set": change}))
        self.counts["reposts/settled"] += 1
        if len(self.ops) >= 500:
            self.flush()

    def _stored(self, article_id: str) -> Candidate | None:
        self.flush()  # what this job decided for the articles that left the window is read back from the collection
        doc = self.db.articles.find_one({"_id": article_id}, _FIELDS)
        return _Entry(doc, False).candidate if doc and doc.get("published_at") else None

    def flush(self) -> None:
        ops, self.ops = self.ops, []
        if ops:
            self.db.articles.bulk_write(ops, ordered=True)


def _differs(stored: dict, change: dict) -> bool:
    """Whether settling changes what is stored (when a link was made is not a change)."""
    def plain(repost: dict | None) -> dict | None:
        return {k: v for k, v in repost.items() if k != "matched_at"} if repost else repost
    return (stored["duplicate_of"] != change["duplicate_of"] or plain(stored["repost"]) != plain(change["repost"])
            or (stored["repost_candidates"] or []) != change["repost_candidates"])
