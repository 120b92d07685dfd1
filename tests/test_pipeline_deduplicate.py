"""Reposts across portals point to their original, whichever portal is crawled first."""

from __future__ import annotations

import pytest

from crawler.storage.mongo import connect
from replica import render
from replica.corpus import build_corpus
from replica.render import qr_png
from spiders.congan_haiphong import CongAnHaiphongSpider
from spiders.thanhphohaiphong import ThanhphohaiphongSpider
from tests.helpers import load_case
from tests.parsing import parse_page
from tests.pipeline_harness import make_crawler, run_items

CITY_URL = "https://thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"


def city_seed():
    _, page = load_case("thanhphohaiphong-24168")
    return parse_page("thanhphohaiphong", CITY_URL, page, qr_png(CITY_URL))


def police_original():
    original = build_corpus(10).by_key()["congan_haiphong:149022"]
    return parse_page("congan_haiphong", original.url, render.police_article(original))


@pytest.mark.parametrize("city_first", [True, False])
def test_city_repost_points_to_the_police_original(mongo_uri, tmp_path, city_first):
    name = f"dedupe_{int(city_first)}"
    client, db = connect(mongo_uri, name)
    client.drop_database(name)
    runs = [(ThanhphohaiphongSpider, city_seed()), (CongAnHaiphongSpider, police_original())]
    for spidercls, item in runs if city_first else reversed(runs):
        run_items(make_crawler(spidercls, mongo_uri, name, tmp_path), [item])
    city = db.articles.find_one({"_id": "thanhphohaiphong:24168"})
    police = db.articles.find_one({"_id": "congan_haiphong:149022"})
    assert city["duplicate_of"] == "congan_haiphong:149022"
    assert city["repost"]["method"] == "exact" and city["repost"]["score"] == 1.0
    assert police["duplicate_of"] is None and police["repost"] is None
    assert city["dedup_keys"] and set(city["dedup_keys"]) & set(police["dedup_keys"])
    client.close()
