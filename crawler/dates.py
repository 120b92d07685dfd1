"""Dates as the portals show them (Vietnamese, Asia/Ho_Chi_Minh) and as machines give them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

PORTAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# The date-bearing part of a label such as "Cập nhật: 11/07/2020 09:00" or
# "Thứ Bảy, 16/11/2019 09:06": dateparser reads it, the label around it is noise.
_DATE_PART = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}(?:\s*,?\s*\d{1,2}[:h]\d{2}(?::\d{2})?)?")
_PARSER = DateDataParser(
    languages=["vi"],
    settings={
        "DATE_ORDER": "DMY",
        "TIMEZONE": "Asia/Ho_Chi_Minh",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TO_TIMEZONE": "UTC",
        "PREFER_DAY_OF_MONTH": "first",
        "STRICT_PARSING": False,
    },
)


def parse_vietnamese_datetime(text: str | None) -> datetime | None:
    """The UTC instant of a date shown on a portal page, or None when there is none."""
    if not text:
        return None
    match = _DATE_PART.search(text)
    if not match:
        return None
    parsed = _PARSER.get_date_data(match.group(0).replace("h", ":")).date_obj
    return parsed.astimezone(UTC) if parsed else None


def parse_iso_datetime(value: str | None) -> datetime | None:
    """The UTC instant of a machine date (`datetime` attributes, `article:*_time`)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return parse_vietnamese_datetime(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PORTAL_TZ)
    return parsed.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
