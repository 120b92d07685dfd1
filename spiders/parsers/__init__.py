"""Page parsers, one module per portal: a response in, a record or a list of links out.

`PortalParser` is the interface a portal's parser module provides (a module satisfies a Protocol
with its module-level names); `tests/test_portals.py` checks every registered portal's module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from scrapy.http import TextResponse

    from crawler.items import ArticleItem
    from crawler.urls import PortalOrigin

    from .common import ListingPage


@runtime_checkable
class PortalParser(Protocol):
    """What a spider needs of its portal's parser module."""

    SITE: str  # the portal's name in the registry (crawler/portals.py): the spider's name, the records' `site`
    PUBLIC_ORIGIN: str  # where the public reads it; URLs are stored under it
    CATEGORIES: dict[str, str]  # slug or path → the portal's own name for it

    def article_id_from_url(self, url: str) -> str | None:
        """The portal's own id of an article, where its URL carries one."""

    def category_url(self, origin: PortalOrigin, category: str) -> str:
        """Where a category's listing starts, on the crawled origin."""

    def parse_listing(self, response: TextResponse, origin: PortalOrigin) -> ListingPage:
        """A listing page: its entries and whether (and where) it goes on."""

    def parse_article(self, response: TextResponse, origin: PortalOrigin) -> ArticleItem:
        """An article page: every field of the record contract that the page holds."""
