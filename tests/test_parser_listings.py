"""Listing parsers on the saved listing pages."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.urls import PortalOrigin
from replica.render import saved_page
from spiders.parsers import congan_haiphong, thanhphohaiphong
from tests.parsing import response_for


def test_city_category_page():
    origin = PortalOrigin(thanhphohaiphong.PUBLIC_ORIGIN, "http://127.0.0.1:9")
    page = thanhphohaiphong.parse_listing(
        response_for("http://127.0.0.1:9/category/an-ninh-quoc-phong/page/2", saved_page("thanhphohaiphong-category.html")), origin)
    assert [e.native_id for e in page.entries] == ["24168", "24161", "24150"]
    first = page.entries[0]
    assert first.url == "https://thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"
    assert first.title == "Khen thưởng 71 tập thể, cá nhân tiêu biểu"
    assert first.date == datetime(2019, 11, 16, 2, 6, 12, tzinfo=UTC)
    assert (page.has_next, page.next_url) == (True, "https://thanhphohaiphong.gov.vn/category/an-ninh-quoc-phong/page/3")


def test_police_news_list_fragment():
    origin = PortalOrigin(congan_haiphong.PUBLIC_ORIGIN, "http://127.0.0.1:9")
    page = congan_haiphong.parse_listing(
        response_for("http://127.0.0.1:9/Ajax/NewsList.ashx?cat=12&page=3", saved_page("congan-newslist-fragment.html")), origin)
    assert [e.native_id for e in page.entries] == ["152731", "152702"]
    assert page.entries[0].date == datetime(2020, 7, 11, 2, 0, tzinfo=UTC)
    assert page.entries[1].title == 'Công an phường Đông Hải 1 ra mắt mô hình "Camera an ninh"'
    assert (page.page, page.total_pages, page.has_next, page.next_url) == (3, 41, True, None)


def test_police_category_page_before_the_script_runs_has_only_its_category_id():
    page = response_for("http://127.0.0.1:9/Phong-trao-toan-dan-bao-ve-ANTQ.html", saved_page("congan-category.html"))
    assert congan_haiphong.listing_category_id(page) == "12"
    assert congan_haiphong.parse_listing(page, PortalOrigin(congan_haiphong.PUBLIC_ORIGIN, "http://127.0.0.1:9")).entries == []


def test_browser_check_page_is_recognised():
    check = response_for("http://127.0.0.1:9/", saved_page("congan-challenge.html"))
    assert congan_haiphong.is_challenge(check)
    assert not congan_haiphong.is_challenge(response_for("http://127.0.0.1:9/x.html", saved_page("congan-article.html")))
