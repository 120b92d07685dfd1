"""Listing walks that know whether they finished: the incremental crawl's decisions, apart from I/O.

A category's listing is newest first. An incremental run may stop at the first page that
holds nothing new only when the last walk of that category is known to be *complete*: it
reached the end, or caught up with a complete walk before it, and its run finished cleanly
(every article it listed was then stored, rejected or recorded as a failed fetch). A walk
that was cut off (a killed, stopped or failed run) left older articles behind, so the next
run walks that category to its end again: listing pages only, since known articles are
skipped without a request.

The record of each walk lives in MongoDB (`walks`, one document per portal and category), so
a job on another scrapyd host sees it. A run marks its walks `running` when it starts them and
`complete` only when the run itself finished cleanly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from pymongo.database import Database

from crawler.dates import utc_now
from crawler.storage.durable import DurableWriter, update, updates_job


class Step(Enum):
    """What to do after reading a listing page."""

    NEXT = "next"  # read the next page
    END = "end"  # the listing has no more pages: the walk reached its end
    CAUGHT_UP = "caught_up"  # nothing new on this page and the last walk was complete: stop
    LIMIT = "limit"  # max_pages reached: stop, the walk is not whole
    BOUND = "bound"  # a bound on listings reached (an endless or looping listing): stop, the walk is not whole


@dataclass(frozen=True)
class ListingBounds:
    """How far any walk may go, whatever the listing says (settings PORTAL_LISTING_*)."""

    margin: int = 5  # pages past the count the portal states for the category
    stale_pages: int = 5  # pages in a row listing no article not already met in this walk
    ceiling: int = 20_000  # pages, in any case


@dataclass(frozen=True)
class WalkRecord:
    """The last walk of one category, as MongoDB keeps it."""

    complete: bool
    pages: int = 0
    reached_end: bool = False
    finished_at: datetime | None = None


@dataclass
class CategoryWalk:
    """One category's listing as walked in this run, and whether it may stop early."""

    category: str
    previous: WalkRecord | None = None
    incremental: bool = False
    max_pages: int | None = None
    bounds: ListingBounds = field(default_factory=ListingBounds)
    pages: set[int] = field(default_factory=set)
    listed: set[str] = field(default_factory=set)  # native ids the walk met
    total_pages: int | None = None
    page_size: int = 0
    cat_id: str = ""  # the portal's own id of the category, where its listing API wants one
    sweep_left: int = 0
    ended: Step | None = None
    failed: bool = False  # a listing page could not be had: the walk proves nothing about what it missed
    met: set[str] = field(default_factory=set)  # every entry the walk met, by id or else URL (ids may be unknown)
    stale_run: int = 0  # pages in a row that listed nothing not met before in this walk

    @property
    def may_stop_early(self) -> bool:
        """Only a walk that follows a complete one may stop at the first page holding nothing new."""
        return self.incremental and self.previous is not None and self.previous.complete

    def saw(self, page: int, ids: Iterable[str | None]) -> None:
        """Note a listing page read and the ids it lists (a page read out of turn: a sweep, the last page)."""
        self.pages.add(page)
        self.listed.update(i for i in ids if i)

    def read(self, page: int, ids: Iterable[str | None], news: int, has_next: bool, keys: Iterable[str] | None = None) -> Step:
        """Note a listing page read (its ids, how many of its entries need a request) and decide what comes next.

        `keys` name the page's entries (an id, else a URL) for the bound on pages that list nothing new;
        by default the ids."""
        ids = list(ids)
        fresh = {k for k in (ids if keys is None else keys) if k} - self.met
        self.met |= fresh
        self.stale_run = 0 if fresh else self.stale_run + 1
        self.saw(page, ids)
        if not has_next:
            step = Step.END
        elif self.max_pages is not None and page >= self.max_pages:
            step = Step.LIMIT
        elif news == 0 and self.may_stop_early:
            step = Step.CAUGHT_UP
        elif self.past_bounds(page):
            step = Step.BOUND
        else:
            return Step.NEXT
        self.ended = step
        return step

    def past_bounds(self, page: int) -> bool:
        """Whether the listing has gone on longer than any honest one: past its stated count, in a loop, or past the ceiling."""
        bounds = self.bounds
        stated = self.total_pages is not None and page >= self.total_pages + bounds.margin
        return stated or self.stale_run >= bounds.stale_pages or page >= bounds.ceiling

    @property
    def reached_end(self) -> bool:
        every_page = self.total_pages is not None and not self.missing_pages()
        return not self.failed and (self.ended is Step.END or every_page)

    @property
    def whole(self) -> bool:
        """Whether the walk covered what it had to: its end, or up to where a complete walk had been."""
        return not self.failed and (self.reached_end or self.ended is Step.CAUGHT_UP)

    def missing_pages(self) -> list[int]:
        """The pages of the listing not read yet (its count is known from its pager)."""
        return [p for p in range(1, (self.total_pages or 0) + 1) if p not in self.pages]


