"""The job lease: one atomic write decides which of several racing jobs runs; a killed job's lease lapses."""

from __future__ import annotations

import threading
from datetime import timedelta

from crawler.dates import utc_now
from crawler.operations import lease
from tests.helpers import fresh_db

SPIDER = "thanhphohaiphong"


def test_of_many_jobs_racing_for_the_lease_exactly_one_takes_it(mongo_uri):
    db = fresh_db(mongo_uri, "lease_race")
    now = utc_now()
    start, outcomes = threading.Barrier(8), {}

    def job(n: int) -> None:
        start.wait()
        outcomes[n] = lease.take(db, SPIDER, f"{SPIDER}:job-{n}", 600, now)

    threads = [threading.Thread(target=job, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, held in outcomes.items() if held is None]
    assert len(winners) == 1
    holder = lease.current(db, SPIDER)
    assert holder.owner == f"{SPIDER}:job-{winners[0]}"
    assert {held.owner for held in outcomes.values() if held is not None} == {holder.owner}
    db.client.close()


def test_a_lease_is_renewed_by_its_job_lapses_when_not_and_is_released_at_the_end(mongo_uri):
    db = fresh_db(mongo_uri, "lease_life")
    now = utc_now()
    assert lease.take(db, SPIDER, "a", 60, now) is None
    assert lease.take(db, SPIDER, "a", 60, now) is None  # its own job may take it again
    held = lease.take(db, SPIDER, "b", 60, now + timedelta(seconds=30))
    assert held.owner == "a" and "expires in 30 s" in held.describe(now + timedelta(seconds=30))
    assert lease.renew(db, SPIDER, "a", 60, now + timedelta(seconds=50))
    assert lease.take(db, SPIDER, "b", 60, now + timedelta(seconds=100)).owner == "a"  # renewed: good until 110 s
    # Job a is killed: nothing renews it; past its expiry job b takes it, and a's late renewal fails.
    assert lease.take(db, SPIDER, "b", 60, now + timedelta(seconds=111)) is None
    assert not lease.renew(db, SPIDER, "a", 60, now + timedelta(seconds=112))
    lease.release(db, SPIDER, "a")  # not a's any more: nothing happens
    assert lease.current(db, SPIDER).owner == "b"
    lease.release(db, SPIDER, "b")
    assert lease.current(db, SPIDER) is None and lease.take(db, SPIDER, "c", 60, now) is None
    db.client.close()
