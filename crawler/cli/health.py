"""`python -m crawler health`: each spider's last run and monitors, for cron, Nagios or a person."""

from __future__ import annotations

import argparse
import os
import sys

from pymongo.errors import PyMongoError

from crawler.cli.common import NoDatabase, data_dir_argument, database
from crawler.portals import NAMES


def run(args: argparse.Namespace) -> int:
    import json

    from crawler.dates import utc_now
    from crawler.operations.health import OK, PROBLEM, UNREADABLE, spider_health

    try:
        with database(args.data_dir, timeout_ms=args.timeout * 1000) as db:
            report = [spider_health(db, spider, utc_now(), args.max_age) for spider in args.spider]
    except (NoDatabase, PyMongoError) as error:
        print(f"UNKNOWN cannot read crawl_runs: {str(error).splitlines()[0][:200]}", file=sys.stderr)
        return UNREADABLE
    if args.json:
        print(json.dumps([h.as_json() for h in report], ensure_ascii=False, indent=2))
    else:
        print("\n".join(h.line() for h in report))
    return OK if all(h.ok for h in report) else PROBLEM


def add_to(commands: argparse._SubParsersAction) -> None:
    health = commands.add_parser("health", help="each spider's last run and monitors; exit 0 all well, 1 a problem, 2 no MongoDB")
    health.add_argument("--json", action="store_true", help="one JSON document, for machines")
    health.add_argument("--max-age", type=float, default=float(os.environ.get("PORTAL_HEALTH_MAX_AGE_HOURS", "36")),
                        help="hours the last successful run may be old (default 36)")
    health.add_argument("--timeout", type=int, default=5, help="seconds to wait for MongoDB (default 5)")
    data_dir_argument(health, "without MONGO_URI, the embedded MongoDB in its mongo/ folder is read (as after make demo)")
    health.add_argument("--spider", action="append", choices=NAMES, help="repeat; default every portal")
    health.set_defaults(run=run)
