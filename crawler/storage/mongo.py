"""MongoDB for the crawl: `MONGO_URI` when set, else an embedded SecantusDB server (GPL, optional).

Every write is journaled (`j=True`): the embedded server loses acknowledged writes on a crash
otherwise. One connection serves all the components of a crawl (`MongoConnection`, an extension).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from queue import Empty, Full, Queue
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern
from scrapy import signals
from scrapy.exceptions import CloseSpider

from crawler.dates import utc_now
from crawler.operations import lease
from crawler.operations.lease import Lease
from crawler.reasons import failure_in_words
from crawler.storage.durable import DurableWriter
from crawler.urls import redact

log = logging.getLogger(__name__)

JOURNALED = WriteConcern(w=1, j=True)


class MongoUnavailable(RuntimeError):
    """No MongoDB to write to: the crawl stops rather than lose what it fetches."""


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine's loopback (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def start_embedded_server(data_dir: Path, port: int = 0, host: str = "127.0.0.1") -> Any:
    """Start SecantusDB (WiredTiger, on disk under `data_dir`) on a free port; the caller stops it."""
    try:
        from secantus import SecantusDBServer  # GPL-2.0-only extra: imported only when it is used
    except ImportError as error:
        raise MongoUnavailable(
            "MONGO_URI is not set and the embedded MongoDB is not installed: "
            "install the 'embedded' extra (pip install '.[embedded]') or set MONGO_URI"
        ) from error
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # Opening the storage already fails when another process holds the folder (WiredTiger: "resource busy").
        # Test commands (configureFailPoint and the like) off: nothing of ours needs them, and they let a client break the server.
        server = SecantusDBServer(host=host, port=port, storage_path=str(data_dir), replica_set_name=None,
                                  enable_test_commands=False)
        server.start()
    except Exception as error:
        raise MongoUnavailable(
            f"could not start the embedded MongoDB on {data_dir} ({error}); if another process holds that "
            "folder, run one shared server (python -m crawler mongo-server) and set MONGO_URI"
        ) from error
    log.info("embedded MongoDB (SecantusDB) on %s, data in %s", server.uri, data_dir)
    return server


def mongo_cause(error: BaseException) -> str:
    """Why MongoDB did not answer, in words: `connection refused`, `timeout`, `authentication failed`, else its first line."""
    text = str(error)
    return failure_in_words(text) or text.split(" (configured timeouts", 1)[0].split("\n", 1)[0][:200]


def connect(uri: str, database: str, timeout_ms: int = 5000) -> tuple[MongoClient, Database]:
    """A client and a database with journaled writes; fails fast when the server is not there."""
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, tz_aware=True, appname="haiphong-portal-crawler")
    try:
        client.admin.command("ping")
    except PyMongoError as error:
        client.close()
        raise MongoUnavailable(f"cannot reach MongoDB at {redact(uri)}: {mongo_cause(error)}") from error
    return client, client.get_database(database, write_concern=JOURNALED)


def read_ahead(documents: Iterable[dict], chunk: int = 100, chunks: int = 2) -> Iterator[dict]:
    """A cursor's documents in order, the next ones fetched by a thread while the caller works on these.

    A sweep of the collection waits on the server as long as it works (the reposts job over 50,000
    articles: 70% of its time in `recv`); read ahead, the two overlap. At most `chunk * chunks`
    documents wait. An error of the cursor is raised to the caller where it would have been; a
    caller that stops early stops the thread, which closes the cursor.
    """
    ahead: Queue = Queue(maxsize=chunks)
    stop = threading.Event()
    end = object()

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(value, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def fetch() -> None:
        batch: list[dict] = []
        try:
            for document in documents:
                batch.append(document)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if put(batch):
                put(end)
        except BaseException as error:  # raised again in the caller's thread, after what came before it
            if put(batch):
                put(error)
        finally:
            if close := getattr(documents, "close", None):
                close()

    thread = threading.Thread(target=fetch, name="read-ahead", daemon=True)
    thread.start()
    try:
        while (batch := ahead.get()) is not end:
            if isinstance(batch, BaseException):
                raise batch
            yield from batch
    finally:
        stop.set()
        try:
            while True:
                ahead.get_nowait()
        except Empty:
            pass
        thread.join(timeout=30)  # it ends at its next document; a server that stopped answering does not hold the caller


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MongoConnection:
    """The crawl's one MongoDB connection and durable writer, as a Scrapy extension.

    Pipelines, the spider's state and the run recorder reach it through `MongoConnection.of(crawler)`.
    It opens on first use (the pipelines' `open_spider` comes before any signal a crawl sends) and
    closes when the engine stops, after every `spider_closed` handler has written its last word.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._lock = threading.Lock()
        self._opened: tuple[MongoClient, Database, Any] | None = None
        self._writer: DurableWriter | None = None
        self.unavailable: str | None = None  # why MongoDB could not be reached when the crawl opened
        self.refused: Lease | None = None  # the lease another job held when this one opened
        self.lease_owner: str | None = None  # this job's run id, once it holds the spider's lease
        crawler.signals.connect(self.close, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Any) -> MongoConnection:
        return cls(crawler)

    @classmethod
    def of(cls, crawler: Any) -> MongoConnection:
        try:
            extensions = crawler.extensions.middlewares
        except RuntimeError:  # Crawler.extensions is not set before the crawl starts
            extensions = ()
        for extension in extensions:
            if isinstance(extension, cls):
                return extension
        raise RuntimeError(f"{cls.__module__}.{cls.__name__} is not in EXTENSIONS: the crawl has no MongoDB")

    def open_for_crawl(self, spider: Any, run_id: str) -> DurableWriter:
        """MongoDB and the spider's lease, taken once when the crawl opens (by the first component to open).

        Either fails into one `CloseSpider`, so that the crawl ends at once with one error line, and no half-built
        component writes a traceback: `mongo_unavailable` (`unavailable` says why), or `lease_held` (`refused`
        says by whom). The run recorder turns either into a recorded run and an alert."""
        if self.unavailable:
            raise CloseSpider("mongo_unavailable")
        if self.refused:
            raise CloseSpider("lease_held")
        if self.lease_owner is None:
            settings = self.crawler.settings
            # A process of a re-extraction shares the lease its parent took for the spider (PORTAL_LEASE_OWNER).
            owner = settings.get("PORTAL_LEASE_OWNER") or run_id
            try:
                db = self.db
                held = lease.take(db, spider.name, owner, settings.getfloat("PORTAL_LEASE_SECONDS"), utc_now(),
                                  settings.get("PORTAL_VERSION"))
            except (MongoUnavailable, PyMongoError) as error:
                self.unavailable = redact(str(error).split("\n", 1)[0][:300])
                log.error("MongoDB is unreachable as the job starts: %s", self.unavailable)
                raise CloseSpider("mongo_unavailable") from None
            if held is not None:
                self.refused = held
                log.error("another job of %s is running, so this one ends now: the lease is held by %s", spider.name,
                          held.describe(utc_now()))
                raise CloseSpider("lease_held")
            self.lease_owner = owner
        return self.writer

    def renew_lease(self) -> bool:
        """Renew this job's lease (called off the reactor); False when it lapsed and another job holds it."""
        assert self.lease_owner is not None
        name = self.crawler.spider.name
        return lease.renew(self.db, name, self.lease_owner, self.crawler.settings.getfloat("PORTAL_LEASE_SECONDS"), utc_now())

    @property
    def is_open(self) -> bool:
        return self._opened is not None

    @property
    def db(self) -> Database:
        return self._open()[1]

    @property
    def writer(self) -> DurableWriter:
        self._open()
        assert self._writer is not None
        return self._writer

    def _open(self) -> tuple[MongoClient, Database, Any]:
        with self._lock:
            if self._opened is None:
                self._opened = open_database(self.crawler.settings)
                self._writer = _writer_for(self.crawler, self._opened[1])
            return self._opened

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, None
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        if opened is not None:
            client, db, server = opened
            if self.lease_owner is not None and not self.crawler.settings.get("PORTAL_LEASE_OWNER"):
                # After every last write; if MongoDB is away, the lease lapses by itself. A shared one, its owner releases.
                try:
                    lease.release(db, self.crawler.spider.name, self.lease_owner)
                except PyMongoError as error:
                    log.warning("the lease could not be released (%s): it lapses in PORTAL_LEASE_SECONDS", type(error).__name__)
            client.close()
            if server is not None:
                server.stop()


def open_database(settings: Any) -> tuple[MongoClient, Database, Any]:
    """(client, database, embedded server or None) as the settings say: MONGO_URI, else an embedded server."""
    uri = settings.get("MONGO_URI")
    database = settings.get("MONGO_DATABASE")
    if uri:
        return (*connect(uri, database), None)
    if not settings.getbool("MONGO_EMBEDDED"):
        raise MongoUnavailable(
            "MONGO_URI is not set and this job may not start a private embedded MongoDB (MONGO_EMBEDDED=0, "
            "as under scrapyd): point MONGO_URI at the shared server, e.g. one run by `python -m crawler mongo-server`"
        )
    server = start_embedded_server(Path(settings.get("PORTAL_DATA_DIR")) / "mongo")
    try:
        return (*connect(server.uri, database), server)
    except MongoUnavailable:
        server.stop()
        raise


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _writer_for(crawler: Any, db: Database) -> DurableWriter:
    """The crawl's one write path: counts go to its stats, and giving up on MongoDB closes the crawl."""
    settings = crawler.settings

    def add_counts(counts: Counter) -> None:
        for key, value in counts.items():
            crawler.stats.inc_value(key, value)

    def close_crawl(why: str) -> None:  # called on the event loop
        crawler.stats.set_value("mongo/gave_up", why)
        engine = getattr(crawler, "engine", None)
        if engine is not None and engine.spider is not None and engine.running and _on_a_loop():
            writer.closing = asyncio.ensure_future(engine.close_spider_async(reason="mongo_unavailable"))

    spider = getattr(getattr(crawler, "spidercls", None), "name", None) or "crawl"
    writer = DurableWriter(db, Path(settings.get("PORTAL_DATA_DIR")) / "spill", spider,
                           outage_budget=settings.getfloat("MONGO_OUTAGE_BUDGET"),
                           max_pending=settings.getint("MONGO_MAX_PENDING_JOBS"),
                           on_counts=add_counts, on_spilling=close_crawl)
    return writer

