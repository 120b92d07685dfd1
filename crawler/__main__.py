"""Command-line tools: `python -m crawler <command>` (demo, schedule, mongo-server)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from crawler.demo import DemoOptions, run_demo  # each command loads what it needs

    return run_demo(DemoOptions(articles_per_site=args.articles, data_dir=args.data_dir, fault_rate=args.fault_rate))


def _schedule(args: argparse.Namespace) -> int:
    from crawler.scheduling import REFUSED, Scrapyd, ScrapydError, pairs

    scrapyd = Scrapyd(args.scrapyd, args.project)
    try:
        active = scrapyd.active_jobs(args.spider)
        if active:
            ids = ", ".join(f"{job['id']} ({'running' if 'start_time' in job else 'pending'})" for job in active)
            print(f"not scheduling {args.spider}: a job of it is already pending or running: {ids}", file=sys.stderr)
            return REFUSED
        job, version = scrapyd.schedule(args.spider, pairs(args.arg, "-a"), pairs(args.set, "-s"))
    except (ScrapydError, ValueError) as error:
        print(f"could not schedule {args.spider}: {error}", file=sys.stderr)
        return 1
    print(f"scheduled {args.spider}: job {job}, version {version or 'latest'}")
    return 0


def _mongo_server(args: argparse.Namespace) -> int:
    from crawler.mongo import MongoUnavailable, start_embedded_server

    try:
        server = start_embedded_server(args.data_dir.resolve(), port=args.port, host=args.host)
    except MongoUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    print(f"MongoDB (SecantusDB) serving {args.data_dir} at {server.uri} — set MONGO_URI={server.uri}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="crawl the local replica of both portals into MongoDB and summarise")
    demo.add_argument("--articles", type=int, default=1000, help="articles per portal in the replica (default 1000)")
    demo.add_argument("--data-dir", type=Path, default=Path("data"), help="where MongoDB data and logs go (default ./data)")
    demo.add_argument("--fault-rate", type=float, default=0.03, help="share of first requests the replica fails")
    demo.set_defaults(run=_demo)

    schedule = commands.add_parser("schedule", help="schedule a spider on scrapyd unless a job of it is pending or running")
    schedule.add_argument("spider", choices=["thanhphohaiphong", "congan_haiphong"])
    schedule.add_argument("--scrapyd", default=os.environ.get("SCRAPYD_URL", "http://127.0.0.1:6800"), help="scrapyd's URL")
    schedule.add_argument("--project", default=os.environ.get("SCRAPYD_PROJECT", "haiphong_portal"))
    schedule.add_argument("-a", dest="arg", action="append", default=[], metavar="NAME=VALUE", help="spider argument")
    schedule.add_argument("-s", dest="set", action="append", default=[], metavar="NAME=VALUE", help="job setting")
    schedule.set_defaults(run=_schedule)

    mongo = commands.add_parser("mongo-server", help="run the embedded MongoDB as a long-lived local service for jobs to share")
    mongo.add_argument("--data-dir", type=Path, default=Path("data/mongo"))
    mongo.add_argument("--host", default="127.0.0.1")
    mongo.add_argument("--port", type=int, default=27017)
    mongo.set_defaults(run=_mongo_server)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
