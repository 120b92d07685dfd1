"""`python -m crawler replay-spill`: write what crawls spilled to files while MongoDB was away."""

from __future__ import annotations

import argparse
import sys

from pymongo.errors import PyMongoError

from crawler.cli.common import NoDatabase, data_dir_argument, database
from crawler.portals import NAMES


def run(args: argparse.Namespace) -> int:
    """Write what crawls spilled while MongoDB was away, oldest first (a crawl also does it when it starts)."""
    from crawler.storage.durable import replay_spills, spill_files

    spill_dir = args.data_dir / "spill"
    files = spill_files(spill_dir, args.spider)
    if not files:
        print(f"nothing to replay: no spill files{' of ' + args.spider if args.spider else ''} in {spill_dir}")
        return 0
    try:
        with database(args.data_dir, create=True) as db:
            report = replay_spills(db, spill_dir, args.spider)
    except NoDatabase as error:
        print(error, file=sys.stderr)
        return 1
    except PyMongoError as error:
        print(f"MongoDB failed during the replay ({type(error).__name__}); run it again: it resumes where it stopped",
              file=sys.stderr)
        return 1
    print(f"replayed {report.files} spill files: {report.jobs} writes, {report.records} records"
          + (f"; {report.refused} refused by MongoDB, kept in {spill_dir / 'refused'}" if report.refused else ""))
    return 1 if report.refused else 0


def add_to(commands: argparse._SubParsersAction) -> None:
    replay = commands.add_parser("replay-spill", help="write what crawls spilled to files while MongoDB was away")
    data_dir_argument(replay, "spill files are in its spill/ folder")
    replay.add_argument("--spider", choices=NAMES, help="only this spider's spills")
    replay.set_defaults(run=run)
