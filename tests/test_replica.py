"""The replica behaves as the survey says the portals do."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from replica.corpus import CITY, FANPAGE_URL, POLICE, build_corpus
from replica.server import Replica, ReplicaOptions, hpcc_value
from spiders.parsers.qr import decode_qr


@pytest.fixture(scope="module")
def calm_replica():
    with Replica(ReplicaOptions(articles_per_site=120, fault_rate=0.0, hpcc_budget=3)) as running:
        yield running


def get(base: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    answer = conn.getresponse()
    body = answer.read()
    conn.close()
    return answer.status, dict(answer.getheaders()), body


def test_corpus_is_deterministic_and_holds_the_seeds():
    one, two = build_corpus(150), build_corpus(150)
    assert [a.title for a in one.articles[CITY]] == [a.title for a in two.articles[CITY]]
    keys = one.by_key()
    assert {"thanhphohaiphong:24168", "congan_haiphong:152731", "congan_haiphong:149022"} <= set(keys)
    assert keys["thanhphohaiphong:24168"].duplicate_of == "congan_haiphong:149022"


@pytest.mark.parametrize("size", [1000, 5000])
def test_every_article_has_its_own_id_and_url(size):
    corpus = build_corpus(size)
    corpus.advance_day()
    for site, items in corpus.articles.items():
        assert len({a.native_id for a in items}) == len(items) == size + len(corpus.days[0]["new"]) // 2, site
        assert len({a.url for a in items}) == len(items)


def test_seed_pages_are_served_verbatim(calm_replica):
    from replica.render import saved_page
    status, _, body = get(calm_replica.base_url(CITY), "/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html")
    assert status == 200 and body.decode() == saved_page("thanhphohaiphong-article.html")


def test_police_portal_checks_the_browser_and_the_cookie_expires(calm_replica):
    base = calm_replica.base_url(POLICE)
    status, _, body = get(base, "/Phong-trao-toan-dan-bao-ve-ANTQ.html")
    assert status == 200 and "Đang kiểm tra trình duyệt" in body.decode()
    token = body.decode().split('s="', 1)[1].split('"', 1)[0]
    cookie = {"Cookie": f"hpcc={hpcc_value(token)}"}
    for _ in range(3):  # the cookie is good for hpcc_budget requests
        assert b'id="news-list"' in get(base, "/Phong-trao-toan-dan-bao-ve-ANTQ.html", cookie)[2]
    assert "Đang kiểm tra" in get(base, "/Phong-trao-toan-dan-bao-ve-ANTQ.html", cookie)[2].decode()
    assert get(base, "/robots.txt")[0] == 200


def test_news_list_wants_the_ajax_header(calm_replica):
    base = calm_replica.base_url(POLICE)
    token = calm_replica.new_token()
    cookie = f"hpcc={hpcc_value(token)}"
    assert get(base, "/Ajax/NewsList.ashx?cat=12&page=1", {"Cookie": cookie})[0] == 400
    status, _, body = get(base, "/Ajax/NewsList.ashx?cat=12&page=1", {"Cookie": cookie, "X-Requested-With": "XMLHttpRequest"})
    assert status == 200 and b'class="pager"' in body and b"news-item" in body


def test_qr_png_encodes_the_article_or_the_fanpage(calm_replica):
    base = calm_replica.base_url(CITY)
    data = "https%3A%2F%2Fthanhphohaiphong.gov.vn%2Fkhen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"
    status, headers, png = get(base, f"/wp-content/plugins/hp-qr-code/qr.php?size=150&data={data}")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert decode_qr(png) == "https://thanhphohaiphong.gov.vn/khen-thuong-71-tap-the-ca-nhan-tieu-bieu.html"
    assert decode_qr(get(base, "/wp-content/uploads/2019/05/qr-fanpage.png")[2]) == FANPAGE_URL


def test_discovery_paths_feeds_api_robots(calm_replica):
    base = calm_replica.base_url(CITY)
    status, headers, body = get(base, "/wp-json/wp/v2/posts?per_page=7&page=2&orderby=modified")
    assert status == 200 and len(json.loads(body)) == 7
    assert int(headers["X-WP-Total"]) == 120 and int(headers["X-WP-TotalPages"]) == 18
    assert b"<rss" in get(base, "/feed")[2] and b"<item>" in get(base, "/category/kinh-te/feed")[2]
    assert b"Disallow" in get(base, "/robots.txt")[2]


def test_faults_hit_first_requests_only_and_deterministically():
    options = ReplicaOptions(articles_per_site=50, fault_rate=0.5)
    replica = Replica(options)
    planned = {path: replica.planned_fault(CITY, path) for path in (f"/x-{n}.html" for n in range(200))}
    assert 0.3 < sum(f is not None for f in planned.values()) / len(planned) < 0.7
    assert set(planned.values()) - {None} == {"500", "502", "503", "429", "slow", "truncated", "empty"}
    path = next(p for p, f in planned.items() if f)
    assert replica.take_fault(CITY, path) == planned[path] and replica.take_fault(CITY, path) is None
    replica.stop()
