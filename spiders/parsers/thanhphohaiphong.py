"""Parsers for the city news portal, thanhphohaiphong.gov.vn (WordPress)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from urllib.parse import urlencode, urlsplit

from parsel import Selector, SelectorList
from scrapy.http import TextResponse

from crawler.dates import parse_iso_datetime
from crawler.items import ArticleItem
from crawler.portals import PORTALS
from crawler.urls import PortalOrigin
from spiders.parsers.text import clean_text

from .common import ArticleBody, ArticlePage, ListingEntry, ListingPage, document_of, first_text, meta_content, read_body, tag_of, text_of

PORTAL = PORTALS["thanhphohaiphong"]
SITE, PUBLIC_ORIGIN, CATEGORIES = PORTAL.name, PORTAL.public_origin, PORTAL.categories


@dataclass(frozen=True)
class Layout:
    """One version of the article page's markup (Fundus-style): where its byline and QR code are.

    A page is read with the newest layout whose `marker` it carries, else the oldest. When the
    portal changes its markup, add a layout here with the date it appeared, and golden files
    for it; keep the old one for the pages (and archives) that still use it.
    """

    name: str
    since: date
    qr_image: str
    qr_caption: str
    byline: str | None = None  # where the author is named; None: the closing line of the body
    marker: str | None = None  # what only pages of this layout carry

    def matches(self, response: TextResponse) -> bool:
        return self.marker is None or bool(response.css(self.marker))


LAYOUTS = (
    Layout("2019", since=date(2019, 1, 1), qr_image="img.qr-code-img", qr_caption=".qr-code-caption"),
    # The 2027 theme: the byline moves into the header, the QR widget is renamed.
    Layout("2027", since=date(2027, 1, 1), qr_image="img.hp-qr__image", qr_caption=".hp-qr__caption",
           byline=".entry-meta .byline .author", marker=".hp-qr, .entry-meta .byline"),
)


def layout_of(response: TextResponse, pinned: str | None = None) -> Layout:
    """The layout to read a page with: the one pinned by name, else the newest the page matches."""
    if pinned:
        return next(layout for layout in LAYOUTS if layout.name == pinned)
    return next((layout for layout in reversed(LAYOUTS) if layout.matches(response)), LAYOUTS[0])


_POST_ID = re.compile(r"(?:[?&]p=|post-|postid-)(\d+)")
_CATEGORY_SLUG = re.compile(r"/category/([^/?#]+)")


def category_url(origin: PortalOrigin, slug: str, page: int = 1) -> str:
    path = f"/category/{slug}" + (f"/page/{page}" if page > 1 else "")
    return origin.fetch_url(PUBLIC_ORIGIN + path)


def parse_listing(response: TextResponse, origin: PortalOrigin) -> ListingPage:
    """A category page: its posts, newest first, and the link to the next page."""
    entries = []
    document = document_of(response)
    for post in document.css("article.post"):
        href = post.css("h2.entry-title a::attr(href), .entry-title a::attr(href)").get()
        if not href:
            continue
        post_id = _POST_ID.search(post.attrib.get("id", "") + " " + post.attrib.get("class", ""))
        entries.append(ListingEntry(
            url=origin.public_url(href, response.url),
            title=text_of(post.css(".entry-title a")),
            date=parse_iso_datetime(post.css("time.entry-date::attr(datetime)").get()),
            native_id=post_id.group(1) if post_id else None,
        ))
    next_href = document.css("a.next.page-numbers::attr(href)").get() or document.css('link[rel="next"]::attr(href)').get()
    next_url = origin.public_url(next_href, response.url) if next_href else None
    return ListingPage(entries=entries, has_next=next_url is not None, next_url=next_url)


def article_id_from_url(url: str) -> str | None:
    """The post id a URL itself carries (`/?p=24168`), if any; pretty permalinks carry none."""
    found = _POST_ID.search(url)
    return found.group(1) if found else None


# Where WordPress names the post id, most telling first: each is asked only when those before it say nothing.
_POST_ID_AT = ('link[rel="shortlink"]::attr(href)', "article[id^=post-]::attr(id)", "body::attr(class)")


def _native_id(document: Selector) -> str | None:
    for query in _POST_ID_AT:
        if found := _POST_ID.search(document.css(query).get("")):
            return found.group(1)
    return None


def _categories(selector: Selector) -> list[dict[str, str]]:
    categories = []
    for link in selector.css(".cat-links a"):
        slug = _CATEGORY_SLUG.search(link.attrib.get("href", ""))
        if slug:
            categories.append({"slug": slug.group(1), "name": text_of(link)})
    if not categories and (section := meta_content(selector, "article:section")):
        slug = next((s for s, name in CATEGORIES.items() if name == section), None)
        categories.append({"slug": slug, "name": section})
    return categories


_CAPTION = "figcaption, .wp-caption-text"


class CityArticlePage(ArticlePage):
    """An article page of the city portal (WordPress), read with one of its layouts."""

    site = SITE

    def __init__(self, response: TextResponse, origin: PortalOrigin, layout: Layout) -> None:
        super().__init__(response, origin)
        self.layout = layout

    @cached_property
    def content(self) -> SelectorList:
        return self.document.css(".entry-content")

    @cached_property
    def body(self) -> ArticleBody:
        return read_body(self.content, self.origin, self.base, is_image_block=lambda node: tag_of(node) == "figure",
                         block_caption=_CAPTION, inline_caption=lambda node, img: text_of(node.css(_CAPTION)) or None)

    @cached_property
    def _published(self) -> SelectorList:
        return self.document.css("time.entry-date.published")

    def native_id(self) -> str | None:
        return _native_id(self.document)

    def url(self) -> str:
        return self.stored_url(self.document.css('link[rel="canonical"]::attr(href)').get() or meta_content(self.document, "og:url"))

    def title(self) -> str | None:
        return first_text(self.document, "h1.entry-title") or meta_content(self.document, "og:title") or None

    def summary(self) -> str | None:
        # The portal has no lead of its own: the first paragraph stands for one.
        return self.body.trailer.paragraphs[0] if self.body.trailer.paragraphs else None

    def published_at(self) -> datetime | None:
        published = self._published
        return parse_iso_datetime(published.attrib.get("datetime") if published else meta_content(self.document, "article:published_time"))

    def modified_at(self) -> datetime | None:
        return parse_iso_datetime(self.document.css("time.updated::attr(datetime)").get()
                                  or meta_content(self.document, "article:modified_time"))

    def date_text(self) -> str | None:
        return text_of(self._published) or None

    def categories(self) -> list[dict[str, str]]:
        return _categories(self.document)

    def author(self) -> str | None:
        if self.layout.byline:  # the 2027 layout names the author in the header
            return first_text(self.document, self.layout.byline) or None
        return super().author()

    def qr(self) -> dict | None:
        image = self.document.css(self.layout.qr_image)
        if not image:
            return None
        return {
            "image_url": self.origin.public_url(image.attrib.get("src", ""), self.base),
            "caption": first_text(self.document, self.layout.qr_caption) or clean_text(image.attrib.get("alt")) or None,
            "payload": None,  # read by the spider from the image
            "matches_url": None,
        }

    def related_urls(self) -> list[str]:
        return [self.origin.canonical_url(h, self.base) for h in self.document.css("section.related-posts a::attr(href)").getall()]


def parse_article(response: TextResponse, origin: PortalOrigin, layout: Layout | None = None) -> ArticleItem:
    """An article page, every field of the record contract that the page itself holds."""
    return CityArticlePage(response, origin, layout or layout_of(response)).to_item()


def parse_fanpage_qr(response: TextResponse, origin: PortalOrigin) -> dict | None:
    """The site-wide fanpage QR of the sidebar (the same on every page)."""
    for widget in response.css("#secondary .widget"):
        img = widget.css("img")
        alt = img.attrib.get("alt", "") if img else ""
        if "fanpage" in alt.lower():
            return {
                "image_url": origin.public_url(img.attrib["src"], response.url),
                "caption": first_text(widget, ".wp-caption-text") or alt,
            }
    return None


def qr_is_for(payload: str | None, article_url: str) -> bool:
    """Whether a QR code sends a reader to the article itself: its exact public URL."""
    return bool(payload) and payload == article_url and urlsplit(payload).scheme == "https"


def wp_posts_url(origin: PortalOrigin, **query: object) -> str:
    return origin.fetch_url(f"{PUBLIC_ORIGIN}/wp-json/wp/v2/posts?" + urlencode(query))


def parse_wp_posts(response: TextResponse, origin: PortalOrigin) -> list[ListingEntry]:
    """A page of the REST API's posts: id, link, title, publication and modification dates (UTC)."""
    entries = []
    for post in json.loads(response.text):
        modified = post.get("modified_gmt")
        entries.append(ListingEntry(
            url=origin.public_url(post["link"]),
            title=text_of(Selector(text=post.get("title", {}).get("rendered") or "<p></p>")),
            date=parse_iso_datetime(post["date_gmt"] + "+00:00") if post.get("date_gmt") else None,
            modified=parse_iso_datetime(modified + "+00:00") if modified else None,
            native_id=str(post["id"]),
        ))
    return entries


def wp_totals(response: TextResponse) -> tuple[int, int]:
    """(posts, pages) from the REST API's X-WP-Total and X-WP-TotalPages headers."""
    return int(response.headers.get("X-WP-Total", b"0")), int(response.headers.get("X-WP-TotalPages", b"0"))


def parse_feed(response: TextResponse, origin: PortalOrigin) -> list[ListingEntry]:
    """The RSS feed's newest posts (the fallback when the REST API is closed)."""
    response.selector.remove_namespaces()
    entries = []
    for item in response.xpath("//item"):
        guid = _POST_ID.search(item.xpath("guid/text()").get(""))
        pub_date = item.xpath("pubDate/text()").get()
        entries.append(ListingEntry(
            url=origin.public_url(item.xpath("link/text()").get("").strip()),
            title=clean_text(item.xpath("title/text()").get()),
            date=parsedate_to_datetime(pub_date).astimezone(UTC) if pub_date else None,
            native_id=guid.group(1) if guid else None,
        ))
    return entries
