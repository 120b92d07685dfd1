"""`python -m crawler health`: each spider's last run, spills and lease, as monitoring plugins report them."""

from __future__ import annotations

import argparse
import os

from pymongo.errors import PyMongoError

from crawler.cli.common import NoDatabase, data_dir_argument, database
from crawler.portals import NAMES
from crawler.urls import redact


def run(args: argparse.Namespace) -> int:
    import json

    from crawler.dates import utc_now
    from crawler.operations.health import LEVELS, UNKNOWN, spider_health, summary

    spill_dir = args.data_dir.resolve() / "spill"
    try:
        with database(args.data_dir, timeout_ms=args.timeout * 1000) as db:
            report = [spider_health(db, spider, utc_now(), args.max_age, spill_dir) for spider in args.spider or NAMES]
    except (NoDatabase, PyMongoError) as error:
        # stdout, first line: monitoring systems read it there.
        print(f"CRAWLER UNKNOWN - cannot read crawl_runs: {redact(str(error).splitlines()[0])[:300]}")
        return UNKNOWN
    level, line = summary(report)
    if args.json:
        print(json.dumps({"status": LEVELS[level], "summary": line,
                          "spiders": [h.as_json() for h in report]}, ensure_ascii=False, indent=2))
    else:
        print(line)
        print("\n".join(h.line() for h in report))
    return level


def add_to(commands: argparse._SubParsersAction) -> None:
    health = commands.add_parser("health", help="each spider's state, one summary line first; exit 0 OK, 1 WARNING, 2 CRITICAL, "
                                                "3 UNKNOWN (as monitoring plugins)")
    health.add_argument("--json", action="store_true", help="one JSON document, for machines")
    health.add_argument("--max-age", type=float, default=float(os.environ.get("PORTAL_HEALTH_MAX_AGE_HOURS") or 36),
                        help="hours the last successful run may be old (default 36)")
    health.add_argument("--timeout", type=int, default=5, help="seconds to wait for MongoDB (default 5)")
    data_dir_argument(health, "its spill/ folder is checked; without MONGO_URI, the embedded MongoDB in its mongo/ folder is "
                              "read if there is one (nothing is created)")
    health.add_argument("--spider", action="append", choices=NAMES, help="repeat; default every portal")
    health.set_defaults(run=run)
