"""The byline and the source line that close a portal article (`MINH PHƯƠNG`, `Nguồn. ANHP`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Publishers the portals credit, by the code or short name the source line uses.
PUBLISHERS: dict[str, str] = {
    "ANHP": "Báo An ninh Hải Phòng",
    "HP": "Báo Hải Phòng",
    "BÁO HP": "Báo Hải Phòng",
    "THP": "Truyền hình Hải Phòng",
    "TTXVN": "Thông tấn xã Việt Nam",
    "CATP": "Công an thành phố Hải Phòng",
    # National outlets the portals republish from.
    "VOV": "Đài Tiếng nói Việt Nam",
    "VTV": "Đài Truyền hình Việt Nam",
    "NHÂN DÂN": "Báo Nhân Dân",
    "QĐND": "Báo Quân đội nhân dân",
    "CAND": "Báo Công an nhân dân",
    "CHINHPHU.VN": "Cổng Thông tin điện tử Chính phủ",
}

# "Nguồn. ANHP", "Nguồn: Báo HP", "(Nguồn: TTXVN)", "Theo THP" — short lines only: a
# paragraph that opens with "Theo đó, …" is prose, not attribution.
_SOURCE_LINE = re.compile(r"^\(?\s*(?:nguồn|theo)\s*[.:]?\s+(?P<name>[^()]{1,40}?)\s*[.)]?\s*\)?$", re.I)
# A byline is a short line in capitals: "MINH PHƯƠNG", "HOÀNG LONG - THU HÀ".
_BYLINE = re.compile(r"^[^\W\d_][^\W\d_ .,&-]*(?:[ .,&-]+[^\W\d_]+){0,5}\.?$")
_BYLINE_MAX_CHARS = 48


@dataclass(frozen=True)
class Trailer:
    """What the closing lines of an article say about who wrote it and where it came from."""

    paragraphs: list[str]
    author: str | None
    source: dict | None


def parse_source_line(line: str) -> dict | None:
    match = _SOURCE_LINE.match(line)
    if not match or len(line) > 60:
        return None
    name = match.group("name").strip().rstrip(".")
    return {"text": line, "name": name, "publisher": PUBLISHERS.get(name.upper())}


def is_byline(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return (
        0 < len(line) <= _BYLINE_MAX_CHARS
        and len(letters) >= 3
        and all(ch.isupper() for ch in letters)
        and bool(_BYLINE.match(line))
    )


def split_trailer(paragraphs: list[str]) -> Trailer:
    """Take the byline and source line off the end of the body, in whichever order they come."""
    body = list(paragraphs)
    author = source = None
    for _ in range(2):
        if len(body) < 2:
            break
        last = body[-1]
        if source is None and (found := parse_source_line(last)):
            source = found
        elif author is None and is_byline(last):
            author = last.rstrip(".")
        else:
            break
        body.pop()
    return Trailer(paragraphs=body, author=author, source=source)
