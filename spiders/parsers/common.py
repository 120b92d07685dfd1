"""Pieces of page parsing that both portals' parsers use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parsel import Selector, SelectorList

from crawler.text import clean_text


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


def text_of(node: Selector | SelectorList | None) -> str:
    """All the text under a node, cleaned; `<br>` counts as a space."""
    if node is None:
        return ""
    return clean_text(" ".join(node.xpath(".//text()").getall()))


def first_text(selector: Selector, *queries: str) -> str:
    """The cleaned text of the first query (CSS) that finds a non-empty node."""
    for query in queries:
        for node in selector.css(query):
            if text := text_of(node):
                return text
    return ""


def meta_content(selector: Selector, prop: str) -> str:
    return clean_text(selector.css(f'meta[property="{prop}"]::attr(content), meta[name="{prop}"]::attr(content)').get())

