"""A portal's spider reading its raw archive instead of the network: re-extraction after a parser fix.

The spider of the portal runs as it does in a crawl (the same `parse_article`, layout choice,
QR reading), but its answers come from the WARC archive (`crawler.storage.archive`): the newest record of
each article, and the image records for the requests its callbacks make. Its items go through the
same pipelines (changes become revisions, bad records rejects, reposts are settled). It sends no
request, and it leaves the portal's walks as they were.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.http import Request

from crawler.portals import PORTALS
from crawler.storage.archive import as_response, crawl_origin_of, latest_by_page, read_archive

log = logging.getLogger(__name__)


def reparse_spider(site: str) -> type:
    """The portal's spider class, reading from the archive."""
    base = PORTALS[site].spider_class()

    class ReparseSpider(base):
        def __init__(self, *args: Any, archive: str, since: str | None = None, shard: str | None = None, **kwargs: Any) -> None:
            self.archive_folder = Path(archive)
            self.since = datetime.fromisoformat(since) if since else None
            articles, self.images = latest_by_page(read_archive(self.archive_folder, site), self.since)
            if shard:  # "n/N": this process's share, by a hash of the article's id (the same whatever the order)
                n, of = (int(part) for part in shard.split("/"))
                articles = [record for record in articles if zlib.crc32((record.native_id or record.url).encode()) % of == n]
            self.archived = articles
            super().__init__(*args, base_url=crawl_origin_of(articles), **kwargs)

        async def start(self) -> AsyncIterator[Any]:
            self.run_facts["reparse"] = {"archive": str(self.archive_folder), "articles": len(self.archived),
                                         "since": self.since.isoformat() if self.since else None}
            for record in self.archived:
                self.crawler.stats.inc_value("reparse/articles")
                response = as_response(record)
                async for out in self._answered(self.parse_article(response, record.listing_url, record.seen_url or record.url)):
                    yield out

        async def _answered(self, outputs: Iterable[Any] | AsyncIterable[Any] | None) -> AsyncIterator[Any]:
            """The callback's items; its image requests answered from the archive, never sent."""
            async for out in outputs_of(outputs):
                if not isinstance(out, Request):
                    yield out
                    continue
                image = self.images.get(out.url)
                if image is None:
                    self.crawler.stats.inc_value("reparse/images_missing")
                    log.warning("not in the archive: %s (asked for by %s)", out.url, out.callback.__name__)
                    continue
                async for answered in self._answered(out.callback(as_response(image), **out.cb_kwargs)):
                    yield answered

        run_kind = "reparse"  # in crawl_runs: not a crawl of the portal

        @property
        def incremental(self) -> bool:
            return False

    ReparseSpider.__name__ = ReparseSpider.__qualname__ = f"Reparse{base.__name__}"
    return ReparseSpider


async def outputs_of(outputs: Iterable[Any] | AsyncIterable[Any] | None) -> AsyncIterator[Any]:
    """A callback's outputs, whether it is a plain or an async generator (the QR decoding awaits its thread)."""
    if outputs is None:
        return
    if isinstance(outputs, AsyncIterable):
        async for out in outputs:
            yield out
    else:
        for out in outputs:
            yield out
