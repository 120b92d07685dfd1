"""Parsers for the city police portal, congan.haiphong.gov.vn (ASP.NET CMS)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from crawler.bylines import split_trailer
from crawler.dates import parse_vietnamese_datetime
from crawler.items import ArticleItem
from crawler.sanitize import sanitize_html
from crawler.text import clean_paragraphs, join_paragraphs
from crawler.urls import PortalOrigin

from .common import ListingEntry, ListingPage, first_text, is_content, meta_content, split_offsite, tag_of, text_of

SITE = "congan_haiphong"
PUBLIC_ORIGIN = "https://congan.haiphong.gov.vn"
CATEGORIES = {
    "Tin-An-ninh-trat-tu": "Tin An ninh trật tự",
    "Phong-trao-toan-dan-bao-ve-ANTQ": "Phong trào toàn dân bảo vệ ANTQ",
    "Xay-dung-luc-luong": "Xây dựng lực lượng",
    "Canh-bao-toi-pham": "Cảnh báo tội phạm",
}
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
    for item in response.css(".news-item"):
        href = item.css("a.news-title::attr(href)").get()
        if not href:
            continue
        url = origin.public_url(href, response.url)
        entries.append(ListingEntry(
            url=url,
            title=text_of(item.css("a.news-title")),
            date=parse_vietnamese_datetime(text_of(item.css(".news-date"))),
            summary=text_of(item.css(".news-sapo")),
            native_id=article_id_from_url(url),
        ))
    pager = response.css(".pager")
    page = int(pager.attrib["data-page"]) if pager and pager.attrib.get("data-page", "").isdigit() else None
    total = pager.attrib.get("data-total-pages", "") if pager else ""
    total_pages = int(total) if total.isdigit() else None
    has_next = bool(response.css("a.page-next")) or (page is not None and total_pages is not None and page < total_pages)
    return ListingPage(entries=entries, page=page, total_pages=total_pages, next_url="next" if has_next else None)


def listing_category_id(response: TextResponse) -> str | None:
    """The CMS's numeric id of the category, which `NewsList.ashx` wants."""
    return response.css("#news-list::attr(data-cat)").get()


def listing_page_size(response: TextResponse, default: int = 15) -> int:
    size = response.css("#news-list::attr(data-page-size)").get("")
    return int(size) if size.isdigit() else default


def parse_article(response: TextResponse, origin: PortalOrigin) -> ArticleItem:
    """An article page, without the slogan, the "TƯ CÁCH" box or the visitor counter."""
    base = response.url
    detail = response.css(".news-detail")
    content = detail.css(".news-content")
    paragraphs: list[str] = []
    images: list[dict] = []
    for node in filter(is_content, content.xpath("./*")):
        tag = tag_of(node)
        if tag == "table" and node.css("img"):
            caption = text_of(node.css("td.image_desc")) or None
            for img in node.css("img"):
                images.append({"url": origin.canonical_url(img.attrib.get("src", ""), base), "caption": caption})
            continue
        for img in node.css("img"):
            images.append({"url": origin.canonical_url(img.attrib.get("src", ""), base), "caption": img.attrib.get("alt") or None})
        paragraphs.append(text_of(node))
    trailer = split_trailer(clean_paragraphs(paragraphs))
    images, offsite_images = split_offsite(images, origin)
    canonical = meta_content(response, "og:url") or base
    url = origin.canonical_url(canonical, base)
    date_text = first_text(detail, ".news-date") or None
    shown = parse_vietnamese_datetime(date_text)
    categories = []
    for link in response.css(".breadcrumb a"):
        path = urlsplit(link.attrib.get("href", "")).path.strip("/")
        if path.endswith(".html"):
            categories.append({"slug": path.removesuffix(".html"), "name": text_of(link)})
    return ArticleItem(
        site=SITE,
        native_id=detail.attrib.get("data-news-id") or article_id_from_url(url),
        url=url,
        title=first_text(detail, "h1.news-title") or meta_content(response, "og:title") or None,
        summary=first_text(content, ".sapo") or meta_content(response, "description") or None,
        # The portal shows one date, the last update: it is the best publication date there is.
        published_at=shown,
        modified_at=shown,
        date_text=date_text,
        categories=categories,
        author=trailer.author,
        source=trailer.source,
        body_text=join_paragraphs(trailer.paragraphs),
        body_html=sanitize_html(content.get() or "", base, lambda u: origin.public_url(u)),
        images=images,
        offsite_images=offsite_images,
        qr=None,
        related_urls=[origin.canonical_url(h, base) for h in detail.css(".news-other a::attr(href)").getall()],
        seen_urls=[origin.public_url(response.url)],
        http_status=response.status,
    )
