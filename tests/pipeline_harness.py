"""Run items through the real pipeline stages, with the project's settings and a real MongoDB."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.storage.mongo import MongoConnection
from pipelines.deduplicate import DeduplicateArticlePipeline
from pipelines.normalise import NormaliseArticlePipeline
from pipelines.store import StoreInMongoPipeline
from pipelines.validate import ValidateArticlePipeline

STAGES = (NormaliseArticlePipeline, ValidateArticlePipeline, DeduplicateArticlePipeline, StoreInMongoPipeline)


def make_crawler(spidercls: type, mongo_uri: str, database: str, data_dir: Path, **settings: object) -> Crawler:
    values = {k: v for k, v in vars(project_settings).items() if k.isupper()}
    values |= {"MONGO_URI": mongo_uri, "MONGO_DATABASE": database, "PORTAL_DATA_DIR": str(data_dir), **settings}
    crawler = get_crawler(spidercls, values)
    crawler._apply_settings()  # the extensions, MongoConnection among them, as a crawl builds them
    crawler.spider = crawler._create_spider()
    return crawler


async def _maybe_await(value: object) -> object:
    return await value if inspect.isawaitable(value) else value


async def run_items_async(crawler: Crawler, items: Iterable[object]) -> list[object]:
    stages = [stage.from_crawler(crawler) for stage in STAGES]
    for stage in stages:
        if hasattr(stage, "open_spider"):
            await _maybe_await(stage.open_spider())
    passed = []
    for item in items:
        try:
            for stage in stages:
                item = await _maybe_await(stage.process_item(item))
        except DropItem as dropped:  # as Scrapy's scraper does: the signal, which the store records rejects on
            await crawler.signals.send_catch_log_async(signals.item_dropped, item=item, response=None, exception=dropped,
                                                       spider=crawler.spider)
            continue
        passed.append(item)
    # Scrapy closes the stages at once (asyncio.gather): nothing may hang on their order.
    await asyncio.gather(*(_maybe_await(stage.close_spider()) for stage in stages if hasattr(stage, "close_spider")))
    MongoConnection.of(crawler).close()  # as on engine_stopped
    return passed


def run_items(crawler: Crawler, items: Iterable[object]) -> list[object]:
    """Open the stages, pass every item through in order, close them, on an event loop as in a crawl."""
    return asyncio.run(run_items_async(crawler, items))
