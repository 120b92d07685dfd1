"""Fault drills: is the copy complete after a crawl is interrupted, and one plain rerun?

For each scenario, on a fresh replica and database: a crawl of one portal is interrupted (or
run under a fault), then run again as cron would (plain, incremental). After each run it
prints, against the replica's ground truth: expected, stored, lost, duplicates, and rejects by
reason, with the run's exit status. The promise is lost 0 and duplicates 0 after the rerun.

    .venv/bin/python bench/faults.py                  # every scenario, 400 articles per portal
    .venv/bin/python bench/faults.py --only mongo-outage --outage 60
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replica.corpus import CITY, POLICE  # noqa: E402
from replica.drills import MongoProcess, database, interrupt, start_crawl, tally, wait_for_stored  # noqa: E402
from replica.server import Replica, ReplicaOptions  # noqa: E402


@dataclass
class Drill:
    """One scenario's world: a replica, a MongoDB server process, a data folder."""

    replica: Replica
    mongo: MongoProcess
    data_dir: Path
    articles: int

    def db(self):
        return database(self.mongo.uri, "faults")

    def crawl(self, site: str, *args: str, **kwargs):
        return start_crawl(site, self.replica, self.mongo.uri, "faults", self.data_dir, *args, **kwargs)


def killed(how: signal.Signals) -> Callable[[Drill, str], tuple[int, str]]:
    def run(drill: Drill, site: str) -> tuple[int, str]:
        crawl = drill.crawl(site)
        stored = wait_for_stored(drill.db(), site, drill.articles // 2, crawl)
        return interrupt(crawl, how), f"{how.name} at {stored} stored"
    return run


def mongo_outage(seconds: float, budget: float) -> Callable[[Drill, str], tuple[int, str]]:
    def run(drill: Drill, site: str) -> tuple[int, str]:
        crawl = drill.crawl(site, env={"MONGO_OUTAGE_BUDGET": str(budget)})
        stored = wait_for_stored(drill.db(), site, drill.articles // 4, crawl)
        drill.mongo.kill()
        before = drill.replica.state.requests[site]
        time.sleep(seconds)
        during = drill.replica.state.requests[site] - before
        drill.mongo.start()
        code = crawl.wait()
        return code, f"MongoDB killed at {stored} stored, back after {seconds:.0f} s (budget {budget:.0f} s); {during} requests meanwhile"
    return run


def plain(*args: str, **kwargs) -> Callable[[Drill, str], tuple[int, str]]:
    def run(drill: Drill, site: str) -> tuple[int, str]:
        return drill.crawl(site, *args, **kwargs).wait(), " ".join(args) or "plain crawl"
    return run


def scenarios(outage: float) -> dict[str, tuple[tuple[str, ...], dict, Callable]]:
    """name: (sites, replica options, the first run)."""
    faults_off = {"fault_rate": 0.0}
    return {
        "kill-9": ((CITY, POLICE), faults_off, killed(signal.SIGKILL)),
        "sigterm": ((CITY, POLICE), faults_off, killed(signal.SIGTERM)),
        "sigint": ((POLICE,), faults_off, killed(signal.SIGINT)),
        "mongo-outage": ((CITY,), faults_off, mongo_outage(outage, budget=outage * 5)),
        "mongo-outage-over-budget": ((CITY,), faults_off, mongo_outage(outage, budget=outage / 4)),
        "download-timeout-0.5": ((CITY,), {"fault_rate": 0.03, "slow_seconds": 1.0}, plain("-s", "DOWNLOAD_TIMEOUT=0.5")),
        "faults-on": ((CITY, POLICE), {"fault_rate": 0.03}, plain()),
        "hostile": ((CITY,), {"fault_rate": 0.0, "hostile": True}, plain()),
        "listing-without-ids": ((CITY,), {"fault_rate": 0.0, "listing_ids": False}, killed(signal.SIGKILL)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=400, help="articles per portal (default 400)")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds MongoDB stays down (default 60)")
    parser.add_argument("--only", action="append", help="run only these scenarios (repeat)")
    args = parser.parse_args()
    chosen = {k: v for k, v in scenarios(args.outage).items() if not args.only or k in args.only}
    print(f"{'scenario':<26}{'portal':<18}{'run':<8}{'exit':>5}{'expected':>9}{'stored':>8}{'lost':>6}{'dup':>6}  rejects by reason")
    failures = 0
    for name, (sites, options, first_run) in chosen.items():
        for site in sites:
            with tempfile.TemporaryDirectory() as tmp, Replica(ReplicaOptions(articles_per_site=args.articles, **options)) as replica:
                drill = Drill(replica, MongoProcess(Path(tmp) / "mongo").start(), Path(tmp) / "data", args.articles)
                try:
                    code, what = first_run(drill, site)
                    first = tally(drill.db(), replica, site)
                    rerun = drill.crawl(site).wait()
                    after = tally(drill.db(), replica, site)
                    extra = ""
                    if replica.offsite is not None:
                        extra = f"; requests to the other host: {len(replica.offsite.requests)}"
                finally:
                    drill.mongo.stop()
            print(f"{name:<26}{site:<18}{'first':<8}{code:>5}{first.row()}")
            print(f"{'':<26}{'':<18}{'rerun':<8}{rerun:>5}{after.row()}")
            print(f"{'':<26}  ({what}{extra})", flush=True)
            failures += bool(after.lost or after.duplicates or rerun != 0)
    sys.exit(f"{failures} scenario(s) lost or duplicated articles after the rerun" if failures else 0)


if __name__ == "__main__":
    main()
