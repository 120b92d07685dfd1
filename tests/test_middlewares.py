"""The three downloader middlewares, one decision at a time: Retry-After, incomplete answers, the browser check."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.utils import format_datetime

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawler.dates import utc_now
from crawler.middlewares.browser_check import BROWSER_ATTEMPTS, BrowserCheckMiddleware, cookie_sent, read_cookies
from crawler.middlewares.incomplete import COMPLETE_MARKER, IncompletePageMiddleware, incompleteness
from crawler.middlewares.retry_after import RetryAfterMiddleware, retry_after_seconds
from spiders.congan_haiphong import CongAnHaiphongSpider

URL = "http://127.0.0.1:8081/Tin-An-ninh-trat-tu.html"
CHECK_PAGE = ("<html><head><title>Đang kiểm tra trình duyệt</title></head><body>Đang kiểm tra trình duyệt "
              "<script>document.cookie='hpcc=x'</script></body></html>")


def crawler_for(spidercls: type[Spider] = Spider, **settings: object):
    crawler = get_crawler(spidercls, {"RETRY_TIMES": 2, **settings})
    crawler.spider = crawler._create_spider("test") if spidercls is Spider else crawler._create_spider()
    return crawler


def run_in_new_loop(awaitable):
    """Run a coroutine to its end in an event loop of its own, closed after."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        loop.close()


def html(url: str, body: str, status: int = 200, request: Request | None = None) -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body.encode(), encoding="utf-8", request=request or Request(url))


