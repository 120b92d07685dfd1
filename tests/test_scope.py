"""The scope rule: which origins a crawl may reach, and the middlewares that refuse the rest before anything leaves."""

from __future__ import annotations

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.browser import BrowserScope, bypass_list
from crawler.middlewares.scope import OffsiteRefused, ScopedMetaRefreshMiddleware, ScopedRedirectMiddleware, ScopeMiddleware
from crawler.urls import PortalOrigin, PortalScope, origin_label, origin_of

PUBLIC = "https://thanhphohaiphong.gov.vn"
MIRROR = "http://127.0.0.1:8080"


def test_a_mirror_is_its_origin_alone_port_included_and_never_the_live_portal():
    scope = PortalOrigin(PUBLIC, MIRROR).scope()
    assert scope.allows(MIRROR + "/category/kinh-te")
    assert not scope.allows("http://127.0.0.1:8081/robots.txt")  # the same host, another port
    assert not scope.allows("http://127.0.0.2:8080/")
    assert not scope.allows("https://127.0.0.1:8080/")  # another scheme
    assert not scope.allows(PUBLIC + "/x.html")  # a test never reaches the live portal


def test_the_live_portal_is_its_host_over_http_and_https_with_and_without_www():
    scope = PortalOrigin(PUBLIC, PUBLIC).scope()
    for url in (PUBLIC + "/a.html", "http://thanhphohaiphong.gov.vn/a.html", "https://www.thanhphohaiphong.gov.vn/",
                "https://thanhphohaiphong.gov.vn:443/x"):
        assert scope.allows(url), url
    for url in ("https://thanhphohaiphong.gov.vn:8443/", "https://evil.thanhphohaiphong.gov.vn/", "javascript:alert(1)",
                "data:text/html,x", "file:///etc/passwd", "https://user@127.0.0.1/", "http://[::1]:80/"):
        assert not scope.allows(url), url
    assert PortalOrigin(PUBLIC, PUBLIC).scope(("https://cdn.example.org",)).allows("https://cdn.example.org/img.png")


def test_origins_are_named_as_in_reject_reasons():
    assert origin_of("HTTP://Example.ORG/x") == ("http", "example.org", 80)
    assert origin_label("http://127.0.0.2:8080/latest/meta-data/") == "http://127.0.0.2:8080"
    assert origin_label("https://congan.haiphong.gov.vn:443/a") == "https://congan.haiphong.gov.vn"
    assert origin_label("javascript:alert(1)") == "javascript:"


class ScopedSpider(Spider):
    name = "scoped"
    scope = PortalScope.of([MIRROR])


def crawler_with_scope():
    crawler = get_crawler(ScopedSpider)
    crawler.spider = crawler._create_spider()
    return crawler


@pytest.mark.parametrize("url", ["http://127.0.0.2:8080/x", "http://127.0.0.1:9999/robots.txt", "file:///etc/passwd"])
def test_a_request_off_the_portal_is_refused_with_its_origin_and_counted(url):
    crawler = crawler_with_scope()
    middleware = ScopeMiddleware.from_crawler(crawler)
    for dont_filter in (False, True):
        with pytest.raises(OffsiteRefused) as refused:
            middleware.process_request(Request(url, dont_filter=dont_filter, meta={"allow_offsite": True}))
        assert refused.value.reason == f"offsite_request:{origin_label(url)}"
    assert crawler.stats.get_value("scope/refused") == 2
    assert crawler.stats.get_value(f"scope/refused/{origin_label(url)}") == 2
    assert middleware.process_request(Request(MIRROR + "/ok.html")) is None


def test_a_redirect_off_the_portal_is_refused_before_it_is_followed_and_one_on_it_is_followed():
    crawler = crawler_with_scope()
    redirects = ScopedRedirectMiddleware.from_crawler(crawler)
    request = Request(MIRROR + "/a.html")
    away = Response(request.url, status=302, headers={"Location": "http://127.0.0.1:9999/admin/"}, request=request)
    with pytest.raises(OffsiteRefused) as refused:
        redirects.process_response(request, away)
    assert refused.value.reason == "offsite_redirect:http://127.0.0.1:9999"
    home = Response(request.url, status=301, headers={"Location": "/b.html"}, request=request)
    assert redirects.process_response(request, home).url == MIRROR + "/b.html"


def test_a_meta_refresh_off_the_portal_is_refused():
    crawler = crawler_with_scope()
    refresh = ScopedMetaRefreshMiddleware.from_crawler(crawler)
    request = Request(MIRROR + "/a.html")
    page = HtmlResponse(request.url, body=b'<html><head><meta http-equiv="refresh" content="0;url=http://127.0.0.2/x"></head></html>',
                        request=request)
    with pytest.raises(OffsiteRefused, match=r"127\.0\.0\.2"):
        refresh.process_response(request, page)


def test_an_answer_that_ended_on_another_origin_in_the_browser_is_refused():
    crawler = crawler_with_scope()
    middleware = ScopeMiddleware.from_crawler(crawler)
    request = Request(MIRROR + "/category.html")
    with pytest.raises(OffsiteRefused, match="redirect"):
        middleware.process_response(request, HtmlResponse("http://127.0.0.2:7000/admin/", body=b"<html></html>", request=request))


class FakePlaywrightRequest:
    def __init__(self, url: str, resource_type: str = "document") -> None:
        self.url, self.resource_type = url, resource_type


def test_the_browser_aborts_other_origins_and_heavy_resources_and_bypasses_the_proxy_only_for_the_portal():
    refused = []
    abort = BrowserScope(PortalScope.of([MIRROR]), refused.append)
    assert abort(FakePlaywrightRequest("http://127.0.0.2:8080/frame.html", "document"))
    assert abort(FakePlaywrightRequest("http://127.0.0.1:9999/api", "fetch"))
    assert abort(FakePlaywrightRequest(MIRROR + "/photo.jpg", "image"))
    assert not abort(FakePlaywrightRequest(MIRROR + "/js/newslist.js", "script"))
    assert refused == ["http://127.0.0.2:8080/frame.html", "http://127.0.0.1:9999/api"]
    assert bypass_list(PortalScope.of([MIRROR])) == "<-loopback>,http://127.0.0.1:8080"
