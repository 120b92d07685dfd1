"""The portals this crawler keeps a copy of, each registered once (Fundus' publisher table is the model).

An entry says everything the rest of the code needs to know of a portal: its name (the spider's
name and the records' `site`), how analysts call it, its public origin, its categories, where its
spider and parser live, and its rank among originating sites (when a story and its repost carry
the same time, the portal that breaks stories comes first). The CLI, the report, the demo, the
deduplicate stage and the tests read this table. Adding a portal: a parser module, a spider, one
entry here, golden files (see docs/architecture.md).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# The database the crawls write to unless MONGO_DATABASE says otherwise.
DEFAULT_DATABASE = "haiphong_portal"


@dataclass(frozen=True)
class Portal:
    name: str
    title: str
    public_origin: str
    categories: dict[str, str]  # slug or path → the portal's own name for it
    spider: str  # import path of the spider class
    parser: str  # import path of the parser module
    originating_rank: int  # lower first, among copies of a story with the same time
    colour: str  # in the report's charts
    # Origins besides the portal's own that its pages really need fetched (a CDN for its images):
    # the scope rule lets requests reach them too. None today.
    asset_origins: tuple[str, ...] = ()

    def parser_module(self) -> ModuleType:
        return importlib.import_module(self.parser)

    @property
    def parser_versions(self) -> tuple[str, ...]:
        """The layouts the parser knows, oldest first (one when the portal never changed its markup)."""
        layouts = getattr(self.parser_module(), "LAYOUTS", None)
        return tuple(layout.name for layout in layouts) if layouts else ("1",)

    def spider_class(self) -> Any:
        module, _, name = self.spider.rpartition(".")
        return getattr(importlib.import_module(module), name)


PORTALS: dict[str, Portal] = {portal.name: portal for portal in (
    Portal(
        name="thanhphohaiphong",
        title="Cổng tin tức TP Hải Phòng",
        public_origin="https://thanhphohaiphong.gov.vn",
        categories={
            "tin-tuc-su-kien": "Tin tức - Sự kiện",
            "kinh-te": "Kinh tế",
            "van-hoa-xa-hoi": "Văn hóa - Xã hội",
            "an-ninh-quoc-phong": "An ninh - Quốc phòng",
        },
        spider="spiders.thanhphohaiphong.ThanhphohaiphongSpider",
        parser="spiders.parsers.thanhphohaiphong",
        originating_rank=1,
        colour="#1f77b4",
    ),
    Portal(
        name="congan_haiphong",
        title="Công an TP Hải Phòng",
        public_origin="https://congan.haiphong.gov.vn",
        categories={
            "Tin-An-ninh-trat-tu": "Tin An ninh trật tự",
            "Phong-trao-toan-dan-bao-ve-ANTQ": "Phong trào toàn dân bảo vệ ANTQ",
            "Xay-dung-luc-luong": "Xây dựng lực lượng",
            "Canh-bao-toi-pham": "Cảnh báo tội phạm",
        },
        spider="spiders.congan_haiphong.CongAnHaiphongSpider",
        parser="spiders.parsers.congan_haiphong",
        originating_rank=0,  # the police portal breaks the stories the city portal reposts
        colour="#d62728",
    ),
)}
NAMES = tuple(PORTALS)
