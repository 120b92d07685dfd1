"""A hostile portal gets nothing: both spiders crawl a compromised replica (replica/hostile.py).

Every attack of issue 24 is planted on its own article: requests aimed at internal services (on
127.0.0.2 and on another port of 127.0.0.1) through the QR image, redirects, meta refreshes, the
browser's frames, scripts and redirects; a gzip bomb, a pixel bomb, a body nested 1,500 deep, an
endless category; a `javascript:` canonical link; formulas and HTML in names for the analysts.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import pytest

from replica.corpus import CITY, POLICE
from replica.drills import MongoProcess, database, start_crawl
from replica.hostile import FORMULA_TITLE, HTML_NAME, REDIRECTED_CATEGORY, HostilePortal
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hostile")
    mongo = MongoProcess(folder / "mongo").start()
    try:
        with HostilePortal() as portal:
            db = database(mongo.uri, "hostile")
            codes = {}
            for site in (CITY, POLICE):
                crawl = start_crawl(site, portal.replica, mongo.uri, db.name, folder / "data")
                codes[site] = (crawl.wait(), crawl.log)
            yield portal, db, codes, mongo.uri, folder
    finally:
        mongo.stop()


def test_the_internal_services_receive_nothing_and_both_runs_finish(crawled):
    portal, db, codes, _, _ = crawled
    for site, (code, log) in codes.items():
        assert code == 0, log[-3000:]
        run = db.crawl_runs.find_one({"spider": site})
        assert run["state"] == "finished", run["state_reason"]
        assert run["counts"]["scope_refused"] > 0  # the attacks were made, and refused
        assert run["peak_rss_mb"] < 500
    assert portal.internal_requests() == []  # not a request of any kind, from the crawler or from Chromium
    refused = {r["origin"] for r in db.crawl_runs.find_one({"spider": POLICE})["scope_refused"]}
    assert {portal.internal.url, portal.internal_port.url} <= refused  # the browser's frame, fetch, redirect: counted


def test_every_listed_article_is_stored_or_rejected_with_a_reason_naming_it(crawled):
    portal, db, _, _, _ = crawled
    for site in (CITY, POLICE):
        listed = [a for a in portal.replica.corpus.live(site) if not (site == POLICE and a.categories[0] == REDIRECTED_CATEGORY)]
        unaccounted = [a.url for a in listed
                       if db.articles.count_documents({"_id": a.key}) == 0 and db.rejects.count_documents({"url": a.url}) == 0]
        assert len(listed) > 30 and unaccounted == []
    for case in portal.cases.values():
        stored = db.articles.find_one({"_id": case.key})
        reject = db.rejects.find_one({"url": case.url})
        if case.outcome == "stored":
            assert stored is not None, case
        elif case.outcome:
            assert stored is None and reject is not None and any(r.startswith(case.outcome) for r in reject["reasons"]), (case, reject)
        else:  # the deep page: stored, or a reject naming the failure
            assert stored is not None or reject["reasons"][0].startswith("parse_error:"), (case, reject)


def test_the_endless_category_stops_by_itself(crawled):
    portal, db, _, _, _ = crawled
    assert 2 < portal.endless_pages_served() <= 200
    run = db.crawl_runs.find_one({"spider": CITY})
    assert run["counts"]["listings_bounded"] == 1 and run["facts"]["listings_bounded"][0]["category"] == "van-hoa-xa-hoi"


def test_stored_urls_are_http_and_the_portals_own(crawled):
    portal, db, _, _, _ = crawled
    for doc in db.articles.find():
        urls = [doc["url"], *doc["url_aliases"], *doc["related_urls"], *(i["url"] for i in doc["images"] + doc["offsite_images"])]
        assert all(re.match(r"https?://", u) for u in urls), doc["_id"]
        assert doc["url"].startswith(("https://thanhphohaiphong.gov.vn/", "https://congan.haiphong.gov.vn/"))
    javascript = db.articles.find_one({"_id": portal.cases["canonical_javascript"].key})
    assert javascript["url"] == portal.cases["canonical_javascript"].url
    assert javascript["crawl"]["canonical_refused"].startswith("javascript:")


def test_the_csv_runs_no_formula_and_the_report_no_link_or_markup_from_the_portal(crawled, tmp_path):
    _, db, _, uri, _ = crawled
    env = {"MONGO_URI": uri, "MONGO_DATABASE": db.name}
    out = tmp_path / "exports"
    for command in (["export", "--out", str(out), "--name", "articles"], ["report", "--out", str(out / "report.html")]):
        done = subprocess.run([sys.executable, "-m", "crawler", *command], cwd=ROOT, env={**os.environ, **env},
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    with (out / "articles.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cells = [value for row in rows for value in row.values() if value]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    assert "'" + FORMULA_TITLE in {row["title"] for row in rows}  # kept, as text
    jsonl = [json.loads(line) for line in (out / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    assert FORMULA_TITLE in {r["title"] for r in jsonl}  # JSON Lines keeps the raw text
    report = (out / "report.html").read_text(encoding="utf-8")
    markup = re.sub(r"<script\b.*?</script>", "", report, flags=re.DOTALL)  # the report's own HTML, not plotly.js's
    hrefs = re.findall(r"""href=["']([^"']*)""", markup)
    assert hrefs and all(h.startswith(("http://", "https://", "#")) for h in hrefs)
    assert "127.0.0.2/phish" not in " ".join(hrefs)
    assert HTML_NAME not in report and "\\u003ca href" not in report  # no live link in a chart label either
    assert "&lt;a href" in report  # the name is there, as text


def test_a_run_whose_pages_fail_to_parse_is_flagged_by_the_monitors_not_crashed(crawled):
    _, db, _, _, _ = crawled
    run = db.crawl_runs.find_one({"spider": CITY})
    assert run["state"] == "finished" and run["exit_code"] == 0
    failed = {f["monitor"] for f in run["monitors"]["failed"]}
    assert any("rejected" in name for name in failed)  # 16 of 60 rejected: told to a person, not a crash
