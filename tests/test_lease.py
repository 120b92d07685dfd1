"""The job lease: one atomic write decides which of several racing jobs runs; a killed job's lease lapses."""

from __future__ import annotations

import os
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


def test_a_lease_whose_job_died_on_this_machine_is_taken_over_at_once_but_not_a_live_ones(mongo_uri):
    import subprocess
    import sys

    db = fresh_db(mongo_uri, "lease_dead")
    now = utc_now()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)  # a process that has ended
    host = __import__("socket").gethostname()
    for owner, pid, on in (("killed", dead_pid, host), ("alive", os.getpid(), host), ("elsewhere", dead_pid, "node-2")):
        db.leases.replace_one({"_id": SPIDER}, {"owner": owner, "host": on, "pid": pid, "taken_at": now, "renewed_at": now,
                                               "expires_at": now + timedelta(seconds=600)}, upsert=True)
        held = lease.take(db, SPIDER, "next", 600, now)
        if owner == "killed":
            assert held is None and lease.current(db, SPIDER).owner == "next"
        else:  # alive here, or on another machine (whose processes we cannot see): wait for the expiry
            assert held is not None and held.owner == owner
    db.client.close()


def test_a_reparse_holds_each_portals_lease_for_its_processes_and_waits_for_no_running_crawl(mongo_uri, monkeypatch):
    import pytest

    from spiders.reparse_processes import SpiderBusy, leased

    db = fresh_db(mongo_uri, "lease_reparse")
    uri = mongo_uri
    monkeypatch.setenv("MONGO_DATABASE", db.name)
    assert lease.take(db, SPIDER, f"{SPIDER}:crawl-job", 600, utc_now()) is None  # a crawl is running
    with pytest.raises(SpiderBusy, match="crawl-job"), leased(uri, [SPIDER, "congan_haiphong"], "reparse-1"):
        pass
    assert lease.current(db, "congan_haiphong") is None  # what it had taken, released
    lease.release(db, SPIDER, f"{SPIDER}:crawl-job")
    with leased(uri, [SPIDER], "reparse-2"):
        # Its processes share it (same owner); a crawl starting now is refused.
        assert lease.take(db, SPIDER, f"reparse-2:{SPIDER}", 600, utc_now()) is None
        assert lease.take(db, SPIDER, f"{SPIDER}:crawl-job-2", 600, utc_now()).owner == f"reparse-2:{SPIDER}"
    assert lease.current(db, SPIDER) is None
    db.client.close()
