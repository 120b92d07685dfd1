"""What the tests share besides fixtures: paths, a fresh database, a crawl as an operator runs it, golden cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pymongo.database import Database

from crawler.storage.mongo import connect

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def fresh_db(uri: str, name: str) -> Database:
    """An empty database; close it with `db.client.close()`."""
    client, db = connect(uri, name)
    client.drop_database(name)
    return db


@dataclass
class CrawlResult:
    spider: str
    returncode: int
    log: str


def run_crawl(spider: str, base_url: str, mongo_uri: str, database: str, data_dir: Path, *args: str,
              timeout: int = 600) -> CrawlResult:
    """`scrapy crawl` as an operator runs it, in a subprocess, against the replica."""
    env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database, "PORTAL_PROFILE": "replica",
           "PORTAL_DATA_DIR": str(data_dir), "PORTAL_LOG_LEVEL": "INFO"}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"base_url={base_url}", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout, check=False)
    return CrawlResult(spider, done.returncode, done.stdout + done.stderr)


def load_case(name: str) -> tuple[dict, str]:
    """A golden case: the record expected (JSON) and the saved page (HTML)."""
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return expected, (GOLDEN / f"{name}.html").read_text(encoding="utf-8")
