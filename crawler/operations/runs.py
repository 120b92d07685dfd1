"""One `crawl_runs` document per run: who ran, when, with what arguments, how it ended, what came of it.

A run is `running` from its start (with its host, pid and a heartbeat), then `finished`,
`shutdown` (stopped by a signal), or `failed` (with the reason) when it closes. A run that
never closed (killed, the machine lost) is marked `interrupted` by the next run of its spider
(runs of one spider never overlap: scheduling refuses; a run by hand that is in fact alive
overwrites the mark when it closes). The exit status of `scrapy crawl` says the same.

When the run opens, what earlier runs of the spider spilled is replayed first, before the
spider reads what is known.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import socket
import uuid
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from spidermon.contrib.scrapy.runners import SpiderMonitorRunner
from twisted.internet import task, threads

from crawler.dates import utc_now
from crawler.incremental.walks import Walks
from crawler.operations.alerts import causes_in_words, deliver, needs_alert, recovery_alert, run_alert
from crawler.operations.monitors import (
    FILL_FIELDS,
    PortalMonitorSuite,
    fill_baseline_runs,
    fill_rates,
    results_of,
    stored_fill_rates,
)
from crawler.storage.durable import SpillFile, replay_spills, update, updates_job
from crawler.storage.mongo import MongoConnection
from crawler.urls import redact

log = logging.getLogger(__name__)

# The exit status of `scrapy crawl`: 0 finished cleanly; 1 failed (an error, pages or items lost to
# an exception, the portal unreachable, MongoDB unreachable at the start); 2 stopped before the end
# (SIGTERM, SIGINT); 3 writes were spilled (the next run replays them); 4 refused: another job of
# the spider holds its lease. A killed run has no say: it is `interrupted`.
EXIT_FINISHED, EXIT_FAILED, EXIT_SHUTDOWN, EXIT_SPILLED, EXIT_REFUSED = 0, 1, 2, 3, 4

# The counters a run reports, from the crawl's stats.
RUN_COUNTS = {
    "listing_pages": "listing/pages",
    "articles_new": "articles/new",
    "articles_changed": "articles/changed",
    "articles_unchanged": "articles/unchanged",
    "articles_removed": "articles/removed",
    "articles_skipped": "articles/skipped",
    "articles_rejected": "rejects/total",
    "rejects_resolved": "rejects/resolved",
    "fetch_failures": "fetch/failed",
    "failed_fetches_retried": "fetch/retried_from_rejects",
    "requests": "downloader/request_count",
    "browser_page_loads": "playwright/page_count",
    "browser_check_turned_away": "browser_check/turned_away",
    "browser_check_renewals": "browser_check/passed_in_browser",
    "retries": "retry/count",
    "retries_exhausted": "retry/max_reached",
    "writes_spilled": "mongo/spilled",
    "spills_replayed": "mongo/replayed",
    "outages_ridden": "mongo/outages_ridden",
    "scope_refused": "scope/refused",  # requests, redirects and browser loads kept off other origins
    "pages_unreadable": "pages/unreadable",  # pages whose reading raised (an article of them is a reject)
    "articles_parse_errors": "articles/parse_errors",
    "listings_bounded": "listing/bounded",
    "callback_errors": "spider_exceptions/count",
    "item_errors": "items/errors",
    "errors": "log_count/ERROR",
}


def job_id_of(spider: Spider) -> str:
    """The scrapyd job id (`_job` argument, `SCRAPY_JOB`), or a fresh id for a run by hand."""
    job = getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB")
    if not job:
        job = getattr(spider, "_manual_job_id", None) or f"manual-{uuid.uuid4().hex[:12]}"
        spider._manual_job_id = job
    return job


def run_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The run's counters (RUN_COUNTS) from the crawl's stats."""
    return {name: int(stats.get(key, 0)) for name, key in RUN_COUNTS.items()}


def run_id_of(spider: Spider) -> str:
    """The run's id in `crawl_runs` (and the owner of the spider's lease): the spider and its job."""
    return f"{spider.name}:{job_id_of(spider)}"


