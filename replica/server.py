"""The replica's HTTP server: both portals on loopback, each on its own port, with their faults."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import render
from .corpus import CITY, CITY_CATEGORIES, FANPAGE_URL, POLICE, POLICE_CATEGORIES, Corpus, build_corpus

log = logging.getLogger(__name__)

FAULT_KINDS = ("500", "502", "503", "429", "slow", "truncated", "empty")
CITY_ROBOTS = "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\nDisallow: /?s=\n"
POLICE_ROBOTS = "User-agent: *\nDisallow: /Portals/_default/Admin/\nDisallow: /Search.aspx\n"


@dataclass
class ReplicaOptions:
    """How the replica behaves: its size, how faulty it is, how long a browser check lasts."""

    articles_per_site: int = 1000
    seed: int = 20191116
    fault_rate: float = 0.03
    slow_seconds: float = 1.0
    retry_after_seconds: int = 1
    hpcc_budget: int = 300  # requests one browser-check cookie is good for
    listing_ids: bool = True  # False: a theme whose city listings carry no post id (only the URL names the post)
    hostile: bool = False  # one city article with injected scripts, frames, a pixel; a listing link to another host
    # From this replica day (0: as built; each advance_day adds one) until the other, the city portal
    # serves its 2027 theme (see render.city_article_2027): a markup change for the monitors to notice.
    drift_from_day: int | None = None
    drift_until_day: int | None = None


@dataclass
class _State:
    attempts: Counter = field(default_factory=Counter)
    requests: Counter = field(default_factory=Counter)
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (site, path, status) of every answer
    faults: Counter = field(default_factory=Counter)
    tokens: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def hpcc_value(token: str) -> str:
    """The cookie the challenge script computes from its token (see congan-challenge.html)."""
    n = 0
    for ch in token:
        n = (n * 31 + ord(ch)) % 1000003
    return f"{token}.{n:x}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # the stdlib's signature
        # A client that hangs up mid-answer (Chromium aborting an image, a timed-out crawler) is normal.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Replica:
    """Both portals, served on two loopback ports until `stop()`."""

    def __init__(self, options: ReplicaOptions | None = None, host: str = "127.0.0.1",
                 city_port: int = 0, police_port: int = 0,
                 intercept: Callable[[str, str, Callable[[], Answer]], Answer | None] | None = None) -> None:
        self.options = options or ReplicaOptions()
        # A test's own answers before the replica's (replica/hostile.py): (site, target, the replica's answer) → answer or None.
        self.intercept = intercept
        self.corpus: Corpus = build_corpus(self.options.articles_per_site, self.options.seed)
        self.state = _State()
        self._index()
        self._servers = {
            CITY: _Server((host, city_port), _handler(self, CITY)),
            POLICE: _Server((host, police_port), _handler(self, POLICE)),
        }
        self._threads: list[threading.Thread] = []
        self._articles_open = threading.Event()  # cleared by hold_articles: article answers wait (a drill's gate)
        self._articles_open.set()
        self.day = 0
        self.offsite = _OffsiteHost(host="127.0.0.2") if self.options.hostile else None
        if self.offsite is not None:
            self.hostile_article().hostile_host = self.offsite.base_url
            self._servers["offsite"] = self.offsite.server

    def hostile_article(self):
        """The city article the hostile switch injects into (the oldest plain generated one)."""
        plain = [a for a in self.corpus.articles[CITY] if not (a.verbatim_page or a.fault or a.duplicate_of or a.url_variant)]
        return min(plain, key=lambda a: a.published)

    def _index(self) -> None:
        self.city_by_slug = {a.slug: a for a in self.corpus.articles[CITY]}
        self.city_by_url = {a.url: a for a in self.corpus.articles[CITY]}
        self.city_by_id = {a.native_id: a for a in self.corpus.articles[CITY]}
        self.police_by_id = {a.native_id: a for a in self.corpus.articles[POLICE]}
        self._qr_images: dict[str | None, bytes] = {}

    def qr_image(self, payload: str | None) -> bytes:
        """An article's QR image, rendered the first time it is asked for and kept for the corpus's life
        (about 1 KB each); a payload of no article goes through render's small cache."""
        if (image := self._qr_images.get(payload)) is None:
            image = self._qr_images[payload] = render.qr_png(payload)
        return image

    def base_url(self, site: str) -> str:
        host, port = self._servers[site].server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Replica:
        for site, server in self._servers.items():
            thread = threading.Thread(target=server.serve_forever, name=f"replica-{site}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            if self._threads:  # shutdown() waits for serve_forever(), which only runs once started
                server.shutdown()
            server.server_close()
        self._threads.clear()

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hold_articles(self) -> None:
        """Article pages are not answered until `release_articles`: a drill interrupts a crawl that cannot finish meanwhile."""
        self._articles_open.clear()

    def release_articles(self) -> None:
        self._articles_open.set()

    def is_article_path(self, site: str, target: str) -> bool:
        path = urlsplit(target).path
        pattern = _POLICE_ARTICLE if site == POLICE else _CITY_ARTICLE
        return bool(pattern.match(path)) and not path.startswith("/category/")

    def truth(self, site: str | None = None) -> list[dict]:
        return [r for r in self.corpus.truth() if site is None or r["site"] == site]

    def advance_day(self) -> dict:
        """Move both portals on by a day; returns what changed (new, changed, moved, removed keys)."""
        with self.state.lock:
            day = self.corpus.advance_day()
            self.day += 1
            self._index()
        return day

    @property
    def drifted(self) -> bool:
        """Whether the city portal serves its 2027 theme today."""
        start, end = self.options.drift_from_day, self.options.drift_until_day
        return start is not None and start <= self.day and (end is None or self.day < end)

    # Faults -------------------------------------------------------------------------------

    def planned_fault(self, site: str, target: str) -> str | None:
        """The fault this URL gets on its first request (none on later ones): deterministic."""
        rate = self.options.fault_rate
        key = f"{site}{target}".encode()
        if rate <= 0 or (zlib.crc32(key) % 10_000) >= rate * 10_000:
            return None
        return FAULT_KINDS[zlib.crc32(key[::-1]) % len(FAULT_KINDS)]

    def take_fault(self, site: str, target: str) -> str | None:
        with self.state.lock:
            self.state.attempts[(site, target)] += 1
            first = self.state.attempts[(site, target)] == 1
        fault = self.planned_fault(site, target) if first else None
        if fault:
            with self.state.lock:
                self.state.faults[(site, fault)] += 1
        return fault

    # Browser check ------------------------------------------------------------------------

    def new_token(self) -> str:
        token = secrets.token_hex(4)
        with self.state.lock:
            self.state.tokens[token] = self.options.hpcc_budget
        return token

    def cookie_is_valid(self, cookie_header: str | None) -> bool:
        if not cookie_header:
            return False
        cookie = SimpleCookie()
        try:
            cookie.load(cookie_header)
        except Exception:  # a malformed cookie is simply not a valid one
            return False
        value = cookie["hpcc"].value if "hpcc" in cookie else ""
        token = value.split(".", 1)[0]
        with self.state.lock:
            left = self.state.tokens.get(token, 0)
            if left <= 0 or hpcc_value(token) != value:
                return False
            self.state.tokens[token] = left - 1
        return True


@dataclass
class Answer:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None


def _handler(replica: Replica, site: str) -> type[BaseHTTPRequestHandler]:
    router = _city_answer if site == CITY else _police_answer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Microsoft-IIS/10.0" if site == POLICE else "nginx"
        # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
        # client's delayed ACK of the headers, 40 ms an answer on a kept-alive connection.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            log.debug("%s %s", site, format % args)

        def date_time_string(self, timestamp: float | None = None) -> str:  # the stdlib's name: the Date header
            # The portal's own clock: the replica's day, not this machine's.
            return format_datetime(replica.corpus.today.astimezone(UTC), usegmt=True)

        def do_GET(self) -> None:  # the stdlib's name
            if not replica._articles_open.is_set() and replica.is_article_path(site, self.path):
                replica._articles_open.wait(timeout=600)
            with replica.state.lock:
                replica.state.requests[site] += 1
            answer = _meta_answer(replica, self.path)
            if answer is None and replica.intercept is not None:
                answer = replica.intercept(site, self.path, lambda: router(replica, self))
            answer = answer or router(replica, self)
            answer = _conditional(answer, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"))
            with replica.state.lock:
                replica.state.log.append((site, self.path, answer.status))
            self._send(answer)

        def _send(self, answer: Answer) -> None:
            body = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _conditional(answer: Answer, if_none_match: str | None, if_modified_since: str | None) -> Answer:
    """Validators on every whole 200 answer, and 304 when the client already has this version."""
    if answer.status != 200 or not answer.body:
        return answer
    body = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
    etag = '"' + hashlib.md5(body).hexdigest()[:20] + '"'  # a validator, not security
    headers = {**answer.headers, "ETag": etag}
    if answer.last_modified:
        headers["Last-Modified"] = format_datetime(answer.last_modified.astimezone(UTC), usegmt=True)
    not_modified = if_none_match == etag if if_none_match else False
    if not if_none_match and if_modified_since and answer.last_modified:
        try:
            not_modified = answer.last_modified.replace(microsecond=0) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            not_modified = False
    if not_modified:
        return Answer(status=304, body=b"", content_type=answer.content_type, headers=headers)
    return Answer(answer.status, body, answer.content_type, headers, answer.last_modified)


def _meta_answer(replica: Replica, target: str) -> Answer | None:
    """The replica's own URLs: its ground truth and its counters."""
    path = urlsplit(target).path
    if path == "/__replica__/truth.json":
        return Answer(body=json.dumps(replica.truth(), ensure_ascii=False, default=str), content_type="application/json")
    if path == "/__replica__/advance":
        return Answer(body=json.dumps(replica.advance_day(), ensure_ascii=False), content_type="application/json")
    if path == "/__replica__/stats.json":
        with replica.state.lock:
            stats = {"requests": dict(replica.state.requests), "faults": {f"{s}:{k}": v for (s, k), v in replica.state.faults.items()}}
        return Answer(body=json.dumps(stats), content_type="application/json")
    return None


def _with_faults(replica: Replica, site: str, target: str, answer: Answer) -> Answer:
    fault = replica.take_fault(site, target)
    if fault is None:
        return answer
    if fault in ("500", "502", "503"):
        return Answer(status=int(fault), body=f"<html><body><h1>{fault} Server Error</h1></body></html>")
    if fault == "429":
        return Answer(status=429, body="Too Many Requests", content_type="text/plain",
                      headers={"Retry-After": str(replica.options.retry_after_seconds)})
    if fault == "slow":
        time.sleep(replica.options.slow_seconds)
        return answer
    body = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
    if fault == "truncated":
        return Answer(status=answer.status, body=body[: len(body) // 2], content_type=answer.content_type, headers=answer.headers)
    return Answer(status=200, body=b"", content_type=answer.content_type)  # an empty 200


def _article_answer(article, page_of) -> Answer:  # an Article and its renderer
    if article.removed:
        return Answer(status=article.removed, body="<html><body><h1>Bài viết không còn tồn tại</h1></body></html>")
    return Answer(body=page_of(article), last_modified=article.modified or article.published)


_CITY_CATEGORY = re.compile(r"^/category/([^/]+)(?:/page/(\d+))?/?$")
_CITY_CATEGORY_FEED = re.compile(r"^/category/([^/]+)/feed/?$")
_CITY_ARTICLE = re.compile(r"^/([^/]+)\.html/?$")


def _city_answer(replica: Replica, request: BaseHTTPRequestHandler) -> Answer:
    parts = urlsplit(request.path)
    path, query = parts.path, parse_qs(parts.query)
    corpus = replica.corpus
    if path == "/robots.txt":
        return Answer(body=CITY_ROBOTS, content_type="text/plain; charset=utf-8")
    answer = Answer(status=404, body="<html><body><h1>Không tìm thấy trang</h1></body></html>")
    if path == "/" and "p" in query:
        article = replica.city_by_id.get(query["p"][0])
        if article:
            return Answer(status=301, headers={"Location": article.url})
    elif path == "/":
        answer = Answer(body=render.city_category(corpus, "tin-tuc-su-kien", 1, **_listing_options(replica)) or "")
    elif match := _CITY_CATEGORY.match(path):
        slug, page = match.group(1), int(match.group(2) or 1)
        if slug in CITY_CATEGORIES and (page_html := render.city_category(corpus, slug, page, **_listing_options(replica))):
            answer = Answer(body=page_html)
    elif path.rstrip("/") == "/feed":
        items = sorted(corpus.live(CITY), key=lambda a: a.published, reverse=True)
        answer = Answer(body=render.city_feed(items, "Cổng tin tức Thành phố Hải Phòng"), content_type="application/rss+xml; charset=UTF-8")
    elif match := _CITY_CATEGORY_FEED.match(path):
        if match.group(1) in CITY_CATEGORIES:
            answer = Answer(body=render.city_feed(corpus.in_category(CITY, match.group(1)), CITY_CATEGORIES[match.group(1)]),
                            content_type="application/rss+xml; charset=UTF-8")
    elif path == "/wp-json/wp/v2/posts":
        answer = _wp_posts(replica, query)
    elif path == "/wp-content/plugins/hp-qr-code/qr.php":
        data = query.get("data", [""])[0]
        article = replica.city_by_url.get(data)
        image = replica.qr_image(article.qr_payload) if article else render.qr_png(data)
        answer = Answer(body=image, content_type="image/png")
    elif path == "/wp-content/uploads/2019/05/qr-fanpage.png":
        answer = Answer(body=render.qr_png(FANPAGE_URL), content_type="image/png")
    elif path.startswith("/wp-content/uploads/"):
        answer = Answer(body=render.placeholder_image(), content_type="image/jpeg")
    elif (match := _CITY_ARTICLE.match(path)) and (article := replica.city_by_slug.get(match.group(1))):
        page_of = (lambda a: render.city_article_2027(render.city_article(a))) if replica.drifted else render.city_article
        answer = _article_answer(article, page_of)
    return _with_faults(replica, CITY, request.path, answer)


def _listing_options(replica: Replica) -> dict:
    offsite = replica.offsite.base_url + "/tin-nong-gia-mao.html" if replica.offsite else None
    return {"ids": replica.options.listing_ids, "offsite_link": offsite}


class _OffsiteHost:
    """Another host on loopback that hostile pages point at: it answers, and counts, every request."""

    def __init__(self, host: str) -> None:
        self.requests: list[str] = []
        hits = self.requests

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
                pass

            def do_GET(self) -> None:  # the stdlib's name
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _Server((host, 0), Handler)
        self.base_url = "http://{}:{}".format(*self.server.server_address[:2])


def _wp_posts(replica: Replica, query: dict[str, list[str]]) -> Answer:
    def arg(name: str, default: str) -> str:
        return query.get(name, [default])[0]

    per_page, page = min(100, int(arg("per_page", "10"))), int(arg("page", "1"))
    posts = replica.corpus.live(CITY)
    if modified_after := arg("modified_after", ""):
        since = datetime.fromisoformat(modified_after.replace("Z", "+00:00"))
        if since.tzinfo is None:
            since = since.replace(tzinfo=render.TZ)
        posts = [a for a in posts if (a.modified or a.published) > since]
    order_key = (lambda a: a.modified or a.published) if arg("orderby", "date") == "modified" else (lambda a: a.published)
    posts.sort(key=order_key, reverse=arg("order", "desc") == "desc")
    total = len(posts)
    pages = max(1, -(-total // per_page))
    if page > pages and total:
        return Answer(status=400, body=json.dumps({"code": "rest_post_invalid_page_number"}), content_type="application/json")
    chunk = [render.wp_post(a) for a in posts[(page - 1) * per_page: page * per_page]]
    return Answer(body=json.dumps(chunk, ensure_ascii=False), content_type="application/json; charset=UTF-8",
                  headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})


_POLICE_CATEGORY = re.compile(r"^/([A-Za-z0-9-]+)\.html$")
_POLICE_ARTICLE = re.compile(r"^/([A-Za-z0-9-]+)/[A-Za-z0-9-]*?-(\d+)\.html/?$")


def _police_answer(replica: Replica, request: BaseHTTPRequestHandler) -> Answer:
    parts = urlsplit(request.path)
    path, query = parts.path, parse_qs(parts.query)
    if path == "/robots.txt":
        return Answer(body=POLICE_ROBOTS, content_type="text/plain; charset=utf-8")
    if not replica.cookie_is_valid(request.headers.get("Cookie")):
        return Answer(body=render.challenge(replica.new_token()))
    if path.startswith("/js/"):
        script = render.NEWSLIST_JS if path == "/js/newslist.js" else "/* stub */"
        return Answer(body=script, content_type="application/javascript")
    answer = Answer(status=404, body="<html><body><h1>Trang không tồn tại</h1></body></html>")
    if path == "/":
        answer = Answer(body=render.police_category("Tin-An-ninh-trat-tu"))
    elif path == "/Ajax/NewsList.ashx":
        if request.headers.get("X-Requested-With") != "XMLHttpRequest":
            answer = Answer(status=400, body="Bad Request", content_type="text/plain")
        else:
            fragment = render.police_news_list(replica.corpus, query.get("cat", [""])[0], int(query.get("page", ["1"])[0] or 1))
            if fragment is not None:
                answer = Answer(body=fragment)
    elif (match := _POLICE_CATEGORY.match(path)) and match.group(1) in POLICE_CATEGORIES:
        answer = Answer(body=render.police_category(match.group(1)))
    elif (match := _POLICE_ARTICLE.match(path)) and (article := replica.police_by_id.get(match.group(2))):
        answer = _article_answer(article, render.police_article)
    elif path.startswith("/uploads/"):
        answer = Answer(body=render.placeholder_image(), content_type="image/jpeg")
    return _with_faults(replica, POLICE, request.path, answer)
