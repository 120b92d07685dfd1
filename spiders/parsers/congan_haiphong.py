"""Parsers for the city police portal, congan.haiphong.gov.vn (ASP.NET CMS)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cached_property
from urllib.parse import urlsplit

from parsel import SelectorList
from scrapy.http import TextResponse

from crawler.dates import parse_vietnamese_datetime
from crawler.items import ArticleItem
from crawler.portals import PORTALS
from crawler.urls import PortalOrigin

from .common import ArticleBody, ArticlePage, ListingEntry, ListingPage, document_of, first_text, meta_content, read_body, tag_of, text_of
from .text import clean_text

PORTAL = PORTALS["congan_haiphong"]
SITE, PUBLIC_ORIGIN, CATEGORIES = PORTAL.name, PORTAL.public_origin, PORTAL.categories
NEWS_LIST_PATH = "/Ajax/NewsList.ashx"
# The phrase of the browser-check page, in its title and its text (see challenge.html).
CHALLENGE_MARKER = "Đang kiểm tra trình duyệt"
_ARTICLE_ID = re.compile(r"-(\d+)\.html$")


def category_url(origin: PortalOrigin, path: str) -> str:
    return origin.fetch_url(f"{PUBLIC_ORIGIN}/{path}.html")


def news_list_url(origin: PortalOrigin, cat_id: str, page: int) -> str:
    return origin.fetch_url(f"{PUBLIC_ORIGIN}{NEWS_LIST_PATH}?cat={cat_id}&page={page}")


def is_challenge(response: TextResponse) -> bool:
    """Whether the portal answered with its browser check instead of the page asked for."""
    head = response.body[:4096].decode("utf-8", "replace")
    return CHALLENGE_MARKER in head and "hpcc" in response.text


def article_id_from_url(url: str) -> str | None:
    found = _ARTICLE_ID.search(urlsplit(url).path)
    return found.group(1) if found else None


def parse_listing(response: TextResponse, origin: PortalOrigin) -> ListingPage:
    """A listing as the browser renders it into `#news-list`, or the raw `NewsList.ashx` fragment."""
    entries = []
    document = document_of(response)
    for item in document.css(".news-item"):
        href = item.css("a.news-title::attr(href)").get()
        if not href:
            continue
        url = origin.public_url(href, response.url)
        entries.append(ListingEntry(
            url=url,
            title=text_of(item.css("a.news-title")),
            date=parse_vietnamese_datetime(text_of(item.css(".news-date"))),
            native_id=article_id_from_url(url),
        ))
    pager = document.css(".pager")
    page = int(pager.attrib["data-page"]) if pager and pager.attrib.get("data-page", "").isdigit() else None
    total = pager.attrib.get("data-total-pages", "") if pager else ""
    total_pages = int(total) if total.isdigit() else None
    has_next = bool(document.css("a.page-next")) or (page is not None and total_pages is not None and page < total_pages)
    return ListingPage(entries=entries, page=page, total_pages=total_pages, has_next=has_next)


def listing_category_id(response: TextResponse) -> str | None:
    """The CMS's numeric id of the category, which `NewsList.ashx` wants."""
    return response.css("#news-list::attr(data-cat)").get()


def listing_page_size(response: TextResponse, default: int = 15) -> int:
    size = response.css("#news-list::attr(data-page-size)").get("")
    return int(size) if size.isdigit() else default


class PoliceArticlePage(ArticlePage):
    """An article page of the police portal (ASP.NET CMS), without the slogan, the "TƯ CÁCH" box or the visitor counter."""

    site = SITE

    @cached_property
    def detail(self) -> SelectorList:
        return self.document.css(".news-detail")

    @cached_property
    def content(self) -> SelectorList:
        return self.detail.css(".news-content")

    @cached_property
    def body(self) -> ArticleBody:
        return read_body(self.content, self.origin, self.base,
                         is_image_block=lambda node: tag_of(node) == "table" and bool(node.css("img")),
                         block_caption="td.image_desc", inline_caption=lambda node, img: clean_text(img.attrib.get("alt")) or None)

    @cached_property
    def canonical(self) -> str:
        return self.stored_url(meta_content(self.document, "og:url"))

    @cached_property
    def shown(self) -> tuple[str | None, datetime | None]:
        """The one date the page shows, as written and parsed (dateparser is costly: once a page)."""
        text = first_text(self.detail, ".news-date") or None
        return text, parse_vietnamese_datetime(text)

    def native_id(self) -> str | None:
        return self.detail.attrib.get("data-news-id") or article_id_from_url(self.canonical)

    def url(self) -> str:
        return self.canonical

    def title(self) -> str | None:
        return first_text(self.detail, "h1.news-title") or meta_content(self.document, "og:title") or None

    def summary(self) -> str | None:
        return first_text(self.content, ".sapo") or meta_content(self.document, "description") or None

    def date_text(self) -> str | None:
        return self.shown[0]

    def published_at(self) -> datetime | None:
        # The portal shows one date, the last update: it is the best publication date there is.
        return self.shown[1]

    def modified_at(self) -> datetime | None:
        return self.shown[1]

    def categories(self) -> list[dict[str, str]]:
        categories = []
        for link in self.document.css(".breadcrumb a"):
            path = urlsplit(link.attrib.get("href", "")).path.strip("/")
            if path.endswith(".html"):
                categories.append({"slug": path.removesuffix(".html"), "name": text_of(link)})
        return categories

    def qr(self) -> None:
        return None  # the police portal prints no QR code

    def related_urls(self) -> list[str]:
        return [self.origin.canonical_url(h, self.base) for h in self.detail.css(".news-other a::attr(href)").getall()]


def parse_article(response: TextResponse, origin: PortalOrigin) -> ArticleItem:
    """An article page, every field of the record contract that the page itself holds."""
    return PoliceArticlePage(response, origin).to_item()
