"""Every generated article of the replica, rendered with its CMS quirks, parses to its ground truth."""

from __future__ import annotations

import pytest

from replica import render
from replica.corpus import CITY, POLICE, build_corpus
from replica.render import qr_png
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
