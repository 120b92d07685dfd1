"""The one way a crawl writes to MongoDB: in order, off the reactor thread, through outages, or to a spill file.

Every write of a crawl is a `WriteJob` (a kind and a plain payload) handed to the crawl's
`DurableWriter`. One worker thread runs the jobs in the order they were submitted, so
downloads never wait on MongoDB; at most `MONGO_MAX_PENDING_JOBS` jobs wait at once, and a
stage that submits one more waits for a place (back-pressure: Scrapy then stops pulling new
requests, instead of every download freezing on a blocking call).

When MongoDB goes away, the worker retries the job with backoff. An outage shorter than
`MONGO_OUTAGE_BUDGET` seconds costs nothing. A longer one switches the writer to spilling: the
job under way and every later one go, in order, to `PORTAL_DATA_DIR/spill/<spider>-*.jsonl`
(one JSON line per job, fsynced), the crawl is asked to close, and the run ends non-zero. The
next run of that spider replays its spill files first (`replay_spills`), and
`python -m crawler replay-spill` does it by hand. Jobs are idempotent, so a replay that was
cut off part-way can run again from its last finished line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DocumentTooLarge, InvalidDocument, PyMongoError, WriteError

from crawler.dates import utc_now
from crawler.storage.files import create_new
from crawler.storage.jobs import UPDATES, JobHandler, write_jobs

log = logging.getLogger(__name__)

Counts = Counter
# Errors that no retry will mend: the job is spilled at once, for a person to look at.
PERMANENT = (BulkWriteError, DocumentTooLarge, InvalidDocument, WriteError)


@dataclass
class WriteJob:
    kind: str
    payload: dict
    size: int = 1  # records it carries, for the counts


def update(collection: str, filter_: dict, change: dict, upsert: bool = False) -> dict:
    """One update as an `updates` job carries it (plain data: it can be spilled and replayed)."""
    return {"c": collection, "f": filter_, "u": change, "upsert": upsert}


def updates_job(ops: list[dict]) -> WriteJob:
    return WriteJob(UPDATES, {"ops": ops}, size=len(ops))


def apply_updates(db: Database, payload: dict) -> Counts:
    """Updates in the order given, each run of one collection as one ordered bulk write."""
    ops = payload["ops"]
    start = 0
    while start < len(ops):
        end = start
        while end < len(ops) and ops[end]["c"] == ops[start]["c"]:
            end += 1
        db[ops[start]["c"]].bulk_write([UpdateOne(op["f"], op["u"], upsert=op["upsert"]) for op in ops[start:end]], ordered=True)
        start = end
    return Counter()


def run_job(db: Database, job: WriteJob, handlers: Mapping[str, JobHandler]) -> Counts:
    try:
        handler = handlers[job.kind]
    except KeyError:
        raise InvalidDocument(f"no handler for write jobs of kind {job.kind!r}") from None
    return handler(db, job.payload)


class SpillFile:
    """The spill file of one run: one job a line, appended and fsynced, replayable in order."""

    def __init__(self, spill_dir: Path, spider: str) -> None:
        self.path = spill_dir / f"{spider}-{utc_now():%Y%m%dT%H%M%S%f}-{os.getpid()}.jsonl"

    def append(self, job: WriteJob, why: str) -> None:
        line = json_util.dumps({"kind": job.kind, "payload": job.payload, "size": job.size, "why": why,
                                "spilled_at": utc_now()}, ensure_ascii=False)
        if not self.path.exists():
            create_new(self.path).close()  # a new file of ours, never one planted under its name
        # O_NOFOLLOW: should the file be swapped for a symlink meanwhile, the write fails instead of going there.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())


class DurableWriter:
    """A crawl's MongoDB writes, run in order on one worker thread (see the module's docstring)."""

    def __init__(self, db: Database, spill_dir: Path, spider: str, outage_budget: float, max_pending: int,
                 on_counts: Callable[[Counts], None] = lambda counts: None,
                 on_spilling: Callable[[str], None] = lambda why: None,
                 handlers: Mapping[str, JobHandler] | None = None) -> None:
        self.db = db
        self.handlers = handlers if handlers is not None else write_jobs()
        self.spill = SpillFile(spill_dir, spider)
        self.outage_budget = outage_budget
        self.max_pending = max_pending
        self.on_counts = on_counts
        self.on_spilling = on_spilling
        self.spilling: str | None = None  # why, once the writer has given up on MongoDB for this run
        self.outage_started: float | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mongo-writer")
        self._room = threading.BoundedSemaphore(max_pending)
        self._pending: set[Future] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closing: asyncio.Future | None = None  # the crawl's close, once the writer gave up on MongoDB

    # The reactor's side ----------------------------------------------------------------------

    async def submit(self, job: WriteJob) -> None:
        """Queue a job; waits (without blocking the event loop) while `max_pending` jobs wait already."""
        self._loop = asyncio.get_running_loop()
        while not self._room.acquire(blocking=False):
            await asyncio.sleep(0.05)
        self._start(job)

    def try_submit(self, job: WriteJob) -> bool:
        """Queue a job unless the queue is full (for writes that may be skipped, like heartbeats)."""
        if not self._room.acquire(blocking=False):
            return False
        self._start(job)
        return True

    def _start(self, job: WriteJob) -> None:
        future = self._executor.submit(self._run, job)
        self._pending.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: Future) -> None:
        self._room.release()
        self._pending.discard(future)
        self._on_loop(self.on_counts, future.result())

    def _on_loop(self, callback: Callable[..., None], *args: Any) -> None:
        """Call back on the crawl's event loop (the stats and the engine live there), or here once it is gone."""
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(callback, *args)
                return
            except RuntimeError:  # the loop closed meanwhile
                pass
        callback(*args)

    async def drain(self) -> None:
        """Wait until every job submitted so far is written (or spilled)."""
        while self._pending:
            await asyncio.wrap_future(next(iter(self._pending)))
            await asyncio.sleep(0)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    # The worker's side -----------------------------------------------------------------------

    def _run(self, job: WriteJob) -> Counts:
        if self.spilling:
            return self._spilled(job, self.spilling)
        delay = 0.5
        while True:
            attempt_started = time.monotonic()
            try:
                counts = run_job(self.db, job, self.handlers)
            except PERMANENT as error:
                log.error("MongoDB refused a %s write for good (%s): spilling it for a person to look at", job.kind, error)
                return self._spilled(job, f"refused: {error}")
            except PyMongoError as error:
                left = self._outage_left(error, attempt_started)
                if left <= 0:
                    return self._spilled(job, self.spilling or "")
                time.sleep(min(delay, left + 0.01))
                delay = min(delay * 2, 8.0)
                continue
            except Exception as error:  # a bug in a handler: the write is kept, and the run says so
                log.exception("a %s write failed: spilling it", job.kind)
                return self._spilled(job, f"error: {error!r}")
            if self.outage_started is not None:
                log.warning("MongoDB is back after %.1f s: writing again", time.monotonic() - self.outage_started)
                self.outage_started = None
                counts["mongo/outages_ridden"] += 1
            counts["mongo/jobs"] += 1  # round trips: a job is one or a few bulk writes
            return counts

    def _outage_left(self, error: PyMongoError, attempt_started: float) -> float:
        """Note an outage (from the start of the first attempt that failed) and the seconds of budget left; once
        none is left, the writer gives up on MongoDB for this run and spills."""
        if self.outage_started is None:
            self.outage_started = attempt_started
            log.warning("MongoDB is not answering (%s): holding writes for up to %.0f s", error, self.outage_budget)
        waited = time.monotonic() - self.outage_started
        if waited < self.outage_budget:
            return self.outage_budget - waited
        self.spilling = f"MongoDB unavailable for {waited:.0f} s ({type(error).__name__})"
        log.error("%s: spilling this and every later write to %s", self.spilling, self.spill.path)
        self._on_loop(self.on_spilling, self.spilling)
        return 0.0

    def _spilled(self, job: WriteJob, why: str) -> Counts:
        self.spill.append(job, why)
        return Counter({"mongo/spilled": job.size, "mongo/spilled_jobs": 1})


