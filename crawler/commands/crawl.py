"""`scrapy crawl` whose exit status says how the run ended (see `crawler.operations.runs`), not only whether it started."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.operations.alerts import AlertConfigError, smtp_settings
from crawler.operations.runs import EXIT_FAILED


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider to crawl")
        try:
            smtp_settings()  # an alert set up to leak its password is refused now, not when it would fire
        except AlertConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        # A run that never reached its end (bootstrap failed, MongoDB unreachable at the start) has no exit code of its own.
        code = crawler.stats.get_value("run/exit_code") if crawler.stats else None
        self.exitcode = EXIT_FAILED if self.crawler_process.bootstrap_failed or code is None else code