@dataclass
class Walks:
    """Every category walk of one portal in this run."""

    site: str
    categories: tuple[str, ...]
    incremental: bool
    max_pages: int | None = None
    previous: dict[str, WalkRecord] = field(default_factory=dict)
    bounds: ListingBounds = field(default_factory=ListingBounds)
    walks: dict[str, CategoryWalk] = field(default_factory=dict)
    run_id: str | None = None  # set when this run's walks are marked under way (`begin`)

    @classmethod
    def load(cls, db: Database, site: str, categories: Iterable[str], incremental: bool, max_pages: int | None,
             bounds: ListingBounds | None = None) -> Walks:
        previous = {}
        for doc in db.walks.find({"site": site}):
            previous[doc["category"]] = WalkRecord(complete=doc.get("status") == "complete", pages=doc.get("pages", 0),
                                                   reached_end=doc.get("reached_end", False), finished_at=doc.get("finished_at"))
        return cls(site, tuple(categories), incremental, max_pages, previous, bounds or ListingBounds())

    async def begin(self, writer: DurableWriter, run_id: str) -> None:
        """Mark this run's walks under way, through the durable writer: a run killed from here on leaves them so."""
        self.run_id = run_id
        await writer.submit(updates_job(self.started(run_id, utc_now())))

    def closing(self, clean: bool) -> list[dict]:
        """How this run's walks ended, for the run recorder to write in its last batch, after everything else
        (a walk is complete only once every write before it has landed). Nothing if the walks never began."""
        return self.finished(self.run_id, utc_now(), clean) if self.run_id else []

    def __getitem__(self, category: str) -> CategoryWalk:
        if category not in self.walks:
            self.walks[category] = CategoryWalk(category, self.previous.get(category), self.incremental, self.max_pages, self.bounds)
        return self.walks[category]

    def unfinished_before(self) -> list[str]:
        """Categories whose last walk did not complete (they are walked to the end this time)."""
        return [c for c in self.categories if self.incremental and not self[c].may_stop_early]

    def listed(self) -> set[str]:
        return {i for walk in self.walks.values() for i in walk.listed}

    def all_reached_end(self) -> bool:
        return all(c in self.walks and self.walks[c].reached_end for c in self.categories)

    def started(self, run_id: str, now: datetime) -> list[dict]:
        """The updates that mark this run's walks as under way (an interrupted run leaves them so)."""
        return [update("walks", {"_id": f"{self.site}:{c}"},
                       {"$set": {"site": self.site, "category": c, "status": "running", "run_id": run_id, "started_at": now}},
                       upsert=True) for c in self.categories]

    def finished(self, run_id: str, now: datetime, clean: bool) -> list[dict]:
        """The updates that record how each walk ended: `complete` only when whole and its run ended cleanly."""
        ops = []
        for category in self.categories:
            walk = self[category]
            status = "complete" if clean and walk.whole else "incomplete"
            ops.append(update("walks", {"_id": f"{self.site}:{category}", "run_id": run_id},
                              {"$set": {"status": status, "pages": len(walk.pages), "reached_end": walk.reached_end,
                                        "ended": walk.ended.value if walk.ended else None, "finished_at": now}}))
        return ops
