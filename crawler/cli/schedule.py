"""`python -m crawler schedule SPIDER`: a job on the least busy scrapyd node, unless one of the spider is pending or running."""

from __future__ import annotations

import argparse
import os
import sys

from crawler.portals import NAMES
from crawler.urls import redact


def run(args: argparse.Namespace) -> int:
    from crawler.operations.scheduling import REFUSED, Cluster, Scheduled, ScrapydError, node_urls, pairs

    try:
        cluster = Cluster.from_environment(node_urls(args.scrapyd), args.project)
        outcome = cluster.schedule(args.spider, pairs(args.arg, "-a"), pairs(args.set, "-s"))
    except (ScrapydError, ValueError) as error:
        print(redact(f"could not schedule {args.spider}: {error}"), file=sys.stderr)
        return 1
    if not isinstance(outcome, Scheduled):
        ids = ", ".join(f"{job.job} ({job.state} on {redact(job.node)})" for job in outcome)
        print(f"not scheduling {args.spider}: a job of it is already pending or running: {ids}", file=sys.stderr)
        return REFUSED
    print(f"scheduled {args.spider}: job {outcome.job}, version {outcome.version or 'latest'}, on {redact(outcome.node)}")
    return 0


def add_to(commands: argparse._SubParsersAction) -> None:
    schedule = commands.add_parser("schedule", help="schedule a spider on scrapyd unless a job of it is pending or running")
    schedule.add_argument("spider", choices=NAMES)
    schedule.add_argument("--scrapyd", action="append", metavar="URL",
                          help="a scrapyd node; repeat (or list, comma-separated) for several; default $SCRAPYD_URL "
                               "(credentials: SCRAPYD_USERNAME and SCRAPYD_PASSWORD, else ~/.netrc)")
    schedule.add_argument("--project", default=os.environ.get("SCRAPYD_PROJECT", "haiphong_portal"))
    schedule.add_argument("-a", dest="arg", action="append", default=[], metavar="NAME=VALUE", help="spider argument")
    schedule.add_argument("-s", dest="set", action="append", default=[], metavar="NAME=VALUE", help="job setting")
    schedule.set_defaults(run=run)
