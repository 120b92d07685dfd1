"""Stage 1: one spelling for everything — NFC text, plain spaces, no entities, canonical URLs."""

from __future__ import annotations

import hashlib
import unicodedata

from scrapy.crawler import Crawler

from crawler.items import ArticleItem, ArticleRemoved, ArticleUnchanged, FetchFailure
from crawler.text import clean_paragraphs, clean_text, fold_for_matching, join_paragraphs
from crawler.urls import canonical_url

# Below this many letters a body says too little to call two articles the same.
FINGERPRINT_MIN_CHARS = 200


def content_hash(title: str | None, body_text: str) -> str:
    return hashlib.sha256(f"{title or ''}\n{body_text}".encode()).hexdigest()


def body_fingerprint(body_text: str) -> str | None:
    folded = fold_for_matching(body_text)
    return hashlib.sha1(folded.encode()).hexdigest() if len(folded) >= FINGERPRINT_MIN_CHARS else None


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
    """The item with every text field repaired and every URL canonical (idempotent)."""
    for name in ("title", "summary", "author", "date_text"):
        value = getattr(item, name)
        setattr(item, name, clean_text(value) or None if value is not None else None)
    item.body_text = join_paragraphs(clean_paragraphs(item.body_text.split("\n\n")))
    item.body_html = html_in_nfc(item.body_html)
    item.categories = _unique([{"slug": c["slug"], "name": clean_text(c["name"])} for c in item.categories])
    if item.source:
        item.source = {**item.source, "text": clean_text(item.source["text"]), "name": clean_text(item.source["name"])}
    item.url = canonical_url(item.url, public_origin)
    item.images, item.offsite_images = (
        _unique([{"url": canonical_url(i["url"], public_origin), "caption": clean_text(i["caption"]) or None}
                 for i in images if i.get("url")])
        for images in (item.images, item.offsite_images))
    item.related_urls = _unique([canonical_url(u, public_origin) for u in item.related_urls if u] )
    item.related_urls = [u for u in item.related_urls if u != item.url]
    if item.qr:
        item.qr["caption"] = clean_text(item.qr.get("caption")) or None
    item.content_hash = content_hash(item.title, item.body_text)
    item.body_fingerprint = body_fingerprint(item.body_text)
    return item


class NormaliseArticlePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormaliseArticlePipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        if isinstance(item, ArticleItem):
            normalise_article(item, self.crawler.spider.public_origin)
        elif isinstance(item, FetchFailure | ArticleRemoved | ArticleUnchanged):
            # Not ArticleSeenUnder: the URL it carries is the other spelling, kept as an alias.
            item.url = canonical_url(item.url, self.crawler.spider.public_origin)
        return item
