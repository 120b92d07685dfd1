"""Every article page and image the crawler fetched, kept as WARC (gzipped, rotated by size) for re-extraction.

Against the live portals a full crawl takes hours of polite requests. When a parser is fixed, the
stored records are corrected from this archive instead (`python -m crawler reparse`), with no
network. Each response record carries what the spider knew when it asked (the article's native
id, the listing it came from, the URL it was listed under, the crawl's origin) in `WARC-Portal-*`
headers; warcio writes and reads the records. The folder is `PORTAL_DATA_DIR/archive`;
`PORTAL_ARCHIVE_ENABLED` switches it (off in the test runs that do not need it).

Beside each WARC file, its index (`<file>.index`, JSON lines): each response record's headers and
offset, written with the record, and sealed with the file's size when the file is closed. Reading
the index spares a re-extraction the pass over every gzip member of the archive (19 s of CPU a
process at 50,000 articles); a file without a sealed index of its size (a crawl killed while
writing it, an archive from before indexes) is read record by record, as before.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.dates import utc_now
from crawler.storage.files import create_new

log = logging.getLogger(__name__)
ARTICLE, IMAGE = "article", "image"
# Headers that describe the bytes on the wire, not the decoded body Scrapy hands over (and the archive keeps).
_WIRE_HEADERS = {b"content-encoding", b"content-length", b"transfer-encoding"}
# The WARC headers a record is read by (WARC-Date and the spider's own `WARC-Portal-*`).
_INDEXED = ("WARC-Target-URI", "WARC-Date", "WARC-Portal-Site", "WARC-Portal-Kind", "WARC-Portal-Crawl-Origin",
            "WARC-Portal-Native-Id", "WARC-Portal-Listing-URL", "WARC-Portal-Seen-URL")
INDEX_SUFFIX = ".index"


class WarcArchive:
    """Writes the article pages and images a crawl fetched (requests marked `meta["archive"]`)."""

    def __init__(self, folder: Path, spider_name: str, max_bytes: int, stats: Any) -> None:
        self.folder = folder
        self.stats = stats
        self.spider_name = spider_name
        self.max_bytes = max_bytes
        self.file: BinaryIO | None = None
        self.writer: WARCWriter | None = None
        self.index: TextIO | None = None
        self.path: Path | None = None
        self.records = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchive:
        settings = crawler.settings
        if not settings.getbool("PORTAL_ARCHIVE_ENABLED"):
            raise NotConfigured("PORTAL_ARCHIVE_ENABLED is off")
        archive = cls(Path(settings.get("PORTAL_DATA_DIR")) / "archive", crawler.spidercls.name,
                      int(settings.getfloat("PORTAL_ARCHIVE_MAX_MB") * 2**20), crawler.stats)
        crawler.signals.connect(archive.response_received, signal=signals.response_received)
        crawler.signals.connect(archive.spider_closed, signal=signals.spider_closed)
        return archive

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        kind = request.meta.get("archive")
        if not kind or response.status != 200:
            return
        origin = getattr(spider, "origin", None)
        extra = {
            "WARC-Portal-Site": spider.name,
            "WARC-Portal-Kind": kind,
            "WARC-Portal-Crawl-Origin": getattr(origin, "crawl", ""),
            "WARC-Portal-Native-Id": request.meta.get("native_id") or "",
            "WARC-Portal-Listing-URL": request.cb_kwargs.get("listing_url") or "",
            "WARC-Portal-Seen-URL": request.cb_kwargs.get("seen_url") or "",
        }
        self.write(response, {k: v for k, v in extra.items() if v})
        self.stats.inc_value(f"archive/{kind}s")

    def write(self, response: Response, extra: dict[str, str]) -> None:
        writer = self._writer()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items()
                   if k.lower() not in _WIRE_HEADERS for v in values]
        http = StatusAndHeaders(f"{response.status} OK", headers, protocol="HTTP/1.1")
        # With its length given, warcio digests the body where it is, instead of copying it to a temporary file left open.
        record = writer.create_warc_record(response.url, "response", payload=io.BytesIO(response.body), length=len(response.body),
                                           http_headers=http, warc_headers_dict=extra)
        offset = self.file.tell()
        writer.write_record(record)
        self.index.write(json.dumps(_index_entry(record, offset), ensure_ascii=False) + "\n")
        self.records += 1

    def _writer(self) -> WARCWriter:
        if self.file is not None and self.file.tell() >= self.max_bytes:
            self.close()
        if self.file is None:
            self.path = self.folder / f"{self.spider_name}-{utc_now():%Y%m%dT%H%M%S%f}.warc.gz"
            self.file = create_new(self.path, "wb")  # crawler/storage/files.py: a new file, never one planted under its name
            self.writer = WARCWriter(self.file, gzip=True)
            self.index = create_new(_index_path(self.path), "w", encoding="utf-8")
        assert self.writer is not None
        return self.writer

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.index.write(json.dumps({"sealed": self.path.stat().st_size}) + "\n")
            self.index.close()
            log.info("archived %d responses in %s", self.records, self.path)
        self.file = self.writer = self.index = None

    def spider_closed(self, spider: Spider) -> None:
        self.close()


@dataclass
class ArchivedResponse:
    """A response record of the archive, with what the spider knew when it asked; its body is read when needed."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    date: datetime | None
    site: str
    kind: str
    crawl_origin: str
    native_id: str | None
    listing_url: str | None
    seen_url: str | None
    path: Path
    offset: int  # of its gzip member in the file: the body is read from there, once, when the page is re-extracted

    def body(self) -> bytes:
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            return next(iter(ArchiveIterator(stream))).content_stream().read()


