"""The command line, `python -m crawler <command>`: one module a command, each adding its own parser.

demo, schedule, export, report, mongo-server, health, reparse, replay-spill. Every command that
reads MongoDB opens it by one rule (`crawler.cli.common.database`): MONGO_URI, else the embedded
database the crawls keep in the data folder.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from crawler.cli.common import NoDatabase
from crawler.portals import NAMES

COMMANDS = ("demo", "deploy", "schedule", "export", "report", "mongo_server", "health", "metrics", "backup", "restore", "reparse",
            "replay_spill", "prune")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"crawler.cli.{name}").add_to(commands)
    args = parser.parse_args(argv)
    if args.command == "health" and not args.spider:
        args.spider = list(NAMES)
    try:
        return args.run(args)
    except NoDatabase as error:  # one line, whatever the command
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
