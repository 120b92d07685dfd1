"""What the tests share besides fixtures: paths, a fresh database, a crawl as an operator runs it, golden cases."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pymongo.database import Database

from crawler.storage.mongo import connect, free_port

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def fresh_db(uri: str, name: str) -> Database:
    """An empty database; close it with `db.client.close()`."""
    client, db = connect(uri, name)
    client.drop_database(name)
    return db


def dates_out_of_order(db: Database) -> list[str]:
    """Records whose crawl dates break first_seen_at ≤ last_changed_at ≤ last_seen_at."""
    return [d["_id"] for d in db.articles.find({}, {"crawl": 1})
            if not (d["crawl"]["first_seen_at"] <= d["crawl"]["last_changed_at"] <= d["crawl"]["last_seen_at"])]


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


class Inbox:
    """aiosmtpd handler: keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's name  # noqa: N802
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@contextlib.contextmanager
def smtp_sink() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[list[dict], str]]:
    posts: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            pass

        def do_POST(self) -> None:  # the stdlib's name
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield posts, f"http://127.0.0.1:{server.server_address[1]}/hooks/crawler"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium_page(width: int = 1200, height: int = 1400) -> Iterator[tuple[Any, list[str]]]:
    """A page in the system Chromium (as the crawler launches it), and the console errors and page errors it logs."""
    from playwright.sync_api import sync_playwright

    from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            yield page, errors
        finally:
            browser.close()