def read_archive(folder: Path, site: str | None = None) -> Iterator[ArchivedResponse]:
    """Every response record of the archive (of one portal), oldest file first, without their bodies."""
    for path in sorted(folder.glob(f"{site or '*'}-*.warc.gz")):
        yield from _indexed(path) if _sealed(path) else _scan(path)


def _scan(path: Path) -> Iterator[ArchivedResponse]:
    """The file's response records, read one gzip member after another."""
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_type == "response":
                yield _archived(_index_entry(record, records.get_record_offset()), path)


def _index_entry(record: Any, offset: int) -> dict:
    """A response record (a warcio ArcWarcRecord) as the index keeps it: its headers and where it starts."""
    get = record.rec_headers.get_header
    return {"offset": offset, "status": int(record.http_headers.get_statuscode()),
            "warc": {name: value for name in _INDEXED if (value := get(name))}, "http": record.http_headers.headers}


def _index_path(path: Path) -> Path:
    return path.with_name(path.name + INDEX_SUFFIX)


def _sealed(path: Path) -> bool:
    """Whether the file has an index, sealed when the file was closed at the size it has now."""
    try:
        with _index_path(path).open("rb") as index:
            index.seek(max(0, index.seek(0, 2) - 4096))
            last = index.read().splitlines()[-1:]
            sealed = json.loads(last[0]).get("sealed") if last else None
    except (OSError, ValueError):  # none, or cut short by a crash
        return False
    if sealed != path.stat().st_size:
        log.info("%s has no index sealed at its size: reading the file itself", path)
        return False
    return True


def _indexed(path: Path) -> Iterator[ArchivedResponse]:
    with _index_path(path).open(encoding="utf-8") as index:
        for number, line in enumerate(index, 1):
            try:
                entry = json.loads(line)
            except ValueError as error:
                raise ValueError(f"{_index_path(path)}, line {number}, is damaged ({error}): remove the index, "
                                 f"and the archive file is read itself") from error
            if "sealed" not in entry:
                yield _archived(entry, path)


def _archived(entry: dict, path: Path) -> ArchivedResponse:
    warc = entry["warc"]
    date = warc.get("WARC-Date")
    return ArchivedResponse(
        url=warc["WARC-Target-URI"], status=entry["status"], headers=[tuple(pair) for pair in entry["http"]],
        date=datetime.fromisoformat(date.replace("Z", "+00:00")) if date else None,
        site=warc.get("WARC-Portal-Site", ""), kind=warc.get("WARC-Portal-Kind", ""),
        crawl_origin=warc.get("WARC-Portal-Crawl-Origin", ""), native_id=warc.get("WARC-Portal-Native-Id"),
        listing_url=warc.get("WARC-Portal-Listing-URL"), seen_url=warc.get("WARC-Portal-Seen-URL"),
        path=path, offset=entry["offset"],
    )


def latest_by_page(records: Iterator[ArchivedResponse], since: datetime | None = None) -> tuple[
        list[ArchivedResponse], dict[str, ArchivedResponse]]:
    """The newest record of each article (by native id, else URL) fetched since `since`, and the newest of each image."""
    articles: dict[str, ArchivedResponse] = {}
    images: dict[str, ArchivedResponse] = {}
    for record in records:
        if record.kind == IMAGE:
            images[record.url] = record
        elif record.kind == ARTICLE and (since is None or (record.date is not None and record.date >= since)):
            articles[record.native_id or record.url] = record
    return list(articles.values()), images


def crawl_origin_of(records: list[ArchivedResponse]) -> str | None:
    """The origin the archived pages were fetched from (the replica's, a mirror's): their links and image requests are spelt for it."""
    return min((record.crawl_origin for record in records if record.crawl_origin), default=None)


def as_response(record: ArchivedResponse, **meta: Any) -> Response:
    """The archived answer as Scrapy would hand it to a callback (typed by its headers, as on the wire)."""
    from scrapy.responsetypes import responsetypes

    headers = {}
    for name, value in record.headers:
        headers.setdefault(name, []).append(value)
    body = record.body()
    cls = responsetypes.from_args(headers=headers, url=record.url, body=body)
    if record.kind == IMAGE:
        cls = Response  # an image stays an image (crawler.middlewares.binary)
    request = Request(record.url, meta={"native_id": record.native_id or None, **meta})
    return cls(url=record.url, status=record.status, headers=headers, body=body, request=request)
