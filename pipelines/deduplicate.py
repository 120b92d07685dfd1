"""Stage 3: one document per article, whatever URL it came under, and the keys reposts are found by.

Within a run, an article met again under another URL only adds aliases. Each article gets the
keys reposts are found by (`dedup_keys`: MinHash bands and whole paragraphs, from
`crawler.reposts.similarity`), stored with it; the reposts themselves are settled across the
collection by the `reposts` write job (`crawler.reposts.sweep`), which the store submits after
its last batch.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

from crawler.items import ArticleItem, aliases_of
from crawler.reposts.similarity import Body, keys_of

from . import ArticleStage

log = logging.getLogger(__name__)


class DeduplicateArticlePipeline(ArticleStage):
    """Gathers an article's URLs met in this run into its aliases (reposts are settled by the `reposts` job)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: dict[str, tuple[str, ...]] = {}  # an article's URLs met in this run; mostly none (an empty tuple is free)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeduplicateArticlePipeline:
        return cls(crawler)

    async def process_article(self, item: ArticleItem) -> ArticleItem:
        item.dedup_keys = keys_of(Body.of(item.body_text))
        if (before := self.seen.get(item._id)) is not None:
            self.crawler.stats.inc_value("articles/seen_again_in_run")
        item.url_aliases = aliases_of(item.url, [*(before or ()), *item.seen_urls])
        self.seen[item._id] = tuple(item.url_aliases)
        return item