def spill_files(spill_dir: Path, spider: str | None = None) -> list[Path]:
    """Spill files waiting for a replay, oldest first (their names start with the time they began)."""
    if not spill_dir.is_dir():
        return []
    pattern = f"{spider}-*.jsonl" if spider else "*.jsonl"
    return sorted(spill_dir.glob(pattern), key=lambda p: p.name.split("-", 1)[-1])


@dataclass
class ReplayReport:
    files: int = 0
    jobs: int = 0
    records: int = 0
    refused: int = 0


def replay_spills(db: Database, spill_dir: Path, spider: str | None = None,
                  handlers: Mapping[str, JobHandler] | None = None) -> ReplayReport:
    """Write what earlier runs spilled, file by file and line by line, in order.

    A finished file moves to `spill/replayed/`; a line MongoDB refuses for good moves its file
    to `spill/refused/` (logged as an error) so it cannot block every later run. A connection
    failure raises: the caller cannot go on without MongoDB anyway, and the replay resumes from
    the last finished line next time (`<file>.done` holds how many lines are written).
    """
    report = ReplayReport()
    for path in spill_files(spill_dir, spider):
        progress = path.with_suffix(".done")
        done = int(progress.read_text() or 0) if progress.exists() else 0
        lines = path.read_text(encoding="utf-8").splitlines()
        target = "replayed"
        for number, line in enumerate(lines[done:], start=done + 1):
            if not line.strip():
                continue
            entry = json_util.loads(line)
            try:
                run_job(db, WriteJob(entry["kind"], entry["payload"], entry.get("size", 1)), handlers or write_jobs())
            except PERMANENT as error:
                log.error("spill %s line %d is refused by MongoDB (%s): moved to spill/refused/", path.name, number, error)
                report.refused += 1
                target = "refused"
                break
            progress.write_text(str(number))
            report.jobs += 1
            report.records += entry.get("size", 1)
        report.files += 1
        (spill_dir / target).mkdir(exist_ok=True)
        path.rename(spill_dir / target / path.name)
        progress.unlink(missing_ok=True)
        log.warning("spill file %s (%d lines): moved to spill/%s/", path.name, len(lines), target)
    return report
