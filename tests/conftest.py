"""Fixtures: the portal replica on free loopback ports, an embedded MongoDB, real `scrapy crawl` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pymongo.database import Database

from crawler.storage.mongo import start_embedded_server
from replica.corpus import CITY, POLICE
from replica.server import Replica, ReplicaOptions
from tests.helpers import ROOT, CrawlResult, Inbox, fresh_db, smtp_sink, webhook_receiver

E2E_ARTICLES = int(os.environ.get("E2E_ARTICLES_PER_SITE", "1000"))
# Crawls keep no raw archive in the tests, but for the one that tests it (test_e2e_reparse.py).
os.environ.setdefault("PORTAL_ARCHIVE_ENABLED", "0")


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MongoDB-wire server (SecantusDB, WiredTiger on disk) for the whole test session."""
    server = start_embedded_server(tmp_path_factory.mktemp("mongo"))
    yield server.uri
    server.stop()








@pytest.fixture(scope="session")
def replica() -> Iterator[Replica]:
    with Replica(ReplicaOptions(articles_per_site=E2E_ARTICLES, fault_rate=0.03, slow_seconds=0.5)) as running:
        yield running


@dataclass
class CrawledPortals:
    replica: Replica
    db: Database
    results: dict[str, CrawlResult]


@pytest.fixture(scope="session")
def crawled(replica: Replica, mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawledPortals]:
    """Both portals of the replica crawled at once into one database, as scheduled jobs would."""
    db = fresh_db(mongo_uri, "e2e_full")
    data_dir = tmp_path_factory.mktemp("crawl-data")
    env_base = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": db.name, "PORTAL_PROFILE": "replica", "PORTAL_DATA_DIR": str(data_dir)}
    # Each crawl logs to a file, as under scrapyd: two pipes read one after the other would fill, and
    # Chromium's driver makes the shared stderr non-blocking, so a full pipe loses log lines.
    procs = {}
    for site in (CITY, POLICE):
        with (data_dir / f"{site}.log").open("w", encoding="utf-8") as log:
            procs[site] = subprocess.Popen(
                [sys.executable, "-m", "scrapy", "crawl", site, "-a", f"base_url={replica.base_url(site)}"],
                cwd=ROOT, env={**os.environ, **env_base}, stdout=log, stderr=subprocess.STDOUT,
            )
    results = {}
    for site, proc in procs.items():
        proc.wait(timeout=900)
        results[site] = CrawlResult(site, proc.returncode, (data_dir / f"{site}.log").read_text(encoding="utf-8", errors="replace"))
    yield CrawledPortals(replica, db, results)
    db.client.close()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """An SMTP sink on loopback: (its handler, with the messages it got; its port)."""
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict], str]]:
    """A webhook receiver on loopback: (the JSON documents posted to it, its URL)."""
    with webhook_receiver() as receiver:
        yield receiver
