"""Pieces of page parsing that both portals' parsers use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from lxml import etree
from parsel import Selector, SelectorList
from scrapy.http import TextResponse

from crawler.items import CONTENT, IDENTITY, ArticleItem, fields_of
from crawler.urls import PortalOrigin
from spiders.parsers.bylines import Trailer, split_trailer
from spiders.parsers.sanitize import sanitize_html
from spiders.parsers.text import clean_paragraphs, clean_text, join_paragraphs


@dataclass
class ListingEntry:
    """One article as a listing page shows it."""

    url: str
    title: str
    date: datetime | None = None
    native_id: str | None = None
    modified: datetime | None = None


@dataclass
class ListingPage:
    """A page of a category listing: its entries, whether a next page follows, and its URL when the page links it."""

    entries: list[ListingEntry] = field(default_factory=list)
    has_next: bool = False
    next_url: str | None = None  # the police portal pages by an AJAX call the spider builds: no URL
    page: int | None = None
    total_pages: int | None = None


# Elements whose text no reader sees as the article's: scripts, styles, embedded frames, widgets.
NON_CONTENT = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "button",
               "select", "textarea")
_HIDDEN = frozenset(NON_CONTENT)


def text_of(node: Selector | SelectorList | None) -> str:
    """All the text under a node a reader sees, cleaned; `<br>` counts as a space.

    The text nodes of `.//text()[not(ancestor::script or …)]`, in document order, read off the lxml
    tree directly: the XPath tested a dozen ancestors of every text node, and was a tenth of a crawl.
    """
    if node is None:
        return ""
    texts: list[str] = []
    for selector in node if isinstance(node, SelectorList) else (node,):
        root = selector.root
        if not isinstance(root, etree._Element):
            texts.extend(selector.xpath(".//text()").getall())  # not an element (a text or attribute result)
        elif not any(element.tag in _HIDDEN for element in (root, *root.iterancestors())):
            _add_readable_texts(root, texts)
    return clean_text(" ".join(texts))


def _add_readable_texts(root: etree._Element, texts: list[str]) -> None:
    """The text under `root` in document order, hidden elements skipped: an explicit stack, not recursion,
    so a page nested thousands of elements deep is read like any other (Python's recursion limit is 1,000)."""
    if root.text:
        texts.append(root.text)
    stack = [(root, iter(root))]
    while stack:
        element, children = stack[-1]
        child = next(children, None)
        if child is None:  # the element is done: its tail follows it (the root's is not under it)
            stack.pop()
            if stack and element.tail:
                texts.append(element.tail)
        elif isinstance(child.tag, str) and child.tag not in _HIDDEN:  # a comment's tag is a function: no text of its own
            if child.text:
                texts.append(child.text)
            stack.append((child, iter(child)))
        elif child.tail:
            texts.append(child.tail)


def document_of(response: TextResponse) -> Selector:
    """The response's document, parsed once, as a plain parsel `Selector` to query.

    Scrapy's own `Selector` checks its arguments and registers each instance with its tracker
    of live objects; reading one article makes a hundred of them (one per node a query finds),
    and that was a tenth of the parse.
    """
    selector = response.selector
    return Selector(root=selector.root, type=selector.type, base_url=response.url)


def tag_of(node: Selector) -> str:
    return node.root.tag if isinstance(node.root.tag, str) else ""


def is_content(node: Selector) -> bool:
    """Whether a child of an article's body is the article's (not a script, a style, a frame…)."""
    return tag_of(node).lower() not in NON_CONTENT


def split_offsite(images: list[dict], origin: PortalOrigin) -> tuple[list[dict], list[dict]]:
    """The portal's own images, and the ones another host serves (a tracking pixel, an embed): kept as data only."""
    own = [i for i in images if origin.owns(i["url"])]
    return own, [i for i in images if not origin.owns(i["url"])]


def first_text(selector: Selector, *queries: str) -> str:
    """The cleaned text of the first query (CSS) that finds a non-empty node."""
    for query in queries:
        for node in selector.css(query):
            if text := text_of(node):
                return text
    return ""


def meta_content(selector: Selector, prop: str) -> str:
    return clean_text(selector.css(f'meta[property="{prop}"]::attr(content), meta[name="{prop}"]::attr(content)').get())



@dataclass
class ArticleBody:
    """An article's body as read: its paragraphs (the byline and source line split off), its images."""

    trailer: Trailer
    images: list[dict]
    offsite_images: list[dict]

    @property
    def text(self) -> str:
        return join_paragraphs(self.trailer.paragraphs)


def read_body(content: SelectorList, origin: PortalOrigin, base: str, *, is_image_block: Callable[[Selector], bool],
              block_caption: str, inline_caption: Callable[[Selector, Selector], str | None]) -> ArticleBody:
    """The paragraphs and images of an article's content, child by child, for both portals.

    An image block (a `<figure>`, a table holding a photo) gives images captioned by its caption
    and no paragraph; any other child gives its text, and the images it holds.
    """
    paragraphs: list[str] = []
    images: list[dict] = []
    for node in filter(is_content, content.xpath("./*")):
        block = is_image_block(node)
        caption = (text_of(node.css(block_caption)) or None) if block else None
        has_images = next(node.root.iter("img"), None) is not None  # most paragraphs hold none: no query for them
        for img in node.css("img") if has_images else ():
            images.append({"url": origin.canonical_url(img.attrib.get("src", ""), base),
                           "caption": caption if block else inline_caption(node, img)})
        if not block:
            paragraphs.append(text_of(node))
    own, offsite = split_offsite(images, origin)
    return ArticleBody(split_trailer(clean_paragraphs(paragraphs)), own, offsite)


class ArticlePage:
    """One article page read field by field (web-poet's page objects are the model): a method per record field.

    A portal's page subclass defines one small method for each field of the record contract
    (`crawler.items`: identity and content fields); `to_item` calls them all, so a field added
    to the model and not to a page fails at once.
    """

    site: str

    def __init__(self, response: TextResponse, origin: PortalOrigin) -> None:
        self.response = response
        self.document = document_of(response)
        self.origin = origin
        self.base = response.url
        self.canonical_refused: str | None = None  # a canonical link not taken (not http(s) on the portal)

    def stored_url(self, canonical_link: str | None) -> str:
        """The URL the record is stored under: the page's canonical link if it is the portal's, else the fetched URL."""
        url, refused = self.origin.stored_url(canonical_link, self.base)
        self.canonical_refused = self.canonical_refused or refused
        return url

    @cached_property
    def content(self) -> SelectorList:
        """The element holding the article's body."""
        raise NotImplementedError

    @cached_property
    def body(self) -> ArticleBody:
        raise NotImplementedError

    def url(self) -> str:
        raise NotImplementedError

    def body_html(self) -> str:
        return sanitize_html(self.content.get() or "", self.base, lambda u: self.origin.public_url(u))

    def body_text(self) -> str:
        return self.body.text

    def images(self) -> list[dict]:
        return self.body.images

    def offsite_images(self) -> list[dict]:
        return self.body.offsite_images

    def author(self) -> str | None:
        return self.body.trailer.author

    def source(self) -> dict[str, Any] | None:
        return self.body.trailer.source

    def to_item(self) -> ArticleItem:
        values = {name: getattr(self, name)() for name in fields_of(IDENTITY, CONTENT) if name != "site"}
        return ArticleItem(site=self.site, **values, seen_urls=[self.origin.public_url(self.response.url)],
                           http_status=self.response.status, canonical_refused=self.canonical_refused)
