"""Re-extraction shared among processes: the orchestration beside the reparse spider (`spiders/reparse.py`).

Re-extraction is bound by one core a process, so the work is shared among processes (one a
core): each portal's archived articles split by a hash of their id, every process a crawler of
its own into the same MongoDB, as concurrent scrapyd jobs are. Each process writes its counts to
a file the parent names (`--counts-file`); the parent adds them up, then settles reposts once.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pymongo.errors import PyMongoError

# What a process reports to the parent.
SHARD_COUNTS = ("reparse/articles", "articles/new", "articles/changed", "articles/unchanged", "rejects/total",
                "reparse/images_missing")


@dataclass
class ReparseResult:
    seconds: float
    processes: int
    exit_code: int
    counts: dict[str, Counter] = field(default_factory=dict)  # per portal, added up over its processes
    reposts: Counter | str = field(default_factory=Counter)  # the reposts job's counts, or what went wrong


def archived_sites(archive: Path, sites: list[str]) -> list[str]:
    return [site for site in sites if any(archive.glob(f"{site}-*.warc.gz"))]


class SpiderBusy(RuntimeError):
    """A job of the spider holds its lease: a re-extraction would write its articles at the same time."""


def reparse_in_processes(uri: str, data_dir: Path, sites: list[str], processes: int, since: datetime | None) -> ReparseResult:
    """Every archived article of these portals through today's parsers, in `processes` processes a portal.

    The parent takes each portal's lease (as a crawl job does) and shares it with its processes
    (PORTAL_LEASE_OWNER): a crawl of the portal cannot run meanwhile, nor a second re-extraction."""
    started = time.monotonic()
    owner = f"reparse-{os.getpid()}-{int(time.time())}"
    with leased(uri, sites, owner), tempfile.TemporaryDirectory(prefix="reparse-counts-") as folder:
        children = {}
        for site in sites:
            for n in range(processes):
                counts_file = Path(folder) / f"{site}-{n}.json"
                command = [sys.executable, "-m", "crawler", "reparse", "--site", site, "--data-dir", str(data_dir),
                           "--shard", f"{n}/{processes}", "--counts-file", str(counts_file)]
                command += ["--since", since.isoformat()] if since else []
                env = {**os.environ, "MONGO_URI": uri, "PORTAL_LEASE_OWNER": f"{owner}:{site}"}
                children[(site, n)] = (subprocess.Popen(command, env=env), counts_file)
        code, counts = 0, {site: Counter() for site in sites}
        for (site, _), (child, counts_file) in children.items():
            code = max(code, child.wait())
            if counts_file.exists():  # a process that died reports nothing, and its exit status says so
                counts[site].update(json.loads(counts_file.read_text(encoding="utf-8")))
        reposts = settle_reposts(uri)
    return ReparseResult(time.monotonic() - started, processes, code, counts, reposts)


@contextlib.contextmanager
def leased(uri: str, sites: list[str], owner: str) -> Iterator[None]:
    """Each portal's lease for the whole re-extraction, released at its end (it lapses if the parent is killed)."""
    from crawler.cli.common import connected
    from crawler.dates import utc_now
    from crawler.operations import lease

    taken: list[str] = []
    with connected(uri) as db:
        try:
            for site in sites:
                held = lease.take(db, site, f"{owner}:{site}", 3600.0, utc_now())
                if held is not None:
                    raise SpiderBusy(f"a job of {site} is running, so its articles are not re-extracted now: the lease is "
                                     f"held by {held.describe(utc_now())}")
                taken.append(site)
            yield
        finally:
            for site in taken:
                with contextlib.suppress(PyMongoError):
                    lease.release(db, site, f"{owner}:{site}")


def settle_reposts(uri: str) -> Counter | str:
    """Reposts across the collection, once the re-extracted articles are all written: the counts, or what went wrong.

    Nothing is lost if it fails: the articles stay marked as changed since the last settling,
    and the next reposts job (any crawl's, at its close) takes them up.
    """
    from crawler.cli.common import NoDatabase, connected
    from crawler.dates import utc_now
    from crawler.reposts.sweep import resolve_reposts

    try:
        with connected(uri) as db:
            return resolve_reposts(db, utc_now())
    except (NoDatabase, PyMongoError) as error:  # the processes' counts are still reported
        return f"{type(error).__name__}: {error}"


def reparse_shard(site: str, archive: Path, data_dir: Path, shard: str, since: datetime | None, counts_file: Path) -> int:
    """One process's share of one portal (`shard` n/N); its counts written to `counts_file`; its exit status."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.storage.files import write_atomically
    from spiders.reparse import reparse_spider

    settings = get_project_settings()
    settings.setdict({"MONGO_URI": os.environ["MONGO_URI"], "PORTAL_DATA_DIR": str(data_dir.resolve()),
                      "PORTAL_LEASE_OWNER": os.environ.get("PORTAL_LEASE_OWNER"),
                      "PORTAL_ARCHIVE_ENABLED": False, "PORTAL_MONITORS_ENABLED": False,
                      "SPIDERMON_ADD_FIELD_COVERAGE": False,  # no monitor runs to read it
                      "PORTAL_REPOSTS_AT_CLOSE": False}, priority="cmdline")  # settled once, after all processes
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(reparse_spider(site))
    process.crawl(crawler, archive=str(archive), since=since.isoformat() if since else None, shard=shard)
    process.start()
    stats = crawler.stats.get_stats()
    counts = {key: int(stats.get(key, 0)) for key in SHARD_COUNTS}
    write_atomically(counts_file, lambda tmp: tmp.write_text(json.dumps(counts), encoding="utf-8"))
    return int(stats.get("run/exit_code", 1))
