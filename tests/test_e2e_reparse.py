"""The raw archive end to end: a crawl keeps every article page and QR image as WARC, and re-extraction
from it, with no network, gives the records a crawl gives, and changes nothing when nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crawler.storage.mongo import connect, start_embedded_server
from replica.corpus import CITY, POLICE
from replica.drills import start_crawl
from replica.server import Replica, ReplicaOptions
from tests.helpers import ROOT
from tests.parsing import as_json

pytestmark = pytest.mark.e2e
FIELDS = ("url", "title", "summary", "published_at", "date_text", "categories", "author", "source", "body_text", "body_html",
          "images", "related_urls", "qr", "content_hash", "dedup_keys", "duplicate_of")


def reparse(mongo_uri: str | None, database: str, data_dir, *args: str) -> subprocess.CompletedProcess:
    """The command; without a MONGO_URI, into the embedded MongoDB of the data folder (one server for both portals)."""
    env = {**os.environ, "MONGO_DATABASE": database, "PORTAL_LOG_LEVEL": "WARNING"}
    env.pop("MONGO_URI", None)
    if mongo_uri:
        env["MONGO_URI"] = mongo_uri
    return subprocess.run([sys.executable, "-m", "crawler", "reparse", "--data-dir", str(data_dir), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_reparsing_the_archive_gives_the_crawled_records_without_the_network(mongo_uri, tmp_path):
    data = tmp_path / "data"
    with Replica(ReplicaOptions(articles_per_site=60, fault_rate=0.0)) as replica:
        for site in (CITY, POLICE):
            crawl = start_crawl(site, replica, mongo_uri, "archived", data, env={"PORTAL_ARCHIVE_ENABLED": "1"})
            assert crawl.wait() == 0, crawl.log[-3000:]
        served = sum(replica.state.requests.values())
        # Both portals, each shared by two processes, into the data folder's own MongoDB.
        again = reparse(None, "reparsed", data, "--processes", "4")
        assert sum(replica.state.requests.values()) == served  # not one request
    assert again.returncode == 0, again.stdout + again.stderr[-3000:]
    client, crawled = connect(mongo_uri, "archived")
    embedded = start_embedded_server(data / "mongo")
    reparsed_client, reparsed = connect(embedded.uri, "reparsed")
    for site in (CITY, POLICE):
        assert f"{site}: " in again.stdout and " 0 images missing" in again.stdout
        want = {d["_id"]: {f: as_json(d.get(f)) for f in FIELDS} for d in crawled.articles.find({"site": site})}
        got = {d["_id"]: {f: as_json(d.get(f)) for f in FIELDS} for d in reparsed.articles.find({"site": site})}
        assert len(want) >= 45 and got == want
        rejects = {d["_id"]: d["reasons"] for d in crawled.rejects.find({"site": site})}
        assert {d["_id"]: d["reasons"] for d in reparsed.rejects.find({"site": site})} == rejects  # the bad records, again
        runs = list(reparsed.crawl_runs.find({"spider": site}))  # one a process
        assert len(runs) == 2 and all(run["kind"] == "reparse" and run["state"] == "finished" for run in runs)
        assert sum(run["facts"]["reparse"]["articles"] for run in runs) == len(want) + len(rejects)
    assert reparsed.walks.count_documents({}) == 0  # no listing was read: no walk is said to have run
    # Reposts settled once, by the command, after every process had written: every dated article, both portals.
    dated = reparsed.articles.count_documents({"published_at": {"$ne": None}})
    assert f"reposts: {dated} articles settled" in again.stdout and dated >= 90
    # Into the crawled database: nothing changed, so nothing is written as a change.
    same = reparse(mongo_uri, "archived", data, "--site", CITY)
    assert same.returncode == 0, same.stderr[-3000:]
    assert " 0 new, 0 changed, " in same.stdout and crawled.article_revisions.count_documents({}) == 0
    client.close()
    reparsed_client.close()
    embedded.stop()


def test_reparse_without_an_archive_says_where_it_looked(mongo_uri, tmp_path):
    done = reparse(mongo_uri, "none", tmp_path)
    assert done.returncode == 1 and f"no archive of {CITY}, {POLICE} in {tmp_path / 'archive'}" in done.stderr


def test_reparse_with_mongodb_out_of_reach_says_so_once_and_starts_no_process(tmp_path):
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / f"{CITY}-20260101T000000000000.warc.gz").write_bytes(b"")
    done = reparse("mongodb://127.0.0.1:9/", "none", tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("reparse: cannot reach MongoDB at mongodb://127.0.0.1:9/") and "Traceback" not in done.stderr
    assert "re-extracted" not in done.stdout
