"""Golden tests: each saved page in tests/golden/ gives exactly the record written by hand beside it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.urls import PortalOrigin
from replica.render import qr_png
from spiders.parsers import thanhphohaiphong
from tests.helpers import GOLDEN, load_case
from tests.parsing import as_json, parse_page, response_for

CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))




@pytest.mark.parametrize("name", CASES)
def test_saved_page_gives_the_golden_record(name):
    expected, page = load_case(name)
    qr_image = None
    if expected.get("qr"):
        # The portal's QR PNG encodes the URL in its data= parameter; the crawler reads the PNG.
        qr_image = qr_png(parse_qs(urlsplit(expected["qr"]["image_url"]).query)["data"][0])
    item = parse_page(expected["site"], expected["url"], page, qr_image)
    extracted = as_json(item.extracted())
    extracted.pop("body_html")
    assert extracted == expected


def test_there_is_a_golden_case_for_each_seed_and_each_layout():
    assert CASES == ["congan_haiphong-152731", "thanhphohaiphong-24168", "thanhphohaiphong-24168-layout2027"]
    assert [layout.name for layout in thanhphohaiphong.LAYOUTS] == ["2019", "2027"]


def test_a_page_in_the_2027_layout_is_read_with_it_and_the_2019_layout_misses_its_byline_and_qr():
    expected, page = load_case("thanhphohaiphong-24168-layout2027")
    response = response_for(expected["url"], page)
    assert thanhphohaiphong.layout_of(response).name == "2027"
    assert thanhphohaiphong.layout_of(response_for(expected["url"], load_case("thanhphohaiphong-24168")[1])).name == "2019"
    origin = PortalOrigin(thanhphohaiphong.PUBLIC_ORIGIN, thanhphohaiphong.PUBLIC_ORIGIN)
    old = thanhphohaiphong.parse_article(response, origin, thanhphohaiphong.layout_of(response, pinned="2019"))
    assert old.author is None and old.qr is None  # what the fill-rate monitor sees before the layout is added
    assert old.body_text == expected["body_text"]  # nothing is rejected: only the monitors can tell


def test_police_article_leaves_out_the_portal_furniture():
    expected, page = load_case("congan_haiphong-152731")
    item = parse_page("congan_haiphong", expected["url"], page)
    everything = item.body_text + item.body_html + (item.summary or "")
    for furniture in ("SIẾT CHẶT KỶ LUẬT", "TƯ CÁCH", "CÁCH MỆNH", "Lượt truy cập", "Trực tuyến", "In bài viết"):
        assert furniture not in everything


def test_city_article_leaves_captions_byline_and_source_out_of_the_text():
    expected, page = load_case("thanhphohaiphong-24168")
    item = parse_page("thanhphohaiphong", expected["url"], page)
    for image in item.images:
        assert image["caption"] not in item.body_text
    assert "MINH PHƯƠNG" not in item.body_text
    assert "Nguồn" not in item.body_text
    assert "<script" not in item.body_html and "srcset" not in item.body_html
    assert 'src="https://thanhphohaiphong.gov.vn/wp-content/uploads/2019/11/khen-thuong-71-1.jpg"' in item.body_html
