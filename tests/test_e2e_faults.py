"""Interrupted, then run again: every article stored once. Crawls killed, stopped, and cut off from MongoDB."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from replica.corpus import CITY, POLICE
from replica.drills import (
    MongoProcess,
    database,
    interrupt,
    start_crawl,
    tally,
    wait_for_log,
    wait_for_requests,
    wait_for_stored,
)
from replica.server import Replica, ReplicaOptions
from tests.helpers import ROOT
from tests.parsing import as_json

pytestmark = pytest.mark.e2e
ARTICLES = 300


@pytest.fixture(scope="module")
def replica():
    with Replica(ReplicaOptions(articles_per_site=ARTICLES, fault_rate=0.0)) as running:
        yield running


@pytest.fixture
def mongo(tmp_path: Path):
    server = MongoProcess(tmp_path / "mongo").start()
    yield server
    server.stop()


def runs(db, site: str) -> list[dict]:
    return list(db.crawl_runs.find({"spider": site}).sort("started_at", 1))


@pytest.mark.parametrize(("site", "how", "code"), [
    (CITY, signal.SIGKILL, -signal.SIGKILL),
    (POLICE, signal.SIGKILL, -signal.SIGKILL),
    (CITY, signal.SIGINT, 2),
    (POLICE, signal.SIGTERM, 2),
])
def test_an_interrupted_crawl_run_again_stores_every_article_once(replica, mongo, tmp_path, site, how, code):
    db = database(mongo.uri, "interrupted")
    first = start_crawl(site, replica, mongo.uri, db.name, tmp_path / "data")
    wait_for_stored(db, site, ARTICLES // 2, first)
    assert interrupt(first, how, replica=replica) == code, first.log[-3000:]
    cut_off = tally(db, replica, site)
    assert cut_off.lost > 0  # the drill did interrupt the crawl
    if how is not signal.SIGKILL:
        assert runs(db, site)[-1]["state"] == "shutdown" and runs(db, site)[-1]["exit_code"] == 2
    again = start_crawl(site, replica, mongo.uri, db.name, tmp_path / "data")
    assert again.wait() == 0, again.log[-3000:]
    after = tally(db, replica, site)
    assert (after.lost, after.duplicates) == (0, 0), after.missing
    killed, rerun = runs(db, site)
    assert killed["state"] == ("interrupted" if how is signal.SIGKILL else "shutdown")
    assert rerun["state"] == "finished" and rerun["exit_code"] == 0
    assert rerun["facts"]["walks_resumed"]  # the cut-off walks were walked to their end
    assert db.walks.count_documents({"site": site, "status": "complete"}) == 4


def test_a_short_mongodb_outage_is_ridden_through_while_the_crawl_downloads(replica, mongo, tmp_path):
    db = database(mongo.uri, "outage")
    # Small batches, and MongoDB killed once the first is written: most of the crawl is still to download
    # when it goes, however fast the machine downloads and however slowly it stores.
    crawl = start_crawl(CITY, replica, mongo.uri, db.name, tmp_path / "data", settings={"MONGO_BATCH_SIZE": "10"},
                        env={"MONGO_OUTAGE_BUDGET": "600"})
    try:
        wait_for_stored(db, CITY, 10, crawl)
        mongo.kill()
        before = replica.state.requests[CITY]
        wait_for_log(crawl, "MongoDB is not answering")  # the crawl met the outage…
        wait_for_requests(replica, CITY, before + 50, crawl)  # …and downloads went on while MongoDB was away
        during = replica.state.requests[CITY] - before
        mongo.start()
        assert crawl.wait() == 0, crawl.log[-3000:]
    finally:
        if crawl.proc.poll() is None:  # a failed wait leaves no crawl behind for the next test
            crawl.proc.kill()
            crawl.proc.wait()
    assert during >= 50
    after = tally(db, replica, CITY)
    assert (after.lost, after.duplicates) == (0, 0)
    run = runs(db, CITY)[-1]
    assert run["state"] == "finished" and run["counts"]["outages_ridden"] >= 1 and run["counts"]["writes_spilled"] == 0


def test_a_long_mongodb_outage_spills_ends_non_zero_and_the_next_run_recovers_everything(replica, mongo, tmp_path, webhook):
    posts, hook = webhook
    db = database(mongo.uri, "spill")
    data = tmp_path / "data"
    crawl = start_crawl(POLICE, replica, mongo.uri, db.name, data, env={"MONGO_OUTAGE_BUDGET": "2", "PORTAL_ALERT_WEBHOOK_URL": hook})
    wait_for_stored(db, POLICE, 100, crawl)
    mongo.kill()
    assert crawl.wait() == 3, crawl.log[-3000:]  # spilled: the run says so
    assert "writes spilled" in crawl.log or "spilling" in crawl.log
    spills = list((data / "spill").glob(f"{POLICE}-*.jsonl"))
    assert spills and sum(len(p.read_text(encoding="utf-8").splitlines()) for p in spills) > 0
    [alert] = posts  # told at once, MongoDB still away
    assert alert["cause"].startswith("MongoDB went away during the run") and alert["state"] == "failed"
    assert alert["counts"]["writes_spilled"] > 0
    mongo.start()
    health = subprocess.run([sys.executable, "-m", "crawler", "health", "--spider", POLICE, "--data-dir", str(data)], cwd=ROOT,
                            env={**os.environ, "MONGO_URI": mongo.uri, "MONGO_DATABASE": db.name}, capture_output=True, text=True,
                            timeout=60, check=False)
    assert health.returncode == 2 and "wait in spill files" in health.stdout.splitlines()[0], health.stdout
    again = start_crawl(POLICE, replica, mongo.uri, db.name, data, env={"PORTAL_ALERT_WEBHOOK_URL": hook})
    assert again.wait() == 0, again.log[-3000:]
    after = tally(db, replica, POLICE)
    assert (after.lost, after.duplicates) == (0, 0), after.missing
    spilled_run, rerun = runs(db, POLICE)
    assert spilled_run["state"] == "failed" and spilled_run["exit_code"] == 3  # its own last write, replayed
    assert rerun["counts"]["spills_replayed"] > 0 and not list((data / "spill").glob("*.jsonl"))
    assert posts[-1]["kind"] == "recovery" and posts[-1]["recovers"] == spilled_run["_id"]


def test_hostile_pages_reach_no_other_host_and_a_listing_without_ids_recrawls_for_free(mongo, tmp_path):
    options = ReplicaOptions(articles_per_site=ARTICLES, fault_rate=0.0, hostile=True, listing_ids=False)
    with Replica(options) as replica:
        db = database(mongo.uri, "hostile")
        first = start_crawl(CITY, replica, mongo.uri, db.name, tmp_path / "data")
        assert first.wait() == 0, first.log[-3000:]
        assert replica.offsite.requests == []  # not the listing link, not the pixel, not the frame
        assert (tally(db, replica, CITY).lost, tally(db, replica, CITY).duplicates) == (0, 0)
        hostile = replica.hostile_article()
        doc = db.articles.find_one({"_id": hostile.key})
        expected = hostile.expected_record()
        for name in ("title", "body_text", "images", "offsite_images", "author", "source"):
            assert as_json(doc[name]) == as_json(expected[name]), name
        assert doc["summary"] == expected["body_text"].split("\n\n")[0]
        assert not any(bad in doc["body_html"] for bad in ("<script", "alert(", "javascript:", "onerror", "<iframe"))
        start = len(replica.state.log)
        again = start_crawl(CITY, replica, mongo.uri, db.name, tmp_path / "data")
        assert again.wait() == 0, again.log[-3000:]
        fetched = [path for site, path, _ in replica.state.log[start:] if site == CITY and replica.is_article_path(CITY, path)]
        assert fetched == []  # known by their URLs, though the listing names no post id