def peak_rss_mb() -> float | None:
    """The crawl process's peak resident memory so far (the kernel's VmHWM), in MB; None where /proc has none."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def causes(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's failed requests by cause in words (`connection refused`, `HTTP 503`), most first."""
    found = [(k.removeprefix("fetch/causes/"), int(v)) for k, v in stats.items() if k.startswith("fetch/causes/")]
    return [{"cause": cause, "count": count} for cause, count in sorted(found, key=lambda c: (-c[1], c[0]))]


def portal_unreachable(stats: dict[str, Any]) -> bool:
    """No listing page could be read, and some failed: the run saw nothing of the portal."""
    return bool(stats.get("fetch/failed_pages")) and not stats.get("listing/pages")


def last_alerted(db: Database, run: dict[str, Any]) -> dict | None:
    """The spider's last crawl before this run, when it was alerted and nothing since said it recovered."""
    previous = db.crawl_runs.find_one({"spider": run["spider"], "_id": {"$ne": run["_id"]}, "kind": {"$ne": "reparse"},
                                       "finished_at": {"$ne": None}, "started_at": {"$lte": run["started_at"]}},
                                      sort=[("started_at", -1)])
    return previous if previous is not None and (previous.get("alert") or {}).get("kind") == "alert" else None


def run_outcome(reason: str, stats: dict[str, Any]) -> tuple[str, str | None, int]:
    """(state, why, exit status) of a run that closed for `reason` with these stats."""
    if reason == "lease_held":
        return "refused", "another job of the spider holds its lease", EXIT_REFUSED
    if reason == "mongo_unavailable" and not stats.get("downloader/request_count") and not stats.get("mongo/spilled"):
        return "failed", "MongoDB unreachable as the job started", EXIT_FAILED
    if stats.get("mongo/spilled"):
        why = f"{stats['mongo/spilled']} writes spilled to PORTAL_DATA_DIR/spill: {stats.get('mongo/gave_up') or 'refused by MongoDB'}"
        return "failed", why, EXIT_SPILLED
    lost = int(stats.get("spider_exceptions/count", 0)) + int(stats.get("items/errors", 0))
    if reason == "shutdown":
        return "shutdown", "stopped by a signal before the end", EXIT_SHUTDOWN
    if reason != "finished":
        return "failed", reason, EXIT_FAILED
    if portal_unreachable(stats):
        return "failed", f"no listing page of the portal could be read ({causes_in_words(causes(stats))})", EXIT_FAILED
    if lost:
        return "failed", f"{lost} pages or items failed with an error (see the log)", EXIT_FAILED
    return "finished", None, EXIT_FINISHED


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler, heartbeat_seconds: float, monitors: bool) -> None:
        self.crawler = crawler
        self.heartbeat_seconds = heartbeat_seconds
        self.monitors = monitors
        self.run_id: str | None = None
        self.started_at: datetime | None = None
        self.portal_now: datetime | None = None  # the portal's clock, from its answers' Date headers
        self.heartbeat: task.LoopingCall | None = None
        self.lease_lost = False
        self.closing: asyncio.Future | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @functools.cached_property
    def mongo(self) -> MongoConnection:  # looked up once the crawl's extensions are all built
        return MongoConnection.of(self.crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        settings = crawler.settings
        return cls(crawler, settings.getfloat("PORTAL_HEARTBEAT_SECONDS"), settings.getbool("PORTAL_MONITORS_ENABLED"))

    def response_received(self, response: Any, request: Any, spider: Spider) -> None:
        date = response.headers.get("Date")
        if date:
            try:
                moment = parsedate_to_datetime(date.decode("latin-1"))
            except (TypeError, ValueError):
                return
            if moment.tzinfo is not None and (self.portal_now is None or moment > self.portal_now):
                self.portal_now = moment

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Any) -> None:
        self.crawler.stats.inc_value("items/errors")

    async def spider_opened(self, spider: Spider) -> None:
        settings = self.crawler.settings
        # MongoDB and the spider's lease, if no component opened them yet: either missing ends the job here.
        self.mongo.open_for_crawl(spider, run_id_of(spider))
        if os.environ.get("SCRAPY_PROJECT") and not os.environ.get("PORTAL_DATA_DIR"):  # a scrapyd job without the env file
            log.warning("PORTAL_DATA_DIR is not set in scrapyd's environment: spills and the archive go to %s, where the "
                        "commands run elsewhere will not look; set it in the environment file (deploy/crawler.env.example)",
                        settings.get("PORTAL_DATA_DIR"))
            self.crawler.stats.set_value("run/data_dir_unset", 1)
        replayed = await asyncio.to_thread(replay_spills, self.mongo.db, Path(settings.get("PORTAL_DATA_DIR")) / "spill", spider.name)
        if replayed.files:
            log.warning("replayed %d spill files of earlier runs: %d writes", replayed.files, replayed.records)
            self.crawler.stats.set_value("mongo/replayed", replayed.records)
        now = self.started_at = utc_now()
        job_id = job_id_of(spider)
        self.run_id = run_id_of(spider)
        args = getattr(spider, "args", None)
        await self.mongo.writer.submit(updates_job([
            update("crawl_runs", {"spider": spider.name, "state": "running"},
                   {"$set": {"state": "interrupted", "state_reason": "the run stopped without closing (killed?)"}}),
            update("crawl_runs", {"spider": spider.name, "state": {"$exists": False}, "finish_reason": None},
                   {"$set": {"state": "interrupted", "state_reason": "the run stopped without closing (killed?)"}}),
            update("crawl_runs", {"_id": self.run_id}, {"$set": {
                "spider": spider.name,
                "job_id": job_id,
                "version": settings.get("PORTAL_VERSION"),
                "profile": settings.get("PORTAL_PROFILE"),
                # A mirror's base_url may carry credentials: stored as printed, masked.
                "arguments": {k: redact(v) if isinstance(v, str) else v for k, v in vars(args).items()} if args is not None else {},
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": now,
                "heartbeat_at": now,
                "finished_at": None,
                "finish_reason": None,
                "state": "running",
            }}, upsert=True),
        ]))
        await self.mongo.writer.drain()
        self.heartbeat = task.LoopingCall(self.beat)
        self.heartbeat.start(self.heartbeat_seconds, now=False)

    def beat(self) -> None:
        self.mongo.writer.try_submit(updates_job([update("crawl_runs", {"_id": self.run_id}, {"$set": {"heartbeat_at": utc_now()}})]))
        threads.deferToThread(self.mongo.renew_lease).addCallbacks(self._renewed, self._not_renewed)

    def _renewed(self, held: bool) -> None:
        if held or self.lease_lost:
            return
        self.lease_lost = True
        log.error("this job's lease lapsed and another job of %s took it: stopping, so that two jobs never write at once",
                  self.crawler.spider.name)
        self.closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="lease_lost"))

    def _not_renewed(self, failure: Any) -> None:  # MongoDB away for a moment: the lease outlasts MONGO_OUTAGE_BUDGET
        log.warning("the lease could not be renewed (%s); trying again at the next heartbeat", failure.type.__name__)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        if self.run_id is None:  # the run never opened: MongoDB unreachable as it started, or the lease held
            if self.mongo.unavailable or self.mongo.refused:
                await self.record_unopened(spider, reason)
            return
        await self.mongo.writer.drain()  # the last batches' counts are in the stats before they are read
        stats: dict[str, Any] = self.crawler.stats.get_stats()
        state, why, code = run_outcome(reason, stats)
        ops = []
        walks = getattr(spider, "walks", None)
        if isinstance(walks, Walks):  # a reparse never begins its walks: they stay as the last crawl left them
            ops += walks.closing(clean=state == "finished")  # a walk counts as done only when its run is
        items, rates = fill_rates(stats)
        run = self.about(spider, reason) | {
            "_id": self.run_id, "started_at": self.started_at, "state": state, "state_reason": why, "exit_code": code,
            "counts": run_counts(stats),
            "facts": getattr(spider, "run_facts", {}),
            "kind": getattr(spider, "run_kind", None) or ("incremental" if getattr(spider, "incremental", False) else "full"),
            "items": items, "fill_rates": rates, "peak_rss_mb": peak_rss_mb(),
            "rejects_by_reason": {k.split("/", 1)[1]: v for k, v in stats.items()
                                  if k.startswith("rejects/") and k not in ("rejects/total", "rejects/resolved")},
            # Which other origins the portal's pages tried to send the crawler to (no dots in keys: a list).
            "scope_refused": [{"origin": k.split("/", 2)[2], "count": v} for k, v in sorted(stats.items())
                              if k.startswith("scope/refused/")],
            "causes": causes(stats), "unreachable": portal_unreachable(stats),
        }
        if self.monitors:
            try:
                # The history is read off the event loop; Spidermon runs on it (it logs, and logging counts into
                # the stats, which must not change under another thread while Scrapy closes the crawl).
                history, recent, stored_fill = await asyncio.to_thread(self.history, self.mongo.db, spider)
                run["monitors"] = self.run_monitors(spider, run, stats, history, recent, stored_fill)
            except Exception as error:  # the run is recorded whatever the monitors do
                log.exception("the monitors could not run")
                run["monitors"] = {"error": repr(error), "failed": [{"monitor": "monitors", "message": repr(error)}]}
        ops.append(update("crawl_runs", {"_id": self.run_id}, {"$set": {k: v for k, v in run.items() if k != "_id"}}))
        await self.mongo.writer.submit(updates_job(ops))
        await self.mongo.writer.drain()
        stats = self.crawler.stats.get_stats()
        state, why, code = run_outcome(reason, stats)  # the run's own last writes may have been spilled
        if (state, code) != (run["state"], run["exit_code"]):  # then its record says so too, wherever it lands
            run |= {"state": state, "state_reason": why, "exit_code": code, "counts": run_counts(stats)}
            await self.mongo.writer.submit(updates_job([update("crawl_runs", {"_id": self.run_id}, {"$set": {
                "state": state, "state_reason": why, "exit_code": code, "counts": run["counts"]}})]))
        await self.tell(run)
        self.crawler.stats.set_value("run/state", state)
        self.crawler.stats.set_value("run/exit_code", code)
        (log.info if code == EXIT_FINISHED else log.error)("run %s: %s%s (exit status %d)", self.run_id, state,
                                                           f", {why}" if why else "", code)

    def about(self, spider: Spider, reason: str) -> dict[str, Any]:
        """What any run's record and alert say of where it ran: the portal, the host, the version, the log, the data."""
        settings = self.crawler.settings
        origin = getattr(spider, "origin", None)
        return {"spider": spider.name, "finished_at": utc_now(), "finish_reason": reason,
                "portal": redact(origin.crawl) if origin is not None else None, "host": socket.gethostname(),
                "version": settings.get("PORTAL_VERSION"), "log_file": settings.get("LOG_FILE"),
                "data_dir": str(Path(settings.get("PORTAL_DATA_DIR")).resolve())}

    async def tell(self, run: dict[str, Any]) -> None:
        """An alert for a run that did not end cleanly; a recovery message for the first clean run after one."""
        if needs_alert(run):
            message = run_alert(run)
        else:
            try:
                alerted = await asyncio.to_thread(last_alerted, self.mongo.db, run)
            except PyMongoError:
                alerted = None
            if alerted is None:
                return
            message = recovery_alert(run, alerted)
        sent = await asyncio.to_thread(deliver, message)
        run["alert"] = {"kind": "recovery" if message.recovery else "alert", "subject": message.subject, "sent_at": utc_now(),
                        "channels": sent}
        if self.mongo.is_open and not self.mongo.unavailable:
            await self.mongo.writer.submit(updates_job([update("crawl_runs", {"_id": run["_id"]}, {"$set": {"alert": run["alert"]}})]))
            await self.mongo.writer.drain()

    async def record_unopened(self, spider: Spider, reason: str) -> None:
        """A job that ended as it opened still leaves a record and tells a person: refused (the lease held), recorded
        now; MongoDB unreachable, recorded in the spill folder, which the next run (or `replay-spill`) writes."""
        stats = self.crawler.stats.get_stats()
        state, why, code = run_outcome(reason, stats)
        now = utc_now()
        why = self.mongo.refused.describe(now) if self.mongo.refused is not None else self.mongo.unavailable
        run = self.about(spider, reason) | {
            "_id": run_id_of(spider), "job_id": job_id_of(spider), "started_at": now, "heartbeat_at": now, "pid": os.getpid(),
            "profile": self.crawler.settings.get("PORTAL_PROFILE"), "state": state, "state_reason": why, "exit_code": code,
            "kind": getattr(spider, "run_kind", None) or "crawl", "counts": dict.fromkeys(RUN_COUNTS, 0), "items": 0}
        await self.tell(run)
        record = updates_job([update("crawl_runs", {"_id": run["_id"]}, {"$set": {k: v for k, v in run.items() if k != "_id"}},
                                     upsert=True)])
        if self.mongo.refused is not None:
            await self.mongo.writer.submit(record)
            await self.mongo.writer.drain()
        else:
            spill = SpillFile(Path(self.crawler.settings.get("PORTAL_DATA_DIR")) / "spill", spider.name)
            await asyncio.to_thread(spill.append, record, "MongoDB unreachable as the job started")
            log.error("this run's record is kept in %s until MongoDB answers", spill.path)
        self.crawler.stats.set_value("run/state", state)
        self.crawler.stats.set_value("run/exit_code", code)
        log.error("run %s: %s, %s (exit status %d)", run["_id"], state, why, code)

    def history(self, db: Database, spider: Spider) -> tuple[list[dict], list[datetime], tuple[int, dict[str, float]]]:
        """The spider's earlier runs (newest first), its newest articles' dates, and the fill rates of the records
        stored before this run (the newest `MONITOR_FILL_STORED_SAMPLE`), for the monitors."""
        try:
            history = list(db.crawl_runs.find({"spider": spider.name, "_id": {"$ne": self.run_id}, "finished_at": {"$ne": None}})
                           .sort("started_at", -1).limit(20))
            recent = [d["published_at"] for d in db.articles.find({"site": spider.name, "published_at": {"$ne": None}},
                                                                  {"published_at": 1}).sort("published_at", -1).limit(60)]
            stored_fill: tuple[int, dict[str, float]] = (0, {})
            settings = self.crawler.settings
            if not fill_baseline_runs(history, settings.getfloat("MONITOR_FILL_MIN_ITEMS")):  # only then is it the baseline
                before = db.articles.find({"site": spider.name, "removed_at": None, "crawl.job_id": {"$ne": job_id_of(spider)}},
                                          dict.fromkeys(FILL_FIELDS, 1)).sort("published_at", -1)
                stored_fill = stored_fill_rates(before.limit(settings.getint("MONITOR_FILL_STORED_SAMPLE")))
        except PyMongoError as error:  # MongoDB is away (the run spilled): judge the run on its own
            log.warning("monitors run without history: MongoDB did not answer (%s)", type(error).__name__)
            history, recent, stored_fill = [], [], (0, {})
        return history, recent, stored_fill

    def run_monitors(self, spider: Spider, run: dict, stats: dict[str, Any], history: list[dict], recent: list[datetime],
                     stored_fill: tuple[int, dict[str, float]] = (0, {})) -> dict:
        """The monitor suite over this run and the portal's recent history; its failures are sent as alerts."""
        suite = PortalMonitorSuite(crawler=self.crawler)
        result = SpiderMonitorRunner(spider=spider).run(suite, stats=stats, crawler=self.crawler, spider=spider, run=run,
                                                        history=history, recent_dates=recent, stored_fill=stored_fill,
                                                        portal_now=self.portal_now or utc_now())
        return results_of(result)
