"""One bad page costs one reject, never the run: a page or a stage that raises makes a reject naming the failure."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, FetchFailure, Rejected
from crawler.middlewares.page_errors import PageErrorsMiddleware
from crawler.storage.archive import ARTICLE
from pipelines import ArticleStage
from spiders.thanhphohaiphong import ThanhphohaiphongSpider

MIRROR = "http://127.0.0.1:8080"


def spider_crawler():
    crawler = get_crawler(ThanhphohaiphongSpider)
    crawler.spider = crawler._create_spider(base_url=MIRROR)
    return crawler


def test_an_article_page_that_raises_becomes_a_reject_naming_the_failure_and_its_listed_url():
    crawler = spider_crawler()
    request = Request(MIRROR + "/bai-viet.html", meta={"archive": ARTICLE},
                      cb_kwargs={"listing_url": "https://thanhphohaiphong.gov.vn/category/kinh-te", "seen_url": "x"})
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    out = list(PageErrorsMiddleware.from_crawler(crawler).process_spider_exception(response, RecursionError("too deep")))
    assert out == [FetchFailure(site="thanhphohaiphong", url="https://thanhphohaiphong.gov.vn/bai-viet.html",
                                reason="parse_error:RecursionError", listing_url="https://thanhphohaiphong.gov.vn/category/kinh-te")]
    assert crawler.stats.get_value("articles/parse_errors") == 1 and crawler.stats.get_value("pages/unreadable/RecursionError") == 1


def test_a_listing_page_that_raises_fails_its_walk_as_a_page_not_had():
    crawler = spider_crawler()
    spider = crawler.spider
    request = Request(MIRROR + "/category/kinh-te", callback=spider.parse_listing, cb_kwargs={"category": "kinh-te", "page": 1})
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    out = list(PageErrorsMiddleware.from_crawler(crawler).process_spider_exception(response, ValueError("no posts")))
    assert out == [] and spider.walks["kinh-te"].failed
    assert spider.run_facts["pages_failed"][0]["reason"].startswith("parse_error:ValueError")


class Exploding(ArticleStage):
    async def process_article(self, item: ArticleItem) -> ArticleItem:
        raise KeyError("caption")


def test_a_stage_that_raises_on_one_article_rejects_that_article():
    item = ArticleItem(site="thanhphohaiphong", native_id="1", url="https://thanhphohaiphong.gov.vn/a.html", body_html="<p>x</p>")
    with pytest.raises(Rejected) as rejected:
        asyncio.run(Exploding().process_item(item))
    assert rejected.value.reasons == ["pipeline_error:KeyError"] and "body_html" not in rejected.value.raw
