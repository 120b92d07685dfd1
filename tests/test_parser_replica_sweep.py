"""Every generated article of the replica, rendered with its CMS quirks, parses to its ground truth."""

from __future__ import annotations

from importlib import resources

import pytest
from parsel import Selector

from replica import render
from replica.corpus import CITY, POLICE, build_corpus
from replica.render import qr_png
from spiders.parsers.common import NON_CONTENT, text_of
from spiders.parsers.text import clean_text
from tests.parsing import as_json, parse_page

CORPUS = build_corpus(400)
COMPARED = ("title", "published_at", "date_text", "categories", "author", "source", "body_text", "images", "related_urls")


def articles(site: str):
    return [a for a in CORPUS.articles[site] if not a.verbatim_page and a.fault is None]


@pytest.mark.parametrize("site", [CITY, POLICE])
def test_all_generated_articles_parse_to_their_truth(site):
    page_of = render.city_article if site == CITY else render.police_article
    checked = quirky = 0
    for article in articles(site):
        item = parse_page(site, article.url, page_of(article), qr_png(article.qr_payload) if site == CITY else None)
        expected = as_json(article.expected_record())
        got = as_json({**item.extracted(), "url": item.url})
        assert {k: got[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}, article.key
        assert got["_id"] == expected["_id"] and got["url"] == expected["url"]
        if site == CITY:
            assert item.qr["payload"] == article.url and item.qr["matches_url"] is True
        checked += 1
        quirky += bool(article.quirks)
    assert checked > 350 and quirky > 50  # the sweep really covers NFD, entities, nbsp, empty paragraphs


def test_text_of_reads_what_the_readable_text_xpath_read():
    """`text_of` walks the lxml tree itself; on every element of the saved pages and of rendered articles
    (scripts, styles, frames and comments inside bodies among them) it gives what the XPath gave."""
    hidden = " or ".join(f"ancestor::{tag}" for tag in NON_CONTENT)
    pages = [resources.files("replica").joinpath("pages", name).read_text(encoding="utf-8")
             for name in ("thanhphohaiphong-article.html", "congan-article.html", "thanhphohaiphong-category.html")]
    for site, page_of in ((CITY, render.city_article), (POLICE, render.police_article)):
        pages += [page_of(a) for a in CORPUS.articles[site] if not a.verbatim_page][:40]
    compared = 0
    for page in pages:
        for node in Selector(text=page).xpath("//*"):
            assert text_of(node) == clean_text(" ".join(node.xpath(f".//text()[not({hidden})]").getall()))
            compared += 1
    assert compared > 5000
