"""Log lines for dropped items that say why, not the whole item (it is in `rejects` with every reason)."""

from __future__ import annotations

from typing import Any

from scrapy.logformatter import LogFormatter


class PortalLogFormatter(LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> dict:
        # Scrapy appends the item's repr: a whole article body per reject, most of a crawl's log.
        return {**super().dropped(item, exception, response, spider), "msg": "Dropped: %(exception)s",
                "args": {"exception": exception}}
