"""The yardstick of bench/crawl.py: spiders that only download a list of URLs (no parsing, no items).

The police portal's version (download_only_police.py) passes the portal's browser check as the
crawler does; nothing else of the crawler runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Request, Response

from crawler.urls import PortalScope, origin_label


class DownloadOnlySpider(scrapy.Spider):
    name = "download_only"

    def __init__(self, urls_file: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.urls = Path(urls_file).read_text(encoding="utf-8").split()
        self.scope = PortalScope.of({origin_label(url) for url in self.urls})  # the replica's origins, as the crawler's

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            yield Request(url, callback=self.downloaded, dont_filter=True)

    def downloaded(self, response: Response) -> None:
        # Pages are the articles; the QR images fetched beside them are not (the "arts/s" column).
        page = response.headers.get("Content-Type", b"").startswith(b"text/html")
        self.crawler.stats.inc_value("download_only/pages" if page else "download_only/images")
