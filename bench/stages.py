"""Benchmark: what each of the crawler's own stages costs an article, read from a crawl's WARC archive.

`bench/crawl.py` says how the whole crawler compares with a spider that only downloads; this
says where the difference goes. The newest archived copies of up to N articles of a portal (and
their QR images) go through the crawler's stages in this process, one article after another as
in a crawl (so each stage's caches are as warm as in a crawl); each stage's CPU time on this
thread is summed and divided by the articles, the best of three passes:

- lxml: the page parsed into a tree (Scrapy's `response.selector`);
- fields: the spider's `parse_article`: the layout, the parser reading every field of the record off that tree;
- QR: the spider's callback decoding the article's QR image (the city portal);
- archive: the page (and its image) written to a WARC file;
- normalise, validate, deduplicate: the pipeline stages, with the project's settings;
- store: the batch's conversion to the writer's payload (on the event loop) and the writer's
  job itself against MongoDB (embedded, in a thread of this process; its CPU is not counted).

The stages are those of a fresh crawl: MongoDB holds nothing yet, as in the bench's full run.

    .venv/bin/python bench/stages.py --archive data/archive
    .venv/bin/python bench/stages.py --archive data/archive --articles 500 --json
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapy.exceptions import DropItem  # noqa: E402
from scrapy.http import Request  # noqa: E402
from scrapy.statscollectors import MemoryStatsCollector  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

from crawler import settings as project_settings  # noqa: E402
from crawler.items import ArticleItem  # noqa: E402
from crawler.portals import NAMES, PORTALS  # noqa: E402
from crawler.storage.archive import ARTICLE, IMAGE, WarcArchive, as_response, crawl_origin_of, latest_by_page, read_archive  # noqa: E402
from crawler.storage.mongo import connect, start_embedded_server  # noqa: E402
from pipelines.deduplicate import DeduplicateArticlePipeline  # noqa: E402
from pipelines.normalise import NormaliseArticlePipeline  # noqa: E402
from pipelines.store import articles_job, ensure_indexes, write_articles  # noqa: E402
from pipelines.validate import ValidateArticlePipeline  # noqa: E402
from spiders.reparse import outputs_of  # noqa: E402

ROUNDS = 3
STAGES = ("lxml", "fields", "QR", "archive", "normalise", "validate", "deduplicate", "store")
BATCH = project_settings.MONGO_BATCH_SIZE
PIPELINE = (("normalise", NormaliseArticlePipeline), ("validate", ValidateArticlePipeline), ("deduplicate", DeduplicateArticlePipeline))


class _Clock:
    """CPU seconds of this thread, summed by stage."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.thread_time()
        try:
            yield
        finally:
            self.spent[stage] += time.thread_time() - started


def measure_site(site: str, archive: Path, articles: int, mongo_uri: str) -> dict[str, float]:
    """Each stage's CPU ms an article for one portal, over up to `articles` archived articles: the best of three passes."""
    pages, images = latest_by_page(read_archive(archive, site))
    pages = pages[:articles]
    if not pages:
        raise SystemExit(f"no {site} article in {archive}")
    crawl_origin = crawl_origin_of(pages)  # the spider reads the pages as spelt for it, as the reparse spider does
    responses = [as_response(record, listing_url=record.listing_url, seen_url=record.seen_url or record.url) for record in pages]
    image_of = {url: as_response(record) for url, record in images.items()}
    crawler = get_crawler(PORTALS[site].spider_class(), {k: v for k, v in vars(project_settings).items() if k.isupper()})
    crawler.stats = crawler.stats or MemoryStatsCollector(crawler)
    crawler.spider = crawler._create_spider(**({"base_url": crawl_origin} if crawl_origin else {}))
    client, db = connect(mongo_uri, f"bench_stages_{site}")
    best = dict.fromkeys(STAGES, float("inf"))
    try:
        for _ in range(ROUNDS):
            client.drop_database(db.name)
            ensure_indexes(db)
            with tempfile.TemporaryDirectory() as folder:
                spent = asyncio.run(_one_pass(responses, image_of, crawler, db, Path(folder)))
            best = {stage: min(best[stage], spent[stage]) for stage in STAGES}
    finally:
        client.drop_database(db.name)
        client.close()
    return {**{stage: 1000 * seconds / len(pages) for stage, seconds in best.items()}, "articles": len(pages)}


