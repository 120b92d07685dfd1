"""The item pipeline, one stage a module: normalise, validate, deduplicate, store."""

from __future__ import annotations

from typing import Any

from crawler.items import ArticleItem


class ArticleStage:
    """A stage that works on articles: every bookkeeping item (a mark, a failed fetch) goes past it untouched."""

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            return await self.process_article(item)
        return item

    async def process_article(self, item: ArticleItem) -> ArticleItem:
        raise NotImplementedError
