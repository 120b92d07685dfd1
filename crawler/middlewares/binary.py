"""Images stay images: a binary answer is never handed on as a page whose text later middlewares decode.

Scrapy types a response by its Content-Type, and when that names no text type, by its URL. The
city portal's QR code is `qr.php?…&data=<article URL ending in .html>`, so a PNG became an
HtmlResponse, and MetaRefreshMiddleware ran charset detection over its bytes for every article
(9 % of a crawl's samples in the profile of issue 13). Placed after decompression (590) and
before MetaRefreshMiddleware (580).
"""

from __future__ import annotations

from scrapy.http import Request, Response, TextResponse

_BINARY_TYPES = (b"image/", b"audio/", b"video/", b"application/octet-stream", b"application/pdf", b"application/zip")


def is_binary(response: Response) -> bool:
    content_type = (response.headers.get("Content-Type") or b"").lower()
    return content_type.startswith(_BINARY_TYPES)


class BinaryResponseMiddleware:
    async def process_response(self, request: Request, response: Response) -> Response:
        if isinstance(response, TextResponse) and is_binary(response):
            return Response(response.url, status=response.status, headers=response.headers, body=response.body,
                            flags=response.flags, request=response.request, certificate=response.certificate,
                            ip_address=response.ip_address, protocol=response.protocol)
        return response
