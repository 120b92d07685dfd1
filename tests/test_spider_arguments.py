"""Spider arguments arrive as strings; bad ones fail with a clear message."""

import pytest

from spiders.arguments import ArgumentError, CrawlArguments
from spiders.congan_haiphong import CongAnHaiphongSpider
from spiders.thanhphohaiphong import ThanhphohaiphongSpider

KNOWN = ["kinh-te", "an-ninh-quoc-phong"]


def test_defaults_walk_every_category():
    args = CrawlArguments.parse({}, KNOWN)
    assert args == CrawlArguments(base_url=None, categories=tuple(KNOWN), max_pages=None, full=False)


def test_strings_from_scrapyd_are_parsed():
    args = CrawlArguments.parse({"base_url": "http://127.0.0.1:8080/", "categories": "kinh-te, kinh-te",
                                 "max_pages": "3", "full": "1"}, KNOWN)
    assert args == CrawlArguments(base_url="http://127.0.0.1:8080", categories=("kinh-te",), max_pages=3, full=True)


@pytest.mark.parametrize(("raw", "message"), [
    ({"categories": "the-thao"}, "unknown categories the-thao"),
    ({"max_pages": "many"}, "max_pages must be a whole number"),
    ({"max_pages": "0"}, "max_pages must be 1 or more"),
    ({"full": "perhaps"}, "full must be 1 or 0"),
    ({"base_url": "127.0.0.1:8080"}, r"base_url must be an http\(s\) origin"),
])
def test_bad_values_are_refused_with_a_reason(raw, message):
    with pytest.raises(ArgumentError, match=message):
        CrawlArguments.parse(raw, KNOWN)


def test_spiders_read_their_arguments_and_keep_public_origins():
    city = ThanhphohaiphongSpider(base_url="http://127.0.0.1:9", categories="kinh-te")
    assert city.args.categories == ("kinh-te",)
    assert city.origin.public == "https://thanhphohaiphong.gov.vn"
    police = CongAnHaiphongSpider()
    assert police.origin.crawl == police.origin.public == "https://congan.haiphong.gov.vn"
