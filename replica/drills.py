"""Operator drills on the replica: crawls interrupted as life interrupts them, then run again.

A drill starts `scrapy crawl` as cron would, interrupts it (kill -9, SIGTERM, SIGINT, MongoDB
killed and brought back) once a share of the articles is stored, runs the crawl again plainly,
and tallies each run against the replica's ground truth: expected, stored, rejected (by
reason), lost and duplicates. `bench/faults.py` prints the tallies; the fault tests assert them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pymongo.database import Database

from crawler.storage.mongo import connect, free_port

from .server import Replica

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    """One portal's copy against the ground truth."""

    expected: int
    stored: int
    rejected: dict[str, int]
    lost: int
    duplicates: int
    missing: list[str] = field(default_factory=list, repr=False)

    def row(self) -> str:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items())) or "-"
        return f"{self.expected:>8}{self.stored:>8}{self.lost:>6}{self.duplicates:>6}  {reasons}"


def tally(db: Database, replica: Replica, site: str) -> Tally:
    """Compare what MongoDB holds of a portal with what the replica says it should."""
    truth = replica.truth(site)
    expected = {r["_id"] for r in truth if r["outcome"] == "stored"}
    docs = list(db.articles.find({"site": site, "removed_at": None}, {"url": 1}))
    stored = {d["_id"] for d in docs}
    urls = Counter(d["url"] for d in docs)
    reasons = Counter(reason.split(":", 1)[0] for doc in db.rejects.find({"site": site}, {"reasons": 1}) for reason in doc["reasons"])
    missing = sorted(expected - stored)
    return Tally(len(expected), len(stored & expected), dict(reasons), len(missing),
                 sum(n - 1 for n in urls.values() if n > 1) + len(stored - expected), missing)


class MongoProcess:
    """The embedded MongoDB as its own process (`python -m crawler mongo-server`), so a drill can kill it."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60) -> MongoProcess:
        cmd = [sys.executable, "-m", "crawler", "mongo-server", "--data-dir", str(self.data_dir), "--port", str(self.port)]
        log_path = self.data_dir.parent / f"mongo-{self.port}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        start = log_path.stat().st_size if log_path.exists() else 0
        with log_path.open("a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "serving" in log_path.read_text(encoding="utf-8", errors="replace")[start:]:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"the MongoDB server did not start on port {self.port}: see {log_path}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        forget(self.uri)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Crawl:
    spider: str
    proc: subprocess.Popen
    log_path: Path

    def wait(self, timeout: float = 900) -> int:
        return self.proc.wait(timeout=timeout)

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_crawl(spider: str, replica: Replica, mongo_uri: str, database: str, data_dir: Path, *args: str,
                settings: dict[str, str] | None = None, env: dict[str, str] | None = None) -> Crawl:
    """`scrapy crawl` in its own process, as a scheduled job runs it (replica profile)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"{spider}-{time.time_ns()}.log"
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"base_url={replica.base_url(spider)}", *args]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    full_env = {**os.environ, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database, "PORTAL_PROFILE": "replica",
                "PORTAL_DATA_DIR": str(data_dir), "PORTAL_LOG_LEVEL": "INFO", **(env or {})}
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    return Crawl(spider, proc, log_path)


def wait_for_stored(db: Database, site: str, count: int, crawl: Crawl, timeout: float = 300) -> int:
    """Wait until MongoDB holds `count` articles of the site (or the crawl ended); how many it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = db.articles.count_documents({"site": site})
        if stored >= count or crawl.proc.poll() is not None:
            return stored
        time.sleep(0.2)
    raise TimeoutError(f"{site}: fewer than {count} articles stored after {timeout:.0f} s")


def wait_for_requests(replica: Replica, site: str, count: int, crawl: Crawl, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = replica.state.requests[site]
        if served >= count or crawl.proc.poll() is not None:
            return served
        time.sleep(0.1)
    raise TimeoutError(f"{site}: fewer than {count} requests after {timeout:.0f} s")


def interrupt(crawl: Crawl, how: signal.Signals, timeout: float = 120, replica: Replica | None = None) -> int:
    """Send a signal to a crawl and wait for it to end; its exit status (negative: killed by the signal).

    Given the replica, article pages are held while the signal lands, and released once the crawl
    says it is shutting down: however fast the machine, the crawl is cut off before its end."""
    if replica is not None:
        replica.hold_articles()
    try:
        crawl.proc.send_signal(how)
        if replica is not None and how is not signal.SIGKILL:
            wait_for_log(crawl, "shutting down gracefully", timeout)
    finally:
        if replica is not None:
            replica.release_articles()
    return crawl.proc.wait(timeout=timeout)


def wait_for_log(crawl: Crawl, text: str, timeout: float = 300) -> None:
    """Wait until the crawl's log says `text` (or the crawl ended)."""
    deadline = time.monotonic() + timeout
    while text not in crawl.log and crawl.proc.poll() is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the crawl's log never said {text!r} in {timeout:.0f} s")
        time.sleep(0.1)


_CLIENTS: dict[str, Database] = {}


def database(uri: str, name: str) -> Database:
    """The database on that server, through one client per server and database for the whole drill."""
    key = f"{uri}/{name}"
    if key not in _CLIENTS:
        _CLIENTS[key] = connect(uri, name)[1]
    return _CLIENTS[key]


def forget(uri: str) -> None:
    """Close the drill's clients of a server that goes away for good."""
    for key in [k for k in _CLIENTS if k.startswith(uri)]:
        _CLIENTS.pop(key).client.close()


def wait_until_answers(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    """Wait until `url` answers, while the process serving it runs (it exiting, or the time running out, raises)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                why = "its server exited" if proc.poll() is not None else f"nothing in {timeout:.0f} s"
                raise RuntimeError(f"{url} did not answer: {why}") from None
            time.sleep(0.2)


@contextlib.contextmanager
def explore(*args: str, port: int, env: dict[str, str] | None = None, also: tuple[str, ...] = ()) -> Iterator[str]:
    """`python -m crawler explore` as an analyst runs it, until the block ends: its URL, once Datasette answers
    (and the other URLs it serves, `also`: pywb's)."""
    server = subprocess.Popen([sys.executable, "-m", "crawler", "explore", "--port", str(port), *args], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for url in (base + "/-/versions.json", *also):
            wait_until_answers(url, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
