"""Pieces of page parsing that both portals' parsers use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parsel import Selector, SelectorList

from crawler.text import clean_text
from crawler.urls import PortalOrigin


@dataclass
class ListingEntry:
    """One article as a listing page shows it."""

    url: str
    title: str
    date: datetime | None = None
    summary: str = ""
    native_id: str | None = None
    modified: datetime | None = None


@dataclass
class ListingPage:
    """A page of a category listing: its entries, and where the next page is."""

    entries: list[ListingEntry] = field(default_factory=list)
    next_url: str | None = None
    page: int | None = None
    total_pages: int | None = None


# Elements whose text no reader sees as the article's: scripts, styles, embedded frames, widgets.
NON_CONTENT = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "button",
               "select", "textarea")
_READABLE_TEXT = ".//text()[not(" + " or ".join(f"ancestor::{tag}" for tag in NON_CONTENT) + ")]"


def text_of(node: Selector | SelectorList | None) -> str:
    """All the text under a node a reader sees, cleaned; `<br>` counts as a space."""
    if node is None:
        return ""
    return clean_text(" ".join(node.xpath(_READABLE_TEXT).getall()))


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

