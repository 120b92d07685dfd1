"""MongoDB for the crawl: `MONGO_URI` when set, else an embedded SecantusDB server (GPL, optional).

Every write is journaled (`j=True`): the embedded server loses acknowledged writes on a crash
otherwise. One connection serves all the components of a crawl (`SharedMongo`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern

from crawler.durable import DurableWriter

log = logging.getLogger(__name__)

JOURNALED = WriteConcern(w=1, j=True)


class MongoUnavailable(RuntimeError):
    """No MongoDB to write to: the crawl stops rather than lose what it fetches."""


# user:password@ in any URI, whatever follows (several hosts, a socket path, an SRV name).
_CREDENTIALS = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/]*):(?P<password>[^@/]*)@")


def redact(uri: str) -> str:
    """A MongoDB URI fit for a log line: the password masked, whatever the URI's shape."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", uri, count=1)


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
        server = SecantusDBServer(host=host, port=port, storage_path=str(data_dir), replica_set_name=None)
        server.start()
    except Exception as error:
        raise MongoUnavailable(
            f"could not start the embedded MongoDB on {data_dir} ({error}); if another process holds that "
            "folder, run one shared server (python -m crawler mongo-server) and set MONGO_URI"
        ) from error
    log.info("embedded MongoDB (SecantusDB) on %s, data in %s", server.uri, data_dir)
    return server


def connect(uri: str, database: str, timeout_ms: int = 5000) -> tuple[MongoClient, Database]:
    """A client and a database with journaled writes; fails fast when the server is not there."""
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, tz_aware=True, appname="haiphong-portal-crawler")
    try:
        client.admin.command("ping")
    except PyMongoError as error:
        client.close()
        first_line = str(error).split(",", 1)[0].split("\n", 1)[0][:200]
        raise MongoUnavailable(f"cannot reach MongoDB at {redact(uri)}: {first_line}") from error
    return client, client.get_database(database, write_concern=JOURNALED)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class MongoHandle:
    client: MongoClient
    db: Database
    server: Any = None
    users: int = 0
    writer: DurableWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.client.close()
        if self.server is not None:
            self.server.stop()


@dataclass
class SharedMongo:
    """One MongoDB connection per crawl, opened by its first user and closed by its last."""

    handles: dict[int, MongoHandle] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, crawler: Any) -> MongoHandle:
        with self.lock:
            handle = self.handles.get(id(crawler))
            if handle is None:
                handle = self._open(crawler.settings)
                handle.writer = _writer_for(crawler, handle.db)
                self.handles[id(crawler)] = handle
            handle.users += 1
            return handle

    def release(self, crawler: Any) -> None:
        with self.lock:
            handle = self.handles.get(id(crawler))
            if handle is None:
                return
            handle.users -= 1
            if handle.users <= 0:
                del self.handles[id(crawler)]
                handle.close()

    @staticmethod
    def _open(settings: Any) -> MongoHandle:
        uri = settings.get("MONGO_URI")
        database = settings.get("MONGO_DATABASE")
        if uri:
            client, db = connect(uri, database)
            return MongoHandle(client, db)
        if not settings.getbool("MONGO_EMBEDDED"):
            raise MongoUnavailable(
                "MONGO_URI is not set and this job may not start a private embedded MongoDB (MONGO_EMBEDDED=0, "
                "as under scrapyd): point MONGO_URI at the shared server, e.g. one run by `python -m crawler mongo-server`"
            )
        server = start_embedded_server(Path(settings.get("PORTAL_DATA_DIR")) / "mongo")
        try:
            client, db = connect(server.uri, database)
        except MongoUnavailable:
            server.stop()
            raise
        return MongoHandle(client, db, server)


def _writer_for(crawler: Any, db: Database) -> DurableWriter:
    """The crawl's one write path: counts go to its stats, and giving up on MongoDB closes the crawl."""
    settings = crawler.settings

    def add_counts(counts: Counter) -> None:
        for key, value in counts.items():
            crawler.stats.inc_value(key, value)

    def close_crawl(why: str) -> None:
        def close() -> None:
            crawler.stats.set_value("mongo/gave_up", why)
            engine = getattr(crawler, "engine", None)
            if engine is not None and engine.spider is not None and engine.running:
                writer.closing = asyncio.ensure_future(engine.close_spider_async(reason="mongo_unavailable"))
        loop = writer._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(close)

    spider = getattr(getattr(crawler, "spidercls", None), "name", None) or "crawl"
    writer = DurableWriter(db, Path(settings.get("PORTAL_DATA_DIR")) / "spill", spider,
                           outage_budget=settings.getfloat("MONGO_OUTAGE_BUDGET"),
                           max_pending=settings.getint("MONGO_MAX_PENDING_JOBS"),
                           on_counts=add_counts, on_spilling=close_crawl)
    return writer


shared_mongo = SharedMongo()
