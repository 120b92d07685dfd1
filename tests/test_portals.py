"""The portal registry walked as Fundus walks its publisher tables: every entry complete, and the code reads it."""

from __future__ import annotations

import inspect

import pytest

from crawler.portals import PORTALS
from spiders.parsers import PortalParser
from tests.helpers import GOLDEN


@pytest.mark.parametrize("name", sorted(PORTALS))
def test_each_portal_has_its_spider_parser_and_golden_files_for_every_parser_version(name):
    portal = PORTALS[name]
    spider = portal.spider_class()
    assert (spider.name, spider.public_origin, spider.categories) == (portal.name, portal.public_origin, portal.categories)
    parser = portal.parser_module()
    assert isinstance(parser, PortalParser) and portal.name == parser.SITE
    assert (portal.public_origin, portal.categories) == (parser.PUBLIC_ORIGIN, parser.CATEGORIES)
    for function in ("article_id_from_url", "category_url", "parse_listing", "parse_article"):
        # The interface's arguments, in its order (a category is a slug on one portal, a path on the other);
        # anything more a parser takes has a default.
        wanted = len(inspect.signature(getattr(PortalParser, function)).parameters) - 1  # less `self`
        given = list(inspect.signature(getattr(parser, function)).parameters.values())
        assert len(given) >= wanted and all(p.default is inspect.Parameter.empty for p in given[:wanted]), function
        assert all(p.default is not inspect.Parameter.empty for p in given[wanted:]), function
    cases = {path.stem for path in GOLDEN.glob(f"{name}-*.json")}
    for version in portal.parser_versions:
        # The oldest layout's pages are the plain ones; every later layout has files named after it.
        wanted = [case for case in cases if case.endswith(f"-layout{version}")] if version != portal.parser_versions[0] else \
            [case for case in cases if "-layout" not in case]
        assert wanted, f"no golden files for {name}'s parser version {version}"
        assert all((GOLDEN / f"{case}.html").exists() for case in wanted)


def test_portal_names_are_unique_and_ranks_order_the_originating_sites():
    ranks = [portal.originating_rank for portal in PORTALS.values()]
    assert len(set(ranks)) == len(ranks)
    assert len({portal.public_origin for portal in PORTALS.values()}) == len(PORTALS)
