"""`python -m crawler restore FILE`: a backup into the configured database (empty, or replaced with --drop)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.cli.common import data_dir_argument, database


def run(args: argparse.Namespace) -> int:
    from crawler.storage.backup import BackupError, restore

    if not args.file.is_file():
        print(f"restore: {args.file} is not a file", file=sys.stderr)
        return 1
    try:
        with database(args.data_dir, create=True) as db:
            report = restore(db, args.file, drop=args.drop)
    except (BackupError, OSError) as error:
        print(f"restore: {error}", file=sys.stderr)
        return 1
    print(f"restored {args.file} into {db.name}: " + ", ".join(f"{name} {count}" for name, count in report.counts.items()))
    return 0


def add_to(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("restore", help="a backup file into the database (MONGO_URI, else the embedded one)")
    parser.add_argument("file", type=Path)
    parser.add_argument("--drop", action="store_true", help="replace what the database holds (refused otherwise)")
    data_dir_argument(parser, "without MONGO_URI, the embedded MongoDB in its mongo/ folder (created if need be)")
    parser.set_defaults(run=run)
