"""The item pipeline, one stage a module: normalise, validate, deduplicate, store."""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter

from crawler import reasons
from crawler.items import ArticleItem, Rejected

log = logging.getLogger(__name__)


class ArticleStage:
    """A stage that works on articles: every bookkeeping item (a mark, a failed fetch) goes past it untouched."""

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        try:
            return await self.process_article(item)
        except Rejected:
            raise
        except Exception as error:  # one bad record costs one reject, never the run (nor the article, unseen)
            log.warning("%s could not process %s: %s: %s", type(self).__name__, item.url, type(error).__name__, error, exc_info=True)
            raw = ItemAdapter(item).asdict()
            raw.pop("body_html", None)
            raise Rejected(item.site, item.url, [reasons.error(reasons.PIPELINE_ERROR, type(error).__name__)], raw) from error

    async def process_article(self, item: ArticleItem) -> ArticleItem:
        raise NotImplementedError
