"""`python -m crawler deploy`: the egg to every scrapyd node, with a version scrapyd runs as the newest."""

from __future__ import annotations

import argparse
import os
import sys

from crawler.urls import redact


def run(args: argparse.Namespace) -> int:
    from crawler.dates import utc_now
    from crawler.operations.deployment import Deployer, DeployError, deploy
    from crawler.operations.scheduling import Cluster, ScrapydError, node_urls

    cluster = Cluster.from_environment(node_urls(args.scrapyd), args.project)
    try:
        if args.rollback:
            for node, deleted, running in Deployer(cluster).rollback():
                print(f"rolled back {redact(node)}: deleted {deleted}; the next jobs run {running}")
        elif args.delete:
            gone = Deployer(cluster).delete(args.delete)
            print(f"deleted {args.delete} from " + (", ".join(redact(n) for n in gone) or "no node (none had it)"))
        else:
            for done in deploy(cluster, utc_now(), args.version):
                print(f"deployed {done.version} to {redact(done.node)} ({done.spiders} spiders): the next jobs run it")
    except (DeployError, ScrapydError) as error:
        print(f"deploy: {redact(str(error))}", file=sys.stderr)
        return 1
    return 0


def add_to(commands: argparse._SubParsersAction) -> None:
    deploy = commands.add_parser("deploy", help="build the egg and deploy it to every scrapyd node (versions that sort in deploy "
                                                "order); --rollback, --delete")
    deploy.add_argument("--scrapyd", action="append", metavar="URL",
                        help="a scrapyd node; repeat (or list, comma-separated) for several; default $SCRAPYD_URL "
                             "(credentials: SCRAPYD_USERNAME and SCRAPYD_PASSWORD, else ~/.netrc)")
    deploy.add_argument("--project", default=os.environ.get("SCRAPYD_PROJECT", "haiphong_portal"))
    deploy.add_argument("--version", help="the version name (default: UTC timestamp and commit, e.g. 20261205T213005Z-4212c13a8f1e)")
    what = deploy.add_mutually_exclusive_group()
    what.add_argument("--rollback", action="store_true", help="delete the newest version on every node: the one before runs again")
    what.add_argument("--delete", metavar="VERSION", help="delete this version from every node that has it")
    deploy.set_defaults(run=run)
