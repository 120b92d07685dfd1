"""The download-only yardstick for the police portal: its pages sit behind a browser check, passed as the crawler
passes it (the same downloader middleware, Chromium for the check page only)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from download_only import DownloadOnlySpider

from spiders.congan_haiphong import PoliceBrowserCheck


class DownloadOnlyPoliceSpider(PoliceBrowserCheck, DownloadOnlySpider):
    name = "download_only_police"

    @property
    def browser_check_url(self) -> str:
        scheme, _, host = self.urls[0].split("/", 3)[:3]
        return f"{scheme}//{host}/"
