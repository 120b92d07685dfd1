"""`python -m crawler schedule SPIDER`: a job on the least busy scrapyd node, unless one of the spider is pending or running."""

from __future__ import annotations

import argparse
import os
import sys

from crawler.cli.common import data_dir_argument
from crawler.portals import NAMES
from crawler.urls import redact


def run(args: argparse.Namespace) -> int:
    from crawler.operations.scheduling import REFUSED, Cluster, Scheduled, ScrapydError, node_urls, pairs

    try:
        arguments = pairs(args.arg, "-a")
        if args.full_every is not None and "full" not in arguments and full_pass_due(args):
            arguments["full"] = "1"
        cluster = Cluster.from_environment(node_urls(args.scrapyd), args.project)
        outcome = cluster.schedule(args.spider, arguments, pairs(args.set, "-s"))
    except (ScrapydError, ValueError) as error:
        print(redact(f"could not schedule {args.spider}: {error}"), file=sys.stderr)
        return 1
    if not isinstance(outcome, Scheduled):
        ids = ", ".join(f"{job.job} ({job.state} on {redact(job.node)})" for job in outcome)
        print(f"not scheduling {args.spider}: a job of it is already pending or running: {ids}", file=sys.stderr)
        return REFUSED
    kind = " (a full pass)" if arguments.get("full") == "1" else ""
    print(f"scheduled {args.spider}{kind}: job {outcome.job}, version {outcome.version or 'latest'}, on {redact(outcome.node)}")
    return 0


def full_pass_due(args: argparse.Namespace) -> bool:
    """Whether the spider's last full pass that finished is older than --full-every days (or there is none).

    The weekly full pass is a mode of the regular slot, not a crontab line of its own: two lines firing at the
    same minute would collide, and a full pass refused because an incremental job was running would wait a week.
    Here, one missed (refused, failed) is simply taken at the next slot. MongoDB unreadable: an incremental job."""
    from pymongo.errors import PyMongoError

    from crawler.cli.common import NoDatabase, database
    from crawler.dates import utc_now

    try:
        with database(args.data_dir, timeout_ms=5000) as db:
            last = db.crawl_runs.find_one({"spider": args.spider, "kind": "full", "state": "finished"}, sort=[("started_at", -1)])
    except (NoDatabase, PyMongoError) as error:
        print(f"schedule: cannot tell when {args.spider} last had a full pass ({str(error).splitlines()[0][:200]}): "
              "scheduling an incremental run", file=sys.stderr)
        return False
    return last is None or (utc_now() - last["started_at"]).total_seconds() > args.full_every * 86400


def add_to(commands: argparse._SubParsersAction) -> None:
    schedule = commands.add_parser("schedule", help="schedule a spider on scrapyd unless a job of it is pending or running")
    schedule.add_argument("spider", choices=NAMES)
    schedule.add_argument("--scrapyd", action="append", metavar="URL",
                          help="a scrapyd node; repeat (or list, comma-separated) for several; default $SCRAPYD_URL "
                               "(credentials: SCRAPYD_USERNAME and SCRAPYD_PASSWORD, else ~/.netrc)")
    schedule.add_argument("--project", default=os.environ.get("SCRAPYD_PROJECT", "haiphong_portal"))
    schedule.add_argument("-a", dest="arg", action="append", default=[], metavar="NAME=VALUE", help="spider argument")
    schedule.add_argument("-s", dest="set", action="append", default=[], metavar="NAME=VALUE", help="job setting")
    schedule.add_argument("--full-every", type=float, metavar="DAYS",
                          help="make this job a full pass when the last finished full pass is older than DAYS (read in MongoDB)")
    data_dir_argument(schedule, "without MONGO_URI, --full-every reads the embedded MongoDB in its mongo/ folder")
    schedule.set_defaults(run=run)
