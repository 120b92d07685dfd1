"""Incremental recrawls on the replica: cheap when nothing changed, complete when a day has passed."""

from __future__ import annotations

import json

import pytest

from crawler.handoff.export import ExportFilters, export
from replica.corpus import CITY, POLICE
from replica.server import Replica, ReplicaOptions
from tests.helpers import dates_out_of_order, fresh_db, run_crawl
from tests.parsing import as_json

pytestmark = pytest.mark.e2e
SITES = (CITY, POLICE)
ARTICLES = 600
COMPARED = ("url", "title", "summary", "published_at", "modified_at", "date_text", "categories", "author", "source",
            "body_text", "images", "related_urls", "duplicate_of", "content_hash")


class Phases:
    """Crawls of one replica as it moves in time, each phase's answers kept apart."""

    def __init__(self, replica: Replica, mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.replica, self.mongo_uri = replica, mongo_uri
        self.data_dir = tmp_path_factory.mktemp("incremental")
        self.db = fresh_db(mongo_uri, "incremental")

    def crawl(self, database: str | None = None, *args: str) -> dict[str, list[tuple[str, str, int]]]:
        start = len(self.replica.state.log)
        for site in SITES:
            result = run_crawl(site, self.replica.base_url(site), self.mongo_uri, database or self.db.name, self.data_dir, *args)
            assert result.returncode == 0 and "log_count/ERROR" not in result.log, result.log[-3000:]
        log = self.replica.state.log[start:]
        return {site: [entry for entry in log if entry[0] == site] for site in SITES}

    def last_run(self, site: str) -> dict:
        return self.db.crawl_runs.find_one({"spider": site}, sort=[("started_at", -1)])


@pytest.fixture(scope="module")
def phases(mongo_uri, tmp_path_factory):
    with Replica(ReplicaOptions(articles_per_site=ARTICLES, fault_rate=0.03, slow_seconds=0.3)) as replica:
        run = Phases(replica, mongo_uri, tmp_path_factory)
        run.full = run.crawl()
        run.unchanged = run.crawl()
        run.first_handoff = export(run.db, run.data_dir / "exports", ["jsonl"], ExportFilters(changed_since="last"),
                                   target="analysts", name="first", progress=False)
        run.day = replica.advance_day()
        run.after_day = run.crawl()
        run.counts_after_day = {site: run.last_run(site)["counts"] for site in SITES}
        yield run
        run.db.client.close()


def test_an_unchanged_recrawl_fetches_no_article_and_one_listing_page_per_category(phases):
    for site in SITES:
        answers = phases.unchanged[site]
        articles = [path for _, path, _ in answers if phases.replica.is_article_path(site, path)]
        assert articles == []
        counts = phases.db.crawl_runs.find({"spider": site}).sort("started_at", 1)[1]["counts"]
        assert counts["articles_new"] == counts["articles_changed"] == counts["articles_removed"] == 0
        if site == CITY:
            listings = [p for _, p, _ in answers if p.startswith("/category/")]
            api = [p for _, p, _ in answers if p.startswith("/wp-json/")]
            assert len(listings) == 4 and len(api) == 2
            assert len(answers) <= 1 + 4 + 2 + 1  # robots.txt, listings, API (+1 for a planted fault retried)
        else:
            rendered = [p for _, p, _ in answers if p.endswith(".html") and p.count("/") == 1]
            news_list = [p for _, p, _ in answers if p.startswith("/Ajax/NewsList.ashx")]
            # Chromium asks twice for a page when it meets the check (the check, then its reload).
            assert len(set(rendered)) == 4 and len(news_list) <= 4 + 4  # page script + one count per category


def test_after_a_day_one_recrawl_finds_every_new_changed_and_removed_article(phases):
    db = phases.db
    truth = {r["_id"]: r for r in phases.replica.truth()}
    for key in phases.day["new"]:
        doc = db.articles.find_one({"_id": key})
        assert doc is not None and doc["revision"] == 1 and doc["title"] == truth[key]["title"]
    for key in phases.day["changed"]:
        doc = db.articles.find_one({"_id": key})
        expected = truth[key]
        assert (doc["title"], doc["body_text"], doc["categories"], doc["url"]) == (
            expected["title"], expected["body_text"], expected["categories"], expected["url"]), key
        assert doc.get("removed_at") is None
    for key in phases.day["removed"]:
        doc = db.articles.find_one({"_id": key})
        assert doc["removed_at"] is not None and doc["crawl"]["http_status"] in (404, 410)
    edited = [k for k in phases.day["changed"] if k not in phases.day["moved"]]
    for key in edited:
        doc = db.articles.find_one({"_id": key})
        assert doc["revision"] == 2 and db.article_revisions.count_documents({"article_id": key}) == 1
    for site in SITES:
        counts = phases.counts_after_day[site]
        assert counts["articles_new"] == sum(k.startswith(site) for k in phases.day["new"])
        assert counts["articles_removed"] == sum(k.startswith(site) for k in phases.day["removed"])
        assert counts["articles_skipped"] > 0
    assert dates_out_of_order(db) == []  # after recrawls, changes and 304s too


def test_after_a_day_the_stored_records_equal_a_full_crawls(phases, mongo_uri):
    full = fresh_db(mongo_uri, "incremental_full")
    try:
        phases.crawl(full.name, "-a", "full=1")
        for site in SITES:
            fresh = {d["_id"]: d for d in full.articles.find({"site": site})}
            kept = {d["_id"]: d for d in phases.db.articles.find({"site": site, "removed_at": None})}
            assert set(kept) == set(fresh)
            for key, doc in fresh.items():
                # Publication is the earliest date the portal ever showed: an edited police article shows its update
                # ("Cập nhật") instead, which a fresh crawl takes for publication and the kept record has as modified_at.
                same = [f for f in COMPARED if f != "published_at"]
                assert {f: as_json(kept[key].get(f)) for f in same} == {f: as_json(doc.get(f)) for f in same}, key
                assert kept[key]["published_at"] <= doc["published_at"], key
                if key not in phases.day["changed"]:
                    assert kept[key]["published_at"] == doc["published_at"], key
                assert set(doc["url_aliases"]) <= set(kept[key]["url_aliases"])
            kept_earlier = [k for k in fresh if kept[k]["published_at"] < fresh[k]["published_at"]]
            assert bool(kept_earlier) == (site == POLICE)  # the rule at work, where the portal shows updates
    finally:
        full.client.close()


def test_a_delta_export_holds_exactly_the_new_changed_and_removed_articles(phases):
    # A target's first delta is everything stored before the day (its new articles came after).
    assert phases.first_handoff.rows == phases.db.articles.count_documents({}) - len(phases.day["new"])
    out = phases.data_dir / "exports"
    delta = export(phases.db, out, ["jsonl"], ExportFilters(changed_since="last"), target="analysts", name="delta", progress=False)
    rows = [json.loads(line) for line in (out / "delta.jsonl").read_text(encoding="utf-8").splitlines()]
    day = phases.day
    assert {r["id"] for r in rows} == set(day["new"]) | set(day["changed"]) | set(day["removed"])
    assert {r["id"] for r in rows if r["removed_at"]} == set(day["removed"]) and delta.rows == len(rows)
    again = export(phases.db, out, ["jsonl"], ExportFilters(changed_since="last"), target="analysts", name="again", progress=False)
    assert again.rows == 0  # the watermark moved on


def test_a_title_edit_that_moves_the_url_keeps_the_id_and_the_old_url(phases):
    exported = (phases.data_dir / "exports" / "first.jsonl").read_text(encoding="utf-8").splitlines()
    before = {row["id"]: row["url"] for row in map(json.loads, exported)}  # the URLs as stored before the day
    truth = {r["_id"]: r for r in phases.replica.truth(POLICE)}
    retitled = [k for k in phases.day["changed"] if k.startswith(POLICE) and before[k] != truth[k]["url"]]
    assert retitled  # the day corrected a police title, and the slug in its URL followed
    for key in retitled:
        doc = phases.db.articles.find_one({"url": truth[key]["url"]})
        assert doc["_id"] == key and before[key] in doc["url_aliases"]  # found by its new URL: the same document
        assert phases.db.articles.count_documents({"url": before[key]}) == 0


def test_recent_articles_are_rechecked_with_conditional_requests(phases):
    answers = phases.crawl(None, "-s", "INCREMENTAL_RECHECK_HOURS=0", "-s", "INCREMENTAL_RECHECK_DAYS=400000")
    for site in SITES:
        not_modified = [p for _, p, status in answers[site] if status == 304]
        counts = phases.last_run(site)["counts"]
        assert len(not_modified) >= 100
        assert counts["articles_unchanged"] >= len(not_modified) and counts["articles_changed"] == 0
