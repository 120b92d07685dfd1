"""The command line, `python -m crawler <command>`: one module a command, each adding its own parser.

demo, deploy, schedule, export, report, mongo-server, health, metrics, backup, restore, reparse,
replay-spill, prune. `--env-file` (or $PORTAL_ENV_FILE) reads the deployment's environment file
first. Every command that
reads MongoDB opens it by one rule (`crawler.cli.common.database`): MONGO_URI, else the embedded
database the crawls keep in the data folder.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import typing
from pathlib import Path

from crawler.cli.common import NoDatabase

COMMANDS = ("demo", "deploy", "schedule", "export", "report", "mongo_server", "health", "metrics", "backup", "restore", "reparse",
            "replay_spill", "prune", "explore")


class OneLineParser(argparse.ArgumentParser):
    """A bad argument is said in one line on stderr, exit status 2: not the whole usage block (`--help` has it)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def load_env_file(argv: list[str] | None) -> str | None:
    """`--env-file FILE` (or $PORTAL_ENV_FILE): the deployment's one environment file (deploy/crawler.env.example), read
    before anything else so that every command, scrapyd and cron find the same data folder, database and alerts.
    Variables already in the environment win. Returns an error in one line, or None."""
    from dotenv import load_dotenv  # the format systemd's EnvironmentFile= reads too: KEY=VALUE, quotes, comments

    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--env-file", type=Path, default=os.environ.get("PORTAL_ENV_FILE") or None)
    known, _ = early.parse_known_args(argv)
    if known.env_file is None:
        return None
    if not known.env_file.is_file():
        return f"the environment file {known.env_file} does not exist"
    load_dotenv(known.env_file, override=False)
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if error := load_env_file(argv):
        print(f"python -m crawler: error: {error}", file=sys.stderr)
        return 2
    parser = OneLineParser(prog="python -m crawler", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--env-file", type=Path, metavar="FILE",
                        help="read the deployment's environment file first (default $PORTAL_ENV_FILE); set variables win")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name in COMMANDS:
        importlib.import_module(f"crawler.cli.{name}").add_to(commands)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except NoDatabase as error:  # one line, whatever the command
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
