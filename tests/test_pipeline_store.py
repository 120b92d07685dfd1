"""Storing: one document per article, revisions when content changes, aliases, journaled spills."""

from __future__ import annotations

import dataclasses
from unittest import mock

from pymongo.collection import Collection

from crawler.items import FetchFailure
from pipelines import store
from pipelines.normalise import normalise_article
from pipelines.store import write_articles
from replica.render import qr_png
from spiders.thanhphohaiphong import ThanhphohaiphongSpider
from tests.helpers import fresh_db, load_case
from tests.parsing import parse_page
from tests.pipeline_harness import make_crawler, run_items

URL = "https://thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"
SEED = "thanhphohaiphong:24168"


def seed_item(**changes):
    _, page = load_case("thanhphohaiphong-24168")
    item = parse_page("thanhphohaiphong", URL, page, qr_png(URL))
    return dataclasses.replace(item, **changes)


def crawl_run(mongo_uri, db, tmp_path, *items):
    """One crawl's worth of items through the real stages into `db`; the crawler, for its stats."""
    crawler = make_crawler(ThanhphohaiphongSpider, mongo_uri, db.name, tmp_path)
    run_items(crawler, items)
    return crawler


def stored_seed(db):
    return db.articles.find_one({"_id": SEED})


def test_same_article_twice_and_under_another_url_is_one_document(mongo_uri, tmp_path):
    db = fresh_db(mongo_uri, "store_once")
    variant = "http://www.thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html?utm_source=facebook"
    crawl_run(mongo_uri, db, tmp_path, seed_item(seen_urls=[URL]), seed_item(seen_urls=[variant]))
    first = stored_seed(db)
    again = crawl_run(mongo_uri, db, tmp_path, seed_item(seen_urls=[URL]))
    assert again.stats.get_value("articles/unchanged") == 1 and again.stats.get_value("articles/changed") is None
    assert stored_seed(db)["crawl"]["last_changed_at"] == first["crawl"]["last_changed_at"]
    assert db.articles.count_documents({}) == 1
    doc = stored_seed(db)
    assert doc["url"] == URL and doc["url_aliases"] == [variant]
    assert doc["revision"] == 1 and db.article_revisions.count_documents({}) == 0
    assert doc["crawl"]["first_seen_at"] <= doc["crawl"]["last_seen_at"]
    assert doc["crawl"]["spider"] == "thanhphohaiphong" and doc["crawl"]["job_id"].startswith("manual-")
    assert {next(iter(ix["key"])) for ix in db.articles.list_indexes()} >= {"url", "url_aliases", "published_at", "site"}
    db.client.close()


def test_a_move_to_another_category_changes_the_record_not_the_revision(mongo_uri, tmp_path):
    db = fresh_db(mongo_uri, "store_move")
    crawl_run(mongo_uri, db, tmp_path, seed_item())
    first = stored_seed(db)
    moved = crawl_run(mongo_uri, db, tmp_path, seed_item(categories=[{"slug": "kinh-te", "name": "Kinh tế"}]))
    doc = stored_seed(db)
    assert doc["categories"] == [{"slug": "kinh-te", "name": "Kinh tế"}] and doc["revision"] == 1
    assert doc["crawl"]["last_changed_at"] > first["crawl"]["last_changed_at"]
    assert moved.stats.get_value("articles/changed") == 1 and db.article_revisions.count_documents({}) == 0
    db.client.close()


def test_changed_content_keeps_the_old_one_as_a_revision(mongo_uri, tmp_path):
    db = fresh_db(mongo_uri, "store_revision")
    crawl_run(mongo_uri, db, tmp_path, seed_item())
    first = stored_seed(db)
    edited = seed_item(title="Khen thưởng 71 tập thể, cá nhân tiêu biểu năm 2019",
                       url=URL.replace(".html", "-2019.html"), seen_urls=[])
    crawl_run(mongo_uri, db, tmp_path, edited)
    doc = stored_seed(db)
    assert doc["revision"] == 2 and doc["title"].endswith("năm 2019")
    assert doc["crawl"]["last_changed_at"] > first["crawl"]["last_changed_at"]
    assert URL in doc["url_aliases"]  # the old URL still leads to the article
    revision = db.article_revisions.find_one({"article_id": "thanhphohaiphong:24168"})
    assert revision["title"] == "Khen thưởng 71 tập thể, cá nhân tiêu biểu" and revision["revision"] == 1
    db.client.close()


