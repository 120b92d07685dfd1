"""How a crawl logs: below `LOG_LEVEL` no record is made at all, and the root logger is left as found."""

import logging

from scrapy.utils.test import get_crawler

from crawler.operations.logformatter import RootLogLevel


class _Counting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_debug_lines_make_no_record_during_an_info_crawl_and_the_root_is_put_back():
    extension = RootLogLevel.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "INFO"}))
    counting = _Counting()
    logging.root.addHandler(counting)
    before = logging.root.level
    logging.root.setLevel(logging.NOTSET)  # as Scrapy leaves it
    try:
        extension.spider_opened()
        logging.getLogger("scrapy.core.engine").debug("Crawled (200) <GET http://127.0.0.1/>")
        logging.getLogger("crawler.test").info("kept")
        assert [r.getMessage() for r in counting.records] == ["kept"]
        extension.spider_closed()
        assert logging.root.level == logging.NOTSET
        logging.getLogger("scrapy.core.engine").debug("after the crawl")
        assert counting.records[-1].getMessage() == "after the crawl"
    finally:
        logging.root.removeHandler(counting)
        logging.root.setLevel(before)


def test_a_root_level_set_by_someone_else_is_not_touched():
    before = logging.root.level
    logging.root.setLevel(logging.WARNING)
    try:
        extension = RootLogLevel.from_crawler(get_crawler(settings_dict={"LOG_LEVEL": "DEBUG"}))
        extension.spider_opened()
        assert logging.root.level == logging.WARNING
        extension.spider_closed()
        assert logging.root.level == logging.WARNING
    finally:
        logging.root.setLevel(before)
