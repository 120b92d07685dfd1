"""Benchmark: what a recrawl costs next to a full crawl, on the replica.

Phases, each crawling both portals at once (as scheduled jobs do): a full crawl into an empty
database, a recrawl with nothing changed, then the replica advances a day and a recrawl runs.
Prints each phase's requests (as the crawler counts them and as the replica's server counts
them, browser sub-requests included), wall time, what was found, and the ratios recrawl/full.

    .venv/bin/python bench/recrawl.py --articles 5000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.cli.demo import DemoOptions, run_spiders  # noqa: E402
from crawler.portals import NAMES as SPIDERS  # noqa: E402
from crawler.storage.mongo import connect, start_embedded_server  # noqa: E402
from replica.server import Replica, ReplicaOptions  # noqa: E402


def run_phase(name: str, replica: Replica, mongo_uri: str, options: DemoOptions) -> dict:
    before = dict(replica.state.requests)
    started = time.monotonic()
    codes = run_spiders({s: replica.base_url(s) for s in SPIDERS}, mongo_uri, options)
    seconds = time.monotonic() - started
    client, db = connect(mongo_uri, options.database)
    runs = {s: db.crawl_runs.find_one({"spider": s}, sort=[("started_at", -1)]) for s in SPIDERS}
    client.close()
    served = {s: replica.state.requests[s] - before.get(s, 0) for s in SPIDERS}
    return {"name": name, "seconds": seconds, "codes": codes, "served": served,
            "counts": {s: runs[s]["counts"] for s in SPIDERS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="articles per portal (default 5000)")
    parser.add_argument("--fault-rate", type=float, default=0.03)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        options = DemoOptions(articles_per_site=args.articles, data_dir=Path(tmp), fault_rate=args.fault_rate,
                              database="bench_recrawl")
        server = start_embedded_server(Path(tmp) / "mongo")
        try:
            with Replica(ReplicaOptions(articles_per_site=args.articles, fault_rate=args.fault_rate)) as replica:
                phases = [run_phase("full crawl", replica, server.uri, options),
                          run_phase("recrawl, nothing changed", replica, server.uri, options)]
                day = replica.advance_day()
                phases.append(run_phase("recrawl after a day", replica, server.uri, options))
        finally:
            server.stop()
    print(f"replica: {args.articles} articles per portal, fault rate {args.fault_rate}; the day brought "
          f"{len(day['new'])} new, {len(day['changed'])} changed ({len(day['moved'])} moved), {len(day['removed'])} removed")
    print(f"{'phase':<26}{'portal':<18}{'requests':>9}{'served':>8}{'listing':>8}{'new':>6}{'chg':>5}{'same':>6}"
          f"{'gone':>6}{'skip':>6}{'wall s':>8}")
    for phase in phases:
        for spider in SPIDERS:
            c = phase["counts"][spider]
            print(f"{phase['name']:<26}{spider:<18}{c['requests']:>9}{phase['served'][spider]:>8}{c['listing_pages']:>8}"
                  f"{c['articles_new']:>6}{c['articles_changed']:>5}{c['articles_unchanged']:>6}{c['articles_removed']:>6}"
                  f"{c['articles_skipped']:>6}{phase['seconds']:>8.1f}")
    full = phases[0]
    for phase in phases[1:]:
        ratios = ", ".join(f"{s} {phase['counts'][s]['requests'] / full['counts'][s]['requests']:.2%}" for s in SPIDERS)
        print(f"{phase['name']}: requests/full {ratios}; wall time/full {phase['seconds'] / full['seconds']:.2%}")
    if any(code for phase in phases for code in phase["codes"].values()):
        sys.exit("a crawl failed: see the logs")


if __name__ == "__main__":
    main()