def test_a_batch_written_twice_keeps_one_revision(mongo_uri, tmp_path):
    """A retried or replayed job must not keep the old content twice."""
    db = fresh_db(mongo_uri, "store_idempotent")
    crawl_run(mongo_uri, db, tmp_path, seed_item())
    first_hash = stored_seed(db)["content_hash"]
    edited = normalise_article(seed_item(title="Khen thưởng 71 tập thể, cá nhân tiêu biểu năm 2019"), "https://thanhphohaiphong.gov.vn")
    payload = {"items": [dataclasses.asdict(edited)], "provenance": {"crawl.spider": "thanhphohaiphong"},
               "now": stored_seed(db)["crawl"]["last_seen_at"]}
    write_articles(db, payload)
    # As if the article's write had been lost after its revision's: the retry meets revision 1 again.
    db.articles.update_one({"_id": SEED}, {"$set": {"revision": 1, "content_hash": first_hash}})
    write_articles(db, payload)
    assert db.article_revisions.count_documents({"article_id": SEED}) == 1
    assert stored_seed(db)["revision"] == 2
    db.client.close()


def _payload(item, now):
    return {"items": [dataclasses.asdict(normalise_article(item, "https://thanhphohaiphong.gov.vn"))],
            "provenance": {"crawl.spider": "thanhphohaiphong", "crawl.job_id": "test"}, "now": now}


def test_a_new_article_is_inserted_as_the_upsert_would_have_stored_it(mongo_uri):
    inserted, upserted = fresh_db(mongo_uri, "store_insert"), fresh_db(mongo_uri, "store_upsert")
    payload = _payload(seed_item(seen_urls=[URL, URL + "?utm_source=x"]), now=store.utc_now())
    write_articles(inserted, payload)
    as_before = lambda db, ops, if_stored: db.articles.bulk_write([if_stored.get(i, op) for i, op in enumerate(ops)])  # noqa: E731
    with mock.patch.object(store, "_write_articles", as_before):
        write_articles(upserted, payload)
    assert stored_seed(inserted) == stored_seed(upserted)
    assert stored_seed(inserted)["crawl"]["spider"] == "thanhphohaiphong" and stored_seed(inserted)["revision"] == 1
    for db in (inserted, upserted):
        db.client.close()


def test_a_new_article_found_stored_after_all_is_upserted_not_lost(mongo_uri, tmp_path):
    """Another writer stored it between the batch's read and its write: the insert's duplicate key falls back to the upsert."""
    db = fresh_db(mongo_uri, "store_insert_race")
    crawl_run(mongo_uri, db, tmp_path, seed_item())
    edited = seed_item(title="Khen thưởng 71 tập thể, cá nhân tiêu biểu năm 2019")
    with mock.patch.object(Collection, "find", return_value=[]):  # the read saw nothing stored
        counts = write_articles(db, _payload(edited, now=store.utc_now()))
    assert counts["articles/new"] == 1
    assert db.articles.count_documents({}) == 1 and stored_seed(db)["title"].endswith("năm 2019")
    db.client.close()


def test_a_page_stored_after_it_failed_is_no_longer_a_reject(mongo_uri, tmp_path):
    db = fresh_db(mongo_uri, "store_resolves")
    failed = crawl_run(mongo_uri, db, tmp_path, FetchFailure(site="thanhphohaiphong", url=URL, reason="fetch_failed: DownloadTimeoutError"))
    assert failed.stats.get_value("rejects/total") == 1 and db.rejects.count_documents({}) == 1
    stored = crawl_run(mongo_uri, db, tmp_path, seed_item())
    assert db.rejects.count_documents({}) == 0 and stored.stats.get_value("rejects/resolved") == 1
    assert stored_seed(db) is not None
    db.client.close()
