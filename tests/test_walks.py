"""Listing walks: when a walk may stop early, when it is complete, what the next run does after an interrupted one."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.incremental.state import CrawlState, Known
from crawler.incremental.walks import CategoryWalk, ListingBounds, Step, WalkRecord, Walks
from crawler.storage.durable import apply_updates
from tests.helpers import fresh_db

NOW = datetime(2026, 11, 26, tzinfo=UTC)
COMPLETE = WalkRecord(complete=True, pages=12, reached_end=True)
UNFINISHED = WalkRecord(complete=False, pages=3)


def walk_pages(walk: CategoryWalk, pages: list[tuple[list[str], int]]) -> list[Step]:
    """Read pages (their ids, how many need a request) until the walk stops; the steps taken."""
    steps = []
    for number, (ids, news) in enumerate(pages, start=1):
        steps.append(walk.read(number, ids, news, has_next=number < len(pages)))
        if steps[-1] is not Step.NEXT:
            break
    return steps


LISTING = [(["9", "8"], 0), (["7", "6"], 0), (["5", "4"], 0)]


def test_a_first_crawl_reads_every_page():
    walk = CategoryWalk("kinh-te", previous=None, incremental=False)
    assert walk_pages(walk, LISTING) == [Step.NEXT, Step.NEXT, Step.END]
    assert walk.reached_end and walk.whole and walk.listed == {"9", "8", "7", "6", "5", "4"}


def test_after_a_complete_walk_the_first_page_with_nothing_new_ends_the_walk():
    walk = CategoryWalk("kinh-te", previous=COMPLETE, incremental=True)
    assert walk_pages(walk, [(["10", "9"], 1), *LISTING[1:]]) == [Step.NEXT, Step.CAUGHT_UP]
    assert walk.whole and not walk.reached_end


def test_after_an_unfinished_walk_the_next_one_goes_to_the_end():
    for previous in (UNFINISHED, None):  # cut off, or never walked while articles were known
        walk = CategoryWalk("kinh-te", previous=previous, incremental=True)
        assert walk_pages(walk, LISTING) == [Step.NEXT, Step.NEXT, Step.END]
        assert walk.reached_end


def test_a_page_limit_or_a_failed_page_leaves_the_walk_incomplete():
    limited = CategoryWalk("kinh-te", previous=COMPLETE, incremental=True, max_pages=1)
    assert walk_pages(limited, [(["10", "9"], 2), *LISTING]) == [Step.LIMIT]
    assert not limited.whole
    failed = CategoryWalk("kinh-te", previous=None, incremental=False)
    walk_pages(failed, LISTING)
    failed.failed = True
    assert not failed.whole and not failed.reached_end


def test_a_listing_counted_by_its_pager_is_whole_once_every_page_is_read():
    walk = CategoryWalk("Tin-An-ninh-trat-tu", previous=COMPLETE, incremental=True, total_pages=4)
    walk.read(1, ["9"], 0, has_next=True)
    assert walk.missing_pages() == [2, 3, 4] and not walk.reached_end
    walk.pages.update({2, 3, 4})
    assert walk.missing_pages() == [] and walk.reached_end


def test_walks_are_complete_only_when_whole_and_their_run_ended_cleanly():
    walks = Walks("thanhphohaiphong", ("kinh-te", "van-hoa-xa-hoi"), incremental=False)
    walk_pages(walks["kinh-te"], LISTING)
    walk_pages(walks["van-hoa-xa-hoi"], LISTING[:1])
    clean = {op["f"]["_id"]: op["u"]["$set"]["status"] for op in walks.finished("run", NOW, clean=True)}
    assert clean == {"thanhphohaiphong:kinh-te": "complete", "thanhphohaiphong:van-hoa-xa-hoi": "complete"}
    stopped = {op["u"]["$set"]["status"] for op in walks.finished("run", NOW, clean=False)}
    assert stopped == {"incomplete"}


def test_a_walk_started_and_never_finished_is_walked_to_the_end_next_time(mongo_uri):
    db = fresh_db(mongo_uri, "walks_state")
    categories = ("kinh-te", "van-hoa-xa-hoi")
    first = Walks.load(db, "thanhphohaiphong", categories, incremental=False, max_pages=None)
    apply_updates(db, {"ops": first.started("run-1", NOW)})
    for category in categories:
        walk_pages(first[category], LISTING)
    apply_updates(db, {"ops": first.finished("run-1", NOW, clean=True)})
    second = Walks.load(db, "thanhphohaiphong", categories, incremental=True, max_pages=None)
    assert second.unfinished_before() == []
    apply_updates(db, {"ops": second.started("run-2", NOW)})  # and then the run is killed: no finish
    third = Walks.load(db, "thanhphohaiphong", categories, incremental=True, max_pages=None)
    assert third.unfinished_before() == list(categories)
    assert walk_pages(third["kinh-te"], LISTING) == [Step.NEXT, Step.NEXT, Step.END]
    # A late finish of another run does not overwrite the walk this run started.
    apply_updates(db, {"ops": first.finished("run-1", NOW, clean=True)})
    assert Walks.load(db, "thanhphohaiphong", categories, incremental=True, max_pages=None).unfinished_before() == list(categories)
    db.client.close()


def test_a_listed_article_without_an_id_is_known_by_its_url_or_a_former_url():
    state = CrawlState("thanhphohaiphong")
    url = "https://thanhphohaiphong.gov.vn/tin-moi.html"
    old = "https://thanhphohaiphong.gov.vn/tin-cu.html"
    state.known["24168"] = Known(native_id="24168", url=url, date=NOW, aliases=(old,))
    state.by_url = {url: "24168", old: "24168"}
    assert state.identify(None, url) == state.identify(None, old) == "24168"
    assert state.identify("99", url) == "99" and state.identify(None, url + "?p=2") is None


def test_an_endless_listing_stops_after_a_run_of_pages_with_nothing_new():
    walk = CategoryWalk("van-hoa-xa-hoi", previous=None, incremental=False, bounds=ListingBounds(stale_pages=3))
    steps = [walk.read(1, ["1", "2"], 2, has_next=True)]
    steps += [walk.read(page, ["1", "2"], 0, has_next=True) for page in range(2, 10)]
    assert steps[:3] == [Step.NEXT] * 3 and steps[3] is Step.BOUND  # pages 2, 3, 4 repeat page 1
    assert not walk.reached_end and not walk.whole


def test_a_listing_without_ids_is_told_new_by_its_urls():
    walk = CategoryWalk("kinh-te", previous=None, incremental=False, bounds=ListingBounds(stale_pages=2))
    for page in range(1, 6):
        assert walk.read(page, [None, None], 2, has_next=True, keys=[f"u{page}a", f"u{page}b"]) is Step.NEXT


def test_a_listing_stops_past_its_stated_count_or_the_ceiling():
    stated = CategoryWalk("x", previous=None, incremental=False, total_pages=3, bounds=ListingBounds(margin=2))
    assert [stated.read(p, [str(p)], 1, has_next=True) for p in range(1, 6)] == [Step.NEXT] * 4 + [Step.BOUND]
    ceiling = CategoryWalk("x", previous=None, incremental=False, bounds=ListingBounds(ceiling=4))
    assert [ceiling.read(p, [str(p)], 1, has_next=True) for p in range(1, 5)] == [Step.NEXT] * 3 + [Step.BOUND]