async def _one_pass(responses: list, image_of: dict, crawler: Any, db: Any, folder: Path) -> dict[str, float]:
    """Every article through every stage in turn, as a crawl takes it (each stage's caches as warm as in a crawl).

    The spider's own callbacks read the page and its QR image, as in a crawl and a reparse.
    """
    clock, spider = _Clock(), crawler.spider
    pipeline = [(name, stage.from_crawler(crawler)) for name, stage in PIPELINE]
    warc, batch = WarcArchive(folder, spider.name, 2**30, crawler.stats), []

    def store() -> None:
        with clock("store"):
            write_articles(db, articles_job(batch, "bench", spider.name, project_settings.PORTAL_VERSION).payload)
        batch.clear()

    for archived in responses:
        response = archived.replace()  # parsed again in each pass
        with clock("lxml"):
            response.selector  # noqa: B018 -- building the tree is the stage
        with clock("fields"):
            outputs = list(spider.parse_article(response, response.meta["listing_url"], response.meta["seen_url"]))
        with clock("archive"):
            warc.write(response, {"WARC-Portal-Site": spider.name, "WARC-Portal-Kind": ARTICLE})
        items = []
        for out in outputs:
            if not isinstance(out, Request):
                items.append(out)
            elif (image := image_of.get(out.url)) is not None:  # the article's QR image (or, once, the site's fanpage QR)
                with clock("archive"):
                    warc.write(image, {"WARC-Portal-Site": spider.name, "WARC-Portal-Kind": IMAGE})
                with clock("QR"):
                    items.extend([answered async for answered in outputs_of(out.callback(image, **out.cb_kwargs))])
        for item in items:
            if not isinstance(item, ArticleItem):
                continue  # the site's facts (the fanpage QR): no article stage
            try:
                for name, stage in pipeline:
                    with clock(name):
                        out = stage.process_item(item)
                        item = await out if inspect.isawaitable(out) else out
            except DropItem:
                continue  # a reject: the store keeps it, a write this bench leaves out
            batch.append(item)
            if len(batch) == BATCH:
                store()
    if batch:
        store()
    warc.close()
    return clock.spent


def measure(archive: Path, articles: int, mongo_uri: str | None = None, sites: tuple[str, ...] = NAMES) -> dict[str, dict]:
    """Each portal's stage costs, against `mongo_uri` or an embedded MongoDB started here."""
    found = {site for site in sites if next(archive.glob(f"{site}-*.warc.gz"), None)}
    with tempfile.TemporaryDirectory() as folder:
        server = None if mongo_uri else start_embedded_server(Path(folder) / "mongo")
        try:
            return {site: measure_site(site, archive, articles, mongo_uri or server.uri) for site in sites if site in found}
        finally:
            if server is not None:
                server.stop()


def table(results: dict[str, dict]) -> str:
    sites = list(results)
    lines = [f"{'CPU ms an article':<18}" + "".join(f"{site:>18}" for site in sites)]
    for stage in STAGES:
        lines.append(f"{stage:<18}" + "".join(f"{results[site][stage]:>18.3f}" for site in sites))
    lines.append(f"{'sum':<18}" + "".join(f"{sum(results[site][s] for s in STAGES):>18.3f}" for site in sites))
    lines.append(f"{'articles read':<18}" + "".join(f"{results[site]['articles']:>18}" for site in sites))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, required=True, help="a WARC archive folder (PORTAL_DATA_DIR/archive)")
    parser.add_argument("--articles", type=int, default=1500, help="articles a portal, at most (default 1500)")
    parser.add_argument("--mongo-uri", help="a MongoDB to write to (default: an embedded one, started here)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object, last")
    args = parser.parse_args()
    if not args.archive.is_dir():
        raise SystemExit(f"not a folder: {args.archive}")
    results = measure(args.archive, args.articles, args.mongo_uri)
    if not results:
        raise SystemExit(f"no archived article of {', '.join(NAMES)} in {args.archive}")
    print(table(results))
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
