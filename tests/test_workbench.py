"""The analysts' workbench on a crawled replica: the search database, Datasette in Chromium, DuckDB beside it."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request

import duckdb
import pytest

from crawler.folding import fold, key
from crawler.handoff.search import fold_query, search
from crawler.storage.mongo import free_port
from replica.drills import explore
from tests.helpers import ROOT, chromium_page

pytestmark = pytest.mark.e2e


def test_folding_meets_vietnamese_typed_any_way():
    assert fold("Đồ Sơn") == fold("Do Son") == "Do Son" and fold("đường") == "duong"
    assert key("  AN NINH - Quoc  phong") == key("An ninh - Quốc phòng")
    assert fold_query("do son") == fold_query("Đồ Sơn").lower().replace("do son", "do son") == '"do son"'
    assert fold_query('"Hải Phòng" AND "Đồ Sơn"') == '"Hai Phong" AND "Do Son"'  # operators and quotes kept


@pytest.fixture(scope="module")
def exported(crawled, mongo_uri, tmp_path_factory):
    out = tmp_path_factory.mktemp("workbench")
    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": crawled.db.name}
    done = subprocess.run([sys.executable, "-m", "crawler", "export", "--out", str(out), "--name", "articles"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return out


def test_every_tool_reads_vietnam_time_alike_and_the_dates_hold(exported, crawled):
    con = duckdb.connect()
    for source in (f"read_parquet('{exported / 'articles.parquet'}')", f"read_csv_auto('{exported / 'articles.csv'}')",
                   f"sqlite_scan('{exported / 'articles.db'}', 'articles')"):
        if source.startswith("sqlite_scan"):
            continue  # DuckDB's sqlite extension is a download away; SQLite itself is checked below
        wrong = con.sql(f"select count(*) from {source} where cast(published_at_local as date) <> cast(published_date_local as date)"
                        " or strftime(cast(published_at_local as timestamp), '%Y-%m') <> published_month_local").fetchall()[0][0]
        assert wrong == 0, source
    import sqlite3

    db = sqlite3.connect(exported / "articles.db")
    assert db.execute("select count(*) from articles where date(published_at_local) <> published_date_local "
                      "or strftime('%Y-%m', published_at_local) <> published_month_local").fetchall()[0][0] == 0
    db.close()


def test_the_search_box_finds_the_same_articles_typed_with_or_without_diacritics_in_chromium(exported, tmp_path):
    db_path = exported / "articles.db"
    ilike = duckdb.connect().sql(
        f"select count(*) from read_csv_auto('{exported / 'articles.csv'}') "
        "where title ilike '%đồ sơn%' or summary ilike '%đồ sơn%' or body_text ilike '%đồ sơn%'").fetchall()[0][0]
    assert ilike > 0
    assert {len(search(db_path, q, limit=100_000)) for q in ("do son", "Đồ Sơn", "DO SON", '"đồ sơn"')} == {ilike}
    with explore("--db", str(db_path), "--no-replay", port=free_port()) as base, chromium_page(1400, 1000) as (page, errors):
        counts = {}
        for typed in ("do son", "Đồ Sơn", '"DO SON"'):
            page.goto(base + "/articles/articles")
            page.fill("input[name=_search]", typed)
            page.press("input[name=_search]", "Enter")
            page.wait_for_load_state("networkidle")
            heading = page.inner_text("h3")  # "155 rows where search matches …"
            counts[typed] = int(heading.split()[0].replace(",", ""))
            assert page.input_value("input[name=_search]") == typed  # the box keeps what was typed; the search is folded
        assert set(counts.values()) == {ilike}, counts
        # The category facet beside the results counts the matching articles of each category, as DuckDB does.
        facet = {li.locator("a").inner_text(): int(li.inner_text().rsplit(maxsplit=1)[1].replace(",", ""))
                 for li in page.locator("#facet-category li").all()}
        per_category = dict(duckdb.connect().sql(
            f"select c.name, count(*) from read_parquet('{exported / 'articles.parquet'}') a, unnest(a.categories) as t(c) "
            "where title ilike '%đồ sơn%' or summary ilike '%đồ sơn%' or body_text ilike '%đồ sơn%' group by 1").fetchall())
        assert facet == per_category and len(facet) > 1
        page.screenshot(path=str(tmp_path / "workbench-search.png"), full_page=False)
        page.goto(base + "/articles")
        assert "Tìm kiếm" in page.content() and "Articles per month" in page.content()
    assert errors == []


def test_the_export_is_a_valid_data_package_and_a_wrong_cell_is_caught(exported, tmp_path):
    import csv
    import hashlib
    import json
    import shutil

    validate = [sys.executable, "-m", "frictionless", "validate", "--json"]
    done = subprocess.run([*validate, "articles.datapackage.json"], cwd=exported, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["valid"], report
    assert {t["name"] for t in report["tasks"]} == {"articles-parquet", "articles-csv", "articles-jsonl", "articles-sqlite"}
    package = json.loads((exported / "articles.datapackage.json").read_text(encoding="utf-8"))
    [table] = [r for r in package["resources"] if r["type"] == "table"]
    assert table["schema"]["primaryKey"] == ["id"] and all(f.get("description") for f in table["schema"]["fields"])
    local = next(f for f in table["schema"]["fields"] if f["name"] == "published_at_local")
    assert local["type"] == "datetime" and "Asia/Ho_Chi_Minh" in local["timeZone"]
    # The same package with one date spoilt (and its checksum updated): the validation names the cell.
    spoilt = tmp_path / "spoilt"
    shutil.copytree(exported, spoilt)
    with (spoilt / "articles.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    rows[2]["published_date_local"] = "not-a-date"
    with (spoilt / "articles.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    data = (spoilt / "articles.csv").read_bytes()
    table["bytes"], table["hash"] = len(data), "sha256:" + hashlib.sha256(data).hexdigest()
    (spoilt / "articles.datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    bad = subprocess.run([*validate, "articles.datapackage.json"], cwd=spoilt, capture_output=True, text=True, timeout=300)
    errors = [e for t in json.loads(bad.stdout)["tasks"] for e in t["errors"]]
    assert bad.returncode != 0 and [e["type"] for e in errors] == ["type-error"] and "not-a-date" in errors[0]["note"] + str(errors[0])


def test_every_field_of_the_json_lines_records_is_documented(exported):
    import json
    import re

    text = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)?)`", text))
    found = set()
    with (exported / "articles.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            found |= set(record)
            found |= {f"{outer}.{inner}" for outer in ("crawl", "repost") for inner in (record.get(outer) or {})}
    assert "crawl.listing_url" in found and "published_month_local" in found
    assert found - documented == set()


def test_each_article_links_to_its_page_as_fetched_replayed_by_pywb(mongo_uri, tmp_path):
    import json

    from replica.corpus import CITY
    from replica.server import Replica, ReplicaOptions
    from tests.helpers import fresh_db, run_crawl

    db = fresh_db(mongo_uri, "workbench_replay")
    data = tmp_path / "data"
    with Replica(ReplicaOptions(articles_per_site=40, fault_rate=0.0)) as replica:
        crawl = run_crawl(CITY, replica.base_url(CITY), mongo_uri, db.name, data, "-s", "PORTAL_ARCHIVE_ENABLED=1")
        assert crawl.returncode == 0, crawl.log[-2000:]
    replay_port = free_port()
    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": db.name}
    replay = f"http://127.0.0.1:{replay_port}"
    try:
        with explore("--data-dir", str(data), "--replay-port", str(replay_port), port=free_port(), env=env, also=(replay + "/",)) as base:
            rows = json.loads(urllib.request.urlopen(f"{base}/articles/articles.json?_shape=array&_size=5&_col=title&_col=archive_url",
                                                     timeout=30).read())
            article = next(r for r in rows if r["archive_url"])
            assert article["archive_url"].startswith(f"{replay}/haiphong/")
            # The replica is gone: what shows is the archive's copy of the page, in pywb's frame.
            with chromium_page(1200, 900) as (page, _):
                page.goto(article["archive_url"])
                page.wait_for_function("() => [...document.querySelectorAll('iframe')].length > 0")
                frame = next(f for f in page.frames if f != page.main_frame)
                frame.wait_for_selector("h1")
                assert frame.inner_text("h1").strip() == article["title"]
        # `explore` ended on SIGTERM (as systemd or `kill` stops it) and took Datasette and pywb with it: nothing answers.
        for url in (base, replay):
            with pytest.raises(urllib.error.URLError):
                urllib.request.urlopen(url + "/", timeout=10)
    finally:
        db.client.close()
