"""Canonical URLs where a URL names the article (the spider's records of failures), the other spelling where it is an alias."""

from __future__ import annotations

import asyncio

from crawler.items import ArticleSeenUnder
from pipelines.normalise import NormaliseArticlePipeline
from spiders.congan_haiphong import CongAnHaiphongSpider
from tests.pipeline_harness import make_crawler

ARTICLE = "https://congan.haiphong.gov.vn/Tin-An-ninh-trat-tu/Tin-moi-141114.html"


def test_failures_are_recorded_under_the_canonical_url_aliases_keep_their_spelling(tmp_path):
    crawler = make_crawler(CongAnHaiphongSpider, "mongodb://unused", "x", tmp_path)
    failure = crawler.spider.failed_fetch(ARTICLE + "?utm_source=zalo", "http_500", None)
    assert failure.url == ARTICLE
    stage = NormaliseArticlePipeline.from_crawler(crawler)
    alias = asyncio.run(stage.process_item(ArticleSeenUnder(site="congan_haiphong", native_id="141114", url=ARTICLE + "?utm_source=zalo")))
    assert alias.url == ARTICLE + "?utm_source=zalo"