@pytest.mark.parametrize(("value", "seconds"), [(b"3", 3.0), ("120", 120.0), (None, None), (b"soon", None)])
def test_retry_after_reads_seconds(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_retry_after_reads_an_http_date():
    later = format_datetime(utc_now() + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_seconds(later) <= 30


def test_a_429_with_retry_after_waits_as_asked_within_the_bound_then_retries(monkeypatch):
    from crawler.middlewares import retry_after

    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the wait asked of the event loop, not the wall clock
        waits.append(seconds)

    monkeypatch.setattr(retry_after.asyncio, "sleep", sleep)
    crawler = crawler_for(PORTAL_RETRY_AFTER_MAX=0.2)
    middleware = RetryAfterMiddleware.from_crawler(crawler)
    request = Request(URL)
    asked = Response(URL, status=429, headers={"Retry-After": "60"}, request=request)
    retry = run_in_new_loop(middleware.process_response(request, asked))
    fine = run_in_new_loop(middleware.process_response(request, Response(URL, status=200, request=request)))
    assert waits == [0.2]  # 60 s asked, 0.2 s the bound
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert isinstance(fine, Response) and crawler.stats.get_value("retry_after/waits") == 1


def test_incomplete_answers_are_told_apart_from_whole_ones():
    request = Request(URL)
    assert incompleteness(request, html(URL, "")) == "empty_200"
    assert incompleteness(request, html(URL, "<!DOCTYPE html><html><body><p>cắt ngang")) == "truncated"
    assert incompleteness(request, html(URL, "<!DOCTYPE html><html><body></body></html>")) is None
    assert incompleteness(request, html(URL, "", status=404)) is None  # an error page is the error's business
    fragment = Request(URL, meta={COMPLETE_MARKER: b'class="pager"'})
    assert incompleteness(fragment, html(URL, '<div class="news-item">…</div>')) == "truncated"
    assert incompleteness(fragment, html(URL, '<div class="news-item">…</div><div class="pager" data-page="1"></div>')) is None


def test_an_incomplete_answer_is_retried_then_given_up_with_a_reason():
    crawler = crawler_for()
    middleware = IncompletePageMiddleware.from_crawler(crawler)
    request = Request(URL)
    for attempt in (1, 2):
        request = middleware.process_response(request, html(URL, "", request=request))
        assert isinstance(request, Request) and request.meta["retry_times"] == attempt
    with pytest.raises(IgnoreRequest, match="empty_200"):
        middleware.process_response(request, html(URL, "", request=request))
    assert crawler.stats.get_value("incomplete/empty_200") == 3


def test_the_cookie_a_request_carries_is_read_from_its_header():
    assert cookie_sent(Request(URL, headers={"Cookie": "a=1; hpcc=abc.12"}), "hpcc") == "abc.12"
    assert cookie_sent(Request(URL), "hpcc") is None


class FakeEngine:
    """Stands in for Scrapy's engine where the middleware asks Chromium for a page: the real visit is
    covered end to end (tests/test_e2e_crawl.py); here only how many visits are made is at stake."""

    def __init__(self, middleware: BrowserCheckMiddleware) -> None:
        self.middleware = middleware
        self.visits = 0

    async def download_async(self, request: Request) -> TextResponse:
        self.visits += 1
        await asyncio.sleep(0.05)  # the others are turned away meanwhile
        [method] = [m for m in request.meta["playwright_page_methods"] if m.method is read_cookies]
        method.result = [{"name": "hpcc", "value": f"token{self.visits}.x"}]
        self.middleware._take_browser_cookies(request)
        return html(request.url, '<html><body><div id="wrapper"></div></body></html>', request=request)


def test_requests_turned_away_at_once_share_one_browser_visit_and_carry_its_cookie():
    crawler = crawler_for(CongAnHaiphongSpider, PORTAL_BROWSER_CHECK_ATTEMPTS=3)
    middleware = BrowserCheckMiddleware.from_crawler(crawler)
    crawler.engine = FakeEngine(middleware)
    requests = [Request(f"{URL}?n={n}") for n in range(5)]

    async def turned_away() -> list:
        return await asyncio.gather(*(middleware.process_response(r, html(r.url, CHECK_PAGE, request=r)) for r in requests))

    retried = run_in_new_loop(turned_away())
    assert crawler.engine.visits == 1 and crawler.stats.get_value("browser_check/turned_away") == 5
    assert all(isinstance(r, Request) and r.dont_filter and r.meta[BROWSER_ATTEMPTS] == 1 for r in retried)
    plain = Request(URL)
    asyncio.run(middleware.process_request(plain))
    assert plain.cookies == {"hpcc": "token1.x"}


def test_a_request_turned_away_too_often_is_given_up_and_counted():
    crawler = crawler_for(CongAnHaiphongSpider, PORTAL_BROWSER_CHECK_ATTEMPTS=1)
    middleware = BrowserCheckMiddleware.from_crawler(crawler)
    request = Request(URL, meta={BROWSER_ATTEMPTS: 1})
    with pytest.raises(IgnoreRequest, match="browser check not passed"):
        run_in_new_loop(middleware.process_response(request, html(URL, CHECK_PAGE, request=request)))
    assert crawler.stats.get_value("browser_check/failed") == 1


def test_a_png_at_a_url_ending_in_html_stays_binary_and_pages_stay_pages():
    from scrapy.responsetypes import responsetypes

    from crawler.middlewares.binary import BinaryResponseMiddleware

    url = "https://thanhphohaiphong.gov.vn/wp-content/plugins/hp-qr-code/qr.php?size=150&data=https%3A%2F%2Fx.vn%2Fa.html"
    headers = {"Content-Type": "image/png"}
    typed = responsetypes.from_args(headers=headers, url=url)(url=url, headers=headers, body=b"\x89PNG\r\n")
    assert isinstance(typed, HtmlResponse)  # what Scrapy makes of it: typed by the URL
    middleware = BinaryResponseMiddleware()
    image = asyncio.run(middleware.process_response(Request(url), typed))
    assert type(image) is Response and image.body == b"\x89PNG\r\n"
    page = HtmlResponse(url="https://x.vn/a.html", headers={"Content-Type": "text/html; charset=utf-8"}, body=b"<p>a</p>")
    assert asyncio.run(middleware.process_response(Request(page.url), page)) is page


def test_the_cookie_lifetime_is_learned_once_and_later_cookies_are_renewed_before_it_runs_out():
    crawler = crawler_for(CongAnHaiphongSpider)
    middleware = BrowserCheckMiddleware.from_crawler(crawler)
    crawler.engine = FakeEngine(middleware)
    page = '<html><body><div id="wrapper">tin</div></body></html>'

    async def send(n: int) -> Request | HtmlResponse:
        request = Request(f"{URL}?n={n}")
        await middleware.process_request(request)
        request.headers["Cookie"] = f"hpcc={request.cookies['hpcc']}"  # what the cookies middleware adds
        return request

    async def crawl() -> list[int]:
        await middleware._pass_check()  # the first cookie, earned when the check first answered
        visits = []
        for n in range(10):  # the portal takes it for 10 requests, then answers with the check
            request = await send(n)
            await middleware.process_response(request, html(request.url, page, request=request))
        request = await send(10)
        retried = await middleware.process_response(request, html(request.url, CHECK_PAGE, request=request))
        assert isinstance(retried, Request) and middleware.lifetime.requests == 10
        visits.append(crawler.engine.visits)  # 2: the expired cookie replaced
        for n in range(11, 30):  # with what was learned, the next cookies are renewed at 8 requests of 10
            request = await send(n)
            await asyncio.sleep(0)
            await middleware.process_response(request, html(request.url, page, request=request))
            assert cookie_sent(request, "hpcc") is not None
        if middleware._passing is not None:  # the last renewal, started in the background: wait for it, not for a time
            await asyncio.wait_for(asyncio.shield(middleware._passing), timeout=60)
        visits.append(crawler.engine.visits)
        return visits

    visits = run_in_new_loop(crawl())
    assert visits[0] == 2 and visits[1] >= 3
    assert crawler.stats.get_value("browser_check/turned_away") == 1  # the one answer the lifetime was learned from
    assert crawler.stats.get_value("browser_check/renewed_early") == visits[1] - 2


def test_until_the_lifetime_is_known_one_request_is_in_flight_and_the_check_turns_away_only_it():
    crawler = crawler_for(CongAnHaiphongSpider)
    middleware = BrowserCheckMiddleware.from_crawler(crawler)
    crawler.engine = FakeEngine(middleware)
    page = '<html><body><div id="wrapper">tin</div></body></html>'
    budget = {"token1.x": 3}  # the portal takes the first cookie for 3 requests
    sent: list[str | None] = []
    in_flight, most_in_flight = [0], [0]

    async def fetch(n: int) -> None:
        request = Request(f"{URL}?n={n}")
        await middleware.process_request(request)
        request.headers["Cookie"] = f"hpcc={request.cookies['hpcc']}"  # what the cookies middleware adds
        unknown = middleware.lifetime is None
        in_flight[0] += unknown
        most_in_flight[0] = max(most_in_flight[0], in_flight[0])
        await asyncio.sleep(0.01)  # on the wire
        in_flight[0] -= unknown
        cookie = cookie_sent(request, "hpcc")
        sent.append(cookie)
        good = budget.get(cookie, 99) > 0
        budget[cookie] = budget.get(cookie, 99) - 1
        answer = await middleware.process_response(request, html(request.url, page if good else CHECK_PAGE, request=request))
        if isinstance(answer, Request):  # turned away: retried as the scheduler would
            await middleware.process_request(answer)
            sent.append(answer.cookies["hpcc"])

    async def crawl() -> None:
        await middleware._pass_check()  # the first cookie, from the listing Chromium rendered
        await asyncio.gather(*(fetch(n) for n in range(8)))

    run_in_new_loop(crawl())
    assert most_in_flight[0] == 1  # while the lifetime was unknown
    assert crawler.stats.get_value("browser_check/turned_away") == 1  # the fourth request, and no other
    assert middleware.lifetime.requests == 3
    assert sent[:4] == ["token1.x"] * 4 and set(sent[4:]) == {"token2.x"}  # after it, the new cookie only


def test_a_cookie_still_good_after_the_bound_is_taken_to_last_long_and_requests_go_at_the_crawls_pace():
    crawler = crawler_for(CongAnHaiphongSpider, PORTAL_BROWSER_CHECK_ONE_AT_A_TIME=4)
    middleware = BrowserCheckMiddleware.from_crawler(crawler)
    crawler.engine = FakeEngine(middleware)
    page = '<html><body><div id="wrapper">tin</div></body></html>'
    in_flight, most_in_flight = [0], [0]

    async def fetch(n: int) -> None:
        request = Request(f"{URL}?n={n}")
        await middleware.process_request(request)
        in_flight[0] += 1
        most_in_flight[0] = max(most_in_flight[0], in_flight[0])
        await asyncio.sleep(0.01)
        in_flight[0] -= 1
        await middleware.process_response(request, html(request.url, page, request=request))

    async def crawl() -> None:
        await middleware._pass_check()
        await asyncio.gather(*(fetch(n) for n in range(12)))  # the cookie never runs out

    run_in_new_loop(crawl())
    assert middleware.lifetime is None and middleware.held.sent == 12
    # One at a time until the fourth request goes, and the eight left with it: at most 9 in flight, never 12.
    assert 1 < most_in_flight[0] <= 9


def test_chromium_is_closed_once_no_page_has_needed_it_for_the_idle_time():
    from crawler.browser import IdleBrowserCloser

    class FakeBrowser:
        closed = False

        async def close(self) -> None:
            self.closed = True

    class FakeHandler:  # scrapy-playwright's handler, as far as the closer looks at it
        browser, context_wrappers = FakeBrowser(), {}

    crawler = crawler_for(CongAnHaiphongSpider, PORTAL_BROWSER_IDLE_SECONDS=0.2)
    closer = IdleBrowserCloser.from_crawler(crawler)
    closer._playwright_handler = FakeHandler

    async def watch() -> float:
        closer.request_used_browser(Request(URL, meta={"playwright": True}), crawler.spider)
        used = closer.used_at
        task = asyncio.ensure_future(closer.close_when_idle())
        while not FakeHandler.browser.closed:  # the event itself, however long the machine takes
            await asyncio.sleep(0.01)
        task.cancel()
        return used

    used = run_in_new_loop(asyncio.wait_for(watch(), timeout=60))
    assert FakeHandler.browser.closed and crawler.stats.get_value("browser/closed_idle") == 1
    assert closer.used_at == used  # a plain request does not count as the browser's use…
    closer.request_used_browser(Request(URL), crawler.spider)
    assert closer.used_at == used
