"""The durable write path against a real MongoDB server that is killed and brought back."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from crawler.storage.durable import DurableWriter, WriteJob, replay_spills, spill_files, update, updates_job
from replica.drills import MongoProcess, database


@pytest.fixture
def mongo(tmp_path: Path):
    server = MongoProcess(tmp_path / "mongo").start()
    yield server
    server.stop()


def numbered(n: int, collection: str = "things") -> WriteJob:
    return updates_job([update(collection, {"_id": n}, {"$set": {"n": n}, "$push": {"order": n}}, upsert=True),
                        update("log", {"_id": "order"}, {"$push": {"seen": n}}, upsert=True)])


def writer_for(mongo: MongoProcess, tmp_path: Path, budget: float, max_pending: int = 4) -> tuple[DurableWriter, Counter, list]:
    counts: Counter = Counter()
    gave_up: list[str] = []
    writer = DurableWriter(database(mongo.uri, "durable"), tmp_path / "spill", "thanhphohaiphong", outage_budget=budget,
                           max_pending=max_pending, on_counts=counts.update, on_spilling=gave_up.append)
    return writer, counts, gave_up


def test_jobs_are_written_in_the_order_they_were_submitted(mongo, tmp_path):
    writer, _, _ = writer_for(mongo, tmp_path, budget=30)

    async def submit_all() -> None:
        for n in range(30):
            await writer.submit(numbered(n))
        await writer.drain()

    asyncio.run(submit_all())
    writer.close()
    db = database(mongo.uri, "durable")
    assert db.log.find_one({"_id": "order"})["seen"] == list(range(30))


def test_an_outage_within_the_budget_loses_nothing_and_never_blocks_the_event_loop(mongo, tmp_path):
    writer, counts, gave_up = writer_for(mongo, tmp_path, budget=120, max_pending=2)
    ticks, submitted = 0, 0

    async def until(condition, timeout: float = 120) -> None:
        """Wait for a condition of the test's (an event, not a time); fail after a generous timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "the awaited event never came"
            await asyncio.sleep(0.01)

    async def crawl_while_mongodb_is_away() -> tuple[int, int]:
        nonlocal ticks, submitted

        async def ticking() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def submitting() -> None:
            nonlocal submitted
            for n in range(10):
                await writer.submit(numbered(n))  # waits for a place once two jobs wait: back-pressure
                submitted += 1

        mongo.kill()
        ticker, submitter = asyncio.ensure_future(ticking()), asyncio.ensure_future(submitting())
        # The writer meets the outage, and the submitter is held back with two jobs waiting…
        await until(lambda: writer.outage_started is not None and len(writer._pending) == 2 and not submitter.done())
        held_at, ticks_then = submitted, ticks
        # …while the event loop goes on (downloads would): it keeps ticking, the submitter stays where it was.
        await until(lambda: ticks >= ticks_then + 50)
        assert submitted == held_at and not submitter.done()
        await asyncio.get_running_loop().run_in_executor(None, mongo.start)
        await submitter
        await writer.drain()
        ticker.cancel()
        return held_at, ticks - ticks_then

    held_at, ticked = asyncio.run(crawl_while_mongodb_is_away())
    writer.close()
    db = database(mongo.uri, "durable")
    assert db.things.count_documents({}) == 10 and db.log.find_one({"_id": "order"})["seen"] == list(range(10))
    assert counts["mongo/outages_ridden"] == 1 and not gave_up and not spill_files(tmp_path / "spill")
    assert held_at < 10 and ticked >= 50  # the submitter was held back while the event loop went on


def test_a_longer_outage_spills_every_later_write_in_order_and_a_replay_writes_them_once(mongo, tmp_path):
    writer, counts, gave_up = writer_for(mongo, tmp_path, budget=1.5)

    async def write_through_an_outage() -> None:
        await writer.submit(numbered(0))
        await writer.drain()
        mongo.kill()
        for n in range(1, 6):
            await writer.submit(numbered(n))
        await writer.drain()

    asyncio.run(write_through_an_outage())
    writer.close()
    assert gave_up and counts["mongo/spilled_jobs"] == 5 and counts["mongo/spilled"] == 10
    [spilled] = spill_files(tmp_path / "spill", "thanhphohaiphong")
    assert len(spilled.read_text(encoding="utf-8").splitlines()) == 5
    mongo.start()
    db = database(mongo.uri, "durable")
    # A replay cut off after two lines resumes at the third, so nothing is written twice.
    spilled.with_suffix(".done").write_text("2")
    for n in (1, 2):
        db.things.update_one({"_id": n}, {"$set": {"n": n}, "$push": {"order": n}}, upsert=True)
        db.log.update_one({"_id": "order"}, {"$push": {"seen": n}})
    report = replay_spills(db, tmp_path / "spill", "thanhphohaiphong")
    assert (report.files, report.jobs, report.refused) == (1, 3, 0)
    assert db.log.find_one({"_id": "order"})["seen"] == list(range(6))
    assert spill_files(tmp_path / "spill") == [] and (tmp_path / "spill" / "replayed" / spilled.name).exists()
    assert replay_spills(db, tmp_path / "spill").files == 0


def test_a_write_mongodb_refuses_for_good_is_spilled_at_once_and_set_aside_by_the_replay(mongo, tmp_path):
    writer, counts, gave_up = writer_for(mongo, tmp_path, budget=60)
    bad = updates_job([update("things", {"_id": 1}, {"$set": {"n": 1}, "$inc": {"n": 1}}, upsert=True)])  # conflicting operators

    async def write() -> None:
        await writer.submit(bad)
        await writer.submit(numbered(2))
        await writer.drain()

    asyncio.run(write())
    writer.close()
    db = database(mongo.uri, "durable")
    assert counts["mongo/spilled_jobs"] == 1 and not gave_up and db.things.count_documents({"_id": 2}) == 1
    report = replay_spills(db, tmp_path / "spill")
    assert report.refused == 1 and len(list((tmp_path / "spill" / "refused").glob("*.jsonl"))) == 1
    assert spill_files(tmp_path / "spill") == []  # it no longer stands in every later run's way


def test_replay_spill_by_hand_writes_what_a_crawl_spilled(mongo, tmp_path):
    import os
    import subprocess
    import sys

    writer, _, gave_up = writer_for(mongo, tmp_path / "data", budget=0.5)
    mongo.kill()

    async def spill() -> None:
        await writer.submit(numbered(7))
        await writer.drain()

    asyncio.run(spill())
    writer.close()
    assert gave_up and spill_files(tmp_path / "data" / "spill")
    mongo.start()
    env = {**os.environ, "MONGO_URI": mongo.uri, "MONGO_DATABASE": "durable"}

    def replay() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "crawler", "replay-spill", "--data-dir", str(tmp_path / "data")],
                              env=env, capture_output=True, text=True, timeout=60, check=False)

    done = replay()
    assert done.returncode == 0 and "replayed 1 spill files: 1 writes, 2 records" in done.stdout, done.stdout + done.stderr
    assert database(mongo.uri, "durable").things.find_one({"_id": 7})["n"] == 7
    again = replay()
    assert again.returncode == 0 and "nothing to replay" in again.stdout
