"""Stage 1: one spelling for everything the parsers leave open: canonical http(s) URLs, NFC body HTML, no twins."""

from __future__ import annotations

import unicodedata

from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.urls import canonical_url, is_web_url

from . import ArticleStage


def html_in_nfc(fragment: str) -> str:
    """Body HTML spelled like the text: NFC, and no entity but the four markup needs (`&nbsp;` is a character)."""
    return unicodedata.normalize("NFC", fragment.replace("&nbsp;", "\u00a0")) if fragment else fragment


def _unique(values: list) -> list:
    seen, out = set(), []
    for value in values:
        key = repr(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def normalise_article(item: ArticleItem, public_origin: str) -> ArticleItem:
    """The item with one spelling for each thing (idempotent): every URL canonical and http(s), body HTML in NFC,
    no category, image or related link twice. Text is the parsers' to clean, once (`spiders/parsers/text.py`)."""
    item.body_html = html_in_nfc(item.body_html)
    item.categories = _unique(item.categories)
    item.url = canonical_url(item.url, public_origin)
    # Only http(s) links are kept as links: a `javascript:` or `data:` one is not a page of anyone's.
    item.images, item.offsite_images = (
        _unique([{**i, "url": canonical_url(i["url"], public_origin)} for i in images if i.get("url") and is_web_url(i["url"])])
        for images in (item.images, item.offsite_images))
    item.related_urls = _unique([canonical_url(u, public_origin) for u in item.related_urls if is_web_url(u)])
    item.related_urls = [u for u in item.related_urls if u != item.url]
    return item


class NormaliseArticlePipeline(ArticleStage):
    """Articles only: the spider hands bookkeeping items over with canonical URLs already."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormaliseArticlePipeline:
        return cls(crawler)

    async def process_article(self, item: ArticleItem) -> ArticleItem:
        return normalise_article(item, self.crawler.spider.public_origin)
