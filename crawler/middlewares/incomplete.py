"""Retry answers that arrived incomplete: an empty 200, an HTML page cut off mid-body."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

# Requests may name the bytes a whole answer must hold (an AJAX fragment has no </html>).
COMPLETE_MARKER = "complete_marker"


def incompleteness(request: Request, response: Response) -> str | None:
    """Why an answer is incomplete, or None when it looks whole."""
    if response.status != 200 or request.method == "HEAD":
        return None
    if not response.body.strip():
        return "empty_200"
    marker = request.meta.get(COMPLETE_MARKER)
    if marker is None and isinstance(response, TextResponse):
        head = response.body[:1024].lower()
        marker = b"</html>" if (b"<html" in head or b"<!doctype" in head) else None
    if marker and marker not in response.body[-4096:]:
        return "truncated"
    return None


class IncompletePageMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncompletePageMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        reason = incompleteness(request, response)
        if reason is None:
            return response
        self.crawler.stats.inc_value(f"incomplete/{reason}")
        retry = get_retry_request(request, spider=self.crawler.spider, reason=reason)
        if retry is None:
            raise IgnoreRequest(f"{reason}: {request.url} still incomplete after retries")
        return retry
