"""Helpers for parser tests: a saved page as a response, a record as JSON-comparable values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.http import HtmlResponse

from crawler.items import ArticleItem
from crawler.portals import PORTALS
from crawler.urls import PortalOrigin
from pipelines.normalise import normalise_article
from spiders.parsers import thanhphohaiphong
from spiders.parsers.qr import decode_qr

PARSERS = {name: portal.parser_module() for name, portal in PORTALS.items()}


def response_for(url: str, body: str | bytes) -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode("utf-8") if isinstance(body, str) else body, encoding="utf-8")


def parse_page(site: str, url: str, body: str | bytes, qr_image: bytes | None = None) -> ArticleItem:
    """What the crawler makes of one page, without crawling: parser, QR read, normalise stage."""
    parser = PARSERS[site]
    origin = PortalOrigin(parser.PUBLIC_ORIGIN, parser.PUBLIC_ORIGIN)
    item = parser.parse_article(response_for(url, body), origin)
    if item.qr is not None and qr_image is not None:
        payload = decode_qr(qr_image)
        item.qr["payload"] = payload
        item.qr["matches_url"] = thanhphohaiphong.qr_is_for(payload, item.url)
    return normalise_article(item, parser.PUBLIC_ORIGIN)


def as_json(value: Any) -> Any:
    """Datetimes as ISO strings, so records compare with the JSON written by hand."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value
