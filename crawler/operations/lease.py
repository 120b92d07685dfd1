"""One job of a spider at a time, whoever started it: a lease in MongoDB (`leases`, one document per spider).

A job takes the lease when it opens, with one atomic write: an upsert whose filter matches the
spider's document only when it is free (expired, or already this job's). When another job holds
it, the filter matches nothing, the upsert tries to insert a second document with the same `_id`,
and MongoDB refuses with a duplicate key error: two jobs racing for it cannot both win. The
running job renews the lease with each heartbeat; a job killed with `kill -9` stops renewing, and
its lease lapses after `PORTAL_LEASE_SECONDS`, so the next job proceeds; on the machine where it
ran, the next job sees at once that its process is gone and takes the lease over (a compare-and-set
on the dead owner). A job that ends releases it. The scheduler's check of scrapyd's job lists (`crawler.operations.scheduling`) stays, as a
courtesy that saves starting a job only to refuse it.

The lease is the one write a crawl makes outside the durable writer: it needs MongoDB's answer
before the crawl may go on.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError


@dataclass(frozen=True)
class Lease:
    """Who holds a spider's lease, as MongoDB keeps it."""

    spider: str
    owner: str  # the run id of the job holding it
    host: str
    pid: int
    version: str | None
    taken_at: datetime
    renewed_at: datetime
    expires_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Lease:
        return cls(doc["_id"], doc["owner"], doc.get("host", "?"), int(doc.get("pid", 0)), doc.get("version"),
                   doc["taken_at"], doc.get("renewed_at", doc["taken_at"]), doc["expires_at"])

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    def describe(self, now: datetime) -> str:
        """In words, for the refused job's record and its alert."""
        left = (self.expires_at - now).total_seconds()
        state = f"renewed {self.renewed_at:%H:%M:%S} UTC, expires in {left:.0f} s" if left > 0 else \
            f"expired {-left:.0f} s ago (its job stopped renewing it: killed?)"
        since = f"{self.taken_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"job {self.owner} on {self.host} (pid {self.pid}, version {self.version or '?'}) since {since}, {state}"


def take(db: Database, spider: str, owner: str, seconds: float, now: datetime, version: str | None = None) -> Lease | None:
    """Take the spider's lease for `owner` (one atomic write). None when taken; else the lease another job holds."""
    if renew(db, spider, owner, seconds, now):  # already this owner's (a re-extraction's processes share it): kept as taken
        return None
    free = {"_id": spider, "expires_at": {"$lte": now}}
    holder = {"owner": owner, "host": socket.gethostname(), "pid": os.getpid(), "version": version,
              "taken_at": now, "renewed_at": now, "expires_at": now + timedelta(seconds=seconds)}
    try:
        db.leases.update_one(free, {"$set": holder}, upsert=True)
        return None
    except DuplicateKeyError:
        doc = db.leases.find_one({"_id": spider})
        if doc is None:  # released between the two calls: try once more
            return take(db, spider, owner, seconds, now, version)
        held = Lease.from_doc(doc)
    if held.host == holder["host"] and not process_alive(held.pid):
        # Its job died on this very machine (kill -9, a crash): no need to wait for the expiry. Taken over only if
        # it is still that dead job's: a compare-and-set on the owner, so two jobs taking over cannot both win.
        if db.leases.update_one({"_id": spider, "owner": held.owner}, {"$set": holder}).matched_count == 1:
            return None
        return Lease.from_doc(db.leases.find_one({"_id": spider}) or doc)
    return held


def process_alive(pid: int) -> bool:
    """Whether a process of that id runs on this machine (one we may not signal runs too)."""
    if pid <= 0:
        return True  # unknown: assume alive, wait for the expiry
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def renew(db: Database, spider: str, owner: str, seconds: float, now: datetime) -> bool:
    """Push the expiry on; False when the lease is no longer this job's (it lapsed and another job took it)."""
    done = db.leases.update_one({"_id": spider, "owner": owner},
                                {"$set": {"renewed_at": now, "expires_at": now + timedelta(seconds=seconds)}})
    return done.matched_count == 1


def release(db: Database, spider: str, owner: str) -> None:
    db.leases.delete_one({"_id": spider, "owner": owner})


def current(db: Database, spider: str) -> Lease | None:
    doc = db.leases.find_one({"_id": spider})
    return Lease.from_doc(doc) if doc else None
