"""Every kind of bad record the survey lists ends up in `rejects` with the right reason."""

from __future__ import annotations

import pytest

from crawler.incremental.state import CrawlState
from crawler.items import FetchFailure
from crawler.reasons import retried_next_run
from crawler.storage.mongo import connect
from replica import render
from replica.corpus import CITY, FAULT_REASONS, POLICE, QR_OTHER_URL, build_corpus
from replica.render import qr_png
from spiders.congan_haiphong import CongAnHaiphongSpider
from spiders.thanhphohaiphong import ThanhphohaiphongSpider
from tests.parsing import parse_page
from tests.pipeline_harness import make_crawler, run_items

CORPUS = build_corpus(300)
SPIDERS = {CITY: ThanhphohaiphongSpider, POLICE: CongAnHaiphongSpider}


def faulty(site: str) -> list:
    return [a for a in CORPUS.articles[site] if a.fault]


def crawl_pages(site: str, articles: list):
    page_of = render.city_article if site == CITY else render.police_article
    for article in articles:
        yield parse_page(site, article.url, page_of(article), qr_png(article.qr_payload) if site == CITY else None)


def test_each_bad_record_is_rejected_with_its_reason(mongo_uri, tmp_path):
    for site, spidercls in SPIDERS.items():
        db_name = f"validate_{site}"
        crawler = make_crawler(spidercls, mongo_uri, db_name, tmp_path)
        client, db = connect(mongo_uri, db_name)
        client.drop_database(db_name)
        articles = faulty(site)
        stored = run_items(crawler, crawl_pages(site, articles))
        expected_kinds = {"no_title", "no_date", "future_date", "empty_body"} | ({"qr_unreadable"} if site == CITY else set())
        assert {a.fault for a in articles} - {QR_OTHER_URL} == expected_kinds
        for article in articles:
            reject = db.rejects.find_one({"_id": f"{site}:{article.url}"})
            if article.fault == QR_OTHER_URL:
                assert reject is None
                doc = db.articles.find_one({"_id": article.key})
                assert doc["qr"]["matches_url"] is False
                assert doc["qr"]["payload"].startswith("http://haiphong.gov.vn/")
                continue
            assert reject is not None, article.key
            assert FAULT_REASONS[article.fault] in reject["reasons"], (article.fault, reject["reasons"])
            assert reject["raw"]["url"] == article.url and reject["site"] == site and len(reject["jobs"]) == 1
            assert db.articles.count_documents({"_id": article.key}) == 0
        assert len(stored) == sum(a.fault == QR_OTHER_URL for a in articles)
        assert crawler.stats.get_value("rejects/total") == len(expected_kinds) * 2
        client.close()


def test_a_page_that_could_not_be_fetched_is_recorded_not_dropped(mongo_uri, tmp_path):
    crawler = make_crawler(CongAnHaiphongSpider, mongo_uri, "validate_fetch", tmp_path)
    url = "https://congan.haiphong.gov.vn/Tin-An-ninh-trat-tu/Tin-bi-go-140001.html"
    refused = url.replace("140001", "140004")
    run_items(crawler, [FetchFailure(site=POLICE, url=url, reason="http_410", http_status=410),
                        FetchFailure(site=POLICE, url=refused, reason="offsite_redirect:http://127.0.0.2:8080")])
    client, db = connect(mongo_uri, "validate_fetch")
    reject = db.rejects.find_one({"_id": f"{POLICE}:{url}"})
    assert reject["reasons"] == ["http_410"] and reject["raw"]["http_status"] == 410
    assert reject["retry_fetch"] is True  # a failure of the moment: the next run asks again…
    assert db.rejects.find_one({"_id": f"{POLICE}:{refused}"})["retry_fetch"] is False  # …not a fact of the page
    assert CrawlState.load(db, POLICE).failed_fetches == [url]
    assert crawler.stats.get_value("rejects/total") == 2
    client.close()


@pytest.mark.parametrize(("reason", "again"), [("http_503", True), ("fetch_failed: TimeoutError: x", True),
                                              ("http_503 (its QR image)", True), ("offsite_redirect:http://127.0.0.2", False),
                                              ("too_large", False), ("parse_error:RecursionError", False),
                                              ("image_too_large (its QR image)", False), ("missing_title", False)])
def test_only_failures_of_the_moment_are_asked_for_again(reason, again):
    assert retried_next_run(reason) is again
