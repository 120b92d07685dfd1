"""End to end: both portals of the replica crawled into MongoDB, measured against its ground truth."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from replica.corpus import CITY, POLICE
from tests.helpers import GOLDEN, dates_out_of_order
from tests.parsing import as_json

pytestmark = pytest.mark.e2e
SITES = (CITY, POLICE)
FIELDS = ("url", "title", "published_at", "date_text", "categories", "author", "source", "body_text", "images",
          "related_urls", "url_aliases")  # duplicate_of: test_reposts_…, against precision and recall


def test_crawls_finish_cleanly(crawled):
    for _site, result in crawled.results.items():
        assert result.returncode == 0, result.log[-3000:]
        assert "log_count/ERROR" not in result.log, result.log[-3000:]  # a retried browser timeout warns, nothing errs
        assert "'finish_reason': 'finished'" in result.log


@pytest.mark.parametrize("site", SITES)
def test_recall_is_total_and_nothing_is_stored_twice(crawled, site):
    truth = crawled.replica.truth(site)
    expected = {r["_id"] for r in truth if r["outcome"] == "stored"}
    stored = [d["_id"] for d in crawled.db.articles.find({"site": site}, {"_id": 1})]
    assert len(expected) >= 980
    assert set(stored) == expected  # recall 100%, precision 100%
    urls = Counter(d["url"] for d in crawled.db.articles.find({"site": site}, {"url": 1}))
    assert max(urls.values()) == 1  # one document per article, whatever URL it was listed under


@pytest.mark.parametrize("site", SITES)
def test_every_stored_record_equals_the_ground_truth(crawled, site):
    stored = {d["_id"]: d for d in crawled.db.articles.find({"site": site})}
    compared = 0
    for record in crawled.replica.truth(site):
        if record["outcome"] != "stored" or "title" not in record:
            continue
        doc = stored[record["_id"]]
        assert {f: as_json(doc[f]) for f in FIELDS} == {f: as_json(record[f]) for f in FIELDS}, record["_id"]
        if site == CITY:
            assert doc["qr"]["payload"] == record["qr"]["payload"]
            assert doc["qr"]["matches_url"] is record["qr"]["matches_url"]
        assert doc["revision"] == 1 and doc["crawl"]["spider"] == site and doc["crawl"]["http_status"] == 200
        compared += 1
    assert compared >= 970


@pytest.mark.parametrize("site", SITES)
def test_bad_records_are_in_rejects_with_their_reason(crawled, site):
    rejected = [r for r in crawled.replica.truth(site) if r["outcome"] == "rejected"]
    assert len(rejected) >= 8
    for record in rejected:
        reject = crawled.db.rejects.find_one({"_id": f"{site}:{record['url']}"})
        assert reject is not None and set(record["reasons"]) <= set(reject["reasons"]), record
    fetch_failures = crawled.db.rejects.count_documents({"site": site, "reasons": {"$regex": "^(http_|fetch_failed)"}})
    assert fetch_failures == 0  # every fault of the server was retried through


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_seed_articles_read_back_from_mongodb_field_for_field(crawled, name):
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    doc = crawled.db.articles.find_one({"_id": expected["_id"]})
    assert {k: as_json(doc.get(k)) for k in expected} == expected
    if expected["site"] == CITY:
        assert doc["duplicate_of"] == "congan_haiphong:149022"  # the police original, crawled too


def test_reposts_are_linked_to_their_originals_and_look_alikes_are_not(crawled):
    truth = {r["_id"]: r for r in crawled.replica.truth() if r["outcome"] == "stored"}
    linked = {d["_id"]: d for d in crawled.db.articles.find({"duplicate_of": {"$ne": None}})}
    right = [i for i, d in linked.items() if truth[i]["duplicate_of"] == d["duplicate_of"]]
    planted = [i for i, r in truth.items() if r["duplicate_of"]]
    kinds = Counter(truth[i]["repost_kind"] or "seed" for i in planted)
    assert len(planted) >= 45 and len(kinds) >= 7, kinds  # every kind of edit, across portals and within one
    assert len(right) / len(linked) >= 0.98  # precision
    assert len(right) / len(planted) >= 0.95  # recall
    assert not [i for i in linked if truth[i]["lookalike"] and not truth[i]["duplicate_of"]]  # no notice linked to a sibling
    assert linked["thanhphohaiphong:24168"]["duplicate_of"] == "congan_haiphong:149022"  # the seed pair
    assert all(d["repost"]["method"] in ("exact", "aligned") and 0.4 <= d["repost"]["score"] <= 1 for d in linked.values())
    notices = [i for i, r in truth.items() if r["lookalike"]]
    reviewed = sum(1 for d in crawled.db.articles.find({"_id": {"$in": notices}}, {"repost_candidates": 1}) if d.get("repost_candidates"))
    assert reviewed >= len(notices) // 3  # look-alikes are kept for review, not linked


def test_runs_are_recorded_and_the_site_facts_kept(crawled):
    for site in SITES:
        run = crawled.db.crawl_runs.find_one({"spider": site})
        assert run["finish_reason"] == "finished" and run["finished_at"] > run["started_at"]
        assert run["counts"]["articles_new"] == crawled.db.articles.count_documents({"site": site})
        assert run["counts"]["listing_pages"] > 0 and run["job_id"].startswith("manual-")
        assert run["arguments"]["base_url"] == crawled.replica.base_url(site)
    fanpage = crawled.db.sites.find_one({"_id": CITY})["fanpage_qr"]
    assert fanpage["payload"] == "https://www.facebook.com/congtintucthanhphohaiphong"


def test_the_server_misbehaved_and_the_browser_check_came_back_mid_crawl(crawled):
    faults = Counter()
    for (_site, kind), n in crawled.replica.state.faults.items():
        faults[kind] += n
    assert {"500", "502", "503", "429", "slow", "truncated", "empty"} <= set(faults)
    assert len(crawled.replica.state.tokens) >= 3  # the hpcc cookie expired and was earned again
    assert "earning a new hpcc cookie in Chromium" in crawled.results[POLICE].log
    # Its lifetime was learned from the first expiry; the later cookies were earned before they ran out.
    assert "earning a new hpcc cookie in Chromium before the old one expires" in crawled.results[POLICE].log
    counts = crawled.db.crawl_runs.find_one({"spider": POLICE})["counts"]
    assert counts["browser_page_loads"] >= counts["browser_check_renewals"] >= 2
    assert crawled.db.meta.find_one({"_id": f"browser_check:{POLICE}"})["requests"] > 0


def test_every_records_crawl_dates_are_in_order(crawled):
    assert crawled.db.articles.count_documents({}) > 0
    assert dates_out_of_order(crawled.db) == []
