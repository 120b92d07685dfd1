"""URL canonicalisation and the public/crawled origin mapping."""

import pytest

from crawler.urls import PortalOrigin, canonical_url

PUBLIC = "https://thanhphohaiphong.gov.vn"
ARTICLE = PUBLIC + "/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"


@pytest.mark.parametrize("variant", [
    "http://thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html",
    "https://www.thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html",
    ARTICLE + "/",
    ARTICLE + "?print=print",
    ARTICLE + "?utm_source=facebook&utm_medium=social",
    ARTICLE + "?fbclid=IwAR0abc#comments",
])
def test_variants_of_one_article_have_one_canonical_url(variant):
    assert canonical_url(variant, PUBLIC) == ARTICLE


def test_identity_parameters_are_kept():
    assert canonical_url(PUBLIC + "/?p=24168&utm_source=x", PUBLIC) == PUBLIC + "/?p=24168"


def test_other_sites_are_left_alone_but_for_the_fragment():
    assert canonical_url("http://example.org/a?utm_source=x#top", PUBLIC) == "http://example.org/a?utm_source=x"


def test_replica_urls_map_to_the_public_origin_and_back():
    origin = PortalOrigin(PUBLIC, "http://127.0.0.1:8080")
    assert origin.canonical_url("http://127.0.0.1:8080/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html?print=print") == ARTICLE
    assert origin.fetch_url(ARTICLE) == "http://127.0.0.1:8080/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"
    assert origin.public_url("/category/kinh-te/page/2") == PUBLIC + "/category/kinh-te/page/2"


def test_police_images_lose_their_resize_parameter():
    police = "https://congan.haiphong.gov.vn"
    url = police + "/uploads/haiphong/portal/congan/news/2020_07/11/giao-ban-799-1.jpg?maxwidth=1000"
    assert canonical_url(url, police) == police + "/uploads/haiphong/portal/congan/news/2020_07/11/giao-ban-799-1.jpg"
